"""Template generation: one workbook per department holding only that department's tables.

Each workbook has a cover sheet (who fills, who signs, deadlines, statistic times, how to
fill), one sheet per table with the platform's exact headers, required columns marked,
help on every column, data validation (dropdowns through a hidden lists sheet, bounds,
formats, lengths), and a hidden, protected, signed ``_meta`` sheet so a returned file
can be traced to its collection and department.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from statecollect.catalogue import Catalogue, describe_constraints, load_catalogue
from statecollect.collection import Collection, Workspace, open_workspace, read_master_sheets
from statecollect.errors import UserError
from statecollect.expressions import key_text
from statecollect.schema import (
    FIELD_TYPE_LABELS,
    TIME_BASIS_LABELS,
    Field,
    FieldType,
    ReferenceCheck,
    Shape,
    Table,
    TimeBasis,
)
from statecollect.signing import collection_id, sign
from statecollect.task_split import Assignment, TaskSplit, read_split_workbook
from statecollect.workbook_io import STYLE, column_letter_width, link_to, print_setup, put, save_atomically
from statecollect.workbook_layout import COVER_SHEET, FORM_HEADERS, LISTS_SHEET, META_FORMAT, META_SHEET, sheet_title
from statecollect.workbook_read import SheetValues, find_table, read_sheets, records

__all__ = [
    "BaseData",
    "DepartmentWorkbook",
    "GenerateResult",
    "base_from_workbook",
    "build_department_workbook",
    "generate_workbooks",
    "run_generate",
    "workbook_name",
]

LAST_DATA_ROW = 100_000
_FILE_FORBIDDEN = re.compile(r'[\\/:*?"<>|\s]+')

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class BaseData:
    """Rows of already collected tables (base tables, or a master): table id → rows of header → value."""

    tables: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    _keys: dict[tuple[tuple[str, str], ...], list[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def keys(self, columns: tuple[tuple[str, str], ...]) -> list[str]:
        """The distinct key texts of some (table id, header) columns together, sorted; worked out
        once, for every table and department's workbook that offers them."""
        if columns not in self._keys:
            values = (key_text(row.get(header)) for table_id, header in columns for row in self.tables.get(table_id, ()))
            self._keys[columns] = sorted({value for value in values if value})
        return self._keys[columns]


@dataclass(frozen=True)
class DepartmentWorkbook:
    department: str
    path: Path
    tables: tuple[str, ...]
    prefilled_rows: int


@dataclass
class GenerateResult:
    workbooks: list[DepartmentWorkbook] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workbooks": [
                {"department": book.department, "file": str(book.path), "tables": list(book.tables),
                 "prefilled_rows": book.prefilled_rows}
                for book in self.workbooks
            ]
        }


def run_generate(
    root: Path,
    *,
    departments: Iterable[str] | None = None,
    base_path: Path | None = None,
    progress: ProgressCallback | None = None,
) -> GenerateResult:
    """Generate the department workbooks of the collection in ``root`` from its task split.

    The base data for key dropdowns and prefilled rows is ``base_path`` or, when none is
    given, the collection's master workbook once one has been merged.
    """
    workspace = open_workspace(root)
    catalogue = load_catalogue(workspace.collection.edition)
    split = read_split_workbook(workspace.split_path, catalogue)
    known = split.departments()
    unknown = [name for name in departments or () if name not in known]
    if unknown:
        raise UserError(f"任务分解表中没有负责数据表的部门：{'、'.join(unknown)}", "可选：" + "、".join(known))
    if base_path is not None:
        base = base_from_workbook(base_path, catalogue)
    elif workspace.master_path.is_file():  # once tables are merged, their keys feed the dropdowns (if any yet)
        base = BaseData(_tables_in(read_master_sheets(workspace.master_path), catalogue))
    else:
        base = None
    return generate_workbooks(workspace, catalogue, split, base=base, departments=departments or None, progress=progress)


def base_from_workbook(path: Path, catalogue: Catalogue) -> BaseData:
    """Every table found in a workbook given as the base data; it must hold a base table."""
    tables = _tables_in(read_sheets(path), catalogue)
    if not any(table.id in tables for table in catalogue.base_tables):
        raise UserError(f"{path.name} 中找不到任何基础数据表", "请指定汇总后的总表，或含基础数据表（如表1-2、1-3、1-4-1）的填报表")
    return BaseData(tables)


