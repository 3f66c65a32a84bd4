"""The engine's own rules beyond the schema's checks: empty tables, cascades, batches of several files."""

from __future__ import annotations

from statecollect.catalogue import load_catalogue
from statecollect.checks import Engine, GridLocator, TableInput
from statecollect.findings import Location
from statecollect.stat_times import StatisticTimes

CATALOGUE = load_catalogue()
ENGINE = Engine(CATALOGUE, StatisticTimes.for_year(2020))


def typed(table_id: str, rows: list[dict], file: str = "a.xlsx"):
    table = CATALOGUE.table_by_id(table_id)
    letters = {field.header: chr(65 + index) for index, field in enumerate(table.template_fields)}
    locator = GridLocator(Location(file=file, table=table.number), [index + 2 for index in range(len(rows))], letters)
    return ENGINE.type_table(TableInput.from_records(table, rows, locator))


def test_a_required_table_left_empty() -> None:
    [finding] = typed("XXJXKYDW", []).findings
    assert finding.rule_id == "table.empty" and "没有数据" in finding.message
    assert typed("GCCRC", []).findings == []  # the platform accepts this table empty


def test_a_city_must_lie_in_its_province() -> None:
    rows = [{"校区名称": "主校区", "省份": "河北省", "市区": "保定", "详细地址": "某路 1 号"},
            {"校区名称": "东校区", "省份": "上海", "市区": "保定", "详细地址": "某路 2 号"}]
    findings = [f for f in ENGINE.run_checks([typed("XQDZ", rows)]) if f.rule_id == "cell.not_under_parent"]
    assert [(f.location.cell, f.message) for f in findings] == [("C3", "“市区”的“保定”不属于“省份”“上海”")]


def test_the_same_table_from_two_files_is_checked_per_file_and_referenced_as_one() -> None:
    units_a = typed("XXJXKYDW", [{"教学科研单位名称": "音乐学院", "单位号": "0201", "单位职能": "教学院系", "单位负责人": "甲"}])
    units_b = typed("XXJXKYDW", [{"教学科研单位名称": "美术学院", "单位号": "0202", "单位职能": "教学院系", "单位负责人": "乙"}],
                    file="b.xlsx")
    findings = ENGINE.run_checks([units_a, units_b])
    assert not [f for f in findings if f.rule_id == "XXJXKYDW.unit_no_unique"]
    labs = typed("BKSYCS", [{"实验场所代码": "SY01", "实验场所名称": "录音棚", "所属单位名称": "美术学院", "所属单位号": "0202",
                             "性质": "基础实验室", "共建情况": "否", "使用面积（平方米）": 80}])
    assert not [f for f in ENGINE.run_checks([units_a, units_b, labs]) if f.rule_id.startswith("BKSYCS.") and "unit" in f.rule_id]


def test_keys_and_references_are_checked_from_columns_without_making_records() -> None:
    units = typed("XXJXKYDW", [{"教学科研单位名称": f"学院{n}", "单位号": f"02{n:02d}", "单位职能": "教学院系", "单位负责人": "甲"}
                               for n in range(50)] +
                  [{"教学科研单位名称": "重复学院", "单位号": "0201", "单位职能": "教学院系", "单位负责人": "乙"}])
    labs = typed("BKSYCS", [{"实验场所代码": "SY01", "实验场所名称": "录音棚", "所属单位名称": "无名学院", "所属单位号": "0999",
                             "性质": "基础实验室", "共建情况": "否", "使用面积（平方米）": 80}])
    findings = ENGINE.run_checks([units, labs])
    assert [f.location.row for f in findings if f.rule_id == "XXJXKYDW.unit_no_unique"] == [52]
    assert any(f.rule_id.startswith("BKSYCS.") and f.value and "0999" in f.value for f in findings)
    assert units._rows is None  # its keys came from the columns: no record mapping was made for it


def test_records_and_rows_agree() -> None:
    checked = typed("XXJXKYDW", [{"教学科研单位名称": "音乐学院", "单位号": "0201", "单位职能": "教学院系", "单位负责人": "甲"},
                                 {"教学科研单位名称": "美术学院", "单位号": "0202", "单位职能": "教学院系", "单位负责人": "乙"}])
    walked = list(checked.records())
    assert checked._rows is None and checked.record(1) == walked[1]
    assert checked.rows == walked and checked.record(1) is checked.rows[1]


