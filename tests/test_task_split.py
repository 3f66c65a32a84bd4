from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from statecollect.catalogue import load_catalogue
from statecollect.collection import SPLIT_FILE
from statecollect.task_split import SplitError, read_split_workbook

SHEET = "任务分解表"


def rows_by_number(path: Path) -> dict[str, int]:
    sheet = load_workbook(path)[SHEET]
    return {sheet.cell(row, 1).value: row for row in range(3, sheet.max_row + 1)}


def test_default_split_reads_back(collection_dir: Path) -> None:
    catalogue = load_catalogue()
    split = read_split_workbook(collection_dir / SPLIT_FILE, catalogue)
    assert len(split.assignments) == len(catalogue.tables)
    staff = split.assignment("JZGJBXX")
    assert staff is not None and staff.responsible == "人事处" and staff.deadline == date(2020, 10, 15)
    assert split.assignment("KKQK").deadline == date(2020, 10, 31)
    assert "教务处" in split.departments()
    assert {item.table_id for item in split.tables_of("图书馆")} == {"TSG", "TSDNXZQK"}


def test_school_type_decides_default_tables(collection_dir: Path) -> None:
    split = read_split_workbook(collection_dir / SPLIT_FILE, load_catalogue())
    collected = {item.table_id for item in split.collected()}
    assert "XAHZYBSJLQKYSLZYY" in collected  # arts competitions: an arts school collects them
    assert "LCYXZYXSBYZHXLQK" not in collected  # medical training: it does not
    sf = [item for item in split.assignments if load_catalogue().table_by_id(item.table_id).category == 8]
    assert sf and not any(item.collected for item in sf)


def test_edits_in_excel_are_read(collection_dir: Path) -> None:
    path = collection_dir / SPLIT_FILE
    workbook = load_workbook(path)
    sheet = workbook[SHEET]
    row = rows_by_number(path)["1-5-1"]
    sheet.cell(row, 6).value = "组织人事部"
    sheet.cell(row, 7).value = "党政办，教务处"
    sheet.cell(row, 8).value = "张三"
    sheet.cell(row, 9).value = "李四"
    sheet.cell(row, 10).value = "2020/10/12"
    workbook.save(path)
    staff = read_split_workbook(path, load_catalogue()).assignment("JZGJBXX")
    assert staff is not None
    assert (staff.responsible, staff.helpers, staff.filler, staff.reviewer, staff.deadline) == (
        "组织人事部", ("党政办", "教务处"), "张三", "李四", date(2020, 10, 12))


def test_problems_are_reported_by_cell(collection_dir: Path) -> None:
    path = collection_dir / SPLIT_FILE
    workbook = load_workbook(path)
    sheet = workbook[SHEET]
    rows = rows_by_number(path)
    sheet.cell(rows["1-2"], 6).value = None
    sheet.cell(rows["1-3"], 10).value = "十月底"
    sheet.cell(rows["1-6"], 5).value = "也许"
    sheet.cell(rows["2-1"], 1).value = "9-9"
    sheet.cell(rows["2-1"], 11).value = None
    workbook.save(path)
    with pytest.raises(SplitError) as caught:
        read_split_workbook(path, load_catalogue())
    found = {(finding.location.cell, finding.location.column) for finding in caught.value.findings}
    assert found == {(f"F{rows['1-2']}", "责任部门"), (f"J{rows['1-3']}", "截止日期"), (f"E{rows['1-6']}", "是否采集"),
                     (f"A{rows['2-1']}", "表号")}


def test_foreign_or_broken_split(collection_dir: Path) -> None:
    path = collection_dir / SPLIT_FILE
    path.write_bytes(b"not a workbook")
    with pytest.raises(SplitError, match="problem"):
        read_split_workbook(path, load_catalogue())
    with pytest.raises(SplitError) as caught:
        read_split_workbook(collection_dir / "missing.xlsx", load_catalogue())
    assert "找不到任务分解表" in caught.value.findings[0].message
