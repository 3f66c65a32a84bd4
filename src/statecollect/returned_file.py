"""One returned workbook: identified, compared with its templates, and every cell typed.

A file is identified by its signed ``_meta`` sheet (or, for files made elsewhere, by
sheet names and header rows); its sheets and columns are compared with the templates
and its cells typed. Each problem becomes one :class:`Finding`. The checks that need the
whole batch (keys, references, comparisons across tables) are run by :mod:`statecollect.validate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statecollect.catalogue import Catalogue, load_catalogue
from statecollect.checks import CheckedTable, Engine, FormLocator, GridLocator, TableInput
from statecollect.collection import Collection, Workspace, open_workspace
from statecollect.errors import UserError
from statecollect.findings import Finding, Location, Severity
from statecollect.schema import Shape, Table
from statecollect.signing import collection_id, verify
from statecollect.stat_times import StatisticTimes
from statecollect.task_split import TaskSplit, read_split_workbook
from statecollect.workbook_layout import FORM_HEADERS, META_FORMAT, META_SHEET, TOOL_SHEETS, UNREAD_SHEETS, column_letter
from statecollect.workbook_read import SheetValues, cell_text, data_columns, find_table, header_row, headers_needed, read_sheets

__all__ = ["FileChecker", "FileReport", "TableReport", "ValidationContext", "collection_context", "open_context",
           "read_file"]

# the share of a table's headers that finds it where it is expected (in the sheet the file's
# _meta names, or a sheet of that name): enough to go on and report renamed columns. Where
# nothing says which table a sheet holds, every header must be there.
HEADER_SHARE_WHERE_EXPECTED = 0.6


@dataclass
class TableReport:
    """One table found in one file: where, its Excel row numbers, and the values as returned, by column."""

    table: Table
    sheet: str
    columns: dict[str, list[Any]]
    row_numbers: Sequence[int]
    extra_columns: dict[str, list[Any]] = field(default_factory=dict)
    form_rows: dict[str, int] | None = None
    checked: CheckedTable | None = None
    positions: dict[str, int] = field(default_factory=dict)  # 0-based column of each template header found

    def is_about(self, finding: Finding) -> bool:
        """Whether a finding of its file is about this table (a part table shares its number, not its sheet)."""
        return finding.location.table == self.table.number and finding.location.sheet in (self.sheet, None)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The values as returned, one mapping per record, blank cells as None."""
        headers = list(self.columns)
        return [{header: None if value == "" else value for header, value in zip(headers, values, strict=True)}
                for values in zip(*self.columns.values(), strict=True)]


