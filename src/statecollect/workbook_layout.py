"""Names and shapes shared by the workbooks the tool writes and the code that reads them back.

Kept free of spreadsheet libraries so that reading a returned workbook does not pay for
importing the writer.
"""

from __future__ import annotations

import re

__all__ = ["COVER_SHEET", "FINDINGS_SHEET", "FORM_HEADERS", "LISTS_SHEET", "META_FORMAT", "META_SHEET", "TOOL_SHEETS",
           "UNREAD_SHEETS", "column_letter", "sheet_title", "template_cell"]

COVER_SHEET = "封面"
LISTS_SHEET = "_lists"
META_SHEET = "_meta"
FINDINGS_SHEET = "错误清单"
META_FORMAT = "statecollect-department-workbook/1"
FORM_HEADERS = ("项目", "填写内容", "单位", "填写说明")
MAX_SHEET_TITLE = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
TOOL_SHEETS = frozenset({COVER_SHEET, LISTS_SHEET, META_SHEET, FINDINGS_SHEET})
UNREAD_SHEETS = TOOL_SHEETS - {META_SHEET}  # written by the tool for people or dropdowns: never data, never parsed


def column_letter(number: int) -> str:
    """Excel's column name for a 1-based column number: 1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def template_cell(position: int, index: int, *, form: bool) -> str:
    """Where field ``position`` of record ``index`` sits in a sheet laid out by generate: a list
    table has one row per record below its header row; a form, its one record's fields one per
    line below the header line, the value in column B."""
    return f"B{position + 2}" if form else f"{column_letter(position + 1)}{index + 2}"


def sheet_title(number: str, title: str) -> str:
    """A valid, unique-looking sheet name: ``1-5-1 教职工基本信息`` cut to Excel's 31 characters."""
    clean = _SHEET_FORBIDDEN.sub("_", f"{number} {title}").strip("'")
    return clean[:MAX_SHEET_TITLE]
