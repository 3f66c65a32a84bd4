from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from statecollect.catalogue import load_catalogue
from statecollect.collection import SPLIT_FILE
from statecollect.demo import ANSWER_KEY_FILE, TRUTH_FILE, build_demo
from statecollect.errors import UserError
from statecollect.generate import workbook_name
from statecollect.task_split import read_split_workbook
from statecollect.workbook_layout import sheet_title


def test_demo_delivers_filled_workbooks_per_department(demo_dir: Path) -> None:
    split = read_split_workbook(demo_dir / SPLIT_FILE, load_catalogue())
    returned = sorted(path.name for path in (demo_dir / "回收").glob("*.xlsx"))
    assert returned == sorted(workbook_name(2020, name) for name in split.departments())
    assert len(list((demo_dir / "下发").glob("*.xlsx"))) == len(returned)


def test_returned_values_equal_the_truth(demo_dir: Path) -> None:
    truth = json.loads((demo_dir / "示例数据" / TRUTH_FILE).read_text(encoding="utf-8"))
    table = load_catalogue().table("1-3")
    sheet = load_workbook(demo_dir / "回收" / workbook_name(2020, "人事处"))[sheet_title(table.number, table.title)]
    rows = [[cell for cell in row] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows == [[record[field.header] for field in table.template_fields] for record in truth["XXJXKYDW"]]


def test_answer_key_names_every_planted_fault(demo_dir: Path) -> None:
    faults = json.loads((demo_dir / "示例数据" / ANSWER_KEY_FILE).read_text(encoding="utf-8"))
    rules = {fault["rule"] for fault in faults}
    for expected in ("cell.not_in_code_list", "cell.bad_year_month", "cell.required", "cell.number_with_text",
                     "cell.normalized", "cell.id_as_number", "structure.extra_column", "structure.column_renamed",
                     "structure.sheet_renamed", "structure.sheet_missing", "XYHYSHHZ.alumni_total"):
        assert expected in rules
    assert any(rule.endswith("_unique") for rule in rules) and any(rule.endswith("unit_exists") for rule in rules)
    truth = json.loads((demo_dir / "示例数据" / TRUTH_FILE).read_text(encoding="utf-8"))
    staff_fault = next(fault for fault in faults if fault["rule"] == "cell.not_in_code_list")
    sheet = load_workbook(demo_dir / "回收" / staff_fault["file"])[staff_fault["sheet"]]
    assert sheet[staff_fault["cell"]].value == "付教授"
    assert "付教授" not in {row["专业技术职称"] for row in truth["JZGJBXX"]}


def test_demo_refuses_an_existing_collection(demo_dir: Path) -> None:
    with pytest.raises(UserError, match="已有一轮采集"):
        build_demo(demo_dir)


def test_unknown_scale(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="未知的规模"):
        build_demo(tmp_path / "x", scale="huge")


def test_replace_removes_only_a_demo(tmp_path: Path, collection_dir: Path) -> None:
    root = tmp_path / "demo"
    build_demo(root, seed=1)
    (root / "marker.txt").write_text("old", encoding="utf-8")
    build_demo(root, seed=1, replace=True)
    assert not (root / "marker.txt").exists()
    with pytest.raises(UserError, match="已有一轮采集"):
        build_demo(collection_dir, replace=True)