@dataclass
class FileReport:
    path: Path
    department: str | None = None
    readable: bool = True
    refused: bool = False  # from another year or collection, or its identity altered: nothing of it is taken
    tables: list[TableReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    feedback: Path | None = None
    state: tuple[int, int] | None = None  # size and modification time before it was read: see workbook_read.file_state

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    def findings_about(self, table: TableReport) -> list[Finding]:
        """The findings about one of its tables."""
        return [finding for finding in self.findings if table.is_about(finding)]


@dataclass
class ValidationContext:
    catalogue: Catalogue
    collection: Collection | None
    split: TaskSplit | None
    year: int
    engine: Engine
    known: dict[str, list[dict[str, Any]]]

    @property
    def secret(self) -> str | None:
        return self.collection.secret if self.collection else None


def open_context(root: Path | None, year: int | None) -> tuple[ValidationContext, Workspace | None]:
    """The context of a collection folder (``root``), or of a standalone batch for ``year`` (checked by the caller)."""
    workspace = open_workspace(root) if root is not None else None
    if workspace is None:
        catalogue = load_catalogue("2020")
        times = StatisticTimes.for_year(int(year or 0))
        return ValidationContext(catalogue, None, None, int(year or 0), Engine(catalogue, times), {}), None
    if year is not None and year != workspace.collection.year:
        raise UserError(f"--year {year} 与采集文件夹的年份 {workspace.collection.year} 不一致", "在采集文件夹中可省略 --year")
    return collection_context(workspace), workspace


def collection_context(workspace: Workspace, *, with_split: bool = True) -> ValidationContext:
    """The context of an opened collection: its catalogue, statistic times, engine and (unless not
    wanted) its task split."""
    collection = workspace.collection
    catalogue = load_catalogue(collection.edition)
    split = read_split_workbook(workspace.split_path, catalogue) if with_split and workspace.split_path.exists() else None
    return ValidationContext(catalogue, collection, split, collection.year, Engine(catalogue, collection.times), {})


def read_file(context: ValidationContext, path: Path) -> FileReport:
    """One file read, identified, structure-checked and typed — without the batch's table checks."""
    return FileChecker(context, path).run(lambda: read_sheets(path, skip=UNREAD_SHEETS))


class FileChecker:
    """Checks one file; ``run`` takes a function giving its sheets, which may still be being read."""

    def __init__(self, context: ValidationContext, path: Path) -> None:
        self.context = context
        self.path = path
        self.report = FileReport(path)
        self.sheets: list[SheetValues] = []

    def where(self, sheet: str | None = None, **more: Any) -> Location:
        return Location(file=self.path.name, sheet=sheet, department=self.report.department, **more)

    def add(self, location: Location, rule: str, severity: Severity, message: str, hint: str) -> None:
        self.report.findings.append(Finding(location, rule, severity, message, hint))

    def run(self, sheets: Callable[[], list[SheetValues]]) -> FileReport:
        try:
            self.sheets = sheets()
        except UserError as exc:
            self.report.readable = False
            self.add(self.where(), "file.unreadable", Severity.ERROR, exc.message, exc.hint)
            return self.report
        meta = self.meta()
        expected = self.identify(meta)
        if expected is None:
            return self.report
        used: set[str] = set()
        for table, sheet_name in expected:
            located = self.locate(table, sheet_name)
            if located is not None:
                used.add(located.sheet)
                self.report.tables.append(located)
        self.flag_extra_sheets(used)
        if not self.report.tables and not any(f.rule_id == "structure.sheet_missing" for f in self.report.findings):
            self.add(self.where(), "file.no_tables", Severity.ERROR, "文件中没有找到任何数据表",
                     "请使用下发的填报表填写，勿修改表头；或确认交回的是正确的文件")
        for found in self.report.tables:
            found.checked = self.type_cells(found)
        return self.report

    # ------------------------------------------------------------------ identification

    def meta(self) -> dict[str, str] | None:
        sheet = next((sheet for sheet in self.sheets if sheet.name == META_SHEET), None)
        if sheet is None:
            return None
        if len(sheet.columns) < 2:
            return {}
        return {cell_text(key): cell_text(value) for key, value in zip(*sheet.columns[:2]) if cell_text(key)}

    def identify(self, meta: dict[str, str] | None) -> list[tuple[Table, str | None]] | None:
        """The tables this file should hold (with their sheet names), or None when it is refused."""
        if meta is None or meta.get("format") != META_FORMAT:
            self.add(self.where(), "file.no_meta", Severity.WARNING, "不是本工具生成的填报表（没有识别信息），按工作表名称和表头识别数据表",
                     "建议使用下发的填报表填写")
            return [(table, None) for table in self.context.catalogue.tables]
        self.report.department = meta.get("department") or None
        if not self.trusted(meta):
            self.report.refused = True
            return None
        sheets = dict(item.split("=", 1) for item in meta.get("sheets", "").split(",") if "=" in item)
        expected = []
        for table_id in filter(None, meta.get("tables", "").split(",")):
            try:
                table = self.context.catalogue.table_by_id(table_id)
            except LookupError:
                continue
            if self.assigned(table):
                expected.append((table, sheets.get(table_id)))
        return expected

    def trusted(self, meta: dict[str, str]) -> bool:
        if meta.get("year") != str(self.context.year):
            self.add(self.where(), "file.other_year", Severity.ERROR,
                     f"这是 {meta.get('year')} 年的填报表，本次采集为 {self.context.year} 年",
                     f"请使用本次（{self.context.year} 年）下发的填报表重新填写")
            return False
        secret = self.context.secret
        if secret is None:
            self.add(self.where(), "file.unverified", Severity.WARNING, "不在采集文件夹中校验，无法核验文件来源",
                     "在采集文件夹中运行 statecollect validate 可核验签名")
            return True
        payload = {key: value for key, value in meta.items() if key != "signature"}
        if meta.get("collection") != collection_id(secret):
            self.add(self.where(), "file.foreign", Severity.ERROR, f"这份填报表不是本次采集生成的（学校：{meta.get('school') or '未知'}）",
                     "请使用本次采集下发的填报表；如从其他学校或往年复制了文件，请改用新表")
            return False
        if not verify(payload, meta.get("signature", ""), secret):
            self.add(self.where(), "file.forged", Severity.ERROR, "填报表的隐藏识别信息被改动，无法确认来源",
                     "请使用下发的原始填报表重新填写，勿修改隐藏的工作表")
            return False
        return True

    def assigned(self, table: Table) -> bool:
        split = self.context.split
        if split is None or self.report.department is None:
            return True
        assignment = split.assignment(table.id)
        if assignment is None or assignment.responsible == self.report.department:
            return True
        owner = assignment.responsible or "（未分配）"
        self.add(self.where(table=table.number), "structure.table_not_assigned", Severity.ERROR,
                 f"{table.display_name} 由 {owner} 负责，不能由 {self.report.department} 交回",
                 "按任务分解表，只交回本部门负责的数据表；如分工有变，请先修改任务分解表")
        return False

    # ------------------------------------------------------------------ sheets and columns

    def locate(self, table: Table, sheet_name: str | None) -> TableReport | None:
        by_name = next((sheet for sheet in self.sheets if sheet.name == sheet_name), None) if sheet_name else None
        if by_name is not None:
            return self.read_table(table, by_name)
        share = 1.0 if sheet_name is None else HEADER_SHARE_WHERE_EXPECTED
        found = self.find_by_headers(table, share)
        if found is None:
            if sheet_name is not None:
                self.add(self.where(sheet_name, table=table.number), "structure.sheet_missing", Severity.ERROR,
                         f"找不到工作表“{sheet_name}”（{table.display_name}）",
                         "请勿删除或改名工作表；如确实没有数据，保留空表即可")
            return None
        if sheet_name is not None:
            self.add(self.where(found.name, table=table.number), "structure.sheet_renamed", Severity.WARNING,
                     f"工作表“{sheet_name}”被改名为“{found.name}”", f"请把工作表名称改回“{sheet_name}”")
        return self.read_table(table, found)

    def find_by_headers(self, table: Table, share: float) -> SheetValues | None:
        candidates = [sheet for sheet in self.sheets if sheet.name not in TOOL_SHEETS]
        if table.shape is Shape.FORM:
            form = next((sheet for sheet in candidates if _form_rows(sheet, table, share)), None)
            if form is not None:
                return form
        found = find_table(candidates, table, share)
        return found[0] if found else None

    def flag_extra_sheets(self, used: set[str]) -> None:
        if self.report.department is None:
            return
        for sheet in self.sheets:
            if sheet.name in used or sheet.name in TOOL_SHEETS or not any(cell_text(v) for column in sheet.columns for v in column):
                continue
            hidden = "" if sheet.visible else "（隐藏的）"
            self.add(self.where(sheet.name), "structure.extra_sheet", Severity.WARNING,
                     f"多出的{hidden}工作表“{sheet.name}”不属于本部门的数据表，其中内容不会被采集",
                     "如是其他部门的数据，请交给对应部门；如是草稿，可删除")

    def read_table(self, table: Table, sheet: SheetValues) -> TableReport | None:
        rows = _form_rows(sheet, table, HEADER_SHARE_WHERE_EXPECTED) if table.shape is Shape.FORM else None
        if rows:
            return self.read_form(table, sheet, rows)
        headers = [field.header for field in table.template_fields]
        index = header_row(sheet, headers, HEADER_SHARE_WHERE_EXPECTED)
        if index is None:
            self.add(self.where(sheet.name, table=table.number), "structure.no_header", Severity.ERROR,
                     f"工作表“{sheet.name}”中找不到{table.display_name}的表头", "请恢复下发模板中的表头（第 1 行）")
            return None
        return self.read_grid(table, sheet, index)

    def read_grid(self, table: Table, sheet: SheetValues, index: int) -> TableReport:
        where = lambda **more: self.where(sheet.name, table=table.number, **more)
        if index > 0:
            self.add(where(row=index + 1), "structure.header_moved", Severity.WARNING, f"表头在第 {index + 1} 行，而不是第 1 行",
                     "请删除表头上方多出的行，使表头位于第 1 行")
        positions, extra = self.match_columns(table, sheet, index, where)
        names = [*positions, *extra]
        wanted = [*positions.values(), *extra.values()]
        numbers, columns = data_columns(sheet, index + 1, wanted)
        columns_by_name = dict(zip(names, columns, strict=True))
        report = TableReport(table, sheet.name, {header: columns_by_name[header] for header in positions},
                             numbers, {name: columns_by_name[name] for name in extra}, positions=positions)
        self.flag_sheet_oddities(table, sheet, index, numbers)
        return report

    def match_columns(self, table: Table, sheet: SheetValues, index: int,
                      where: Callable[..., Location]) -> tuple[dict[str, int], dict[str, int]]:
        """The position of each template column (renamed ones at their template place), and of the
        columns the template does not have."""
        header_cells = [cell_text(value) for value in sheet.row(index)]
        expected = [field.header for field in table.template_fields]
        positions = {name: header_cells.index(name) for name in expected if name in header_cells}
        unknown = {position: name for position, name in enumerate(header_cells) if name and name not in expected}
        for order, name in enumerate(expected):
            if name in positions:
                continue
            if order in unknown:
                letter = column_letter(order + 1)
                self.add(where(row=index + 1, column=name, cell=f"{letter}{index + 1}"), "structure.column_renamed",
                         Severity.ERROR, f"列标题“{unknown.pop(order)}”应为“{name}”",
                         f"请把列标题改回“{name}”（与平台模板一致）")
                positions[name] = order
            else:
                self.add(where(column=name), "structure.column_missing", Severity.ERROR, f"缺少列“{name}”",
                         f"请按模板补上“{name}”列")
        for position, name in unknown.items():
            self.add(where(row=index + 1, column=name, cell=f"{column_letter(position + 1)}{index + 1}"),
                     "structure.extra_column", Severity.WARNING, f"多出了模板中没有的列“{name}”，该列内容不会被采集",
                     "请删除该列，或把内容移到对应的列中")
        if [name for name in sorted(positions, key=positions.__getitem__)] != [name for name in expected if name in positions]:
            self.add(where(row=index + 1), "structure.column_order", Severity.WARNING, "列的顺序与模板不同",
                     "已按列标题识别；导入平台前请恢复模板的列顺序")
        return positions, {name: position for position, name in unknown.items()}

    def flag_sheet_oddities(self, table: Table, sheet: SheetValues, index: int, data_lines: Sequence[int]) -> None:
        """Merged cells, hidden rows or columns holding data (on ``data_lines``, Excel's numbers), and
        formulas saved without a value; ``index`` is the header row's."""
        where = lambda **more: self.where(sheet.name, table=table.number, **more)
        for first_row, first_column, last_row, last_column in sheet.merged:
            if last_row > first_row or last_column > first_column:
                cell = f"{column_letter(first_column + 1)}{first_row + 1}"
                self.add(where(cell=cell, row=first_row + 1), "structure.merged_cells", Severity.WARNING,
                         f"有合并单元格（{cell} 起）", "请取消合并，每个单元格各填一个值")
        data_rows = set(data_lines) if sheet.hidden_rows else set()
        for row in sorted(sheet.hidden_rows & data_rows):
            self.add(where(row=row), "structure.hidden_data", Severity.WARNING, f"第 {row} 行被隐藏但含有数据",
                     "请取消隐藏并确认该行是否应当交回")
        for column in sorted(sheet.hidden_columns):
            if any(cell_text(_value(sheet, row - 1, column - 1)) for row in data_lines):
                letter = column_letter(column)
                self.add(where(cell=f"{letter}{index + 1}"), "structure.hidden_data", Severity.WARNING,
                         f"第 {letter} 列被隐藏但含有数据", "请取消隐藏并确认该列内容")
        for cell in sheet.uncached_formulas:
            self.add(where(cell=cell), "structure.formula_no_value", Severity.ERROR, f"单元格 {cell} 是公式，但没有保存计算结果",
                     "请在 Excel/WPS 中打开后保存一次，或把公式改为数值")

    def read_form(self, table: Table, sheet: SheetValues, rows: dict[str, int]) -> TableReport:
        record = {header: _value(sheet, row, 1) for header, row in rows.items()}
        lines = [row + 1 for header, row in rows.items() if cell_text(record[header])]  # Excel's numbers of the filled lines
        # the one record starts at its first field's line: that is where the master says it came from
        report = TableReport(table, sheet.name, {header: [value] if lines else [] for header, value in record.items()},
                             [min(rows.values()) + 1] if lines else [])
        for field_ in table.template_fields:
            if field_.header not in rows:
                self.add(self.where(sheet.name, table=table.number, column=field_.header), "structure.column_missing",
                         Severity.ERROR, f"缺少项目“{field_.header}”", f"请按模板补上“{field_.header}”一行")
        report.form_rows = rows
        self.flag_sheet_oddities(table, sheet, 0, lines)
        return report

    # ------------------------------------------------------------------ cells

    def type_cells(self, table: TableReport) -> CheckedTable:
        base = self.where(table.sheet, table=table.table.number)
        if table.form_rows is not None:
            locator: Any = FormLocator(base, {header: row + 1 for header, row in table.form_rows.items()})
        else:
            # a missing column is pointed at where the template has it
            letters = {field_.header: column_letter(table.positions.get(field_.header, order) + 1)
                       for order, field_ in enumerate(table.table.template_fields)}
            locator = GridLocator(base, table.row_numbers, letters)
        checked = self.context.engine.type_table(TableInput(table.table, table.columns, len(table.row_numbers), locator))
        self.report.findings.extend(checked.findings)
        return checked


def _value(sheet: SheetValues, row: int, column: int) -> Any:
    """The value at 0-based ``row`` and ``column``; None for a blank cell or one beyond the sheet."""
    if column >= len(sheet.columns) or row >= sheet.height:
        return None
    value = sheet.columns[column][row]
    return None if value == "" else value


def _form_rows(sheet: SheetValues, table: Table, share: float) -> dict[str, int] | None:
    """For a form laid out one field per line: header → 0-based row index of its line."""
    if not sheet.height or [cell_text(column[0]) for column in sheet.columns[:2]] != list(FORM_HEADERS[:2]):
        return None
    rows = {cell_text(value): index for index, value in enumerate(sheet.columns[0]) if cell_text(value)}
    found = {field.header: rows[field.header] for field in table.template_fields if field.header in rows}
    needed = headers_needed(len(table.template_fields), share)
    return found if len(found) >= needed else None

