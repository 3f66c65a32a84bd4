"""The process entry point (``statecollect`` and ``python -m statecollect``).

It runs before typer and the schemas are imported, which takes a tenth of a second: for
``validate`` that time goes into reading the workbooks. The command line is read here only
far enough to name the files; typer still parses it in full and reports any mistake, and a
guess that turns out different from typer's reading is simply read again.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from statecollect.errors import EXIT_OK

TYPE_CHECKING = False  # typing itself is not imported on the way to the first parse
if TYPE_CHECKING:
    from typing import Any

__all__ = ["VALIDATE_FLAGS", "VALIDATE_VALUE_OPTIONS", "keep_until_exit", "main", "run", "validate_arguments"]

_EXIT_UNFLUSHED = 120  # Python's own status when the standard streams cannot be flushed at exit

# validate's options as cli.py declares them (a test keeps the two in step): those that
# take a value, by the keyword of start_reading they fill (None: not needed to find the files)
VALIDATE_VALUE_OPTIONS: dict[str, str | None] = {"--dir": "root", "-d": "root", "--year": "year",
                                                  "--feedback": None, "--format": None, "-f": None}
VALIDATE_FLAGS = frozenset({"--no-feedback"})


_kept: list[object] | None = None  # see keep_until_exit; a list only while run() runs


def run() -> None:
    """The ``statecollect`` program: :func:`main`, then the process ends without Python's teardown.

    Python's exit frees every object one by one and unloads every module: after validating a
    30,000-row sheet that is 240,000 values and a tenth of the command's time, spent on memory
    the system takes back at once. By then each output has been written whole and closed, the
    ledger closed and the reading threads stopped: only the standard streams are left to flush.
    """
    global _kept
    _kept = []
    try:
        code = _command_status()
        if not isinstance(code, int):
            sys.exit(code)  # a message for Python to print: no command of ours ends that way
        os._exit(_flushed(code))
    finally:
        _kept = None  # reached where Python ends the process (a message) or it goes on (os._exit replaced in tests)


def keep_until_exit(value: object) -> None:
    """Keep ``value`` until the program ends, where :func:`run` ends it without Python's teardown.

    A command's result freed as its function returns is freed value by value too: 3 ms for
    a validated 30,000-row sheet. Elsewhere (a test calling the command line) nothing is kept.
    """
    if _kept is not None:
        _kept.append(value)


def _command_status() -> str | int:
    try:
        main()
    except SystemExit as ending:
        return EXIT_OK if ending.code is None else ending.code
    return EXIT_OK


def _flushed(code: int) -> int:
    """``code``, or Python's own status for output that could not be flushed."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the stream closed
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or a full disk: the output is incomplete, as Python would say too
            code = code or _EXIT_UNFLUSHED
    return code


def main() -> None:
    arguments = sys.argv[1:]
    if arguments[:1] == ["validate"]:
        _prepare_validate(arguments[1:])
    from statecollect.cli import main as run_command_line

    try:
        run_command_line()
    finally:
        batch_files = sys.modules.get("statecollect.batch_files")
        if batch_files is not None:
            # a head start typer then refused (a bad option) is not waited for: the process ends
            batch_files.stop_reading(wait=False)


def _prepare_validate(arguments: list[str]) -> None:
    # one process, one batch: what validate keeps is freed by reference counting when the process
    # ends, and the cycle collector would only walk the batch's values once more (a tenth of the
    # time of a 30,000-row sheet). The feedback copies turn it back on for openpyxl's workbooks.
    gc.disable()
    found = validate_arguments(arguments)
    if found is None:
        return
    from statecollect.batch_files import start_reading

    try:
        start_reading(found.pop("paths"), **found)
    except Exception:  # noqa: BLE001 - a head start only
        # validate reads the files itself when nothing was started, and reports whatever went
        # wrong here in Chinese; a traceback from an optimisation must never reach the user
        return


def validate_arguments(arguments: list[str]) -> dict[str, Any] | None:
    """The files, ``--dir`` and ``--year`` of a validate command line; None for anything unusual
    (help, an unknown option, a bad year), which is left to typer to explain."""
    found: dict[str, Any] = {"paths": []}
    pending = list(arguments)
    while pending:
        token = pending.pop(0)
        if token == "--":
            found["paths"] += [Path(item) for item in pending]
            break
        name, given, value = token.partition("=")
        if name in VALIDATE_VALUE_OPTIONS and (given or pending):
            value = value if given else pending.pop(0)
            keyword = VALIDATE_VALUE_OPTIONS[name]
            if keyword == "root":
                found["root"] = Path(value)
            elif keyword == "year":
                try:
                    found["year"] = int(value)
                except ValueError:
                    return None
        elif token in VALIDATE_FLAGS:
            continue
        elif token.startswith("-") and token != "-":
            return None
        else:
            found["paths"].append(Path(token))
    return found