def test_keys_are_shown_as_their_texts() -> None:
    units = typed("XXJXKYDW", [{"教学科研单位名称": "音乐学院", "单位号": "0201", "单位职能": "教学院系", "单位负责人": "甲"},
                               {"教学科研单位名称": "美术学院", "单位号": "0201", "单位职能": "教学院系", "单位负责人": "乙"}])
    labs = typed("BKSYCS", [{"实验场所代码": "SY01", "实验场所名称": "录音棚", "所属单位名称": "音乐学院", "所属单位号": "0999",
                             "性质": "基础实验室", "共建情况": "否", "使用面积（平方米）": 80}])
    findings = ENGINE.run_checks([units, labs])
    assert [f.value for f in findings if f.rule_id == "XXJXKYDW.unit_no_unique"] == ["0201"]
    assert [f.value for f in findings if f.rule_id.startswith("BKSYCS.")] == ["0999、音乐学院"]  # two fields: both, joined


def test_a_column_that_types_to_itself_is_kept_not_copied() -> None:
    rows = [{"教学科研单位名称": "音乐学院", "单位号": f"02{n:02d}", "单位职能": "教学院系", "单位负责人": "甲"} for n in range(6)]
    rows[0]["单位负责人"] = " 乙"  # normalised: that column is typed afresh
    table = CATALOGUE.table_by_id("XXJXKYDW")
    letters = {field.header: chr(65 + index) for index, field in enumerate(table.template_fields)}
    data = TableInput.from_records(table, rows, GridLocator(Location(file="a.xlsx"), range(2, 8), letters))
    checked = ENGINE.type_table(data)
    assert checked.columns["单位职能"] is data.columns["单位职能"]
    assert checked.columns["单位号"] is data.columns["单位号"]
    assert checked.columns["单位负责人"] is not data.columns["单位负责人"]
    assert checked.columns["单位负责人"][0] == "乙" and data.columns["单位负责人"][0] == " 乙"  # what was returned stays


def _lab(code: str, unit_no: str, unit_name: str) -> dict:
    return {"实验场所代码": code, "实验场所名称": "实验室", "所属单位名称": unit_name, "所属单位号": unit_no,
            "性质": "基础实验室", "共建情况": "否", "使用面积（平方米）": 80}


def _unit_pairs_not_found(findings: list) -> list[str]:
    return [f.value for f in findings if f.rule_id.startswith("BKSYCS.") and "找不到" in f.message]


def test_a_key_of_two_fields_is_found_whichever_row_of_a_repeated_first_field_holds_it() -> None:
    units = typed("XXJXKYDW", [{"教学科研单位名称": name, "单位号": number, "单位职能": "教学院系", "单位负责人": "甲"}
                               for number, name in [("0201", "音乐学院"), ("0201", "美术学院"), ("0201", "音乐学院"),
                                                    ("0204", ""), ("", "体育学院")]])
    labs = typed("BKSYCS", [_lab("SY01", "0201", "音乐学院"), _lab("SY02", "0201", "美术学院"), _lab("SY03", "0201", "体育学院"),
                            _lab("SY04", "0204", "舞蹈学院"), _lab("SY05", "0205", "音乐学院")])
    # a target row with a blank part is no key: neither (0204, 舞蹈学院) nor (“”, 体育学院) makes one
    assert _unit_pairs_not_found(ENGINE.run_checks([units, labs])) == ["0201、体育学院", "0204、舞蹈学院", "0205、音乐学院"]


def test_keys_of_two_fields_keep_no_blank_parts_and_gather_the_rests_of_a_repeated_first() -> None:
    from statecollect.checks import _Several, _SeveralFieldKeys

    firsts = ["", "", "", "A1", "A1", "A1", "B2", "C3"]
    rests = ["张三", "李四", "王五", "甲", "乙", "甲", "", "丙"]
    keys = _SeveralFieldKeys([[firsts, rests]], known=[("D4", "丁"), ("", "戊")])
    assert len(keys) == 3  # A1, C3, D4: rows with a blank part are no keys, and cost nothing to keep
    assert keys._rest["A1"] == _Several({"甲", "乙"}) and type(keys._rest["A1"]) is _Several
    assert ("A1", "乙") in keys and ("C3", "丙") in keys and ("D4", "丁") in keys
    assert ("", "张三") not in keys and ("B2", "") not in keys and ("A1", "丙") not in keys


