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
