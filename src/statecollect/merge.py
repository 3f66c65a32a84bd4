"""Merging validated submissions into the master workbook, and exporting the platform's files.

For every (department, table) the newest submission in the ledger counts. Tables with
errors are refused unless errors are accepted (recorded); the same form table delivered
differently by two departments, or one key delivered by two departments, is a conflict
that is reported and left out until someone decides (``prefer``); a frozen base table
that changed is refused with a diff unless it is unfrozen with a reason (recorded), and
the master keeps its frozen rows. Every table's count adds up: rows in = rows merged +
rows rejected; frozen rows kept instead are counted apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from statecollect.catalogue import Catalogue, load_catalogue
from statecollect.cells import canonical_record, format_value
from statecollect.checks import Engine, Key, key_shown, record_key
from statecollect.collection import Workspace, open_workspace, read_master_sheets
from statecollect.errors import UserError
from statecollect.findings import Finding, Location, Severity
from statecollect.ledger import Ledger, Submission, TableResult, file_hash
from statecollect.schema import FieldType, Shape, Table, UniqueCheck
from statecollect.task_split import read_split_workbook
from statecollect.returned_file import FileChecker, FileReport, ValidationContext, collection_context, read_file
from statecollect.workbook_layout import UNREAD_SHEETS, sheet_title
from statecollect.workbook_read import ReadAhead, cyclic_gc_paused, header_row, records

__all__ = ["ExportResult", "MergeResult", "TableMerge", "export", "merge", "read_master", "snapshot_rows"]

PROVENANCE = ("来源部门", "来源文件", "来源行")
SUMMARY_SHEET = "汇总说明"
Record = dict[str, Any]


@dataclass
class _Delivery:
    """One department's rows of one table, from its newest submission."""

    department: str
    submission: Submission
    result: TableResult
    rows: list[Record]
    row_numbers: Sequence[int]