def _tables_in(sheets: list[SheetValues], catalogue: Catalogue) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in catalogue.tables:
        found = find_table(sheets, table)
        if found is not None:
            sheet, header_index = found
            tables[table.id] = records(sheet, header_index, [field.header for field in table.template_fields])
    return tables


def workbook_name(year: int, department: str) -> str:
    return f"{year}_{_FILE_FORBIDDEN.sub('_', department)}_状态数据采集表.xlsx"


def generate_workbooks(
    workspace: Workspace,
    catalogue: Catalogue,
    split: TaskSplit,
    *,
    base: BaseData | None = None,
    departments: Iterable[str] | None = None,
    output: Path | None = None,
    progress: ProgressCallback | None = None,
) -> GenerateResult:
    """Write one workbook per department (or only ``departments``) into the outbox folder."""
    wanted = list(departments) if departments is not None else split.departments()
    target = output or workspace.folder("outbox")
    result = GenerateResult()
    for department in wanted:
        if progress:
            progress(department)
        builder = _WorkbookBuilder(workspace.collection, catalogue, department, split.tables_of(department), base or BaseData())
        path = save_atomically(builder.build(), target / workbook_name(workspace.collection.year, department))
        result.workbooks.append(DepartmentWorkbook(department, path, builder.table_ids, builder.prefilled_rows))
    return result


# --------------------------------------------------------------------------- the builder


def build_department_workbook(
    collection: Collection, catalogue: Catalogue, department: str, assignments: list[Assignment], base: BaseData
) -> tuple[Workbook, dict[str, str]]:
    """A department workbook in memory (and its table id → sheet name map), for callers that add to it."""
    builder = _WorkbookBuilder(collection, catalogue, department, assignments, base)
    return builder.build(), builder.sheet_names


class _WorkbookBuilder:
    def __init__(
        self, collection: Collection, catalogue: Catalogue, department: str, assignments: list[Assignment], base: BaseData
    ) -> None:
        self.collection = collection
        self.catalogue = catalogue
        self.department = department
        self.assignments = assignments
        self.base = base
        self.tables = [catalogue.table_by_id(item.table_id) for item in assignments]
        self.table_ids = tuple(table.id for table in self.tables)
        self.workbook = Workbook()
        self.lists = _ListsSheet(self.workbook)
        self.sheet_names: dict[str, str] = {}
        self.prefilled_rows = 0

    def build(self) -> Workbook:
        cover = self.workbook.active
        cover.title = COVER_SHEET
        for table in self.tables:
            self.sheet_names[table.id] = self.add_table_sheet(table)
        _CoverWriter(self, cover).write()
        self.lists.finish()
        self.add_meta()
        return self.workbook

    def unique_title(self, table: Table) -> str:
        title = sheet_title(table.number + ("（续）" if table.part_of else ""), table.title)
        while title in self.workbook.sheetnames:
            title = title[:-1] + "_"
        return title

    def add_table_sheet(self, table: Table) -> str:
        sheet = self.workbook.create_sheet(self.unique_title(table))
        rows = self.base.tables.get(table.id, ())
        if table.shape is Shape.FORM:
            _FormSheet(self, sheet, table).write(rows[0] if rows else {})
        else:
            _ListSheet(self, sheet, table).write(rows)
            self.prefilled_rows += len(rows)
        return sheet.title

    def validation_for(self, table: Table, field_: Field) -> DataValidation:
        key_list = self.reference_keys(table, field_)
        return _validation(field_, self.lists.range_for(field_, key_list, self.catalogue), self.collection.year)

    def reference_keys(self, table: Table, field_: Field) -> tuple[str, list[str]] | None:
        """Real key values for a field that references base tables, once those are known: one list
        for each set of referenced columns, which every table of the workbook pointing there shares
        (a department's tables may name the same 30,000 student numbers five times)."""
        for check in table.checks:
            if not isinstance(check, ReferenceCheck) or check.fields[0] != field_.header:
                continue
            targets = tuple(sorted({(target.table, target.fields[0]) for target in check.targets}))
            keys = self.base.keys(targets)
            if keys:
                return "keys_" + "_".join(f"{table_id}_{self.field_key(table_id, header)}" for table_id, header in targets), keys
        return None

    def field_key(self, table_id: str, header: str) -> str:
        found = self.catalogue.table_by_id(table_id).field(header)
        return found.key if found is not None else header

    def add_meta(self) -> None:
        sheet = self.workbook.create_sheet(META_SHEET)
        payload = self.meta_payload()
        payload["signature"] = sign(payload, self.collection.secret)
        for row, (key, value) in enumerate(payload.items(), start=1):
            put(sheet.cell(row, 1), key)
            put(sheet.cell(row, 2), value)
        sheet.sheet_state = "veryHidden"
        sheet.protection.sheet = True
        sheet.protection.password = self.collection.secret[:16]

    def meta_payload(self) -> dict[str, str]:
        return {
            "format": META_FORMAT,
            "collection": collection_id(self.collection.secret),
            "school": self.collection.school,
            "year": str(self.collection.year),
            "edition": self.catalogue.schema_set.edition,
            "schema": self.catalogue.fingerprint,
            "department": self.department,
            "tables": ",".join(self.table_ids),
            "sheets": ",".join(f"{table_id}={name}" for table_id, name in self.sheet_names.items()),
            "generated": datetime.now().replace(microsecond=0).isoformat(),
        }


