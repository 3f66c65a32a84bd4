"""merge and export on the demo school: the full cycle, conflicts, freezes, safety of outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from statecollect.catalogue import load_catalogue
from statecollect.collection import SPLIT_FILE, open_workspace
from statecollect.demo import TRUTH_FILE
from statecollect.errors import UserError
from statecollect.generate import BaseData, generate_workbooks, workbook_name
from statecollect.ledger import Ledger
from statecollect.merge import export, merge
from statecollect.task_split import read_split_workbook
from statecollect.validate import validate
from statecollect.workbook_layout import sheet_title, template_cell
from statecollect.workflow import approve

HR = workbook_name(2020, "人事处")
UNITS = "1-2 学校相关党政单位"


def check(root: Path, *files: Path) -> None:
    validate(list(files), root=root, write_feedback=False)


def edit_cell(path: Path, sheet: str, cell: str, value: object, *, as_text: bool = False) -> None:
    workbook = load_workbook(path)
    workbook[sheet][cell] = value
    if as_text:
        workbook[sheet][cell].data_type = "s"  # what a clerk typing '=… gets: text, not a formula
    workbook.save(path)


def sheet_values(path: Path) -> dict[str, list[list[object]]]:
    workbook = CalamineWorkbook.from_path(str(path))
    return {name: workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names}


def counts_add_up(result: dict) -> None:
    for table in result["tables"]:
        assert table["rows_in"] == table["rows_merged"] + table["rows_rejected"], table


def shown(value: object) -> str:
    if value == "" or value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    return str(value)


def test_master_of_the_clean_demo_equals_its_truth(school: Path) -> None:
    check(school)
    result = merge(school)
    assert result.findings == []
    counts_add_up(result.to_dict())
    truth = json.loads((school / "示例数据" / TRUTH_FILE).read_text(encoding="utf-8"))
    sheets = sheet_values(result.master)
    catalogue = load_catalogue()
    compared = 0
    for table_id, rows in truth.items():
        table = catalogue.table_by_id(table_id)
        header, *data = sheets[sheet_title(table.number, table.title)]
        assert header[-3:] == ["来源部门", "来源文件", "来源行"]
        assert len(data) == len(rows), table_id
        if data:  # where each record came from: the department's file and its Excel row (a form's first line)
            department, file, row = data[0][-3:]
            assert file == workbook_name(2020, department), table_id
            assert row == 2, table_id
        for expected, got in zip(rows, data, strict=True):
            for field in table.template_fields:
                assert shown(got[header.index(field.header)]) == expected[field.header], (table_id, field.header)
                compared += 1
    assert compared > 40000


def test_same_inputs_same_master(school: Path) -> None:
    check(school)
    first = sheet_values(merge(school).master)
    created = load_workbook(open_workspace(school).master_path).properties.created
    second = sheet_values(merge(school).master)
    assert first == second
    assert load_workbook(open_workspace(school).master_path).properties.created == created


def test_full_cycle_errors_fixed_revalidated_merged(school: Path) -> None:
    original = (school / "回收" / HR).read_bytes()
    edit_cell(school / "回收" / HR, "1-5-1 教职工基本信息", "L2", "付教授")
    check(school)
    refused = merge(school).to_dict()
    counts_add_up(refused)
    staff = next(table for table in refused["tables"] if table["table"] == "1-5-1")
    assert staff["rows_merged"] == 0 and staff["rows_rejected"] == staff["rows_in"] > 0
    assert any(f["rule"] == "merge.has_errors" for f in refused["findings"])
    (school / "回收" / HR).write_bytes(original)
    check(school)
    fixed = merge(school).to_dict()
    staff = next(table for table in fixed["tables"] if table["table"] == "1-5-1")
    assert staff["rows_rejected"] == 0 and staff["rows_merged"] == staff["rows_in"]


def test_accepting_errors_is_recorded(school: Path) -> None:
    edit_cell(school / "回收" / HR, "1-5-1 教职工基本信息", "L2", "付教授")
    check(school)
    result = merge(school, accept_errors=True).to_dict()
    staff = next(table for table in result["tables"] if table["table"] == "1-5-1")
    assert staff["rows_rejected"] == 0
    assert any(event["table"] == "JZGJBXX" for event in Ledger(school).events("accept_errors"))


def reassign(root: Path, number: str, department: str) -> None:
    workbook = load_workbook(root / SPLIT_FILE)
    for row in workbook["任务分解表"].iter_rows(min_row=3):
        if row[0].value == number:
            row[5].value = department
    workbook.save(root / SPLIT_FILE)


def deliver_as(root: Path, department: str, table_id: str, rows: list[dict]) -> Path:
    workspace = open_workspace(root)
    catalogue = load_catalogue()
    split = read_split_workbook(workspace.split_path, catalogue)
    [book] = generate_workbooks(workspace, catalogue, split, base=BaseData({table_id: rows}), departments=[department],
                                output=workspace.folder("returns")).workbooks
    return book.path


def test_a_form_delivered_twice_differently_is_a_conflict(school: Path) -> None:
    check(school)
    truth = json.loads((school / "示例数据" / TRUTH_FILE).read_text(encoding="utf-8"))
    reassign(school, "2-3-1", "资产处")
    library = dict(truth["TSG"][0])
    library["阅览室座位数"] = int(library["阅览室座位数"]) + 100
    assets = deliver_as(school, "资产处", "TSG", [library])
    check(school, assets)
    result = merge(school)
    table = next(item for item in result.tables if item.table.id == "TSG")
    assert (table.rows_in, table.rows_merged, table.rows_rejected) == (2, 0, 2)
    assert [f.rule_id for f in table.findings] == ["merge.conflict"]
    chosen = merge(school, prefer={"2-3-1": "资产处"})
    table = next(item for item in chosen.tables if item.table.id == "TSG")
    assert (table.rows_merged, table.rows_rejected) == (1, 1)
    assert table.merged[0][1] == "资产处"
    assert Ledger(school).events("prefer")


def test_one_key_from_two_departments_is_a_conflict(school: Path) -> None:
    check(school)
    truth = json.loads((school / "示例数据" / TRUTH_FILE).read_text(encoding="utf-8"))
    reassign(school, "1-7-2", "资产处")
    research_bases = truth["KYJD"][:2]
    assets = deliver_as(school, "资产处", "KYJD", research_bases)
    check(school, assets)
    table = next(item for item in merge(school).tables if item.table.id == "KYJD")
    assert table.rows_rejected == 4 and table.rows_in == len(truth["KYJD"]) + 2
    assert {f.rule_id for f in table.findings} == {"merge.conflict"}


def test_rows_without_their_key_from_two_departments_do_not_clash(school: Path) -> None:
    check(school)
    truth = json.loads((school / "示例数据" / TRUTH_FILE).read_text(encoding="utf-8"))
    catalogue = load_catalogue()
    table = catalogue.table_by_id("KYJD")
    owner = read_split_workbook(open_workspace(school).split_path, catalogue).assignment("KYJD").responsible
    name = [field.header for field in table.template_fields].index("科研基地名称")
    edit_cell(school / "回收" / workbook_name(2020, owner), sheet_title(table.number, table.title),
              template_cell(name, 0, form=False), None)  # the owner's first row loses its key
    check(school, school / "回收" / workbook_name(2020, owner))
    reassign(school, "1-7-2", "资产处")
    keyless = dict(truth["KYJD"][0], 科研基地名称="")
    check(school, deliver_as(school, "资产处", "KYJD", [keyless]))
    merged = next(item for item in merge(school, accept_errors=True).tables if item.table.id == "KYJD")
    assert not merged.findings  # a blank key is no key: neither row stands for the other
    assert merged.rows_merged == merged.rows_in == len(truth["KYJD"]) + 1


def test_frozen_base_tables_refuse_changes_until_unfrozen(school: Path) -> None:
    check(school)
    approve(school, department="人事处", stage="dept", by="李四")
    approve(school, department="人事处", stage="school", by="王五")
    assert "XXXGDZDW" in Ledger(school).frozen()
    edit_cell(school / "回收" / HR, UNITS, "A2", "党委办公室（改名）")
    check(school)
    refused = merge(school)
    units = next(item for item in refused.tables if item.table.id == "XXXGDZDW")
    [finding] = units.findings
    assert finding.rule_id == "merge.frozen_changed" and "党委办公室（改名）" in finding.message
    assert units.merged[0][0]["党政单位名称"] == "党委办公室"
    with pytest.raises(UserError, match="理由"):
        merge(school, unfreeze=["1-2"])
    thawed = merge(school, unfreeze=["1-2"], reason="党办更名")
    units = next(item for item in thawed.tables if item.table.id == "XXXGDZDW")
    assert units.findings == [] and units.merged[0][0]["党政单位名称"] == "党委办公室（改名）"
    [event] = Ledger(school).events("unfreeze")
    assert event["detail"]["reason"] == "党办更名" and event["detail"]["diff"]["counts"] == [0, 0, 1]


def test_department_text_never_becomes_a_formula(school: Path) -> None:
    edit_cell(school / "回收" / HR, UNITS, "D2", "=HYPERLINK(\"http://evil\")", as_text=True)
    edit_cell(school / "回收" / HR, UNITS, "D3", "+1-1", as_text=True)
    check(school)
    master = merge(school).master
    sheet = load_workbook(master)[UNITS]
    assert sheet["D2"].data_type == "s" and sheet["D2"].value.startswith("=")
    assert sheet["D3"].data_type == "s"
    export(school)
    exported = load_workbook(open_workspace(school).folder("export") / "表1-2 学校相关党政单位.xlsx").active
    assert exported["D2"].data_type == "s" and exported["D2"].value.startswith("=")
    feedback = validate([school / "回收" / HR], root=school, feedback_dir=school / "fb").files[0].feedback
    copy = load_workbook(feedback)[UNITS]
    assert copy["D2"].data_type == "s" and copy["D2"].value.startswith("=")


def test_export_writes_platform_files(school: Path) -> None:
    check(school)
    merge(school)
    result = export(school)
    catalogue = load_catalogue()
    files = {number: path for number, path, _ in result.files}
    assert files["1-5-1"].name == "表1-5-1 教职工基本信息.xlsx"
    sheet = load_workbook(files["1-5-1"]).active
    assert [cell.value for cell in sheet[1]] == [field.header for field in catalogue.table("1-5-1").template_fields]
    assert isinstance(sheet["D2"].value, str) and len(sheet["D2"].value) == 7  # 出生年月 as YYYY-MM text
    overview = load_workbook(files["1-1"]).active
    assert overview.max_row == 2  # a form table is one header row and one record


def test_output_path_taken_by_a_folder(school: Path) -> None:
    check(school)
    open_workspace(school).master_path.mkdir(parents=True)
    with pytest.raises(UserError, match="同名的文件夹"):
        merge(school)


def test_nothing_to_merge(school: Path) -> None:
    with pytest.raises(UserError, match="还没有通过校验"):
        merge(school)
    with pytest.raises(UserError, match="还没有总表"):
        export(school)


def test_generate_uses_the_master_once_merged(school: Path) -> None:
    from openpyxl import load_workbook as load
    from statecollect.generate import run_generate

    check(school)
    merge(school)
    result = run_generate(school, departments=["科研处"])
    workbook = load(result.workbooks[0].path)
    assert any(name.startswith("keys_") for name in workbook.defined_names)
    assert result.workbooks[0].prefilled_rows > 0
    def header_of(sheet: object, validation: object) -> str:
        first = sheet[str(validation.sqref).split(":")[0]]  # type: ignore[index, attr-defined]
        return str(sheet.cell(1, first.column).value)  # type: ignore[attr-defined]

    staff_numbers = [validation.formula1 for sheet in workbook.worksheets for validation in sheet.data_validations.dataValidation
                     if header_of(sheet, validation).endswith("工号")]
    assert staff_numbers and all("keys_" in formula for formula in staff_numbers)  # the merged staff numbers


def test_a_master_without_base_tables_yet_leaves_generate_without_base_data(school: Path) -> None:
    from openpyxl import Workbook

    from statecollect.generate import run_generate

    table = next(table for table in load_catalogue().tables if not table.base)
    master = Workbook()
    master.active.title = sheet_title(table.number, table.title)
    master.active.append([field.header for field in table.template_fields])
    path = open_workspace(school).master_path
    path.parent.mkdir(exist_ok=True)
    master.save(path)
    result = run_generate(school, departments=["科研处"])  # merged so far: no base table, nothing to offer
    assert result.workbooks[0].prefilled_rows == 0
    from openpyxl import load_workbook

    names = load_workbook(result.workbooks[0].path).defined_names
    assert not [name for name in names if name.startswith("keys_")]  # no list of keys from a master that has none


def test_a_refused_change_keeps_the_frozen_rows_typed_and_counted_apart(school: Path) -> None:
    catalogue = load_catalogue()
    split = read_split_workbook(school / SPLIT_FILE, catalogue)
    department = next(item.responsible for item in split.assignments if item.table_id == "BKSJBQK")
    check(school)
    approve(school, department=department, stage="dept", by="李四")
    approve(school, department=department, stage="school", by="王五")
    assert "BKSJBQK" in Ledger(school).frozen()
    students_sheet = sheet_title("1-6", "本科生基本情况")
    edit_cell(school / "回收" / workbook_name(2020, department), students_sheet, "B2", "改过的姓名")
    check(school)
    result = merge(school)
    counts_add_up(result.to_dict())
    students = next(item for item in result.tables if item.table.id == "BKSJBQK")
    assert students.rows_merged == 0 and students.rows_rejected == students.rows_in > 0
    assert students.rows_frozen == students.rows_in  # a name changed: the frozen version has as many rows
    assert result.to_dict()["rows_frozen"] == students.rows_frozen
    header, *rows = sheet_values(result.master)[students_sheet]
    grade = header.index("年级")
    assert rows and all(isinstance(row[grade], float) for row in rows)  # numbers, as in the department's file
    assert "改过的姓名" not in {row[1] for row in rows}


def test_a_locked_master_is_left_whole_and_no_temporary_file_remains(school: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    check(school)
    master = merge(school).master
    before = master.read_bytes()
    edit_cell(school / "回收" / HR, UNITS, "D2", "新的负责人")
    check(school)

    def locked(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied")  # what Windows says while Excel holds the file

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(UserError, match="Excel/WPS"):
        merge(school)
    monkeypatch.undo()
    assert master.read_bytes() == before
    assert [path.name for path in master.parent.iterdir()] == [master.name]


def test_the_master_lists_the_tables_in_catalogue_order(school: Path) -> None:
    check(school)
    master = merge(school).master
    names = CalamineWorkbook.from_path(str(master)).sheet_names
    catalogue = load_catalogue()
    order = {sheet_title(table.number, table.title): index for index, table in enumerate(catalogue.tables)}
    assert names[0] == "汇总说明" and len(names) > 10
    assert [order[name] for name in names[1:]] == sorted(order[name] for name in names[1:])


@pytest.mark.parametrize("text", ["@SUM(1)", "-1+1", "\t=1", "\r=1"])
def test_text_that_a_spreadsheet_would_run_stays_text_in_master_and_export(school: Path, text: str) -> None:
    edit_cell(school / "回收" / HR, UNITS, "D2", text, as_text=True)
    check(school)
    master = merge(school).master
    assert load_workbook(master)[UNITS]["D2"].data_type == "s"
    export(school)
    exported = load_workbook(open_workspace(school).folder("export") / "表1-2 学校相关党政单位.xlsx").active
    assert exported["D2"].data_type == "s" and exported["D2"].value.strip() == text.strip()


def test_a_frozen_table_diff_keeps_rows_without_their_key_apart() -> None:
    from statecollect.catalogue import load_catalogue
    from statecollect.merge import _diff

    table = load_catalogue().table_by_id("XXJXKYDW")
    first = {"教学科研单位名称": "音乐学院", "单位号": "", "单位职能": "教学院系", "单位负责人": "甲"}
    second = {**first, "教学科研单位名称": "美术学院", "单位负责人": "乙"}
    diff = _diff(table, [first, second], [first])
    assert diff["counts"] == [0, 1, 0]  # one row removed, as merging keys them: not one changed row