@dataclass
class TableMerge:
    table: Table
    rows_in: int = 0
    rows_merged: int = 0
    rows_rejected: int = 0
    rows_frozen: int = 0  # rows of the frozen version kept in the master in place of a refused change
    departments: list[str] = field(default_factory=list)
    accepted_errors: int = 0
    findings: list[Finding] = field(default_factory=list)
    merged: list[tuple[Record, str, str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table.number, "title": self.table.title, "rows_in": self.rows_in,
                "rows_merged": self.rows_merged, "rows_rejected": self.rows_rejected, "rows_frozen": self.rows_frozen,
                "departments": self.departments}


@dataclass
class MergeResult:
    master: Path
    tables: list[TableMerge]

    @property
    def findings(self) -> list[Finding]:
        return [finding for table in self.tables for finding in table.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "master": str(self.master),
            "rows_in": sum(table.rows_in for table in self.tables),
            "rows_merged": sum(table.rows_merged for table in self.tables),
            "rows_rejected": sum(table.rows_rejected for table in self.tables),
            "rows_frozen": sum(table.rows_frozen for table in self.tables),
            "tables": [table.to_dict() for table in self.tables],
            "findings": [finding.to_dict() for finding in self.findings],
        }


def merge(
    root: Path,
    *,
    accept_errors: bool = False,
    prefer: Mapping[str, str] | None = None,
    unfreeze: Sequence[str] = (),
    reason: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> MergeResult:
    """Merge the newest validated submissions of the collection in ``root`` into its master workbook."""
    workspace = open_workspace(root)
    catalogue = load_catalogue(workspace.collection.edition)
    if unfreeze and not (reason and reason.strip()):
        raise UserError("解除冻结必须说明理由", "例如：--unfreeze 1-5-1 --reason \"人事处补报 3 名新进教师\"")
    choices = {catalogue.table(number).id: department for number, department in (prefer or {}).items()}
    thawed = {catalogue.table(number).id for number in unfreeze}
    ledger = Ledger(workspace.root)
    context = collection_context(workspace, with_split=False)
    deliveries = _deliveries(context, ledger, progress)
    if not deliveries:
        raise UserError("台账中还没有通过校验的交回文件", "先把各部门交回的文件放入“回收”文件夹，运行 statecollect validate")
    split = read_split_workbook(workspace.split_path, catalogue)
    frozen = ledger.frozen()
    merges = []
    for assignment in split.collected():
        table = catalogue.table_by_id(assignment.table_id)
        builder = _TableMerger(table, deliveries.get(table.id, []), accept_errors, choices.get(table.id))
        merged = builder.run()
        if table.id in frozen:
            _guard_frozen(merged, frozen[table.id], table.id in thawed, reason, ledger, context.engine)
        merges.append(merged)
        _note_decisions(ledger, merged, choices.get(table.id))
    path = _write_master(workspace, merges)
    ledger.note("merge", {"master": path.name, "sha256": file_hash(path),
                          "rows_merged": sum(item.rows_merged for item in merges)})
    return MergeResult(path, merges)


def _deliveries(context: ValidationContext, ledger: Ledger,
                progress: Callable[[str], None] | None) -> dict[str, list[_Delivery]]:
    # what a department delivered stays its delivery even if the split has changed since: a table
    # now owned by another department then shows up as a conflict to decide, never silently dropped
    latest = sorted(ledger.latest_tables().items(), key=lambda item: item[1][0].id)
    files = _read_submissions(context, ledger, list({submission.id: submission for _, (submission, _) in latest}.values()),
                              progress)
    found: dict[str, list[_Delivery]] = defaultdict(list)
    for (department, table_id), (submission, result) in latest:
        report = next((table for table in files[submission.id].tables if table.table.id == table_id), None)
        if report is None or report.checked is None:
            continue
        found[table_id].append(_Delivery(department, submission, result, report.checked.rows, report.row_numbers))
    return found


def _read_submissions(context: ValidationContext, ledger: Ledger, submissions: list[Submission],
                      progress: Callable[[str], None] | None) -> dict[int, FileReport]:
    """Each submission's stored copy read and checked, the reading done on worker threads as validate does."""
    files: dict[int, FileReport] = {}
    with cyclic_gc_paused(), ReadAhead([ledger.copy_of(item.sha256) for item in submissions], skip=UNREAD_SHEETS) as reading:
        for index, path, sheets in reading:
            if progress:
                progress(submissions[index].file_name)
            files[submissions[index].id] = FileChecker(context, path).run(sheets)
    return files


@dataclass
class _TableMerger:
    table: Table
    deliveries: list[_Delivery]
    accept_errors: bool
    preferred: str | None

    def finding(self, rule: str, message: str, hint: str, department: str | None = None) -> Finding:
        return Finding(Location(table=self.table.number, department=department), rule, Severity.ERROR, message, hint)

    def run(self) -> TableMerge:
        result = TableMerge(self.table, departments=[item.department for item in self.deliveries])
        result.rows_in = sum(len(item.rows) for item in self.deliveries)
        usable = [item for item in self.deliveries if self.usable(item, result)]
        if self.table.shape is Shape.FORM:
            self.merge_form(usable, result)
        else:
            self.merge_list(usable, result)
        result.rows_merged = len(result.merged)
        result.rows_rejected = result.rows_in - result.rows_merged
        return result

    def usable(self, item: _Delivery, result: TableMerge) -> bool:
        if item.result.errors and self.accept_errors:
            result.accepted_errors += item.result.errors
        if item.result.errors and not self.accept_errors:
            result.findings.append(self.finding(
                "merge.has_errors", f"{item.department} 交回的{self.table.display_name}还有 {item.result.errors} 个错误，未汇总",
                "请部门按反馈改正后重新交回；确需先汇总，可加 --accept-errors（会记入台账）", item.department))
            return False
        return True

    def merge_form(self, usable: list[_Delivery], result: TableMerge) -> None:
        versions = {_fingerprint(self.table, item.rows[0]) for item in usable if item.rows}
        chosen = [item for item in usable if item.rows]
        if len(versions) > 1:
            picked = [item for item in chosen if item.department == self.preferred]
            if not picked:
                names = "、".join(item.department for item in chosen)
                result.findings.append(self.finding(
                    "merge.conflict", f"{self.table.display_name}由 {names} 分别交回且内容不同，未汇总",
                    f"核实后用 --prefer {self.table.number}=部门 指定采用哪个部门的数据"))
                return
            chosen = picked
        if chosen:
            item = chosen[0]
            result.merged.append((item.rows[0], item.department, item.submission.file_name, item.row_numbers[0]))

    def merge_list(self, usable: list[_Delivery], result: TableMerge) -> None:
        unique = _key_fields(self.table)

        def key_of(row: Record) -> Key | None:
            return record_key(row, unique) if unique is not None else None

        keyed = [(item, [key_of(row) for row in item.rows]) for item in usable]
        owners: dict[Key, set[str]] = defaultdict(set)
        for item, keys in keyed:
            for key in keys:
                if key is not None:
                    owners[key].add(item.department)
        contested = {key for key, departments in owners.items() if len(departments) > 1}
        for key in sorted(contested, key=key_shown):
            result.findings.append(self.finding(
                "merge.conflict", f"{self.table.display_name}中“{key_shown(key)}”由 {'、'.join(sorted(owners[key]))} 同时交回",
                f"核实后由一个部门删除，或用 --prefer {self.table.number}=部门 指定采用哪个部门的数据"))
        for item, keys in keyed:
            for row, number, key in zip(item.rows, item.row_numbers, keys, strict=True):
                if key in contested and item.department != self.preferred:
                    continue
                result.merged.append((row, item.department, item.submission.file_name, number))


def snapshot_rows(context: ValidationContext, ledger: Ledger, submission: Submission,
                  table_ids: Collection[str]) -> dict[str, list[dict[str, str]]]:
    """Those tables' rows in a submission (read once), in the canonical text form frozen base tables are kept in."""
    report = read_file(context, ledger.copy_of(submission.sha256))
    return {found.table.id: [canonical_record(found.table, row) for row in found.checked.records()]
            for found in report.tables if found.table.id in table_ids and found.checked is not None}


def _key_fields(table: Table) -> tuple[str, ...] | None:
    """The fields a list table's records are told apart by: its unconditional unique check's."""
    return next((tuple(check.fields) for check in table.checks if isinstance(check, UniqueCheck) and not check.when), None)


def _fingerprint(table: Table, row: Record) -> tuple[str, ...]:
    return tuple(canonical_record(table, row).values())


def _guard_frozen(merged: TableMerge, snapshot: list[dict[str, str]], thawed: bool, reason: str | None, ledger: Ledger,
                  engine: Engine) -> None:
    """A frozen base table may only change when unfrozen with a reason; otherwise its frozen rows stay."""
    table = merged.table
    current = [canonical_record(table, row) for row, *_ in merged.merged]
    if current == snapshot:
        return
    diff = _diff(table, snapshot, current)
    if thawed:
        ledger.note("unfreeze", {"reason": reason, "diff": diff}, table_id=table.id)
        ledger.unfreeze(table.id)
        return
    merged.findings.append(Finding(
        Location(table=table.number), "merge.frozen_changed", Severity.ERROR,
        f"{table.display_name}已冻结，新交回的数据与冻结版本不同（{_diff_words(diff)}），未采用",
        f"如确需修改，用 --unfreeze {table.number} --reason 理由 解除冻结（会记入台账）"))
    # the snapshot keeps the platform's text form: typed again, numbers go back into the master as numbers
    kept = engine.type_records(table, snapshot)
    merged.merged = [(row, "（冻结版本）", "", index + 1) for index, row in enumerate(kept.records())]
    merged.rows_merged = 0
    merged.rows_rejected = merged.rows_in
    merged.rows_frozen = len(merged.merged)


def _diff(table: Table, before: list[dict[str, str]], after: list[dict[str, str]]) -> dict[str, Any]:
    unique = _key_fields(table)

    def key_of(row: dict[str, str]) -> Key:
        # as merging keys rows; a row without its key is told by all its values
        return (record_key(row, unique) if unique else None) or tuple(row.values())

    old = {key_of(row): row for row in before}
    new = {key_of(row): row for row in after}
    changed = sorted(
        ({"key": key_shown(key), "fields": {name: [old[key].get(name, ""), value] for name, value in new[key].items()
                                            if old[key].get(name) != value}}
         for key in old.keys() & new.keys() if old[key] != new[key]),
        key=lambda item: str(item["key"]),
    )
    return {"added": [key_shown(key) for key in new.keys() - old.keys()][:20],
            "removed": [key_shown(key) for key in old.keys() - new.keys()][:20],
            "changed": changed[:20],
            "counts": [len(new.keys() - old.keys()), len(old.keys() - new.keys()), len(changed)]}


def _diff_words(diff: dict[str, Any]) -> str:
    added, removed, changed = diff["counts"]
    parts = [f"新增 {added} 行" if added else "", f"删除 {removed} 行" if removed else "", f"修改 {changed} 行" if changed else ""]
    examples = [f"{item['key']}：" + "，".join(f"{name} {old}→{new}" for name, (old, new) in item["fields"].items())
                for item in diff["changed"][:3]]
    return "；".join([part for part in parts if part] + examples)


def _note_decisions(ledger: Ledger, merged: TableMerge, preferred: str | None) -> None:
    if merged.accepted_errors:
        ledger.note("accept_errors", {"errors": merged.accepted_errors, "departments": merged.departments},
                    table_id=merged.table.id)
    if preferred:
        ledger.note("prefer", {"department": preferred}, table_id=merged.table.id)


# --------------------------------------------------------------------------- the master workbook


def cell_value(field_type: FieldType, value: Any) -> Any:
    """A typed value as the master and the platform files hold it: months and text as text, numbers as numbers."""
    if value is None:
        return None
    if field_type is FieldType.YEAR_MONTH:
        return format_value(value, field_type)
    if field_type is FieldType.DATE and isinstance(value, date):
        return value.isoformat()
    if field_type in {FieldType.INTEGER, FieldType.DECIMAL, FieldType.YEAR}:
        return value if isinstance(value, int | float) else format_value(value, field_type)
    return value if isinstance(value, str) else format_value(value, field_type)


def _write_master(workspace: Workspace, merges: list[TableMerge]) -> Path:
    from openpyxl import Workbook

    from statecollect.workbook_io import STYLE, print_setup, save_atomically, streamed_row

    # a write-only workbook streams rows to disk: tens of thousands of rows in a fraction of the time
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(SUMMARY_SHEET)
    for letter, width in zip("ABCDEFG", (9, 40, 10, 10, 10, 30, 14), strict=True):
        summary.column_dimensions[letter].width = width
    summary.append(streamed_row(summary, [f"{workspace.collection.school} {workspace.collection.year}年本科教学基本状态数据总表"],
                                lambda cell: setattr(cell, "font", STYLE.title_font)))
    summary.append([])
    summary.append(streamed_row(summary, ["表号", "表名", "交回行数", "汇总行数", "未汇总行数", "来源部门", "保留的冻结行数"],
                                _header_style))
    for merged in merges:
        summary.append(streamed_row(summary, [merged.table.number, merged.table.title, merged.rows_in, merged.rows_merged,
                                              merged.rows_rejected, "、".join(merged.departments), merged.rows_frozen or None]))
    for merged in merges:
        sheet = workbook.create_sheet(sheet_title(merged.table.number, merged.table.title))
        fields = merged.table.template_fields
        sheet.freeze_panes = "A2"
        print_setup(sheet, landscape=len(fields) > 6)
        sheet.append(streamed_row(sheet, [field.header for field in fields] + list(PROVENANCE), _header_style))
        for row, department, file_name, source_row in merged.merged:
            values = [cell_value(field_.type, row.get(field_.header)) for field_ in fields]
            sheet.append(streamed_row(sheet, [*values, department, file_name, source_row]))
    # fixed document times: the same inputs give the same master
    workbook.properties.created = workbook.properties.modified = datetime(workspace.collection.year, 1, 1)
    return save_atomically(workbook, workspace.master_path)


def _header_style(cell: Any) -> None:
    from statecollect.workbook_io import STYLE

    cell.font, cell.fill = STYLE.header_font, STYLE.header_fill


def read_master(path: Path, catalogue: Catalogue, engine: Engine) -> dict[str, list[Record]]:
    """The typed rows of every table in a master workbook."""
    sheets = {sheet.name: sheet for sheet in read_master_sheets(path)}
    tables: dict[str, list[Record]] = {}
    for table in catalogue.tables:
        sheet = sheets.get(sheet_title(table.number, table.title))
        headers = [field.header for field in table.template_fields]
        index = header_row(sheet, headers) if sheet else None
        if sheet is None or index is None:
            continue
        tables[table.id] = engine.type_records(table, records(sheet, index, headers)).rows
    return tables


# --------------------------------------------------------------------------- export


@dataclass
class ExportResult:
    files: list[tuple[str, Path, int]]

    def to_dict(self) -> dict[str, Any]:
        return {"files": [{"table": number, "file": str(path), "rows": rows} for number, path, rows in self.files]}


def export(root: Path, progress: Callable[[str], None] | None = None) -> ExportResult:
    """One upload file per table from the master: ``表<号> <名>.xlsx``, the import headers, platform values."""
    from openpyxl import Workbook

    from statecollect.workbook_io import save_atomically, streamed_row

    workspace = open_workspace(root)
    catalogue = load_catalogue(workspace.collection.edition)
    path = workspace.master_path
    if not path.is_file():
        raise UserError("还没有总表", "先运行 statecollect merge 生成总表")
    engine = collection_context(workspace, with_split=False).engine
    tables = read_master(path, catalogue, engine)
    result = ExportResult([])
    for table in catalogue.tables:
        if table.id not in tables:
            continue
        if progress:
            progress(table.display_name)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Sheet1")
        fields = table.template_fields
        sheet.append(streamed_row(sheet, [field_.header for field_ in fields]))
        for row in tables[table.id]:
            sheet.append(streamed_row(sheet, [cell_value(field_.type, row.get(field_.header)) for field_ in fields]))
        name = f"表{table.number} {table.title}.xlsx".replace("/", "／")
        result.files.append((table.number, save_atomically(workbook, workspace.folder("export") / name), len(tables[table.id])))
    return result
