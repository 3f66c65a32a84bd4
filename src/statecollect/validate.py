"""Validation of returned workbooks as one batch: every file, every cell, every check.

``validate`` takes files or folders. The workbooks are read on worker threads
(:mod:`statecollect.batch_files`) while the schemas load; each file is then checked by
:mod:`statecollect.returned_file`, and the whole batch table by table and across tables —
against the merged base tables of the collection where those exist. Every problem
becomes one :class:`Finding`; the results go to the ledger and to annotated copies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statecollect.batch_files import plan, reading
from statecollect.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from statecollect.findings import Finding, Location, Severity
from statecollect.workbook_read import cyclic_gc_paused, file_state

if TYPE_CHECKING:
    from statecollect.collection import Workspace
    from statecollect.returned_file import FileReport, TableReport, ValidationContext

__all__ = ["ValidationReport", "validate"]


@dataclass
class ValidationReport:
    year: int
    files: list[FileReport] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [finding for report in self.files for finding in report.findings]

    @property
    def exit_code(self) -> int:
        if not any(report.readable for report in self.files):
            return EXIT_USAGE
        return EXIT_PROBLEMS if any(f.severity is Severity.ERROR for f in self.findings) else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(finding.severity.value for finding in self.findings)
        return {
            "year": self.year,
            "errors": counts.get("error", 0),
            "warnings": counts.get("warning", 0),
            "files": [
                {
                    "file": str(report.path),
                    "department": report.department,
                    "readable": report.readable,
                    "errors": report.count(Severity.ERROR),
                    "warnings": report.count(Severity.WARNING),
                    "feedback": str(report.feedback) if report.feedback else None,
                    "tables": [_table_summary(report, table) for table in report.tables],
                }
                for report in self.files
            ],
            "findings": [finding.to_dict() for finding in self.findings],
        }


def _table_summary(report: FileReport, table: TableReport) -> dict[str, Any]:
    mine = report.findings_about(table)
    return {
        "table": table.table.number, "title": table.table.title, "sheet": table.sheet, "rows": len(table.row_numbers),
        "errors": sum(1 for finding in mine if finding.severity is Severity.ERROR),
        "warnings": sum(1 for finding in mine if finding.severity is Severity.WARNING),
    }


def validate(
    paths: Sequence[Path],
    *,
    root: Path | None = None,
    year: int | None = None,
    known_tables: dict[str, list[dict[str, Any]]] | None = None,
    write_feedback: bool = True,
    feedback_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> ValidationReport:
    """Validate ``paths`` (files or folders) as one batch; see the module docstring."""
    root, inputs = plan(paths, root, year)
    with cyclic_gc_paused(), reading(inputs) as files:
        if progress:
            progress(f"读取 {len(inputs)} 个文件")
        # imported only now: the schema models load while the first workbooks are being parsed
        from statecollect.returned_file import FileChecker, open_context

        context, workspace = open_context(root, year)
        context.known = known_tables if known_tables is not None else _merged_tables(context, workspace)
        if workspace is not None:
            # imported now, while the largest workbook is still being parsed, rather than after the checks
            import statecollect.ledger  # noqa: F401
        checked: dict[int, FileReport] = {}
        for index, path, sheets in files:
            if progress:
                progress(path.name)
            checked[index] = FileChecker(context, path).run(sheets)
            checked[index].state = files.state_when_read(path)
        report = ValidationReport(context.year, [checked[index] for index in sorted(checked)])
        _run_batch_checks(context, report)
    if workspace is not None:
        _record(workspace, report)
    if write_feedback:
        from statecollect.feedback import write_feedback_copies

        target = feedback_dir or (workspace.folder("feedback") if workspace else Path("反馈"))
        write_feedback_copies(report, context.catalogue, context.collection, target, progress=progress)
    return report


def _merged_tables(context: ValidationContext, workspace: Workspace | None) -> dict[str, list[dict[str, Any]]]:
    """The tables already merged into the collection's master: references resolve against them."""
    if workspace is None or not workspace.master_path.is_file():
        return {}
    from statecollect.merge import read_master

    return read_master(workspace.master_path, context.catalogue, context.engine)


def _record(workspace: Workspace, report: ValidationReport) -> None:
    """Enter every identified, trusted file into the collection's ledger with its result per table."""
    from statecollect.ledger import Ledger, TableResult, ValidatedFile

    entries = []
    for file in report.files:
        if not file.readable or file.department is None or file.refused:
            continue
        if file.state is not None and file_state(file.path) != file.state:
            # the ledger keeps the file's bytes with these results: they must be the bytes checked
            file.findings.append(Finding(Location(file=file.path.name, department=file.department), "file.changed",
                                         Severity.ERROR, "文件在校验期间被修改或替换，本次结果未记入台账",
                                         "请保存并关闭该文件后重新校验"))
            continue
        summaries = [_table_summary(file, table) for table in file.tables]
        tables = [TableResult(table.table.id, summary["rows"], summary["errors"], summary["warnings"])
                  for table, summary in zip(file.tables, summaries, strict=True)]
        entries.append(ValidatedFile(file.path, file.department, tuple(tables), file.count(Severity.ERROR),
                                     file.count(Severity.WARNING)))
    Ledger(workspace.root).record_all(entries)


def _run_batch_checks(context: ValidationContext, report: ValidationReport) -> None:
    # each table's findings go to its own file: two files may well share a name
    owners = [(file, table.checked) for file in report.files for table in file.tables if table.checked is not None]
    each = context.engine.check_each([checked for _, checked in owners], known=context.known)
    for (file, _), findings in zip(owners, each, strict=True):
        file.findings.extend(findings)
