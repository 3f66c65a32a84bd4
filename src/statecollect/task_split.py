"""The task split (任务分解表): which department fills, helps with and signs each table.

``init`` writes the edition's default split as an Excel workbook; the school edits it in
Excel or WPS, and every later command reads that workbook back. Reading reports each
problem with its cell, so a clerk can fix the split without help.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from statecollect.catalogue import Catalogue
from statecollect.findings import Finding, Location, Severity
from statecollect.schema import TIME_BASIS_LABELS, DefaultSplit
from statecollect.stat_times import StatisticTimes
from statecollect.workbook_layout import column_letter

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["Assignment", "SplitError", "TaskSplit", "default_split", "read_split_workbook", "write_split_workbook"]

SHEET = "任务分解表"
DEPARTMENT_SHEET = "部门"
COLUMNS = ("表号", "表名", "统计时间", "基础表", "是否采集", "责任部门", "协助部门", "填报员", "审核员", "截止日期", "表标识")
HEADER_ROW = 2
_SEPARATORS = re.compile(r"[、，,;；/\s]+")


@dataclass(frozen=True)
class Assignment:
    table_id: str
    collected: bool
    responsible: str | None
    helpers: tuple[str, ...]
    filler: str | None
    reviewer: str | None
    deadline: date


@dataclass(frozen=True)
class TaskSplit:
    assignments: tuple[Assignment, ...]

    def collected(self) -> list[Assignment]:
        return [item for item in self.assignments if item.collected]

    def departments(self) -> list[str]:
        """Responsible departments, in the order their first table appears in the catalogue."""
        seen: dict[str, None] = {}
        for item in self.collected():
            if item.responsible:
                seen.setdefault(item.responsible, None)
        return list(seen)

    def tables_of(self, department: str) -> list[Assignment]:
        return [item for item in self.collected() if item.responsible == department]

    def assignment(self, table_id: str) -> Assignment | None:
        return next((item for item in self.assignments if item.table_id == table_id), None)


class SplitError(Exception):
    """The split workbook cannot be used; ``findings`` says where and why."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} problem(s) in the task split")
        self.findings = findings


def _defaults(catalogue: Catalogue) -> DefaultSplit:
    split = catalogue.schema_set.default_split
    if split is None:
        raise SplitError([_problem(None, None, "本版架构没有默认任务分解（task_split.yaml）", "请在架构目录中添加 task_split.yaml")])
    return split


def default_split(catalogue: Catalogue, school_type: str, deadline_for: Callable[[bool], date]) -> TaskSplit:
    """The edition's default split for a school of ``school_type``."""
    defaults = _defaults(catalogue)
    assignments = []
    for table in catalogue.tables:
        default = defaults.assignments.get(table.id)
        assignments.append(
            Assignment(
                table_id=table.id,
                collected=defaults.collected_by_default(table, school_type),
                responsible=default.responsible if default else None,
                helpers=default.helpers if default else (),
                filler=None,
                reviewer=None,
                deadline=deadline_for(table.base),
            )
        )
    return TaskSplit(tuple(assignments))


# --------------------------------------------------------------------------- writing


def write_split_workbook(split: TaskSplit, path: Path, catalogue: Catalogue, times: StatisticTimes) -> Path:
    # the writer is imported here: reading the split back (every validate) does not need it
    from openpyxl import Workbook

    from statecollect.workbook_io import STYLE, put, save_atomically

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    put(sheet.cell(1, 1), f"{times.year}年本科教学基本状态数据采集任务分解表")
    sheet.cell(1, 1).font = STYLE.title_font
    for column, name in enumerate(COLUMNS, start=1):
        cell = put(sheet.cell(HEADER_ROW, column), name)
        cell.font, cell.fill, cell.border, cell.alignment = STYLE.header_font, STYLE.header_fill, STYLE.border, STYLE.center
    for row, item in enumerate(split.assignments, start=HEADER_ROW + 1):
        table = catalogue.table_by_id(item.table_id)
        values = (
            table.number, table.title, f"{TIME_BASIS_LABELS[table.time_basis]} {times.describe(table.time_basis)}",
            "★" if table.base else "", "是" if item.collected else "否", item.responsible or "",
            "、".join(item.helpers), item.filler or "", item.reviewer or "", item.deadline, table.id,
        )
        for column, value in enumerate(values, start=1):
            cell = put(sheet.cell(row, column), value)
            cell.border = STYLE.border
        sheet.cell(row, 10).number_format = "yyyy-mm-dd"
    last = HEADER_ROW + len(split.assignments)
    _layout(sheet, last)
    _department_sheet(workbook, _defaults(catalogue).departments)
    _add_validations(sheet, last)
    _instructions(workbook)
    return save_atomically(workbook, path)


