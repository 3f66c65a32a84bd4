from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from statecollect.catalogue import load_catalogue
from statecollect.workbook_read import find_table, read_sheets, records


def test_tables_are_found_by_name_or_by_headers_and_structure_is_seen(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "导出数据"
    sheet.append(["本科生名单"])
    sheet.append(["学号", "学生姓名", "性别", "校内专业（大类）名称", "校内专业（大类）代码", "生源类别", "年级", "入学年份"])
    sheet.append(["001", "张三", "男", "音乐学", "0101", "境内", 2019, 2019])
    sheet.append([None] * 8)
    sheet.append(["002", "李四", "女", "音乐学", "0101", "境内", 2019, "=2018+1"])
    sheet.row_dimensions[5].hidden = True
    sheet.merge_cells("A1:C1")
    workbook.save(tmp_path / "a.xlsx")
    [read] = read_sheets(tmp_path / "a.xlsx")
    assert read.hidden_rows == frozenset({5}) and read.uncached_formulas == ("H5",)
    assert read.merged == ((0, 0, 0, 2),)
    found = find_table([read], load_catalogue().table("1-6"))
    assert found is not None and found[1] == 1
    rows = records(read, found[1], ["学号", "学生姓名"])
    assert [row["学号"] for row in rows] == ["001", "002"]


def test_tool_sheets_can_be_skipped(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.create_sheet("_lists")
    workbook.save(tmp_path / "b.xlsx")
    assert [sheet.name for sheet in read_sheets(tmp_path / "b.xlsx", skip={"_lists"})] == ["Sheet"]
