from __future__ import annotations

from collections import Counter

import pytest

from statecollect.catalogue import load_catalogue
from statecollect.checks import Engine, GridLocator, TableInput
from statecollect.findings import Location, Severity
from statecollect.stat_times import StatisticTimes
from statecollect.synthetic import SCALES, synthesize


@pytest.fixture(scope="module")
def school() -> dict:
    catalogue = load_catalogue()
    times = StatisticTimes.for_year(2020)
    data = synthesize(catalogue, times, scale=SCALES["small"], seed=11, school="测试学院", school_type="综合院校",
                      table_ids=[table.id for table in catalogue.tables], engine=Engine(catalogue, times))
    return data


def test_every_table_has_rows(school: dict) -> None:
    catalogue = load_catalogue()
    empty = [table.id for table in catalogue.tables if not school.get(table.id)]
    assert empty == []
    assert len(school["BKSJBQK"]) == SCALES["small"].students
    assert len(school["JZGJBXX"]) == SCALES["small"].staff


def test_clean_school_breaks_no_rule(school: dict) -> None:
    catalogue = load_catalogue()
    engine = Engine(catalogue, StatisticTimes.for_year(2020))
    checked = [engine.type_table(TableInput.from_records(catalogue.table_by_id(table_id), rows,
                                            GridLocator(Location(table=table_id), range(len(rows)), {})))
               for table_id, rows in school.items()]
    findings = [finding for table in checked for finding in table.findings] + engine.run_checks(checked)
    errors = Counter(finding.rule_id for finding in findings if finding.severity is Severity.ERROR)
    assert errors == Counter()


def test_base_keys_are_realistic(school: dict) -> None:
    catalogue = load_catalogue()
    majors = catalogue.code_list("BKZYML_2020")
    pairs = {(entry.code, entry.label) for entry in majors.values}
    assert all((row["专业代码"], row["专业名称"]) in pairs for row in school["ZYJBQK"])
    assert all(row["单位号"].startswith("01") for row in school["XXXGDZDW"])
    assert len({row["工号"] for row in school["JZGJBXX"]}) == len(school["JZGJBXX"])


def test_same_seed_same_school() -> None:
    catalogue = load_catalogue()
    times = StatisticTimes.for_year(2020)
    make = lambda seed: synthesize(catalogue, times, scale=SCALES["small"], seed=seed, school="测试学院",
                                   school_type="艺术院校", table_ids=["JZGJBXX", "KKQK"], engine=Engine(catalogue, times))
    assert make(3) == make(3)
    assert make(3)["JZGJBXX"] != make(4)["JZGJBXX"]


def _school_maker():
    from statecollect.synthetic import _School

    catalogue = load_catalogue()
    times = StatisticTimes.for_year(2020)
    return catalogue, _School(catalogue, times, SCALES["small"], 5, "测试学院", "综合院校", Engine(catalogue, times))


def test_records_are_told_apart_as_the_unique_checks_tell_them() -> None:
    catalogue, maker = _school_maker()
    units = catalogue.table_by_id("XXJXKYDW")
    rows = [{"单位号": "12", "教学科研单位名称": "甲"}, {"单位号": 12.0, "教学科研单位名称": "乙"},
            {"单位号": "", "教学科研单位名称": "丙"}, {"单位号": None, "教学科研单位名称": "丁"}]
    kept = maker.dedupe(units, rows)
    assert [row["教学科研单位名称"] for row in kept] == ["甲", "丙", "丁"]  # 12.0 is the key 12; blanks never clash


def test_a_rescaled_record_is_repaired_only_where_a_condition_holds() -> None:
    catalogue, maker = _school_maker()
    courses = catalogue.table_by_id("KKQK")
    with_book = {"教材使用情况": "使用", "教材类型": "马工程重点教材", "学时": 48}
    without = {"教材使用情况": "无", "教材类型": "马工程重点教材", "学时": 48}
    assert maker.rescaled(courses, with_book)["教材类型"] == "马工程重点教材"  # the rule applies only without a book
    assert maker.rescaled(courses, without)["教材类型"] == "无"
