"""Reading workbooks fast with python-calamine and finding the platform's tables in them.

A table is found by its sheet name (``1-5-1 教职工基本信息`` as generated) or, failing
that, by a header row holding all of the table's template headers within the first rows.
Values come back as calamine gives them; typing and cleaning belong to the check engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from statecollect.errors import UserError
from statecollect.schema import Table

__all__ = ["ReadError", "SheetRows", "find_table", "read_sheets", "records"]

HEADER_SEARCH_ROWS = 10


class ReadError(UserError):
    """A workbook that cannot be read."""


@dataclass(frozen=True)
class SheetRows:
    name: str
    rows: list[list[Any]]


def read_sheets(path: Path) -> list[SheetRows]:
    """Every visible and hidden sheet of ``path`` as lists of cell values."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return [SheetRows(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
                for name in workbook.sheet_names]
    except FileNotFoundError:
        raise ReadError(f"找不到文件 {path}", "请检查文件名和路径") from None
    except Exception as exc:  # noqa: BLE001 — calamine raises several types for unreadable files
        raise ReadError(f"无法读取 {path.name}：不是有效的 Excel 文件（{type(exc).__name__}）", "请用 Excel 或 WPS 打开后另存为 .xlsx 再试") from None


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def header_row(sheet: SheetRows, headers: Sequence[str]) -> int | None:
    """The 0-based row index holding every one of ``headers``, searched in the first rows."""
    wanted = set(headers)
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        if wanted <= {_cell_text(value) for value in row}:
            return index
    return None


def find_table(sheets: Sequence[SheetRows], table: Table) -> tuple[SheetRows, int] | None:
    """The sheet holding ``table`` and its header row index, by sheet name first, then by headers."""
    headers = [field.header for field in table.template_fields]
    by_name = [sheet for sheet in sheets if sheet.name.split(" ")[0] == table.number and not table.part_of]
    for sheet in (*by_name, *sheets):
        index = header_row(sheet, headers)
        if index is not None:
            return sheet, index
    return None


def records(sheet: SheetRows, header_index: int, headers: Sequence[str]) -> list[dict[str, Any]]:
    """Rows below the header as header → value, skipping rows with no value at all."""
    names = [_cell_text(value) for value in sheet.rows[header_index]]
    positions: Mapping[str, int] = {name: names.index(name) for name in headers if name in names}
    found: list[dict[str, Any]] = []
    for row in sheet.rows[header_index + 1:]:
        record = {name: row[position] if position < len(row) else None for name, position in positions.items()}
        if any(_cell_text(value) for value in record.values()):
            found.append(record)
    return found
