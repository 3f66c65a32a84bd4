"""Checked inputs kept between runs, pickled in the user's cache folder.

The schema set and a collection's settings are checked once, through PyYAML and pydantic,
and then served from here: loading pydantic's validators alone takes longer than checking a
small workbook. An entry is named for what it holds and where it came from, and stamped with
the state it was made from: its source files and the modules whose classes it pickles. A
changed source or module is never served an old entry, and writing the new one removes the
old. Anything wrong with the cache only costs speed: the inputs are then checked again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from statecollect import __version__
from statecollect.output import OutputError, write_atomically

__all__ = ["entry_for", "file_stamp", "load", "store"]

T = TypeVar("T")


def file_stamp(path: Path) -> str:
    """A file's size and modification time, as a part of an entry's state."""
    status = path.stat()
    return f"{path}|{status.st_size}|{status.st_mtime_ns}"


def entry_for(kind: str, source: Path, state: str, models: tuple[ModuleType, ...]) -> Path | None:
    """Where the entry of ``kind`` made from ``source`` in ``state`` is kept; None when the
    modules cannot be stamped (the entry would then be neither read nor written)."""
    if any(module.__file__ is None for module in models):
        return None
    try:
        code = "\n".join(file_stamp(Path(str(module.__file__))) for module in models)
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "statecollect"
    except (OSError, RuntimeError):  # RuntimeError: no home folder to be found
        return None
    place = _digest(str(source.resolve()))
    stamp = _digest(f"{__version__}\n{code}\n{state}")
    return folder / f"{kind}-{place}-{stamp}.pickle"


def load(entry: Path | None, expected: type[T]) -> T | None:
    """The value kept at ``entry``, if there is one of the ``expected`` type."""
    if entry is None:
        return None
    try:
        loaded = pickle.loads(entry.read_bytes())
    except Exception:  # noqa: BLE001 - missing, unreadable or from another version: made again
        return None
    return loaded if isinstance(loaded, expected) else None


def store(entry: Path | None, value: object) -> None:
    """Keep ``value`` at ``entry`` and drop the older entries of the same kind and source."""
    if entry is None:
        return
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        write_atomically(entry, lambda temp: temp.write_bytes(data))
        kind_and_place = entry.name.rsplit("-", 1)[0]
        for stale in entry.parent.glob(f"{kind_and_place}-*.pickle"):
            if stale != entry:
                stale.unlink(missing_ok=True)
    except (OutputError, OSError):  # a read-only home or a full disk only costs speed
        return


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
