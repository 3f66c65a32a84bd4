"""Writing output files atomically: a temporary file beside the target, then one rename.

A crash, a full disk or a target held open by Excel never leaves half a file behind, and
an existing file is either replaced whole or left as it was.
"""

from __future__ import annotations

import os
import tempfile
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
        handle, temp_name = tempfile.mkstemp(prefix=".~" + path.stem, suffix=path.suffix, dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise OutputError(f"无法在 {path.parent} 中写文件：{exc.strerror or exc}") from None
    temp = Path(temp_name)
    try:
        writer(temp)
        # mkstemp creates owner-only files; outputs are shared documents, so use the usual mode
        os.chmod(temp, 0o666 & ~_current_umask())
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


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
