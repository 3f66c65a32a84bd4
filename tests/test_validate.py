"""validate on real workbooks: the demo school, edited copies of it, and foreign files."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import xlwt
from openpyxl import Workbook, load_workbook

from statecollect.collection import SPLIT_FILE
from statecollect.demo import ANSWER_KEY_FILE
from statecollect.errors import UserError
from statecollect.findings import Severity
from statecollect.generate import workbook_name
from statecollect.workbook_layout import META_SHEET
from statecollect.validate import ValidationReport, validate

HR = workbook_name(2020, "人事处")
LIBRARY = workbook_name(2020, "图书馆")
STAFF_SHEET = "1-5-1 教职工基本信息"


def rules(report: ValidationReport, severity: Severity | None = None) -> set[str]:
    return {f.rule_id for f in report.findings if severity is None or f.severity is severity}


def edit_returned(root: Path, name: str, change) -> Path:
    path = root / "回收" / name
    workbook = load_workbook(path)
    change(workbook)
    workbook.save(path)
    return path


def test_clean_demo_has_no_error(clean_demo_dir: Path, tmp_path: Path) -> None:
    report = validate([], root=clean_demo_dir, feedback_dir=tmp_path / "fb")
    assert [f.location.describe() + " " + f.message for f in report.findings if f.severity is Severity.ERROR] == []
    assert report.exit_code == 0
    assert sum(len(file.tables) for file in report.files) >= 80


def test_every_planted_fault_is_found(demo_dir: Path, tmp_path: Path) -> None:
    report = validate([], root=demo_dir, feedback_dir=tmp_path / "fb")
    key = json.loads((demo_dir / "示例数据" / ANSWER_KEY_FILE).read_text(encoding="utf-8"))
    missed = [fault for fault in key if not any(
        f.location.file == fault["file"] and f.location.sheet == fault["sheet"] and f.rule_id == fault["rule"]
        and (fault["cell"] is None or f.location.cell == fault["cell"]) for f in report.findings)]
    assert missed == []
    assert report.exit_code == 1


def test_findings_say_where_what_and_how(demo_dir: Path, tmp_path: Path) -> None:
    report = validate([demo_dir / "回收" / HR], root=demo_dir, feedback_dir=tmp_path / "fb")
    wrong_title = next(f for f in report.findings if f.rule_id == "cell.not_in_code_list")
    where = wrong_title.location
    assert (where.file, where.sheet, where.cell, where.column, where.row, where.table, where.department) == (
        HR, STAFF_SHEET, "L5", "专业技术职称", 5, "1-5-1", "人事处")
    assert "付教授" in wrong_title.message and "副教授" in wrong_title.hint


def test_originals_are_untouched_and_copies_are_annotated(demo_dir: Path, tmp_path: Path) -> None:
    original = demo_dir / "回收" / HR
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    report = validate([original], root=demo_dir, feedback_dir=tmp_path / "fb")
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before
    copy = report.files[0].feedback
    assert copy is not None and copy.parent == tmp_path / "fb"
    workbook = load_workbook(copy)
    assert workbook.sheetnames[1] == "错误清单"
    cell = workbook[STAFF_SHEET]["L5"]
    assert cell.value == "付教授" and "副教授" in cell.comment.text and cell.fill.fgColor.rgb.endswith("FFC7CE")
    listing = workbook["错误清单"]
    links = [row[3].hyperlink.location for row in listing.iter_rows(min_row=5) if row[3].hyperlink]
    assert f"'{STAFF_SHEET}'!L5" in links
    assert META_SHEET in workbook.sheetnames


def test_extra_column_is_kept_in_the_copy(demo_dir: Path, tmp_path: Path) -> None:
    research = workbook_name(2020, "科研处")
    report = validate([demo_dir / "回收" / research], root=demo_dir, feedback_dir=tmp_path / "fb")
    sheet = load_workbook(report.files[0].feedback)["3-5-3 教师发表的论文情况"]
    headers = [cell.value for cell in sheet[1]]
    assert "备注（模板外，不采集）" in headers


def test_structure_problems(school: Path, tmp_path: Path) -> None:
    def damage(workbook: Workbook) -> None:
        sheet = workbook[STAFF_SHEET]
        sheet.merge_cells("B3:C3")
        sheet.row_dimensions[4].hidden = True
        sheet["O6"] = "=1+1"
        units = workbook["1-3 学校教学科研单位"]
        units.insert_rows(1)
        units["A1"] = "填表说明：本表由人事处填写"

    path = edit_returned(school, HR, damage)
    report = validate([path], root=school, feedback_dir=tmp_path / "fb")
    found = {(f.rule_id, f.location.sheet, f.location.cell or f.location.row) for f in report.findings}
    assert ("structure.merged_cells", STAFF_SHEET, "B3") in found
    assert ("structure.hidden_data", STAFF_SHEET, 4) in found
    assert ("structure.formula_no_value", STAFF_SHEET, "O6") in found
    assert ("structure.header_moved", "1-3 学校教学科研单位", 2) in found
    moved = [f for f in report.findings if f.location.sheet == "1-3 学校教学科研单位" and f.rule_id.startswith("cell.")]
    assert moved == []  # the table is still read correctly below the moved header


def test_reordered_and_missing_columns(school: Path, tmp_path: Path) -> None:
    def shuffle(workbook: Workbook) -> None:
        sheet = workbook["1-3 学校教学科研单位"]
        for row in sheet.iter_rows():
            row[0].value, row[1].value = row[1].value, row[0].value
        sheet.delete_cols(4)

    path = edit_returned(school, HR, shuffle)
    report = validate([path], root=school, feedback_dir=tmp_path / "fb")
    assert {"structure.column_order", "structure.column_missing"} <= rules(report)
    assert not any(f.rule_id == "cell.required" and f.location.column == "单位号" for f in report.findings)


def test_forged_foreign_and_other_year_files_are_refused(school: Path, clean_demo_dir: Path, tmp_path: Path) -> None:
    def forge(workbook: Workbook) -> None:
        meta = workbook[META_SHEET]
        for row in meta.iter_rows():
            if row[0].value == "department":
                row[1].value = "教务处"

    from statecollect.ledger import Ledger

    recorded = len(Ledger(school).submissions())
    forged = edit_returned(school, LIBRARY, forge)
    report = validate([forged], root=school, feedback_dir=tmp_path / "fb")
    assert rules(report, Severity.ERROR) == {"file.forged"} and report.files[0].tables == []
    assert report.files[0].refused

    other = tmp_path / "other"
    from statecollect.demo import build_demo

    build_demo(other, seed=3)
    foreign = school / "回收" / "外校.xlsx"
    shutil.copy(other / "回收" / LIBRARY, foreign)
    report = validate([foreign], root=school, feedback_dir=tmp_path / "fb")
    assert rules(report, Severity.ERROR) == {"file.foreign"} and report.files[0].refused

    def older(workbook: Workbook) -> None:
        for row in workbook[META_SHEET].iter_rows():
            if row[0].value == "year":
                row[1].value = "2019"

    report = validate([edit_returned(school, LIBRARY, older)], root=school, feedback_dir=tmp_path / "fb")
    assert rules(report, Severity.ERROR) == {"file.other_year"} and report.files[0].refused
    assert len(Ledger(school).submissions()) == recorded  # none of the three entered the ledger
    untouched = school / "回收" / workbook_name(2020, "教务处")
    assert not validate([untouched], root=school, write_feedback=False).files[0].refused


def test_tables_of_another_department_are_rejected(school: Path, tmp_path: Path) -> None:
    split = school / SPLIT_FILE
    workbook = load_workbook(split)
    sheet = workbook["任务分解表"]
    for row in sheet.iter_rows(min_row=3):
        if row[0].value == "2-3-1":
            row[5].value = "资产处"
    workbook.save(split)
    report = validate([school / "回收" / LIBRARY], root=school, feedback_dir=tmp_path / "fb")
    rejected = [f for f in report.findings if f.rule_id == "structure.table_not_assigned"]
    assert [f.location.table for f in rejected] == ["2-3-1"]
    assert [table.table.number for table in report.files[0].tables] == ["2-3-2"]


def test_unreadable_files_get_a_message_and_exit_2(tmp_path: Path) -> None:
    fake = tmp_path / "学生.xls"
    fake.write_text("<html><table><tr><td>学号</td></tr></table></html>", encoding="utf-8")
    report = validate([fake], year=2020, feedback_dir=tmp_path / "fb")
    [finding] = report.findings
    assert finding.rule_id == "file.unreadable" and "网页" in finding.message and "另存为" in finding.hint
    assert report.exit_code == 2


def test_standalone_batch_with_platform_style_files(tmp_path: Path) -> None:
    units = Workbook()
    sheet = units.active
    sheet.title = "Sheet1"
    sheet.append(["教学科研单位名称", "单位号", "单位职能", "单位负责人"])
    sheet.append(["音乐学院", "0201", "教学院系", "张三"])
    units.save(tmp_path / "units.xlsx")
    old = xlwt.Workbook()
    majors = old.add_sheet("专业")
    headers = ["校内专业代码", "校内专业名称", "专业名称", "专业代码", "代码版本", "所属单位名称", "所属单位号", "专业设置年份",
               "学制", "允许修业年限", "授予学位门类", "招生状态", "是否新专业", "是否师范类专业"]
    values = ["0101", "音乐学", "音乐学", "130202", "2020", "音乐学院", "0299", 2010, 4, 6, "艺术学", "在招", "否", "否"]
    served = [*values[:6], "0201", *values[7:]]  # a unit the batch's own units file holds
    served[0], served[1] = "0102", "音乐表演"
    for column, (header, value, good) in enumerate(zip(headers, values, served, strict=True)):
        majors.write(0, column, header)
        majors.write(1, column, value)
        majors.write(2, column, good)
    old.save(str(tmp_path / "majors.xls"))
    report = validate([tmp_path], year=2020, feedback_dir=tmp_path / "fb")
    assert {file.path.name for file in report.files} == {"units.xlsx", "majors.xls"}
    assert "file.no_meta" in rules(report, Severity.WARNING)
    broken = [f for f in report.findings if f.rule_id == "ZYJBQK.owning_unit_exists"]
    assert [(f.location.file, f.location.cell) for f in broken] == [("majors.xls", "G2")]
    assert report.files[1].feedback is not None


def test_nothing_to_validate(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="没有找到要校验的 Excel 文件"):
        validate([tmp_path], year=2020)
    with pytest.raises(UserError, match="--year"):
        validate([tmp_path])


def test_a_hidden_row_below_a_blank_one_is_still_reported(school: Path, tmp_path: Path) -> None:
    def damage(workbook: Workbook) -> None:
        sheet = workbook[STAFF_SHEET]
        sheet.insert_rows(5)  # a blank row amid the data: the rows are no longer one run
        sheet.row_dimensions[8].hidden = True

    report = validate([edit_returned(school, HR, damage)], root=school, feedback_dir=tmp_path / "fb")
    hidden = [f.location.row for f in report.findings if f.rule_id == "structure.hidden_data" and f.location.sheet == STAFF_SHEET]
    assert hidden == [8]
    staff = next(table for table in report.files[0].tables if table.sheet == STAFF_SHEET)
    assert 5 not in staff.row_numbers and 8 in staff.row_numbers


def test_a_hidden_line_of_a_form_holding_a_value_is_reported(school: Path, tmp_path: Path) -> None:
    form = "1-1 学校概况"
    owner = next(path for path in sorted((school / "回收").glob("*.xlsx")) if form in load_workbook(path, read_only=True).sheetnames)

    def hide(workbook: Workbook) -> None:
        workbook[form].row_dimensions[5].hidden = True  # a field's line, its value in column B

    report = validate([edit_returned(school, owner.name, hide)], root=school, feedback_dir=tmp_path / "fb")
    hidden = [f.location.row for f in report.findings if f.rule_id == "structure.hidden_data" and f.location.sheet == form]
    assert hidden == [5]


def test_macro_workbooks_and_hidden_columns(school: Path, tmp_path: Path) -> None:
    def hide(workbook: Workbook) -> None:
        sheet = workbook[STAFF_SHEET]
        sheet["P2"] = "备忘"
        sheet.column_dimensions["P"].hidden = True

    path = edit_returned(school, HR, hide)
    macro = path.with_suffix(".xlsm")
    path.rename(macro)
    report = validate([macro], root=school, feedback_dir=tmp_path / "fb")
    assert report.files[0].tables and report.files[0].department == "人事处"
    hidden = [f for f in report.findings if f.rule_id == "structure.hidden_data"]
    assert [(f.location.sheet, f.location.cell) for f in hidden] == [(STAFF_SHEET, "P1")]


def test_columns_hidden_to_the_sheets_end_are_looked_at_only_where_the_sheet_has_cells(
        school: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from statecollect import returned_file
    from statecollect.workbook_read import _scan_structure, read_sheets

    def hide_the_rest(workbook: Workbook) -> None:
        hidden = workbook[STAFF_SHEET].column_dimensions["R"]
        hidden.min, hidden.max, hidden.hidden = 18, 16384, True  # as Excel saves "hide every column to the right"

    path = edit_returned(school, HR, hide_the_rest)
    assert max(_scan_structure(path)[STAFF_SHEET][1]) == 16384  # the scan sees the whole hidden range
    [staff] = [sheet for sheet in read_sheets(path) if sheet.name == STAFF_SHEET]
    assert staff.hidden_columns == frozenset() and len(staff.columns) < 18  # none of it holds a cell of the sheet
    looked: list[int] = []
    real_value = returned_file._value
    monkeypatch.setattr(returned_file, "_value", lambda sheet, row, column: looked.append(column) or real_value(sheet, row, column))
    report = validate([path], root=school, feedback_dir=tmp_path / "fb")
    assert not [f for f in report.findings if f.rule_id == "structure.hidden_data"]
    assert not looked  # not 16,367 empty columns for every row


def _link_externally(path: Path, sheet_xml: str, cell: str, cached: str, target: Path) -> None:
    """Make ``cell`` a formula reading an external workbook, saved with ``cached`` as its value (as Excel does)."""
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts[sheet_xml].decode("utf-8")
    start = sheet.index(f'<c r="{cell}"')
    end = sheet.index("</c>", start) + len("</c>")
    sheet = sheet[:start] + f'<c r="{cell}" t="str"><f>[1]Sheet1!A1</f><v>{cached}</v></c>' + sheet[end:]
    parts[sheet_xml] = sheet.encode("utf-8")
    book = parts["xl/workbook.xml"].decode("utf-8")
    parts["xl/workbook.xml"] = book.replace("</sheets>", '</sheets><externalReferences><externalReference r:id="rIdExt1"/>'
                                                          "</externalReferences>").encode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", (
        f'<Relationship Id="rIdExt1" Type="{relationships}/externalLink" Target="externalLinks/externalLink1.xml"/>'
        "</Relationships>")).encode("utf-8")
    parts["xl/externalLinks/externalLink1.xml"] = (
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{relationships}"><externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        '<sheetDataSet><sheetData sheetId="0"/></sheetDataSet></externalBook></externalLink>').encode("utf-8")
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{relationships}/externalLinkPath" Target="{target.as_uri()}" TargetMode="External"/>'
        "</Relationships>").encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    parts["[Content_Types].xml"] = types.replace("</Types>", (
        '<Override PartName="/xl/externalLinks/externalLink1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target_zip:
        for name, data in parts.items():
            target_zip.writestr(name, data)


def test_external_links_are_never_followed(school: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "别处.xlsx"
    other = Workbook()
    other.active.title = "Sheet1"
    other.active["A1"] = "外部文件中的值"
    other.save(elsewhere)
    path = school / "回收" / HR
    workbook = load_workbook(path, read_only=True)
    headers = [cell.value for cell in next(workbook[STAFF_SHEET].iter_rows(max_row=1))]
    sheet_xml = f"xl/worksheets/sheet{workbook.sheetnames.index(STAFF_SHEET) + 1}.xml"  # openpyxl's naming
    workbook.close()
    _link_externally(path, sheet_xml, f"{chr(65 + headers.index('姓名'))}2", "保存时的值", elsewhere)
    report = validate([path], root=school, write_feedback=False)
    staff = next(table for table in report.files[0].tables if table.sheet == STAFF_SHEET)
    assert staff.columns["姓名"][0] == "保存时的值"  # the value saved in the file, not the linked file's
    assert not [f for f in report.findings if f.rule_id.startswith(("file.", "structure.formula"))
                and f.severity is Severity.ERROR]


def test_files_are_reported_in_the_order_given_whatever_order_they_are_read(school: Path) -> None:
    inputs = sorted((school / "回收").glob("*.xlsx"))
    sizes = [path.stat().st_size for path in inputs]
    assert sizes != sorted(sizes, reverse=True)  # the largest are read first, so reading order differs
    seen: list[str] = []
    report = validate([], root=school, write_feedback=False, progress=seen.append)
    assert [file.path for file in report.files] == inputs
    assert seen[0] == f"读取 {len(inputs)} 个文件" and sorted(seen[1:]) == sorted(path.name for path in inputs)


def test_a_renamed_column_is_read_once_as_its_template_column(school: Path, tmp_path: Path) -> None:
    def rename(workbook: Workbook) -> None:
        sheet = workbook[STAFF_SHEET]
        header = [cell.value for cell in sheet[1]].index("姓名") + 1
        sheet.cell(1, header).value = "教师姓名"

    path = edit_returned(school, HR, rename)
    report = validate([path], root=school, write_feedback=False)
    staff = next(table for table in report.files[0].tables if table.sheet == STAFF_SHEET)
    assert "structure.column_renamed" in rules(report)
    assert staff.columns["姓名"] and staff.extra_columns == {}
    assert "structure.extra_column" not in rules(report)


def test_files_of_the_same_name_keep_their_own_findings(school: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "甲" / HR, tmp_path / "乙" / HR
    for target in (first, second):
        target.parent.mkdir()
        shutil.copy(school / "回收" / HR, target)

    def repeat_staff_number(workbook: Workbook) -> None:
        sheet = workbook[STAFF_SHEET]
        sheet["A3"] = sheet["A2"].value

    workbook = load_workbook(first)
    repeat_staff_number(workbook)
    workbook.save(first)
    report = validate([first, second], root=school, write_feedback=False)
    duplicates = [[f.location.row for f in file.findings if f.rule_id == "JZGJBXX.staff_no_unique"] for file in report.files]
    assert duplicates == [[3], []]


def test_trailing_blank_rows_are_ignored(school: Path) -> None:
    def pad(workbook: Workbook) -> None:
        sheet = workbook[STAFF_SHEET]
        last = sheet.max_row
        for row in range(last + 1, last + 21):
            sheet.cell(row, 1).value = " " if row % 2 else "\u3000"  # blank to the eye, kept by Excel
            sheet.cell(row, 2).number_format = "@"
        sheet.cell(last + 21, 3).value = "\t"

    before = validate([school / "回收" / HR], root=school, write_feedback=False)
    path = edit_returned(school, HR, pad)
    after = validate([path], root=school, write_feedback=False)
    rows = lambda report: [len(table.row_numbers) for table in report.files[0].tables]  # noqa: E731
    assert rows(after) == rows(before)
    assert after.exit_code == 0 and rules(after) == rules(before)


def test_without_defusedxml_nothing_is_read(school: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "defusedxml.ElementTree", None)
    with pytest.raises(UserError, match="defusedxml"):
        validate([], root=school, feedback_dir=school / "fb")
    assert not (school / "fb").exists()


def test_references_resolve_against_the_merged_master(school: Path) -> None:
    from statecollect.merge import merge

    validate([], root=school, write_feedback=False)
    merge(school)
    teaching = school / "回收" / workbook_name(2020, "教务处")
    alone = validate([teaching], root=school, write_feedback=False)
    assert not [f for f in alone.findings if f.rule_id.endswith("_exists")]  # the units come from the master

    def foreign_unit(workbook: Workbook) -> None:
        sheet = next(sheet for sheet in workbook.worksheets if sheet.title.startswith("1-4-1 "))
        column = [cell.value for cell in sheet[1]].index("所属单位号") + 1
        sheet.cell(2, column).value = "0999"

    edit_returned(school, workbook_name(2020, "教务处"), foreign_unit)
    report = validate([teaching], root=school, write_feedback=False)
    wrong = [f for f in report.findings if f.rule_id == "ZYJBQK.owning_unit_exists"]
    assert [(f.location.row, f.location.column, f.value) for f in wrong] == [(2, "所属单位号", "0999")]


def test_feedback_copies_are_written_with_the_cycle_collector_on(school: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from statecollect import feedback

    seen: list[bool] = []
    real_save = feedback.save_atomically
    monkeypatch.setattr(feedback, "save_atomically", lambda workbook, path: seen.append(gc.isenabled()) or real_save(workbook, path))
    gc.disable()  # as the command line does for validate
    try:
        validate([], root=school, feedback_dir=tmp_path / "反馈")
        left_on = gc.isenabled()
    finally:
        gc.enable()
    assert seen and all(seen)  # openpyxl's workbooks are cyclic: each copy can be freed
    assert not left_on


def test_row_numbers_are_excel_rows_below_a_moved_header_and_in_the_copy(school: Path, tmp_path: Path) -> None:
    units_sheet = "1-3 学校教学科研单位"

    def move_header_and_blank_a_name(workbook: Workbook) -> None:
        sheet = workbook[units_sheet]
        sheet.insert_rows(1, amount=2)
        sheet["A1"] = "填表说明：本表由人事处填写"
        sheet["A5"] = None  # the second data row, Excel row 5 now

    path = edit_returned(school, HR, move_header_and_blank_a_name)
    report = validate([path], root=school, feedback_dir=tmp_path / "fb")
    [blank] = [f for f in report.findings if f.rule_id == "cell.required" and f.location.sheet == units_sheet]
    assert (blank.location.row, blank.location.cell, blank.location.column) == (5, "A5", "教学科研单位名称")
    copy = load_workbook(report.files[0].feedback)
    # the copy is the template again, header in row 1: the same record is its row 3
    marked = copy[units_sheet]["A3"]
    assert marked.comment is not None and "必填" in marked.comment.text
    assert copy[units_sheet]["B3"].value == load_workbook(path)[units_sheet]["B5"].value


def test_form_tables_report_the_line_of_each_field(school: Path, tmp_path: Path) -> None:
    office = workbook_name(2020, "党政办")
    lines: dict[str, int] = {}

    def break_two_lines(workbook: Workbook) -> None:
        sheet = workbook["1-1 学校概况"]
        lines.update({row[0].value: row[0].row for row in sheet.iter_rows() if row[0].value})
        sheet.cell(lines["开办本科教育年份"], 2).value = "一九九八年"
        sheet.cell(lines["联系电子邮箱"], 2).value = "office.example.edu.cn"

    path = edit_returned(school, office, break_two_lines)
    report = validate([path], root=school, write_feedback=False)
    found = {f.location.column: (f.rule_id, f.location.row, f.location.cell) for f in report.findings
             if f.location.sheet == "1-1 学校概况"}
    year_line, mail_line = lines["开办本科教育年份"], lines["联系电子邮箱"]
    assert found["开办本科教育年份"] == ("cell.bad_year", year_line, f"B{year_line}")
    assert found["联系电子邮箱"] == ("cell.bad_format", mail_line, f"B{mail_line}")


def test_the_list_of_problems_in_a_copy_holds_every_finding_with_a_link(demo_dir: Path, tmp_path: Path) -> None:
    report = validate([demo_dir / "回收" / HR], root=demo_dir, feedback_dir=tmp_path / "fb")
    [file] = report.files
    listing = load_workbook(file.feedback)["错误清单"]
    rows = [[cell.value for cell in row] for row in listing.iter_rows(min_row=5) if any(cell.value for cell in row)]
    assert len(rows) == len(file.findings) > 5
    assert sorted((row[7], str(row[5])) for row in rows) == sorted((f.rule_id, f.message) for f in file.findings)
    linked = [row[3] for row in listing.iter_rows(min_row=5) if row[3].hyperlink]
    assert len(linked) == sum(1 for f in file.findings if f.location.cell)
    assert rows[0][:4] == [1, "错误", "1-5-1", f"{STAFF_SHEET}!L5"]


def test_a_folder_that_cannot_be_opened_is_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "回收"
    folder.mkdir()

    def refused(self: Path) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "iterdir", refused)
    with pytest.raises(UserError, match="无法打开文件夹"):
        validate([folder], year=2020, write_feedback=False)


def test_a_finding_is_marked_in_its_own_part_of_a_table_number(school: Path, tmp_path: Path) -> None:
    office = workbook_name(2020, "党政办")
    lines: dict[str, int] = {}

    def break_the_address(workbook: Workbook) -> None:
        assert any(name.startswith("1-1（续）") for name in workbook.sheetnames)  # 1-1 has two parts here
        sheet = workbook["1-1 学校概况"]
        lines.update({row[0].value: row[0].row for row in sheet.iter_rows() if row[0].value})
        sheet.cell(lines["学校网址"], 2).value = "学校主页"

    path = edit_returned(school, office, break_the_address)
    report = validate([path], root=school, feedback_dir=tmp_path / "fb")
    copy = load_workbook(report.files[0].feedback)
    marked = copy["1-1 学校概况"][f"B{lines['学校网址']}"]
    assert marked.comment is not None and "学校网址" in marked.comment.text
    listing = [row[3].hyperlink.location for row in copy["错误清单"].iter_rows(min_row=5) if row[3].hyperlink]
    assert f"'1-1 学校概况'!B{lines['学校网址']}" in listing


def test_a_file_changed_while_it_is_checked_is_not_entered_into_the_ledger(school: Path) -> None:
    import os

    from statecollect.ledger import Ledger

    path = school / "回收" / LIBRARY
    recorded = len(Ledger(school).submissions())

    def edit_while_checking(item: str) -> None:
        if item == path.name:  # read by now; the department saves the file again before the results are kept
            status = path.stat()
            os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))

    report = validate([path], root=school, write_feedback=False, progress=edit_while_checking)
    [changed] = [finding for finding in report.findings if finding.rule_id == "file.changed"]
    assert changed.severity is Severity.ERROR and changed.location.file == path.name and report.exit_code == 1
    assert len(Ledger(school).submissions()) == recorded
    assert validate([path], root=school, write_feedback=False).exit_code == 0  # checked again, it is kept
    assert len(Ledger(school).submissions()) == recorded + 1
