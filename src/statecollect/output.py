"""Writing output files atomically: a temporary file beside the target, then one rename.

A crash, a full disk or a target held open by Excel never leaves half a file behind, and
an existing file is either replaced whole or left as it was.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from statecollect.errors import UserError

__all__ = ["OutputError", "write_atomically"]


class OutputError(UserError):
    """An output file that could not be written."""


def write_atomically(path: Path, writer: Callable[[Path], object]) -> Path:
    """Let ``writer`` fill a temporary file beside ``path``, then move it into place in one step."""
    path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _new_file_beside(path)
    except OSError as exc:
        raise OutputError(f"无法在 {path.parent} 中写文件：{exc.strerror or exc}") from None
    try:
        writer(temp)
        os.replace(temp, path)
    except PermissionError:
        raise OutputError(f"无法写入 {path.name}：文件可能正在 Excel/WPS 中打开，或没有写权限。请关闭后重试。") from None
    except IsADirectoryError:
        raise OutputError(f"无法写入 {path}：同名的文件夹已存在。") from None
    except OSError as exc:
        raise OutputError(f"无法写入 {path.name}：{exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)
    return path


def _new_file_beside(path: Path) -> Path:
    """A new, empty, hidden file next to ``path``. It is created with the mode any new file gets
    (the user's umask applied by the system): outputs are shared documents, and tempfile's
    owner-only files would need a chmod from a umask only readable by changing it, which races
    with other threads."""
    for _ in range(100):
        temp = path.with_name(f".~{path.stem}.{secrets.token_hex(4)}{path.suffix}")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
        except FileExistsError:
            continue
        return temp
    raise FileExistsError(errno.EEXIST, "temporary names all taken", str(path.parent))
