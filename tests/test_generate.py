from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from statecollect.catalogue import load_catalogue
from statecollect.collection import SPLIT_FILE, open_workspace
from statecollect.errors import UserError
from statecollect.generate import run_generate, workbook_name
from statecollect.workbook_layout import LISTS_SHEET, META_FORMAT, META_SHEET
from statecollect.signing import collection_id, verify
from statecollect.task_split import read_split_workbook
from statecollect.workbook_layout import sheet_title


@pytest.fixture
def generated(collection_dir: Path) -> Path:
    run_generate(collection_dir)
    return collection_dir


def outbox_file(root: Path, department: str) -> Path:
    return root / "下发" / workbook_name(2020, department)


def meta_of(path: Path) -> dict[str, str]:
    sheet = load_workbook(path)[META_SHEET]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}


def test_one_workbook_per_department_with_only_its_tables(generated: Path) -> None:
    catalogue = load_catalogue()
    split = read_split_workbook(generated / SPLIT_FILE, catalogue)
    files = sorted(path.name for path in (generated / "下发").iterdir())
    assert files == sorted(workbook_name(2020, name) for name in split.departments())
    workbook = load_workbook(outbox_file(generated, "人事处"))
    expected = [sheet_title(catalogue.table_by_id(item.table_id).number, catalogue.table_by_id(item.table_id).title)
                for item in split.tables_of("人事处")]
    assert workbook.sheetnames == ["封面", *expected, LISTS_SHEET, META_SHEET]
    assert all(len(name) <= 31 for name in workbook.sheetnames)


def test_headers_types_and_help(generated: Path) -> None:
    catalogue = load_catalogue()
    table = catalogue.table("1-5-1")
    sheet = load_workbook(outbox_file(generated, "人事处"))[sheet_title(table.number, table.title)]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [field.header for field in table.template_fields]
    staff_no = sheet["A1"]
    assert staff_no.font.color.rgb.endswith("C00000")  # required columns are marked red
    assert "工号" in staff_no.comment.text and "必填" in staff_no.comment.text
    assert sheet.column_dimensions["A"].number_format == "@"  # ids keep leading zeros
    assert sheet.freeze_panes == "B2"
    validations = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    gender = validations["C2:C100000"]
    assert gender.type == "list" and gender.formula1 == "=list_XB"
    birth = validations["D2:D100000"]
    assert birth.type == "textLength" and "YYYY-MM" in birth.error


def test_lists_sheet_and_names(generated: Path) -> None:
    workbook = load_workbook(outbox_file(generated, "人事处"))
    lists = workbook[LISTS_SHEET]
    assert lists.sheet_state == "hidden"
    name = workbook.defined_names["list_ZYJSZC"]
    assert name.attr_text.startswith(f"'{LISTS_SHEET}'!$")
    column = [cell.value for cell in lists[name.attr_text.split("!")[1].split(":")[0][1]]]
    assert "副教授" in column


def test_meta_is_hidden_protected_and_signed(generated: Path) -> None:
    path = outbox_file(generated, "图书馆")
    sheet = load_workbook(path)[META_SHEET]
    assert sheet.sheet_state == "veryHidden" and sheet.protection.sheet
    meta = meta_of(path)
    secret = open_workspace(generated).collection.secret
    signature = meta.pop("signature")
    assert meta["format"] == META_FORMAT and meta["department"] == "图书馆"
    assert meta["edition"] == "2020" and meta["schema"] == load_catalogue().fingerprint
    assert meta["tables"] == "TSG,TSDNXZQK" and meta["collection"] == collection_id(secret)
    assert verify(meta, signature, secret)
    assert not verify({**meta, "department": "教务处"}, signature, secret)
    assert not verify(meta, signature, "another collection's secret")