def _layout(sheet: Worksheet, last: int) -> None:
    from statecollect.workbook_io import print_setup

    widths = {1: 9, 2: 40, 3: 36, 4: 7, 5: 9, 6: 14, 7: 22, 8: 12, 9: 12, 10: 12, 11: 12}
    for column, width in widths.items():
        sheet.column_dimensions[column_letter(column)].width = width
    sheet.column_dimensions["K"].hidden = True
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 3)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:K{last}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    print_setup(sheet, landscape=True)


def _department_sheet(workbook: Workbook, departments: Iterable[str]) -> None:
    from statecollect.workbook_io import STYLE, column_letter_width, put

    sheet = workbook.create_sheet(DEPARTMENT_SHEET)
    put(sheet.cell(1, 1), "部门（可增加）").font = STYLE.header_font
    names = list(departments)
    for row, name in enumerate(names, start=2):
        put(sheet.cell(row, 1), name)
    sheet.column_dimensions["A"].width = column_letter_width(names)


def _add_validations(sheet: Worksheet, last: int) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    collected = DataValidation(type="list", formula1='"是,否"', allow_blank=False, showErrorMessage=True,
                               errorTitle="是否采集", error="请选择“是”或“否”。")
    collected.add(f"E{HEADER_ROW + 1}:E{last}")
    department = DataValidation(type="list", formula1=f"={DEPARTMENT_SHEET}!$A$2:$A$200", allow_blank=True,
                                showErrorMessage=True, errorStyle="warning", errorTitle="责任部门",
                                error="该部门不在“部门”表中。确定要使用新部门名称吗？")
    department.add(f"F{HEADER_ROW + 1}:F{last}")
    deadline = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", showErrorMessage=True,
                              errorTitle="截止日期", error="请填写日期，如 2020-10-15。")
    deadline.add(f"J{HEADER_ROW + 1}:J{last}")
    for validation in (collected, department, deadline):
        sheet.add_data_validation(validation)


def _instructions(workbook: Workbook) -> None:
    from statecollect.workbook_io import STYLE, put

    sheet = workbook.create_sheet("说明")
    lines = (
        "任务分解表说明",
        "1. 每行一张数据表。“是否采集”选“否”的表本次不采集（如本校没有师范类专业，可不采集 SF 类表）。",
        "2. “责任部门”负责填报该表；“协助部门”提供数据，多个部门用顿号（、）分隔。",
        "3. 每个部门应有一名填报员和一名审核员（通常为部门负责人），填在本部门负责的各行中。",
        "4. ★ 为基础数据表：须最先完成（默认 10 月 15 日前），审核后冻结，其他表引用其中的单位号、专业代码、工号、学号等。",
        "5. 可以增加部门：在“部门”表中添加名称，再在“责任部门”中选用。",
        "6. 请勿修改“表号”“表名”列，也勿删除行；隐藏的“表标识”列供程序识别数据表。",
        "7. 修改完成后保存，然后运行 statecollect generate 生成各部门的填报表。",
    )
    for row, text in enumerate(lines, start=1):
        put(sheet.cell(row, 1), text)
    sheet.cell(1, 1).font = STYLE.title_font
    sheet.column_dimensions["A"].width = 110


# --------------------------------------------------------------------------- reading


