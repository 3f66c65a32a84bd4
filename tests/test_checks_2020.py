"""Every declarative check of schemas/2020 is shown to pass on sound data and to fail on broken data.

The sound data is a synthetic school; the broken data changes as little as possible: one
key duplicated, one reference broken, one value pushed out of its window, or — for
relations and table-wide comparisons — the first single-value change found that makes the
rule false. The engine must then report exactly that check.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import yaml

from statecollect.catalogue import load_catalogue
from statecollect.checks import CheckedTable, Engine, GridLocator
from statecollect.expressions import EvalContext, compile_expression, field_refs, parse
from statecollect.findings import Location
from statecollect.schema import (
    AggregateCheck,
    CodeListCheck,
    DateWindowCheck,
    ExclusionCheck,
    FieldType,
    ReferenceCheck,
    RelationCheck,
    Table,
    UniqueCheck,
)
from statecollect.stat_times import StatisticTimes
from statecollect.synthetic import Scale, synthesize

CATALOGUE = load_catalogue()
TIMES = StatisticTimes.for_year(2020)
ENGINE = Engine(CATALOGUE, TIMES)
CHECKS = [(table, check) for table in CATALOGUE.tables for check in table.checks]
SCALE = Scale(colleges=4, majors=10, staff=60, external=12, students=160, labs=8, courses=60, list_rows=8)

School = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def school() -> School:
    return synthesize(CATALOGUE, TIMES, scale=SCALE, seed=5, school="校验学院", school_type="综合院校",
                      table_ids=[table.id for table in CATALOGUE.tables], engine=ENGINE)


def fired(data: School, table: Table, check: Any) -> list[int | None]:
    rows = data.get(table.id, [])
    checked = CheckedTable.from_rows(table, rows, GridLocator(Location(), range(len(rows)), {}))
    return [finding.location.row for finding in ENGINE.run_check(check, checked, data)]


def holds(data: School, table: Table, check: Any) -> School:
    """The school where ``check`` holds: what it flags on sound data is left out (plausibility warnings can)."""
    flagged = fired(data, table, check)
    if not flagged:
        return data
    if None not in flagged:
        return {**data, table.id: [row for index, row in enumerate(data[table.id]) if index not in flagged]}
    for sound in table_wide_fixes(data, table, check):
        if not fired(sound, table, check):
            return sound
    return data


def table_wide_fixes(data: School, table: Table, check: Any) -> Iterator[School]:
    """Ways to satisfy a table-wide rule: one record only, smaller numbers, or no rows in the other table."""
    yield {**data, table.id: data[table.id][:1]}
    shrunk = copy.deepcopy(data)
    for _ in range(6):
        for row in shrunk[table.id]:
            for header, value in row.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    row[header] = type(value)(value // 10 if isinstance(value, int) else value / 10)
        yield shrunk
    for ref in field_refs(parse(check.assert_)):
        if ref.table and ref.table != table.id:
            yield {**data, ref.table: []}


def applies(check: Any, table: Table, row: dict[str, Any], data: School) -> bool:
    if not check.when:
        return True
    context = EvalContext(row=row, tables=data, stats=TIMES.variables())
    return compile_expression(check.when, table.id)(context) is True


# --------------------------------------------------------------------------- breaking things


def candidates(table: Table, header: str, current: Any) -> Iterator[Any]:
    field = table.field(header)
    kind = field.type if field else FieldType.TEXT
    if kind in {FieldType.INTEGER, FieldType.DECIMAL}:
        base = current if isinstance(current, int | float) else 10
        yield from (0, base + 1, base * 3 + 7, base - 1, 10**7, 1, -1, 0.5)
    elif kind is FieldType.YEAR:
        yield from (1900, 2100, TIMES.year, TIMES.year - 1, TIMES.year + 1)
    elif kind in {FieldType.YEAR_MONTH, FieldType.DATE}:
        yield from (date(1900, 1, 1), date(2100, 1, 1), TIMES.snapshot, TIMES.academic_start)
    elif kind is FieldType.CODE and field and field.code_list:
        yield from CATALOGUE.code_list(field.code_list).labels()
    elif kind is FieldType.YES_NO:
        yield from ("是", "否")
    yield None
    yield "无"
    yield "不限定专业"
    yield "X"


def changes(table: Table, check: Any, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Candidate edits of one record: one field at a time, then copying one field into another, then blanking all."""
    headers = list(dict.fromkeys(ref.header for ref in field_refs(parse(check.assert_)) if ref.table is None))
    headers += [ref.header for ref in field_refs(parse(check.when)) if ref.table is None] if check.when else []
    headers = list(dict.fromkeys(headers))
    for header in headers:
        for value in candidates(table, header, row.get(header)):
            yield {header: value}
    for target in headers:
        for source in headers:
            if source != target:
                yield {target: row.get(source)}
    yield {header: None for header in headers}