class _ListsSheet:
    """The hidden sheet holding dropdown values, one column per list, each behind a defined name.

    A list in a sheet avoids the 255-character limit of inline dropdown lists.
    """

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.sheet = workbook.create_sheet(LISTS_SHEET)
        self.names: dict[str, str] = {}

    def range_for(self, field_: Field, key_list: tuple[str, list[str]] | None, catalogue: Catalogue) -> str | None:
        if key_list is not None:
            return self.add(*key_list)
        if field_.type is FieldType.CODE and field_.code_list:
            return self.add(f"list_{field_.code_list}", list(catalogue.code_list(field_.code_list).labels()))
        return None

    def add(self, name: str, values: list[str]) -> str:
        if name not in self.names:
            column = len(self.names) + 1
            put(self.sheet.cell(1, column), name)
            for row, value in enumerate(values, start=2):
                put(self.sheet.cell(row, column), value)
            letter = get_column_letter(column)
            reference = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
            self.workbook.defined_names[name] = DefinedName(name, attr_text=reference)
            self.names[name] = name
        return name

    def finish(self) -> None:
        self.sheet.sheet_state = "hidden"
        self.workbook.move_sheet(LISTS_SHEET, offset=len(self.workbook.sheetnames))


def _help_text(field_: Field) -> str:
    parts = [field_.help or "", f"类型：{FIELD_TYPE_LABELS[field_.type]}", "必填" if field_.required else "可空"]
    constraints = describe_constraints(field_)
    if constraints:
        parts.append(constraints)
    return "；".join(part for part in parts if part)


def _validation(field_: Field, list_name: str | None, year: int) -> DataValidation:
    prompt = _help_text(field_)[:250]
    common: dict[str, Any] = {
        "allow_blank": True, "showInputMessage": True, "showErrorMessage": True,
        "promptTitle": field_.header[:32], "prompt": prompt, "errorTitle": field_.header[:32],
    }
    if list_name is not None:
        strict = field_.type is FieldType.CODE
        return DataValidation(type="list", formula1=f"={list_name}", errorStyle="stop" if strict else "warning",
                              error="请从下拉列表中选择。" if strict else "该值不在已汇总的基础数据中，确定吗？", **common)
    if field_.type is FieldType.YES_NO:
        return DataValidation(type="list", formula1='"是,否"', error="请选择“是”或“否”。", **common)
    if field_.type in (FieldType.INTEGER, FieldType.DECIMAL):
        return _number_validation(field_, common)
    if field_.type is FieldType.YEAR:
        return DataValidation(type="whole", operator="between", formula1="1900", formula2=str(year + 1),
                              error=f"请填写四位年份，如 {year}。", **common)
    if field_.type is FieldType.YEAR_MONTH:
        return DataValidation(type="textLength", operator="equal", formula1="7", errorStyle="warning",
                              error=f"请按 YYYY-MM 填写，如 {year}-09。", **common)
    if field_.type is FieldType.DATE:
        return DataValidation(type="date", operator="between", formula1="DATE(1900,1,1)", formula2="DATE(2100,12,31)",
                              error=f"请填写日期，如 {year}-09-30。", **common)
    if field_.max_length:
        return DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(field_.max_length),
                              errorStyle="warning", error=f"内容超过 {field_.max_length} 个字。", **common)
    return DataValidation(**common)


