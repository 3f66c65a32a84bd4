"""Workbook writing primitives shared by every output: safe cells, styles, atomic saves.

Every workbook the tool writes goes through :func:`save_atomically`, so a crash or a
locked target never leaves half a file, and every department-supplied text goes
through :func:`put`, so nothing a department typed turns into a formula.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from statecollect.output import write_atomically

__all__ = [
    "FORMULA_TRIGGERS",
    "STYLE",
    "column_letter_width",
    "link_to",
    "print_setup",
    "put",
    "save_atomically",
    "streamed_row",
]

# a text cell beginning with one of these could be read as a formula by a spreadsheet
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Styles:
    """The few styles every workbook shares, so all outputs look alike."""

    thin = Side(style="thin", color="A6A6A6")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_font = Font(bold=True, color="000000")
    required_font = Font(bold=True, color="C00000")
    title_font = Font(bold=True, size=14)
    note_font = Font(italic=True, color="595959", size=9)
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    error_fill = PatternFill("solid", fgColor="FFC7CE")
    warning_fill = PatternFill("solid", fgColor="FFEB9C")
    wrap = Alignment(wrap_text=True, vertical="top")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)


STYLE = _Styles()


def put(cell: Cell, value: Any) -> Cell:
    """Write ``value`` so that text stays text: a leading ``=``, ``+``, ``-``, ``@``, tab or CR never
    becomes a formula, in this file or when someone later edits the cell."""
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def print_setup(sheet: Worksheet, *, landscape: bool) -> None:
    """A4, fitted to the page width, page numbers in the footer: every sheet prints legibly."""
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def link_to(cell: Cell, sheet: str, reference: str = "A1") -> Cell:
    """Make ``cell`` a link to a place inside the same workbook (an internal location, not a URL)."""
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(sheet)}!{reference}")
    cell.style = "Hyperlink"
    return cell


def streamed_row(sheet: Any, values: list[Any], style: Callable[[Any], None] | None = None) -> list[Any]:
    """A row for a write-only sheet with the same guarantee as :func:`put`: text stays text.

    ``style``, when given, is applied to every cell (for header rows).
    """
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for value in values:
        if style is None and not (isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)):
            row.append(value)
            continue
        cell = put(WriteOnlyCell(sheet), value)
        if style is not None:
            style(cell)
        row.append(cell)
    return row


def column_letter_width(texts: list[str], minimum: float = 8, maximum: float = 40) -> float:
    """A column width that fits the given texts; CJK characters count double."""
    longest = max((sum(2 if ord(char) > 0x2E80 else 1 for char in text) for text in texts), default=0)
    return max(minimum, min(maximum, longest + 2))


def save_atomically(workbook: Workbook, path: Path) -> Path:
    """Save ``workbook`` to ``path`` atomically (a temporary file, then a rename)."""
    return write_atomically(path, lambda temp: workbook.save(temp))
