"""Annotated feedback copies: the department's values in a fresh template, problems marked.

The copy is built anew from the template and the returned values — never by re-saving
the department's file — so nothing of theirs is silently dropped or changed: columns the
template lacks are kept at the right, marked as not collected. Offending cells are
coloured and carry a comment; an 错误清单 sheet lists every finding with a link to its
cell. The original file is never touched.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from statecollect.catalogue import Catalogue
from statecollect.collection import Collection, Deadlines
from statecollect.findings import SEVERITY_LABELS, Finding, Severity
from statecollect.generate import BaseData, build_department_workbook
from statecollect.schema import Shape
from statecollect.task_split import Assignment
from statecollect.workbook_io import STYLE, link_to, print_setup, put, save_atomically
from statecollect.workbook_layout import FINDINGS_SHEET, column_letter, template_cell
from statecollect.workbook_read import cyclic_gc_running

if TYPE_CHECKING:
    from statecollect.returned_file import FileReport, TableReport
    from statecollect.validate import ValidationReport

__all__ = ["feedback_name", "write_feedback_copies"]

_EXTRA_FILL = PatternFill("solid", fgColor="E7E6E6")


def feedback_name(original: Path) -> str:
    return f"反馈_{original.stem}.xlsx"


def write_feedback_copies(
    report: ValidationReport,
    catalogue: Catalogue,
    collection: Collection | None,
    target: Path,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Write one annotated copy per readable file that holds tables into ``target``."""
    owner = collection or _standalone_collection(report.year)
    with cyclic_gc_running():
        for file in report.files:
            if not file.readable or not file.tables:
                continue
            if progress:
                progress(f"反馈 {file.path.name}")
            workbook, sheets = _fresh_copy(file, catalogue, owner)
            cells = _CellMap(file, sheets)
            placed = [(finding, cells.locate(finding)) for finding in file.findings]
            _mark_cells(workbook, placed)
            _findings_sheet(workbook, file, placed)
            file.feedback = save_atomically(workbook, target / feedback_name(file.path))


def _standalone_collection(year: int) -> Collection:
    # outside a collection there is no secret: the copy is signed with a throwaway one
    return Collection(school="（未指定学校）", school_type="综合院校", year=year, edition="2020",
                      deadlines=Deadlines.for_year(year), secret=secrets.token_hex(32))


def _fresh_copy(file: FileReport, catalogue: Catalogue, collection: Collection) -> tuple[Workbook, dict[str, str]]:
    assignments = [Assignment(table.table.id, True, file.department, (), None, None, collection.deadline_for(table.table.base))
                   for table in file.tables]
    base = BaseData({table.table.id: table.records for table in file.tables})
    workbook, sheets = build_department_workbook(collection, catalogue, file.department or "（未识别部门）", assignments, base)
    for table in file.tables:
        if table.extra_columns and table.table.shape is Shape.LIST:
            _keep_extra_columns(workbook[sheets[table.table.id]], table)
    return workbook, sheets


def _keep_extra_columns(sheet: Worksheet, table: TableReport) -> None:
    first = len(table.table.template_fields) + 1
    for offset, (name, values) in enumerate(table.extra_columns.items()):
        column = first + offset
        header = put(sheet.cell(1, column), f"{name}（模板外，不采集）")
        header.fill, header.font = _EXTRA_FILL, Font(italic=True, color="595959")
        sheet.column_dimensions[column_letter(column)].width = 18
        for row, value in enumerate(values, start=2):
            put(sheet.cell(row, column), None if value == "" else value)