def _problem(cell: str | None, column: str | None, message: str, hint: str, file: str | None = None) -> Finding:
    return Finding(
        location=Location(file=file, sheet=SHEET, cell=cell, column=column),
        rule_id="split.invalid",
        severity=Severity.ERROR,
        message=message,
        hint=hint,
    )


def read_split_workbook(path: Path, catalogue: Catalogue) -> TaskSplit:
    """Read the school's edited split; raise :class:`SplitError` listing every problem."""
    from python_calamine import CalamineWorkbook

    if not path.is_file():
        raise SplitError([_problem(None, None, f"找不到任务分解表 {path.name}", "先运行 statecollect init", path.name)])
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        rows = workbook.get_sheet_by_name(SHEET).to_python(skip_empty_area=False) if SHEET in names else None
    except Exception:
        raise SplitError([_problem(None, None, f"{path.name} 不是有效的 Excel 文件", "请用 Excel 或 WPS 另存为 .xlsx 后重试", path.name)]) from None
    if rows is None:
        raise SplitError([_problem(None, None, f"找不到工作表“{SHEET}”", "请勿重命名或删除该工作表", path.name)])
    reader = _SplitReader(rows, catalogue, path.name)
    split = reader.read()
    if reader.problems:
        raise SplitError(reader.problems)
    return split


class _SplitReader:
    def __init__(self, rows: list[list[Any]], catalogue: Catalogue, file: str) -> None:
        self.rows = rows
        self.catalogue = catalogue
        self.file = file
        self.problems: list[Finding] = []

    def add(self, row: int, column: str, message: str, hint: str) -> None:
        cell = f"{column_letter(COLUMNS.index(column) + 1)}{row}" if row else None
        self.problems.append(_problem(cell, column, message, hint, self.file))

    def read(self) -> TaskSplit:
        header = [str(value).strip() for value in self.rows[HEADER_ROW - 1]] if len(self.rows) >= HEADER_ROW else []
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            self.add(0, "表号", f"第 {HEADER_ROW} 行缺少列：{'、'.join(missing)}", "请勿删除或改名列标题；可从 init 重新生成的模板中复制")
            return TaskSplit(())
        index = {name: header.index(name) for name in COLUMNS}
        assignments: list[Assignment] = []
        seen: set[str] = set()
        for row_number, row in enumerate(self.rows[HEADER_ROW:], start=HEADER_ROW + 1):
            values = {name: row[position] if position < len(row) else None for name, position in index.items()}
            if all(value in (None, "") for value in values.values()):
                continue
            item = self.read_row(row_number, values)
            if item is None:
                continue
            if item.table_id in seen:
                self.add(row_number, "表号", f"表 {values['表号']} 出现了两次", "每张表只保留一行")
                continue
            seen.add(item.table_id)
            assignments.append(item)
        return TaskSplit(tuple(assignments))

    def read_row(self, row: int, values: dict[str, Any]) -> Assignment | None:
        key = _text(values["表标识"]) or _text(values["表号"])
        try:
            table = self.catalogue.table(key or "")
        except LookupError:
            self.add(row, "表号", f"不认识的表号 “{values['表号']}”", "请勿修改表号；用 statecollect schema list 查看全部表号")
            return None
        collected_text = _text(values["是否采集"]) or "是"
        if collected_text not in {"是", "否"}:
            self.add(row, "是否采集", f"“是否采集”应为“是”或“否”，现为 “{collected_text}”", "从下拉列表中选择")
        collected = collected_text != "否"
        responsible = _text(values["责任部门"])
        if collected and not responsible:
            self.add(row, "责任部门", f"表{table.number} 要采集，但没有责任部门", "填写责任部门，或把“是否采集”改为“否”")
        deadline = _as_date(values["截止日期"])
        if deadline is None:
            self.add(row, "截止日期", f"截止日期 “{values['截止日期']}” 不是日期", "填写日期，如 2020-10-15")
            deadline = date.min
        helpers = tuple(name for name in _SEPARATORS.split(_text(values["协助部门"]) or "") if name)
        return Assignment(table.id, collected, responsible, helpers, _text(values["填报员"]), _text(values["审核员"]), deadline)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = re.fullmatch(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?", _text(value) or "")
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
