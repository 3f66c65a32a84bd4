from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from statecollect.errors import UserError
from statecollect.generate import workbook_name
from statecollect.ledger import Ledger
from statecollect.validate import validate
from statecollect.workflow import approve, status

LIBRARY = workbook_name(2020, "图书馆")


def states(root: Path, department: str) -> set[str]:
    return {item.state for item in status(root, today=date(2020, 10, 20)).tables if item.department == department}


def test_status_before_anything_is_received(school: Path) -> None:
    report = status(school, today=date(2020, 10, 20))
    assert {item.state for item in report.tables} == {"missing"}
    assert [item.base for item in report.tables[:7]] == [True] * 7 and not report.tables[7].base
    staff = next(item for item in report.tables if item.number == "1-5-1")
    assert (staff.department, staff.deadline, staff.days_left) == ("人事处", date(2020, 10, 15), -5)
    data = report.to_dict()
    assert data["departments"]["人事处"]["missing"] > 0 and data["tables"][0]["state_label"] == "未收到"
    assert {"phase": "基础数据表截止", "date": "2020-10-15", "days_left": -5} in data["deadlines"]


def test_the_four_steps_in_order(school: Path) -> None:
    validate([], root=school, write_feedback=False)
    assert states(school, "图书馆") == {"validated"}
    with pytest.raises(UserError, match="不能跳过"):
        approve(school, department="图书馆", stage="school", by="王五")
    approve(school, department="图书馆", stage="dept", by="李四")
    assert states(school, "图书馆") == {"dept"}
    approve(school, department="图书馆", stage="school", by="王五")
    assert states(school, "图书馆") == {"school"}
    with pytest.raises(UserError, match="不能最终上报"):
        approve(school, department=None, stage="final", by="赵六")
    for department in {item.department for item in status(school).tables} - {"图书馆"}:
        approve(school, department=department, stage="dept", by="李四")
        approve(school, department=department, stage="school", by="王五")
    approve(school, department=None, stage="final", by="赵六")
    assert {item.state for item in status(school).tables} == {"final"}
    path = school / "回收" / LIBRARY  # a delivery after the final approval reopens it for everyone
    workbook = load_workbook(path)
    workbook["2-3-1 图书馆"]["B3"] = 321
    workbook.save(path)
    validate([path], root=school, write_feedback=False)
    assert states(school, "图书馆") == {"validated"}
    assert {item.state for item in status(school).tables if item.department != "图书馆"} == {"school"}


def test_errors_block_the_department_approval(school: Path) -> None:
    path = school / "回收" / LIBRARY
    workbook = load_workbook(path)
    workbook["2-3-1 图书馆"]["B3"] = "很多"
    workbook.save(path)
    validate([], root=school, write_feedback=False)
    assert "errors" in states(school, "图书馆")
    with pytest.raises(UserError, match="未通过校验"):
        approve(school, department="图书馆", stage="dept", by="李四")


def test_a_new_submission_reopens_the_review(school: Path) -> None:
    validate([], root=school, write_feedback=False)
    approve(school, department="图书馆", stage="dept", by="李四")
    path = school / "回收" / LIBRARY
    workbook = load_workbook(path)
    workbook["2-3-1 图书馆"]["B3"] = 321
    workbook.save(path)
    validate([path], root=school, write_feedback=False)
    assert states(school, "图书馆") == {"validated"}
    with pytest.raises(UserError, match="部门审核"):
        approve(school, department="图书馆", stage="school", by="王五")


def test_school_approval_freezes_only_base_tables(school: Path) -> None:
    validate([], root=school, write_feedback=False)
    approve(school, department="人事处", stage="dept", by="李四")
    approve(school, department="人事处", stage="school", by="王五")
    assert set(Ledger(school).frozen()) == {"XXXGDZDW", "XXJXKYDW", "JZGJBXX", "WPJSJBXX"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"department": "图书馆", "stage": "later", "by": "甲"}, "未知的审核环节"),
     ({"department": "图书馆", "stage": "dept", "by": " "}, "审核人"),
     ({"department": None, "stage": "dept", "by": "甲"}, "指明部门"),
     ({"department": "天文台", "stage": "dept", "by": "甲"}, "没有由 天文台 负责")],
)
def test_approval_mistakes_are_explained(school: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        approve(school, **kwargs)


def test_checking_again_does_not_reopen_the_review(school: Path) -> None:
    validate([], root=school, write_feedback=False)
    approve(school, department="图书馆", stage="dept", by="李四")
    validate([], root=school, write_feedback=False)
    assert states(school, "图书馆") == {"dept"}


def test_another_departments_delivery_leaves_a_review_standing(school: Path) -> None:
    validate([], root=school, write_feedback=False)
    approve(school, department="图书馆", stage="dept", by="李四")
    hr = school / "回收" / workbook_name(2020, "人事处")
    workbook = load_workbook(hr)
    workbook["1-2 学校相关党政单位"]["D2"] = "新的负责人"
    workbook.save(hr)
    validate([hr], root=school, write_feedback=False)
    assert states(school, "图书馆") == {"dept"}  # only the library's own new delivery would reopen it
    assert approve(school, department="图书馆", stage="school", by="王五").stage == "school"
