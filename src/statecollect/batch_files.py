"""The workbooks of a validate batch: which files, and reading them before they are asked for.

``validate`` takes files and folders, or, inside a collection, its 回收 folder. The entry
point (:mod:`statecollect.launch`) starts reading those files before typer, pydantic and the
schemas are imported, and :func:`reading` hands that reading to ``validate`` when it is given
the same files. Every module imported on the way to the first parse is a module imported
before it: this one and those it needs stay free of dataclasses, pydantic and the like, and a
test holds them to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from statecollect.errors import UserError
from statecollect.folders import FOLDERS, CollectionError, check_year, find_root
from statecollect.workbook_layout import UNREAD_SHEETS
from statecollect.workbook_read import ReadAhead

__all__ = ["WORKBOOK_SUFFIXES", "plan", "reading", "start_reading", "stop_reading"]

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})

_started: ReadAhead | None = None


def plan(paths: Sequence[Path], root: Path | None, year: int | None) -> tuple[Path | None, list[Path]]:
    """The collection folder (None for a standalone batch) and the workbooks to check."""
    if root is not None:
        root = find_root(root)
    elif year is None:
        root = _collection_root(paths)
    _check_year(root, year)
    inputs = _workbooks(paths or ([root / FOLDERS["returns"]] if root is not None else []))
    if not inputs:
        raise UserError("没有找到要校验的 Excel 文件（.xlsx、.xlsm、.xls）", "请指定文件或文件夹；在采集文件夹中默认校验“回收”文件夹")
    return root, inputs


def start_reading(paths: Sequence[Path], *, root: Path | None = None, year: int | None = None) -> None:
    """Start reading the workbooks that ``validate`` with the same arguments will check.

    Arguments ``validate`` would refuse start nothing here: it reports them itself.
    """
    global _started
    stop_reading()
    try:
        _, inputs = plan(paths, root, year)
        _started = ReadAhead(inputs, skip=UNREAD_SHEETS)
    except UserError:
        return


def stop_reading(wait: bool = True) -> None:
    """Drop a reading :func:`start_reading` began that no ``validate`` took over; without ``wait``,
    a workbook being parsed is left to end on its own (or with the process)."""
    global _started
    if _started is not None:
        _started.close(wait)
        _started = None


def reading(inputs: list[Path]) -> ReadAhead:
    """The reading :func:`start_reading` began for exactly these files, or a new one."""
    global _started
    started, _started = _started, None
    if started is not None:
        if started.paths == tuple(inputs):
            return started
        started.close()
    return ReadAhead(inputs, skip=UNREAD_SHEETS)


def _workbooks(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            try:
                children = list(path.iterdir())
            except OSError as error:
                raise UserError(f"无法打开文件夹 {path}：{error.strerror or error}", "请检查文件夹的访问权限") from None
            found += sorted(child for child in children
                            if child.suffix.lower() in WORKBOOK_SUFFIXES and not child.name.startswith((".~", "~$")))
        else:
            found.append(path)
    return found


def _check_year(root: Path | None, year: int | None) -> None:
    if root is None and year is None:
        raise UserError("不在采集文件夹中时，请用 --year 指定采集年份", "例如：statecollect validate 文件.xlsx --year 2020")
    if year is not None:
        check_year(year)


def _collection_root(paths: Sequence[Path]) -> Path | None:
    start = paths[0] if paths else Path(".")
    try:
        return find_root(start if start.is_dir() else start.parent)
    except CollectionError:
        if not paths:
            raise
        return None
