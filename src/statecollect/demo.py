"""The built-in demo school: a whole collection round, filled in by synthetic departments.

``build_demo`` lays out a collection for a fictitious school, synthesizes consistent data
for every collected table (:mod:`statecollect.synthetic`), writes the blank workbooks to
the outbox and the filled ones to the returns folder, and keeps the generated truth. With
``inject_errors`` it plants a known set of faults in the returned files and writes an
answer key naming file, sheet, cell and rule of each, so validation can be measured.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from statecollect.catalogue import Catalogue, load_catalogue
from statecollect.cells import canonical_record, format_value
from statecollect.checks import Engine
from statecollect.collection import COLLECTION_FILE, Workspace, init_collection, open_workspace
from statecollect.errors import UserError
from statecollect.generate import BaseData, DepartmentWorkbook, generate_workbooks, workbook_name
from statecollect.schema import FieldType, Shape, Table
from statecollect.synthetic import SCALES, SchoolData, synthesize
from statecollect.task_split import Assignment, TaskSplit, read_split_workbook, write_split_workbook
from statecollect.output import write_atomically
from statecollect.workbook_io import save_atomically
from statecollect.workbook_layout import column_letter, sheet_title, template_cell

__all__ = ["ANSWER_KEY_FILE", "DEMO_SCHOOL", "TRUTH_FILE", "DemoResult", "build_demo", "spread_split"]

DEMO_SCHOOL = "星海传媒学院"
DEMO_FOLDER = "示例数据"
TRUTH_FILE = "truth.json"
ANSWER_KEY_FILE = "answer_key.json"
EXTRA_DEPARTMENTS = (
    "教务处教学运行科", "教务处实践教学科", "教务处教学研究科", "教务处考务科", "教师发展中心", "实验室与设备管理处",
    "基建处", "教学质量评估中心", "创新创业学院", "继续教育学院", "国际教育学院", "马克思主义学院", "体育部",
    "艺术教育中心", "档案馆", "社会科学处", "审计处", "保卫处", "校友工作办公室", "就业指导中心",
    "心理健康教育中心", "学报编辑部", "出版社", "工会", "新闻中心", "信息化办公室",
)


@dataclass
class Fault:
    file: str
    sheet: str
    cell: str | None
    rule: str
    what: str


@dataclass
class DemoResult:
    root: Path
    scale: str
    tables: int
    rows: int
    outbox: list[DepartmentWorkbook] = field(default_factory=list)
    returns: list[DepartmentWorkbook] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root), "scale": self.scale, "tables": self.tables, "rows": self.rows,
            "departments": len(self.returns),
            "returns": [str(book.path) for book in self.returns],
            "faults": [fault.__dict__ for fault in self.faults],
        }


def build_demo(
    directory: Path,
    *,
    scale: str = "small",
    inject_errors: bool = False,
    seed: int = 2020,
    year: int = 2020,
    school_type: str = "艺术院校",
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Create the demo collection in ``directory`` (which must not hold a collection yet).

    With ``replace`` an earlier demo in ``directory`` is removed first; a real collection never is.
    """
    if scale not in SCALES:
        raise UserError(f"未知的规模 “{scale}”", "可选：" + "、".join(SCALES))
    if (directory / COLLECTION_FILE).exists():
        if not (replace and (directory / DEMO_FOLDER / TRUTH_FILE).is_file()):
            hint = "加 --replace 可重新生成演示数据" if (directory / DEMO_FOLDER).is_dir() else "演示数据请放在新的空文件夹中"
            raise UserError(f"{directory} 中已有一轮采集", hint)
        shutil.rmtree(directory)
    step = progress or (lambda _: None)
    step("建立采集")
    init_collection(directory, year=year, school=DEMO_SCHOOL, school_type=school_type)
    workspace = open_workspace(directory)
    catalogue = load_catalogue(workspace.collection.edition)
    split = read_split_workbook(workspace.split_path, catalogue)
    if scale == "large":
        split = spread_split(split, catalogue)
        write_split_workbook(split, workspace.split_path, catalogue, workspace.collection.times)
    step("生成模拟数据")
    engine = Engine(catalogue, workspace.collection.times)
    data = synthesize(catalogue, workspace.collection.times, scale=SCALES[scale], seed=seed, school=DEMO_SCHOOL,
                      school_type=school_type, table_ids=[item.table_id for item in split.collected()], engine=engine)
    _write_truth(directory / DEMO_FOLDER / TRUTH_FILE, catalogue, data)
    cells = {table_id: [_cell_values(catalogue.table_by_id(table_id), row) for row in rows] for table_id, rows in data.items()}
    faults = _plant_value_faults(catalogue, split, workspace, cells) if inject_errors else []
    step("生成空白填报表")
    outbox = generate_workbooks(workspace, catalogue, split, progress=step).workbooks
    step("生成各部门交回的填报表")
    returns = generate_workbooks(workspace, catalogue, split, base=BaseData(cells), output=workspace.folder("returns"),
                                 progress=step).workbooks
    if inject_errors:
        faults += _plant_structure_faults(catalogue, split, workspace)
        _write_json(directory / DEMO_FOLDER / ANSWER_KEY_FILE, [fault.__dict__ for fault in faults])
    return DemoResult(directory.resolve(), scale, len(data), sum(len(rows) for rows in data.values()), outbox, returns, faults)