def test_form_tables_are_one_line_per_field(generated: Path) -> None:
    table = load_catalogue().table("2-3-1")
    sheet = load_workbook(outbox_file(generated, "图书馆"))[sheet_title(table.number, table.title)]
    assert [cell.value for cell in sheet[1]] == ["项目", "填写内容", "单位", "填写说明"]
    assert [sheet.cell(row, 1).value for row in range(2, 2 + len(table.template_fields))] == [
        field.header for field in table.template_fields]
    assert sheet["C2"].value == "个"


def test_cover_names_deadlines_and_times(generated: Path) -> None:
    cover = load_workbook(outbox_file(generated, "人事处"))["封面"]
    text = "\n".join(str(cell.value) for row in cover.iter_rows() for cell in row if cell.value)
    for expected in ("人事处", "2020-10-15", "2019-09-01 至 2020-08-31", "2020-09-30", "审核员（部门负责人）签字", "1-5-1"):
        assert expected in text


def test_only_chosen_departments(collection_dir: Path) -> None:
    result = run_generate(collection_dir, departments=["图书馆"])
    assert [book.department for book in result.workbooks] == ["图书馆"]
    with pytest.raises(UserError, match="没有负责数据表的部门"):
        run_generate(collection_dir, departments=["天文台"])


def test_base_keys_become_dropdowns_and_own_rows_are_prefilled(collection_dir: Path, tmp_path: Path) -> None:
    base = Workbook()
    units = base.active
    units.title = "1-2 学校相关党政单位"
    units.append(["党政单位名称", "单位号", "单位职能", "单位负责人"])
    units.append(["教务处", "0103", "教学管理", "王一"])
    colleges = base.create_sheet("1-3 学校教学科研单位")
    colleges.append(["教学科研单位名称", "单位号", "单位职能", "单位负责人"])
    colleges.append(["影视艺术学院", "0201", "教学院系", "李二"])
    base_path = tmp_path / "base.xlsx"
    base.save(base_path)
    result = run_generate(collection_dir, base_path=base_path)
    hr = next(book for book in result.workbooks if book.department == "人事处")
    assert hr.prefilled_rows == 2
    workbook = load_workbook(hr.path)
    staff = workbook["1-5-1 教职工基本信息"]
    unit_column = [cell.value for cell in staff[1]].index("单位号") + 1
    [rule] = [rule for rule in staff.data_validations.dataValidation
              if str(rule.sqref).startswith(f"{get_column_letter(unit_column)}2:")]
    assert rule.formula1 == "=keys_XXJXKYDW_DWH_XXXGDZDW_DWH"  # named after the columns it offers: one list for all
    assert "keys_XXJXKYDW_DWH_XXXGDZDW_DWH" in workbook.defined_names
    lists = workbook[LISTS_SHEET]
    values = {cell.value for column in lists.iter_cols() for cell in column}
    assert {"0103", "0201"} <= values
    units_sheet = workbook["1-2 学校相关党政单位"]
    assert units_sheet["B2"].value == "0103"


def test_tables_pointing_at_the_same_keys_share_one_list(collection_dir: Path, tmp_path: Path) -> None:
    base = Workbook()
    staff = base.active
    staff.title = "1-5-1 教职工基本信息"
    headers = [field.header for field in load_catalogue().table_by_id("JZGJBXX").template_fields]
    staff.append(headers)
    for number in range(3):
        staff.append([f"T{number:04d}" if header == "工号" else None for header in headers])
    base.save(tmp_path / "base.xlsx")
    result = run_generate(collection_dir, base_path=tmp_path / "base.xlsx")
    lists_used: dict[str, int] = {}
    for book in result.workbooks:
        workbook = load_workbook(book.path)
        for sheet in workbook.worksheets:
            for rule in sheet.data_validations.dataValidation:
                if str(rule.formula1).startswith("=keys_"):
                    lists_used[str(rule.formula1)] = lists_used.get(str(rule.formula1), 0) + 1
        columns = [cell.value for cell in workbook[LISTS_SHEET][1]]
        assert len(columns) == len(set(columns))
    assert max(lists_used.values()) > 1  # several tables, one list of staff numbers


