"""One returned workbook on its own: read, identified, compared with its template and typed."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from statecollect.collection import open_workspace
from statecollect.errors import UserError
from statecollect.returned_file import FileChecker, collection_context, read_file


def test_a_department_workbook_is_identified_and_typed_by_column(school: Path) -> None:
    context = collection_context(open_workspace(school))
    path = next((school / "回收").glob("*学生处*.xlsx"))
    workbook = load_workbook(path)
    students_sheet = next(sheet for sheet in workbook.worksheets if sheet.title.startswith("1-6 "))
    gender = [cell.value for cell in students_sheet[1]].index("性别") + 1
    students_sheet.cell(3, gender).value = "男性"
    workbook.create_sheet("草稿")["A1"] = "备忘"
    workbook.save(path)
    report = read_file(context, path)
    assert report.readable and report.department == "学生处"
    students = next(table for table in report.tables if table.table.id == "BKSJBQK")
    assert students.checked is not None and students.checked.count == len(students.row_numbers) > 0
    assert students.row_numbers[0] == 2 and list(students.checked.columns) == [f.header for f in students.table.template_fields]
    about = report.findings_about(students)
    assert [(f.rule_id, f.location.row, f.location.column) for f in about] == [("cell.not_in_code_list", 3, "性别")]
    assert [f.rule_id for f in report.findings if f not in about] == ["structure.extra_sheet"]


def test_a_file_that_cannot_be_read_becomes_one_finding(school: Path) -> None:
    context = collection_context(open_workspace(school))

    def unreadable() -> list:
        raise UserError("无法读取 x.xlsx：文件已损坏", "请另存为 .xlsx 再交回")

    report = FileChecker(context, Path("x.xlsx")).run(unreadable)
    assert not report.readable
    assert [(f.rule_id, f.message) for f in report.findings] == [("file.unreadable", "无法读取 x.xlsx：文件已损坏")]