def break_relation(data: School, table: Table, check: Any) -> School | None:
    rows = data.get(table.id, [])
    for index in range(min(len(rows), 3)):
        for change in changes(table, check, rows[index]):
            broken = {**data, table.id: [dict(row) for row in rows]}
            broken[table.id][index].update(change)
            if fired(broken, table, check):
                return broken
    return None


def break_aggregate(data: School, table: Table, check: AggregateCheck, original: School) -> School | None:
    attempt = break_relation(data, table, check)
    if attempt is not None:
        return attempt
    for rows in (data[table.id] * 3, data[table.id][:0]):
        broken = {**data, table.id: [dict(row) for row in rows]}
        if fired(broken, table, check):
            return broken
    for ref in field_refs(parse(check.assert_)):
        if ref.table and not data.get(ref.table) and original.get(ref.table):
            broken = {**data, ref.table: original[ref.table]}
            if fired(broken, table, check):
                return broken
    for ref in field_refs(parse(check.assert_)):
        target = ref.table or table.id
        for change in (lambda v: v * 1000, lambda v: 0, lambda v: v + 10**6):
            broken = copy.deepcopy(data)
            for row in broken.get(target, []):
                if isinstance(row.get(ref.header), int | float):
                    row[ref.header] = change(row[ref.header])
            if fired(broken, table, check):
                return broken
        for rows in ([], data.get(target, [])[:1] * 50):
            broken = {**data, target: [dict(row) for row in rows]}
            if fired(broken, table, check):
                return broken
    return None


def row_where_it_applies(data: School, table: Table, check: Any) -> int | None:
    for index, row in enumerate(data.get(table.id, [])):
        if applies(check, table, row, data) and all(row.get(name) not in (None, "") for name in getattr(check, "fields", ())[:1]):
            return index
    return None


def break_conditional_unique(data: School, table: Table, check: UniqueCheck) -> School | None:
    """A key that must be unique only under a condition: make the condition hold, then repeat the record."""
    rows = data.get(table.id, [])
    if not rows or not check.when:
        return None
    for change in changes(table, RelationCheck(kind="relation", id=check.id, message="", hint="", assert_=check.when),
                          rows[0]):
        record = {**rows[0], **change}
        broken = {**data, table.id: [*rows, record, dict(record)]}
        if fired(broken, table, check):
            return broken
    return None


def break_check(data: School, table: Table, check: Any, original: School) -> School | None:
    rows = data.get(table.id, [])
    broken = {**data, table.id: [dict(row) for row in rows]}
    index = row_where_it_applies(data, table, check)
    if isinstance(check, UniqueCheck):
        if index is None:
            return break_conditional_unique(data, table, check)
        broken[table.id].append(dict(rows[index]))
        return broken
    if isinstance(check, ReferenceCheck):
        if index is None:
            return None
        broken[table.id][index][check.fields[0]] = "不存在的键值"
        return broken
    if isinstance(check, ExclusionCheck):
        other = data.get(check.others[0].table, [])
        if index is None or not other:
            return None
        for own, theirs in zip(check.fields, check.others[0].fields, strict=True):
            broken[table.id][index][own] = other[0].get(theirs)
        return broken
    if isinstance(check, CodeListCheck):
        if index is None:
            index = 0
        broken[table.id][index][check.code_field] = "999999"
        return broken
    if isinstance(check, DateWindowCheck):
        if index is None:
            return None
        field = table.field(check.field)
        early = check.not_before is not None or check.after is not None
        if field is not None and field.type is FieldType.YEAR:
            value: Any = 1800 if early else 2200
        else:
            value = date(1800, 1, 1) if early else date(2200, 1, 1)
        broken[table.id][index][check.field] = value
        return broken
    if isinstance(check, RelationCheck):
        return break_relation(data, table, check)
    return break_aggregate(data, table, check, original)


@pytest.mark.parametrize(("table", "check"), CHECKS, ids=[check.id for _, check in CHECKS])
def test_check_passes_and_fails(school: School, table: Table, check: Any) -> None:
    sound = holds(school, table, check)
    assert fired(sound, table, check) == [], "fires on sound data"
    broken = break_check(sound, table, check, school)
    assert broken is not None, "no single change breaks it"
    assert fired(broken, table, check), "broken data not reported"


def test_every_check_is_exercised() -> None:
    declared = sum(len(yaml.safe_load(path.read_text(encoding="utf-8")).get("checks") or [])
                   for path in (CATALOGUE.directory / "tables").glob("*.yaml"))
    assert len(CHECKS) == declared > 300  # every check written in the schema files gets a case above
