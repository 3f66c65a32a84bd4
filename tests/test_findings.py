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
