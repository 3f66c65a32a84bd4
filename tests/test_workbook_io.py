from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook

from statecollect.workbook_io import column_letter_width, link_to, put, save_atomically, streamed_row


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    for row, text in enumerate(("=SUM(A1:A9)", "+86 138", "-", "@user", "\tx", "plain"), start=1):
        put(sheet.cell(row, 1), text)
    streamed = Workbook(write_only=True)
    stream = streamed.create_sheet("s")
    stream.append(streamed_row(stream, ["=1+1", "ok", 3]))
    save_atomically(workbook, tmp_path / "a.xlsx")
    save_atomically(streamed, tmp_path / "b.xlsx")
    back = load_workbook(tmp_path / "a.xlsx").active
    assert [cell.data_type for cell in back["A"]] == ["s"] * 6
    assert back["A1"].value == "=SUM(A1:A9)"
    row = next(load_workbook(tmp_path / "b.xlsx")["s"].iter_rows())
    assert (row[0].value, row[0].data_type, row[2].value) == ("=1+1", "s", 3)


def test_widths_count_chinese_double() -> None:
    assert column_letter_width(["工号"]) == 8
    assert column_letter_width(["教学科研单位名称"]) == 18
    assert column_letter_width(["x" * 100]) == 40


def test_internal_links(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.create_sheet("1-2 单位")
    link_to(workbook.active["A1"], "1-2 单位", "B3")
    save_atomically(workbook, tmp_path / "l.xlsx")
    assert load_workbook(tmp_path / "l.xlsx").active["A1"].hyperlink.location == "'1-2 单位'!B3"
