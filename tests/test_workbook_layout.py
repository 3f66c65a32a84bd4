"""Names shared by the workbooks the tool writes and the code that reads them back."""

from __future__ import annotations

from statecollect.workbook_layout import column_letter, sheet_title


def test_sheet_titles_fit_excel() -> None:
    title = sheet_title("5-2-2", "分专业教师指导学生毕业综合训练情况（非医学类专业填报）")
    assert len(title) == 31 and title.startswith("5-2-2 分专业")
    assert sheet_title("1", "a/b:c") == "1 a_b_c"


def test_column_letters() -> None:
    assert [column_letter(number) for number in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]


def test_template_cells_of_lists_and_forms() -> None:
    from statecollect.workbook_layout import template_cell

    assert template_cell(0, 0, form=False) == "A2"  # first field of the first record, below the header
    assert template_cell(27, 9, form=False) == "AB11"
    assert template_cell(3, 0, form=True) == "B5"  # a form's fourth line, value in column B
