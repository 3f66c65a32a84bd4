from __future__ import annotations

from pathlib import Path

import pytest

from statecollect.catalogue import Catalogue, TableNotFound, describe_check, load_catalogue


@pytest.fixture
def mini(mini_schema: Path) -> Catalogue:
    return load_catalogue(directory=mini_schema)


@pytest.mark.parametrize("query", ["1-5-1", "表1-5-1", " 表 1-5-1 ", "RY", "TBL_RY", "人员"])
def test_tables_are_found_by_number_id_and_title(mini: Catalogue, query: str) -> None:
    assert mini.table(query).id == "RY"


def test_unknown_table_gets_suggestions(mini: Catalogue) -> None:
    with pytest.raises(TableNotFound) as caught:
        mini.table("人")
    assert caught.value.suggestions == ["表1-5-1 人员"]


def test_listing_counts(mini: Catalogue) -> None:
    listing = mini.listing()
    assert (listing["table_count"], listing["field_count"], listing["check_count"]) == (2, 8, 3)
    first = listing["categories"][0]
    assert [table["number"] for table in first["tables"]] == ["1-2", "1-5-1"]
    assert first["tables"][0]["base"] is True


def test_checks_in_words(mini: Catalogue) -> None:
    table = mini.table("RY")
    words = [describe_check(check, mini) for check in table.checks]
    assert words == ["单位号 须存在于 表1-2 单位（单位号）", "总数 == 境内 + 境外"]
    info = mini.describe(table)
    assert info["field_list"][1]["choices"] == "男、女"
    assert info["depends_on"] == ["表1-2 单位"]