def spread_split(split: TaskSplit, catalogue: Catalogue, extra_departments: Sequence[str] = EXTRA_DEPARTMENTS) -> TaskSplit:
    """A finer split: base tables stay with their offices, the others spread over more departments (40 by default)."""
    departments = [*split.departments(), *extra_departments]
    items = []
    position = 0
    for item in split.assignments:
        if item.collected and not catalogue.table_by_id(item.table_id).base:
            item = Assignment(item.table_id, True, departments[position % len(departments)], item.helpers,
                              item.filler, item.reviewer, item.deadline)
            position += 1
        items.append(item)
    return TaskSplit(tuple(items))


def _cell_values(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A typed record as a department would type it into Excel: year-months as text, the rest as is."""
    values = {}
    for field_ in table.template_fields:
        value = row.get(field_.header)
        values[field_.header] = format_value(value, field_.type) if field_.type is FieldType.YEAR_MONTH and value else value
    return values


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1, default=_json_default)
    write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def _json_default(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def _write_truth(path: Path, catalogue: Catalogue, data: SchoolData) -> None:
    tables = {table_id: catalogue.table_by_id(table_id) for table_id in data}
    truth = {table_id: [canonical_record(tables[table_id], row) for row in rows] for table_id, rows in data.items()}
    _write_json(path, truth)


# --------------------------------------------------------------------------- planted faults


@dataclass
class _Planter:
    catalogue: Catalogue
    split: TaskSplit
    workspace: Workspace
    cells: dict[str, list[dict[str, Any]]]
    faults: list[Fault] = field(default_factory=list)

    def where(self, table_id: str) -> tuple[str, str]:
        assignment = self.split.assignment(table_id)
        department = assignment.responsible if assignment else ""
        table = self.catalogue.table_by_id(table_id)
        return workbook_name(self.workspace.collection.year, department or ""), sheet_title(table.number, table.title)

    def cell(self, table: Table, index: int, header: str) -> str:
        position = [field_.header for field_ in table.template_fields].index(header)
        return template_cell(position, index, form=table.shape is Shape.FORM)

    def plant(self, table_id: str, index: int, header: str, value: Any, rule: str, what: str) -> None:
        rows = self.cells.get(table_id)
        if not rows or index >= len(rows):
            return
        rows[index][header] = value
        table = self.catalogue.table_by_id(table_id)
        file, sheet = self.where(table_id)
        self.faults.append(Fault(file, sheet, self.cell(table, index, header), rule, what))


def _check_id(catalogue: Catalogue, table_id: str, kind: str, first_field: str) -> str:
    for check in catalogue.table_by_id(table_id).checks:
        fields = getattr(check, "fields", ()) or (getattr(check, "field", None),)
        if check.kind == kind and fields and fields[0] == first_field:
            return check.id
    raise LookupError(f"{table_id} has no {kind} check on {first_field}")


def _plant_value_faults(catalogue: Catalogue, split: TaskSplit, workspace: Workspace,
                        cells: dict[str, list[dict[str, Any]]]) -> list[Fault]:
    planter = _Planter(catalogue, split, workspace, cells)
    planter.plant("JZGJBXX", 3, "专业技术职称", "付教授", "cell.not_in_code_list", "代码表near-miss：付教授 → 副教授")
    planter.plant("JZGJBXX", 5, "出生年月", "1985-13", "cell.bad_year_month", "不存在的月份")
    planter.plant("JZGJBXX", 7, "姓名", None, "cell.required", "必填项为空")
    planter.plant("JZGJBXX", 9, "单位号", "9999", _check_id(catalogue, "JZGJBXX", "reference", "单位号"), "引用不存在的单位号")
    planter.plant("JZGJBXX", 11, "入校时间", "2020.1", "cell.bad_year_month", "2020.10 被读成 2020.1")
    students = cells["BKSJBQK"]
    planter.plant("BKSJBQK", 12, "学号", students[11]["学号"], _check_id(catalogue, "BKSJBQK", "unique", "学号"), "学号重复")
    planter.plant("BKSJBQK", 14, "年级", "２０１８", "cell.normalized", "全角数字")
    total = cells["XYHYSHHZ"][0]["总数"]
    planter.plant("XYHYSHHZ", 0, "总数", (total or 0) + 3, _relation_id(catalogue, "XYHYSHHZ", "总数"), "总数与分项之和不符")
    planter.plant("ZDYJZMJ", 0, "总占地面积", "约50000平方米", "cell.number_with_text", "数字中带文字")
    planter.plant("XXXGDZDW", 0, "单位号", int(cells["XXXGDZDW"][0]["单位号"]), "cell.id_as_number", "编号存成数字，丢了开头的 0")
    planter.plant("ZYJBQK", 2, "招生状态", "在招 ", "cell.normalized", "选项后多了空格")
    return planter.faults


def _relation_id(catalogue: Catalogue, table_id: str, header: str) -> str:
    for check in catalogue.table_by_id(table_id).checks:
        if check.kind == "relation" and header in getattr(check, "fields", ()):
            return check.id
    raise LookupError(f"{table_id} has no relation on {header}")


def _plant_structure_faults(catalogue: Catalogue, split: TaskSplit, workspace: Workspace) -> list[Fault]:
    """Column and sheet faults, planted in the returned workbooks of two small departments."""
    planter = _Planter(catalogue, split, workspace, {})
    faults: list[Fault] = []
    library = split.assignment("TSG")
    research = split.assignment("JSFBLWS")
    if library and library.responsible:
        file, sheet = planter.where("TSDNXZQK")
        path = workspace.folder("returns") / file
        workbook = load_workbook(path)
        del workbook[sheet]
        faults.append(Fault(file, sheet, None, "structure.sheet_missing", "删除了工作表"))
        _, renamed = planter.where("TSG")
        workbook[renamed].title = "图书馆情况"
        faults.append(Fault(file, "图书馆情况", None, "structure.sheet_renamed", "工作表改了名"))
        save_atomically(workbook, path)
    if research and research.responsible:
        file, sheet = planter.where("JSFBLWS")
        path = workspace.folder("returns") / file
        workbook = load_workbook(path)
        worksheet = workbook[sheet]
        extra = worksheet.max_column + 1
        worksheet.cell(1, extra).value = "备注"
        faults.append(Fault(file, sheet, f"{column_letter(extra)}1", "structure.extra_column", "多了一列“备注”"))
        table = catalogue.table_by_id("JSFBLWS")
        worksheet.cell(1, 2).value = table.template_fields[1].header + "（全称）"
        faults.append(Fault(file, sheet, "B1", "structure.column_renamed", "改了列标题"))
        save_atomically(workbook, path)
    return faults
