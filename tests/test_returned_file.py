"""One returned workbook on its own: read, identified, compared with its template and typed."""

from __future__ import annotations

from pathlib import Path

from statecollect.collection import open_workspace
from statecollect.errors import UserError
from statecollect.returned_file import FileChecker, collection_context, read_file


def test_a_department_workbook_is_identified_and_typed_by_column(school: Path) -> None:
    context = collection_context(open_workspace(school))
    path = next((school / "回收").glob("*学生处*.xlsx"))
    report = read_file(context, path)
    assert report.readable and report.department == "学生处"
    students = next(table for table in report.tables if table.table.id == "BKSJBQK")
    assert students.checked is not None and students.checked.count == len(students.row_numbers) > 0
    assert students.row_numbers[0] == 2 and list(students.checked.columns) == [f.header for f in students.table.template_fields]
    assert report.findings_about(students) == [f for f in report.findings if f.location.table == "1-6"]


def test_a_file_that_cannot_be_read_becomes_one_finding(school: Path) -> None:
    context = collection_context(open_workspace(school))

    def unreadable() -> list:
        raise UserError("无法读取 x.xlsx：文件已损坏", "请另存为 .xlsx 再交回")

    report = FileChecker(context, Path("x.xlsx")).run(unreadable)
    assert not report.readable
    assert [(f.rule_id, f.message) for f in report.findings] == [("file.unreadable", "无法读取 x.xlsx：文件已损坏")]
