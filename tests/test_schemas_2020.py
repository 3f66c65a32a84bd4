"""The shipped 2020 schema set: complete, consistent and faithful to the reference."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from conftest import REFERENCE, SCHEMAS_2020
from statecollect.catalogue import Catalogue, load_catalogue
from statecollect.schema_loader import check_schema_dir

BASE_2020 = {"1-2", "1-3", "1-4-1", "1-5-1", "1-5-3", "1-6", "1-7-1"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(directory=SCHEMAS_2020)


@pytest.fixture(scope="module")
def reference() -> dict:
    path = REFERENCE / "platform-catalog-2019.json"
    if not path.is_file():
        pytest.skip("reference catalogue ../shared/reference is not beside this checkout")
    return json.loads(path.read_text(encoding="utf-8"))


def test_schema_check_passes() -> None:
    report = check_schema_dir(SCHEMAS_2020)
    assert [p.location.describe() + " " + p.message for p in report.problems] == []


def test_size_and_shape(catalogue: Catalogue) -> None:
    assert len(catalogue.schema_set.categories) == 8
    assert {table.category for table in catalogue.tables} == set(range(1, 9))
    assert len(catalogue.tables) >= 100
    assert sum(len(table.fields) for table in catalogue.tables) >= 900
    assert {table.number for table in catalogue.base_tables} == BASE_2020


def test_every_reference_table_is_present(catalogue: Catalogue, reference: dict) -> None:
    physical = {table.physical for table in catalogue.tables}
    folded = {name for table in catalogue.tables for name in table.folded_from}
    assert {table["physical"] for table in reference["tables"]} == physical | folded


def test_headers_follow_the_import_templates(catalogue: Catalogue, reference: dict) -> None:
    sources = {table["physical"]: table for table in reference["tables"]}
    for table in catalogue.tables:
        parts = [sources[physical] for physical in (table.physical, *table.folded_from)]
        if not all(part.get("import_headers") for part in parts):
            continue
        expected = [header for part in parts for header in part["import_headers"]]
        assert [field.header for field in table.template_fields] == expected, table.id


def test_every_rule_statement_is_accounted_for(catalogue: Catalogue, reference: dict) -> None:
    by_physical = {table["physical"]: table for table in reference["tables"]}
    missing: list[str] = []
    for table in catalogue.tables:
        covered = {source for check in table.checks for source in check.source}
        covered |= {item.source for item in table.unimplemented}
        for physical in (table.physical, *table.folded_from):
            for rule in by_physical[physical]["rules"]:
                if rule["statement"] not in covered and rule["message"] not in covered:
                    missing.append(f"{table.id}: {rule['statement']}")
    assert missing == []
    statements = sum(len(table["rules"]) for table in reference["tables"])
    assert statements >= 300


def test_every_platform_rule_is_a_check_none_left_unimplemented(catalogue: Catalogue) -> None:
    assert [(table.id, item.source) for table in catalogue.tables for item in table.unimplemented] == []


def test_check_ids_are_unique_across_the_set(catalogue: Catalogue) -> None:
    counts = Counter(check.id for table in catalogue.tables for check in table.checks)
    assert [check_id for check_id, count in counts.items() if count > 1] == []


def test_every_field_has_help(catalogue: Catalogue) -> None:
    missing = [f"{table.id}.{field.header}" for table in catalogue.tables for field in table.template_fields
               if not field.help]
    assert missing == []


def test_code_lists_name_their_source() -> None:
    for path in sorted((SCHEMAS_2020 / "codelists").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["source"], path.name


def test_standard_code_lists_are_shipped(catalogue: Catalogue) -> None:
    for list_id in ("MZ", "ZZMM", "SF12", "SHI", "BKZYML_2012", "BKZYML_2020", "XKML_YJXK"):
        assert catalogue.code_list(list_id).values, list_id
    assert len(catalogue.code_list("MZ").values) >= 56