@dataclass
class _CellMap:
    """Where a finding about the returned file sits in the fresh copy."""

    file: FileReport
    sheets: dict[str, str]

    @cached_property
    def _tables(self) -> dict[str, list[tuple[TableReport, dict[str, int], dict[int, int]]]]:
        """The tables by number (parts of one table share it), with their headers' and Excel rows'
        positions: thousands of findings are placed."""
        found: dict[str, list[tuple[TableReport, dict[str, int], dict[int, int]]]] = defaultdict(list)
        for table in self.file.tables:
            headers = {field.header: position for position, field in enumerate(table.table.template_fields)}
            found[table.table.number].append((table, headers, {row: index for index, row in enumerate(table.row_numbers)}))
        return found

    def locate(self, finding: Finding) -> tuple[str, str | None] | None:
        entry = next((item for item in self._tables.get(finding.location.table or "", ()) if item[0].is_about(finding)), None)
        if entry is None:
            return None
        table, headers, rows = entry
        sheet = self.sheets[table.table.id]
        position = headers.get(finding.location.column or "")
        if position is None:
            return sheet, None
        if table.table.shape is Shape.FORM:
            return sheet, template_cell(position, 0, form=True)
        index = rows.get(finding.location.row)  # type: ignore[arg-type]  # None, a whole column's finding, is no row
        if index is None:
            return sheet, f"{column_letter(position + 1)}1"  # about the whole column: its header
        return sheet, template_cell(position, index, form=False)


Placed = list[tuple[Finding, tuple[str, str | None] | None]]  # each finding with its sheet and cell in the copy


def _mark_cells(workbook: Workbook, placed: Placed) -> None:
    notes: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding, place in placed:
        if place is not None and place[1] is not None:
            notes[(place[0], place[1])].append(finding)
    for (sheet_name, cell_ref), items in notes.items():
        cell = workbook[sheet_name][cell_ref]
        worst = Severity.ERROR if any(item.severity is Severity.ERROR for item in items) else Severity.WARNING
        cell.fill = STYLE.error_fill if worst is Severity.ERROR else STYLE.warning_fill
        text = "\n".join(f"【{SEVERITY_LABELS[item.severity]}】{item.message}\n建议：{item.hint}" for item in items)
        cell.comment = Comment(text[:2000], "statecollect", width=320, height=60 + 40 * min(len(items), 6))


def _findings_sheet(workbook: Workbook, file: FileReport, placed: Placed) -> None:
    sheet = workbook.create_sheet(FINDINGS_SHEET, index=1)
    errors, warnings = file.count(Severity.ERROR), file.count(Severity.WARNING)
    title = put(sheet.cell(1, 1), f"错误清单：{file.path.name}，错误 {errors} 个，警告 {warnings} 个")
    title.font = STYLE.title_font
    put(sheet.cell(2, 1), "红色单元格为错误，黄色为警告；点击“位置”可跳到对应单元格，鼠标移到单元格上可看说明。改正后请交回本文件。")
    headers = ("序号", "级别", "数据表", "位置", "列", "问题", "修改建议", "规则")
    for column, text in enumerate(headers, start=1):
        cell = put(sheet.cell(4, column), text)
        cell.font, cell.fill, cell.border = STYLE.header_font, STYLE.header_fill, STYLE.border
    ordered = sorted(placed, key=lambda item: (item[0].severity is not Severity.ERROR, item[0].location.table or "",
                                               item[0].location.row or 0))
    for row, (finding, place) in enumerate(ordered, start=5):
        where = f"{place[0]}!{place[1]}" if place and place[1] else (place[0] if place else finding.location.describe())
        values = (row - 4, SEVERITY_LABELS[finding.severity], finding.location.table or "", where,
                  finding.location.column or "", finding.message, finding.hint, finding.rule_id)
        for column, value in enumerate(values, start=1):
            put(sheet.cell(row, column), value).alignment = STYLE.wrap
        level = sheet.cell(row, 2)
        level.font = Font(bold=True, color="C00000" if finding.severity is Severity.ERROR else "9C5700")
        if place and place[1]:
            link_to(sheet.cell(row, 4), place[0], place[1])
    for letter, width in zip("ABCDEFGH", (6, 7, 9, 30, 16, 50, 44, 26), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A5"
    print_setup(sheet, landscape=True)
    sheet.print_title_rows = "4:4"