def test_base_file_without_base_tables(collection_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    Workbook().save(path)
    with pytest.raises(UserError, match="找不到任何基础数据表"):
        run_generate(collection_dir, base_path=path)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_and_keeps_dropdowns(generated: Path, tmp_path: Path) -> None:
    source = outbox_file(generated, "人事处")
    copy = tmp_path / "in" / "hr.xlsx"
    copy.parent.mkdir()
    shutil.copy(source, copy)
    out = tmp_path / "out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                    "--convert-to", "xlsx", "--outdir", str(out), str(copy)],
                   check=True, capture_output=True, timeout=180)
    round_trip = load_workbook(out / "hr.xlsx")
    table = load_catalogue().table("1-5-1")
    sheet = round_trip[sheet_title(table.number, table.title)]
    assert [cell.value for cell in sheet[1]] == [field.header for field in table.template_fields]
    kinds = {str(dv.sqref).split(":")[0]: (dv.type, dv.formula1) for dv in sheet.data_validations.dataValidation}
    assert kinds["C2"][0] == "list" and "list_XB" in kinds["C2"][1]
    assert META_SHEET in round_trip.sheetnames and LISTS_SHEET in round_trip.sheetnames
    assert "list_XB" in round_trip.defined_names


def _sheet_of(root: Path, table_number: str):
    catalogue = load_catalogue()
    table = catalogue.table(table_number)
    split = read_split_workbook(root / SPLIT_FILE, catalogue)
    department = split.assignment(table.id).responsible
    return table, load_workbook(outbox_file(root, department))[sheet_title(table.number, table.title)]


def test_bounds_and_formats_follow_the_schema(generated: Path) -> None:
    table, sheet = _sheet_of(generated, "7-3-2")
    validations = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    letters = {field.header: sheet.cell(1, index + 1).column_letter for index, field in enumerate(table.template_fields)}
    rank = validations[f"{letters['本人排名']}2"]
    assert (rank.type, rank.operator, rank.formula1, rank.formula2) == ("whole", "between", "1", "5")
    assert sheet.column_dimensions[letters["本人排名"]].number_format == "0"
    form, form_sheet = _sheet_of(generated, "6-6")  # a form: one line per field, the value in column B
    line = next(cell.row for cell in form_sheet["A"] if cell.value == "体质合格率")
    rate = {str(dv.sqref): dv for dv in form_sheet.data_validations.dataValidation}[f"B{line}"]
    assert (rate.type, rate.operator, rate.formula1, rate.formula2) == ("decimal", "between", "0", "1")
    courses, course_sheet = _sheet_of(generated, "5-1-1")
    course_letters = {field.header: course_sheet.cell(1, index + 1).column_letter
                      for index, field in enumerate(courses.template_fields)}
    hours = {str(dv.sqref).split(":")[0]: dv for dv in course_sheet.data_validations.dataValidation}[f"{course_letters['学时']}2"]
    assert (hours.type, hours.operator, hours.formula1) == ("decimal", "greaterThanOrEqual", "0")


def test_every_sheet_prints_on_a4_fitted_to_the_width_with_page_numbers(generated: Path) -> None:
    catalogue = load_catalogue()
    staff = catalogue.table("1-5-1")
    workbook = load_workbook(outbox_file(generated, "人事处"))
    for name in workbook.sheetnames:
        sheet = workbook[name]
        if sheet.sheet_state != "visible":
            continue
        assert sheet.page_setup.paperSize in ("9", 9) and sheet.page_setup.fitToWidth in (1, "1"), name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and "&P" in sheet.oddFooter.center.text, name
    wide = workbook[sheet_title(staff.number, staff.title)]
    assert len(staff.template_fields) > 6 and wide.page_setup.orientation == "landscape"
