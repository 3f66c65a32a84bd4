from __future__ import annotations

from statecollect.findings import Finding, Location, Severity, shorten


def test_locations_read_naturally() -> None:
    assert Location(file="a.xlsx", sheet="1-5-1 教职工基本信息", cell="D12", column="出生年月").describe() == \
        "a.xlsx › 1-5-1 教职工基本信息 › D12（出生年月）"
    assert Location(file="tables/JZGJBXX.yaml", line=12).describe() == "tables/JZGJBXX.yaml:12"
    assert Location(file="a.xlsx", sheet="s", row=7).describe() == "a.xlsx › s › 第 7 行"


def test_findings_carry_only_a_short_value() -> None:
    finding = Finding(Location(), "cell.too_long", Severity.ERROR, "太长", "精简", shorten("长" * 500))
    assert len(finding.value or "") == 60
    assert finding.to_dict()["severity"] == "error"


def test_every_finding_is_written_as_one_flat_mapping_with_the_same_keys() -> None:
    in_a_workbook = Finding(Location(file="a.xlsx", sheet="s", table="1-5-1", department="人事处", row=5, column="性别", cell="C5"),
                            "cell.not_in_code_list", Severity.ERROR, "不在代码表中", "从下拉中选择", "南")
    in_a_schema = Finding(Location(file="tables/RY.yaml", line=12), "schema.unknown_code_list", Severity.ERROR, "m", "h")
    assert in_a_workbook.to_dict() == {
        "file": "a.xlsx", "department": "人事处", "table": "1-5-1", "sheet": "s", "row": 5, "column": "性别", "cell": "C5",
        "line": None, "rule": "cell.not_in_code_list", "severity": "error", "message": "不在代码表中", "hint": "从下拉中选择",
        "value": "南"}
    assert in_a_schema.to_dict().keys() == in_a_workbook.to_dict().keys()
    assert in_a_schema.to_dict()["line"] == 12