def test_a_key_of_two_fields_is_found_among_already_collected_rows() -> None:
    known = {"XXJXKYDW": [{"教学科研单位名称": "音乐学院", "单位号": "0201"}, {"教学科研单位名称": "美术学院", "单位号": "0201"}]}
    labs = typed("BKSYCS", [_lab("SY01", "0201", "美术学院"), _lab("SY02", "0202", "音乐学院")])
    assert _unit_pairs_not_found(ENGINE.run_checks([labs], known=known)) == ["0202、音乐学院"]


def test_numbers_judged_together_give_what_parsing_each_gives() -> None:
    import random

    from statecollect.cells import build_parser
    from statecollect.schema import Field, FieldType

    bounded = Field(key="XS", header="学时", type=FieldType.DECIMAL, min=0, max=1000)
    rng = random.Random(4)
    for _ in range(200):
        numbers = {rng.choice([rng.uniform(-5, 1005), float(rng.randint(0, 1000)), 0.0, 1000.0]) for _ in range(rng.randint(1, 6))}
        parser = build_parser(bounded)
        assert parser.plain_numbers is not None
        assert parser.plain_numbers(numbers) == all(not parser(number).issues for number in numbers)


def test_a_number_column_is_still_checked_cell_by_cell_where_needed() -> None:
    def hours_rules(values: tuple[object, ...]) -> list[tuple[str, int | None]]:
        checked = typed("KKQK", [{"学时": value} for value in values])
        return [(f.rule_id, f.location.row) for f in checked.findings if f.location.column == "学时"]

    assert hours_rules((32.0, 48.0, 32.0)) == []
    assert hours_rules((32.0, -4.0, 48.0)) == [("cell.below_min", 3)]  # numbers only, judged as a set: one is out
    assert hours_rules((32.0, "", "三十", -4.0)) == [("cell.required", 3), ("cell.not_a_number", 4), ("cell.below_min", 5)]


def test_a_false_among_zeros_is_the_only_cell_reported() -> None:
    for values in ((False, 0.0, 0.0, 0.0), (0.0, 0.0, False, 0.0), (True, 1.0, 1.0)):
        checked = typed("BKSYCS", [{"使用面积（平方米）": value} for value in values])
        found = [(f.rule_id, f.location.row) for f in checked.findings if f.location.column == "使用面积（平方米）"]
        place = next(index for index, value in enumerate(values) if isinstance(value, bool))
        assert found == [("cell.not_a_number", place + 2)], values
        assert [type(value) for value in checked.columns["使用面积（平方米）"]].count(float) == len(values) - 1


def test_a_file_checked_alone_shares_the_other_tables_joined_rows() -> None:
    # the run's lookup cache answers only for the very rows it indexed: a table delivered in
    # several files must be joined once per run, not once per file that looks into it
    from statecollect.checks import _BatchTables

    units = [typed("XXJXKYDW", [{"单位名称": f"学院{n}", "单位号": f"0{n}"}], file=f"{n}.xlsx") for n in (1, 2)]
    majors = [typed("ZYJBQK", [], file=f"z{n}.xlsx") for n in (1, 2)]
    tables = _BatchTables({}, {"XXJXKYDW": units, "ZYJBQK": majors})
    alone = tables.alone(majors[0])
    assert alone["XXJXKYDW"] is tables["XXJXKYDW"] and len(alone["XXJXKYDW"]) == 2
    assert alone.parts("ZYJBQK") == [majors[0]]


def test_rows_without_their_key_repeat_nothing_and_a_real_repeat_is_still_found() -> None:
    unit = {"教学科研单位名称": "音乐学院", "单位职能": "教学院系", "单位负责人": "甲"}
    keyless = typed("XXJXKYDW", [{**unit, "单位号": ""}, {**unit, "单位号": ""}, {**unit, "单位号": "0201"}])
    assert not [f for f in ENGINE.run_checks([keyless]) if f.rule_id == "XXJXKYDW.unit_no_unique"]
    repeated = typed("XXJXKYDW", [{**unit, "单位号": ""}, {**unit, "单位号": ""}, {**unit, "单位号": "0201"},
                                  {**unit, "单位号": "0201"}])
    [finding] = [f for f in ENGINE.run_checks([repeated]) if f.rule_id == "XXJXKYDW.unit_no_unique"]
    assert finding.location.row == 5