def _number_validation(field_: Field, common: dict[str, Any]) -> DataValidation:
    kind = "whole" if field_.type is FieldType.INTEGER else "decimal"
    what = "整数" if kind == "whole" else "数字"
    if field_.min is not None and field_.max is not None:
        return DataValidation(type=kind, operator="between", formula1=f"{field_.min:g}", formula2=f"{field_.max:g}",
                              error=f"请填写 {field_.min:g} 到 {field_.max:g} 之间的{what}。", **common)
    if field_.min is not None:
        return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{field_.min:g}",
                              error=f"请填写不小于 {field_.min:g} 的{what}。", **common)
    return DataValidation(type=kind, operator="between", formula1="-1E15", formula2="1E15", error=f"请填写{what}。", **common)


NUMBER_FORMATS: dict[FieldType, str] = {
    FieldType.ID: "@", FieldType.TEXT: "@", FieldType.LONG_TEXT: "@", FieldType.CODE: "@", FieldType.YES_NO: "@",
    FieldType.YEAR_MONTH: "@", FieldType.URL: "@", FieldType.EMAIL: "@", FieldType.PHONE: "@",
    FieldType.INTEGER: "0", FieldType.YEAR: "0", FieldType.DECIMAL: "0.00", FieldType.DATE: "yyyy-mm-dd",
}


def _number_format(field_: Field, value: Any) -> str:
    """The cell format for a value: the field's, except that dates a department typed stay readable as dates."""
    if isinstance(value, date):
        return "yyyy-mm" if field_.type is FieldType.YEAR_MONTH else "yyyy-mm-dd"
    return NUMBER_FORMATS[field_.type]


def _style_header(sheet: Worksheet, row: int, column: int, text: str, *, required: bool, note: str | None) -> None:
    cell = put(sheet.cell(row, column), text)
    cell.font = STYLE.required_font if required else STYLE.header_font
    cell.fill = STYLE.required_fill if required else STYLE.header_fill
    cell.border = STYLE.border
    cell.alignment = STYLE.center
    if note:
        cell.comment = Comment(note, "statecollect", width=260, height=140)


class _ListSheet:
    """A list table: the platform's header row, then one row per record."""

    def __init__(self, builder: _WorkbookBuilder, sheet: Worksheet, table: Table) -> None:
        self.builder = builder
        self.sheet = sheet
        self.table = table
        self.fields = table.template_fields

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for column, field_ in enumerate(self.fields, start=1):
            _style_header(self.sheet, 1, column, field_.header, required=field_.required, note=_help_text(field_))
            letter = get_column_letter(column)
            self.sheet.column_dimensions[letter].width = self.width(field_)
            self.sheet.column_dimensions[letter].number_format = NUMBER_FORMATS[field_.type]
            validation = self.builder.validation_for(self.table, field_)
            validation.add(f"{letter}2:{letter}{LAST_DATA_ROW}")
            self.sheet.add_data_validation(validation)
        for row_number, row in enumerate(rows, start=2):
            for column, field_ in enumerate(self.fields, start=1):
                value = row.get(field_.header)
                put(self.sheet.cell(row_number, column), value).number_format = _number_format(field_, value)
        self.sheet.freeze_panes = "B2"
        self.sheet.row_dimensions[1].height = 36
        print_setup(self.sheet, landscape=len(self.fields) > 6)
        self.sheet.print_title_rows = "1:1"

    def width(self, field_: Field) -> float:
        samples = [field_.header]
        if field_.type is FieldType.CODE and field_.code_list:
            samples += list(self.builder.catalogue.code_list(field_.code_list).labels())[:50]
        return column_letter_width(samples, minimum=10, maximum=36)


class _FormSheet:
    """A form table (one record): one line per field, easier to fill than a one-row grid."""

    def __init__(self, builder: _WorkbookBuilder, sheet: Worksheet, table: Table) -> None:
        self.builder = builder
        self.sheet = sheet
        self.table = table

    def write(self, record: Mapping[str, Any]) -> None:
        for column, text in enumerate(FORM_HEADERS, start=1):
            _style_header(self.sheet, 1, column, text, required=False, note=None)
        for row, field_ in enumerate(self.table.template_fields, start=2):
            _style_header(self.sheet, row, 1, field_.header, required=field_.required, note=None)
            value = put(self.sheet.cell(row, 2), record.get(field_.header))
            value.number_format = _number_format(field_, value.value)
            value.border = STYLE.border
            put(self.sheet.cell(row, 3), field_.unit or "").border = STYLE.border
            note = put(self.sheet.cell(row, 4), _help_text(field_))
            note.font, note.alignment, note.border = STYLE.note_font, STYLE.wrap, STYLE.border
            validation = self.builder.validation_for(self.table, field_)
            validation.add(f"B{row}")
            self.sheet.add_data_validation(validation)
        for letter, width in (("A", 30), ("B", 36), ("C", 10), ("D", 60)):
            self.sheet.column_dimensions[letter].width = width
        self.sheet.freeze_panes = "B2"
        print_setup(self.sheet, landscape=False)


