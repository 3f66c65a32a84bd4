"""Reading workbooks fast with python-calamine and finding the platform's tables in them.

Values come from calamine (Rust; no external links followed, no macros run). What
calamine does not tell — hidden rows and columns, formulas saved without a value — is
found by a quick byte scan of each sheet's XML, parsed (through defusedxml) only when
the scan finds something. A table is found by its sheet name (``1-5-1 教职工基本信息``)
or by a header row holding its template headers within the first rows.
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from python_calamine import CalamineWorkbook

from statecollect.errors import UserError
from statecollect.safety import FileKind, inspect_file
from statecollect.schema import Table

__all__ = ["ReadError", "SheetRows", "cell_text", "find_table", "header_row", "read_sheets", "records"]

HEADER_SEARCH_ROWS = 10
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class ReadError(UserError):
    """A workbook that cannot be read."""


@dataclass(frozen=True)
class SheetRows:
    """One sheet's values (row-major, from A1) and what the values alone do not show."""

    name: str
    rows: list[list[Any]]
    visible: bool = True
    merged: tuple[tuple[int, int, int, int], ...] = ()
    hidden_rows: frozenset[int] = frozenset()
    hidden_columns: frozenset[int] = frozenset()
    uncached_formulas: tuple[str, ...] = ()


def read_sheets(path: Path, skip: Collection[str] = ()) -> list[SheetRows]:
    """Every sheet of ``path`` but those named in ``skip``; the file is sniffed and size-checked first."""
    kind = inspect_file(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        visibility = {meta.name: str(meta.visible).endswith("Visible") for meta in workbook.sheets_metadata}
        structure = _scan_structure(path) if kind is FileKind.XLSX else {}
        sheets = []
        for name in workbook.sheet_names:
            if name in skip:
                continue
            sheet = workbook.get_sheet_by_name(name)
            hidden_rows, hidden_columns, formulas = structure.get(name, (frozenset(), frozenset(), ()))
            sheets.append(SheetRows(
                name=name, rows=sheet.to_python(skip_empty_area=False), visible=visibility.get(name, True),
                merged=tuple(_merged(sheet)), hidden_rows=hidden_rows, hidden_columns=hidden_columns,
                uncached_formulas=formulas,
            ))
        return sheets
    except UserError:
        raise
    except Exception as exc:
        raise ReadError(f"无法读取 {path.name}：文件已损坏或格式不受支持（{type(exc).__name__}）",
                        "请在 Excel/WPS 中打开后另存为 .xlsx 再交回") from None


def _merged(sheet: Any) -> list[tuple[int, int, int, int]]:
    ranges = getattr(sheet, "merged_cell_ranges", None) or []
    return [(start[0], start[1], end[0], end[1]) for start, end in ranges]


# --------------------------------------------------------------------------- the XML scan


def _scan_structure(path: Path) -> dict[str, tuple[frozenset[int], frozenset[int], tuple[str, ...]]]:
    """Hidden rows and columns and value-less formulas per sheet, by a byte scan first."""
    found: dict[str, tuple[frozenset[int], frozenset[int], tuple[str, ...]]] = {}
    with zipfile.ZipFile(path) as archive:
        for name, member in _sheet_members(archive).items():
            try:
                data = archive.read(member)
            except KeyError:
                continue
            # plain substring scans run at memchr speed; a regex over megabytes of XML does not
            if b"hidden=" not in data and b"<f>" not in data and b"<f " not in data:
                continue
            found[name] = _parse_sheet_xml(data)
    return found


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    from defusedxml import ElementTree

    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL_NS}Relationship")}
    members = {}
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{_REL_NS}id"), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        members[sheet.get("name", "")] = member
    return members


def _parse_sheet_xml(data: bytes) -> tuple[frozenset[int], frozenset[int], tuple[str, ...]]:
    from defusedxml import ElementTree

    hidden_rows: set[int] = set()
    hidden_columns: set[int] = set()
    formulas: list[str] = []
    root = ElementTree.fromstring(data)
    for column in root.iter(f"{_MAIN_NS}col"):
        if column.get("hidden") in {"1", "true"}:
            hidden_columns.update(range(int(column.get("min", "0")), int(column.get("max", "0")) + 1))
    for row in root.iter(f"{_MAIN_NS}row"):
        if row.get("hidden") in {"1", "true"}:
            hidden_rows.add(int(row.get("r", "0")))
        for cell in row.iter(f"{_MAIN_NS}c"):
            formula = cell.find(f"{_MAIN_NS}f")
            value = cell.find(f"{_MAIN_NS}v")
            if formula is not None and (value is None or value.text in (None, "")):
                formulas.append(cell.get("r", ""))
    return frozenset(hidden_rows), frozenset(hidden_columns), tuple(formulas)


# --------------------------------------------------------------------------- tables


def cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def header_row(sheet: SheetRows, headers: Sequence[str], minimum_share: float = 1.0) -> int | None:
    """The 0-based index of the row holding ``headers`` (at least ``minimum_share`` of them)."""
    wanted = set(headers)
    needed = max(1, int(len(wanted) * minimum_share + 0.999))
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        if len(wanted & {cell_text(value) for value in row}) >= needed:
            return index
    return None


def find_table(sheets: Sequence[SheetRows], table: Table, minimum_share: float = 1.0) -> tuple[SheetRows, int] | None:
    """The sheet holding ``table`` and its header row index, by sheet name first, then by headers."""
    headers = [field.header for field in table.template_fields]
    by_name = [sheet for sheet in sheets if sheet.name.split(" ")[0] == table.number and not table.part_of]
    for sheet in (*by_name, *sheets):
        index = header_row(sheet, headers, minimum_share)
        if index is not None:
            return sheet, index
    return None


def records(sheet: SheetRows, header_index: int, headers: Sequence[str]) -> list[dict[str, Any]]:
    """Rows below the header as header → value, skipping rows with no value at all."""
    names = [cell_text(value) for value in sheet.rows[header_index]]
    positions: Mapping[str, int] = {name: names.index(name) for name in headers if name in names}
    found: list[dict[str, Any]] = []
    for row in sheet.rows[header_index + 1:]:
        record = {name: row[position] if position < len(row) else None for name, position in positions.items()}
        if any(cell_text(value) for value in record.values()):
            found.append(record)
    return found