class _CoverWriter:
    """The cover: who, until when, which tables, how to fill, and where to sign."""

    def __init__(self, builder: _WorkbookBuilder, sheet: Worksheet) -> None:
        self.builder = builder
        self.sheet = sheet
        self.row = 1

    def line(self, *values: Any, bold: bool = False) -> None:
        for column, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = put(self.sheet.cell(self.row, column), value)
            if bold:
                cell.font = STYLE.header_font
        self.row += 1

    def write(self) -> None:
        collection = self.builder.collection
        times = collection.times
        title = put(self.sheet.cell(1, 1), f"{collection.school} {collection.year}年本科教学基本状态数据采集表")
        title.font = STYLE.title_font
        self.row = 3
        assignments = self.builder.assignments
        self.line("填报部门", self.builder.department, bold=True)
        self.line("填报员", _joined(item.filler for item in assignments))
        self.line("审核员", _joined(item.reviewer for item in assignments))
        self.line("基础数据表截止", collection.deadlines.base_tables.isoformat())
        self.line("其他数据表截止", collection.deadlines.collection.end.isoformat())
        for basis in TimeBasis:
            self.line(f"统计{TIME_BASIS_LABELS[basis]}", times.describe(basis))
        self.row += 1
        self.table_list(assignments)
        self.row += 1
        self.instructions()
        self.row += 1
        self.signatures()
        for letter, width in (("A", 16), ("B", 44), ("C", 8), ("D", 46), ("E", 12), ("F", 8)):
            self.sheet.column_dimensions[letter].width = width
        print_setup(self.sheet, landscape=True)

    def table_list(self, assignments: list[Assignment]) -> None:
        headers = ("表号", "表名", "形式", "统计时间", "截止日期", "基础表")
        for column, text in enumerate(headers, start=1):
            _style_header(self.sheet, self.row, column, text, required=False, note=None)
        self.row += 1
        times = self.builder.collection.times
        for table, item in zip(self.builder.tables, assignments, strict=True):
            sheet_name = self.builder.sheet_names[table.id]
            link_to(put(self.sheet.cell(self.row, 1), table.number), sheet_name)
            self.line(None, table.title, "单条" if table.shape is Shape.FORM else "列表",
                      f"{TIME_BASIS_LABELS[table.time_basis]}：{times.describe(table.time_basis)}",
                      item.deadline.isoformat(), "★" if table.base else "")

    def instructions(self) -> None:
        lines = (
            "填写说明",
            "1. 每张数据表一个工作表；表头与国家数据平台导入模板一致，请勿修改、增删或调换列，勿改工作表名称。",
            "2. 红色表头为必填项；把鼠标移到表头可看到填写说明，选中单元格时也会提示。",
            "3. 有下拉箭头的列请从列表中选择；工号、学号、代码等编号按文本填写，保留开头的 0。",
            "4. 年份填四位数字（如 2020），年月填 2020-09，日期填 2020-09-30；数字只填数字，不带单位和逗号。",
            "5. 无数据的表保持空白即可，不要填“无”或“/”；单条表（如学校概况）在“填写内容”列逐项填写。",
            "6. ★ 为基础数据表，请在基础数据表截止日前完成；完成后由审核员审核，交回数据办公室。",
            "7. 请直接在本文件中填写并保存为 .xlsx；不要另存为其他格式，也不要删除隐藏的工作表。",
        )
        for index, text in enumerate(lines):
            cell = put(self.sheet.cell(self.row, 1), text)
            if index == 0:
                cell.font = STYLE.header_font
            self.row += 1

    def signatures(self) -> None:
        for text in ("填报员签字：", "审核员（部门负责人）签字：", "部门（盖章）："):
            self.line(text, "                                日期：        年    月    日", bold=True)
            self.row += 1


def _joined(values: Iterable[str | None]) -> str:
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return "、".join(seen)
