"""The check engine: every field rule and declarative check of a schema, run lazily.

Tables arrive as raw records with a locator that knows their cells. The engine types
every cell (:mod:`statecollect.cells`), then runs each table's declarative checks through
one registry of check kinds, and collects every failure as a :class:`Finding` — it never
stops at the first. Reference, exclusion and cross-table checks look up the other tables
of the same batch, or tables given as already collected (the merged base tables).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from statecollect.catalogue import Catalogue
from statecollect.cells import FieldParser, Parsed, all_plain, build_parser, format_value
from statecollect.expressions import EvalContext, Evaluator, compile_expression, field_refs, parse
from statecollect.findings import Finding, Location, Severity, shorten
from statecollect.schema import (
    AggregateCheck,
    Check,
    CodeListCheck,
    DateWindowCheck,
    ExclusionCheck,
    FieldType,
    ReferenceCheck,
    RelationCheck,
    Shape,
    Table,
    UniqueCheck,
)
from statecollect.stat_times import StatisticTimes

__all__ = ["CheckedTable", "Engine", "FormLocator", "GridLocator", "Locator", "TableInput", "key_text"]

Record = dict[str, Any]


class Locator(Protocol):
    """Knows where a table's records and cells are, to point findings at them."""

    def cell(self, index: int, header: str) -> Location: ...

    def record(self, index: int) -> Location: ...

    def whole(self) -> Location: ...


@dataclass(frozen=True)
class GridLocator:
    """A list table: one record per row, one field per column."""

    base: Location
    row_numbers: Sequence[int]
    columns: Mapping[str, str]

    def cell(self, index: int, header: str) -> Location:
        row = self.row_numbers[index]
        letter = self.columns.get(header)
        return _with(self.base, row=row, column=header, cell=f"{letter}{row}" if letter else None)

    def record(self, index: int) -> Location:
        return _with(self.base, row=self.row_numbers[index])

    def whole(self) -> Location:
        return self.base


@dataclass(frozen=True)
class FormLocator:
    """A form table laid out one field per line, values in one column."""

    base: Location
    rows: Mapping[str, int]
    value_column: str = "B"

    def cell(self, index: int, header: str) -> Location:
        row = self.rows.get(header)
        return _with(self.base, row=row, column=header, cell=f"{self.value_column}{row}" if row else None)

    def record(self, index: int) -> Location:
        return self.base

    def whole(self) -> Location:
        return self.base


def _with(base: Location, **changes: Any) -> Location:
    return Location(**{**{name: getattr(base, name) for name in base.__slots__}, **changes})


@dataclass
class TableInput:
    """A table as returned: one column of raw values per header, all of the same length."""

    table: Table
    columns: Mapping[str, Sequence[Any]]
    count: int
    locator: Locator

    @classmethod
    def from_records(cls, table: Table, records: Sequence[Mapping[str, Any]], locator: Locator) -> TableInput:
        headers = [field_.header for field_ in table.template_fields]
        return cls(table, {header: [record.get(header) for record in records] for header in headers}, len(records), locator)


@dataclass
class CheckedTable:
    table: Table
    rows: list[Record]
    locator: Locator
    findings: list[Finding] = field(default_factory=list)


def key_text(value: Any) -> str:
    """The text a key is compared by: numbers without ``.0``, dates in ISO form, text stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _key(row: Mapping[str, Any], headers: Sequence[str]) -> tuple[str, ...] | None:
    values = tuple(value if type(value) is str else key_text(value) for value in map(row.get, headers))
    return None if "" in values else values


# --------------------------------------------------------------------------- the engine


class Engine:
    """Checks tables against one schema set and one collection's statistic times."""

    def __init__(self, catalogue: Catalogue, times: StatisticTimes) -> None:
        self.catalogue = catalogue
        lists = catalogue.schema_set.code_lists
        self.code_lists = {list_id: code_list.labels() for list_id, code_list in lists.items()}
        self.code_pairs = {list_id: frozenset((entry.code, entry.label) for entry in code_list.values)
                           for list_id, code_list in lists.items()}
        self.times = times
        self.stats = times.variables()
        self._parsers: dict[str, list[tuple[str, bool, FieldParser]]] = {}
        self.key_cache: dict[tuple[int, str, tuple[str, ...]], frozenset[tuple[str, ...]]] = {}
        self._compiled: dict[str, Evaluator] = {}

    # ------------------------------------------------------------------ cells

    def parsers(self, table: Table) -> list[tuple[str, bool, FieldParser]]:
        if table.id not in self._parsers:
            self._parsers[table.id] = [
                (field_.header, field_.required, build_parser(field_, self.code_lists.get(field_.code_list or "", ())))
                for field_ in table.template_fields
            ]
        return self._parsers[table.id]

    def type_table(self, data: TableInput) -> CheckedTable:
        """Type every cell, reporting missing required values and badly formed ones."""
        checked = CheckedTable(data.table, [], data.locator)
        headers: list[str] = []
        typed: list[list[Any]] = []
        for header, required, parser in self.parsers(data.table):
            column = data.columns.get(header) or [None] * data.count
            headers.append(header)
            typed.append(self.type_column(data, header, required, parser, column, checked.findings))
        checked.rows = [dict(zip(headers, values, strict=True)) for values in zip(*typed, strict=True)] if typed else []
        if not checked.rows and not data.table.may_be_empty:
            checked.findings.append(Finding(data.locator.whole(), "table.empty", Severity.ERROR,
                                    f"{data.table.display_name} 没有数据", "本表平台要求填报，请补充数据"))
        return checked

    def type_column(self, data: TableInput, header: str, required: bool, parser: FieldParser,
                    column: Sequence[Any], findings: list[Finding]) -> list[Any]:
        """Typed values of one column. A column repeats few distinct values, so each is parsed once."""
        distinct = set(column)
        if any(type(value) is bool for value in distinct):
            # True == 1.0 would share one parse: such rare columns go value by value
            results = [parser(value) for value in column]
            bad_indexes = [index for index, result in enumerate(results) if result.issues or (required and result.value is None)]
            for index in bad_indexes:
                self.report_cell(data, index, header, column[index], results[index], required, findings)
            return [result.value for result in results]
        plain: set[Any] = set()
        if parser.plain_text:
            texts = [value for value in distinct if type(value) is str and value]
            if all_plain(texts, parser.max_length):
                plain = set(texts)
        parsed = {value: parser(value) for value in distinct - plain}
        bad = {value for value, result in parsed.items() if result.issues or (required and result.value is None)}
        if bad:
            for index, value in enumerate(column):
                if value in bad:
                    self.report_cell(data, index, header, value, parsed[value], required, findings)
        if not parsed:
            return list(column)  # clean text throughout: the values are already typed
        values = {value: result.value for value, result in parsed.items()}
        return [value if value in plain else values[value] for value in column]

    @staticmethod
    def report_cell(data: TableInput, index: int, header: str, raw: Any, parsed: Parsed, required: bool,
                    findings: list[Finding]) -> None:
        location = data.locator.cell(index, header)
        for issue in parsed.issues:
            findings.append(Finding(location, issue.rule_id, issue.severity, f"“{header}”：{issue.message}", issue.hint,
                                    shorten(raw)))
        if not parsed.issues and required and parsed.value is None:
            findings.append(Finding(location, "cell.required", Severity.ERROR, f"必填项“{header}”为空",
                                    "请填写；确实没有数据时按填写说明处理"))

    # ------------------------------------------------------------------ declarative checks

    def run_checks(self, batch: Sequence[CheckedTable], known: Mapping[str, Sequence[Record]] | None = None) -> list[Finding]:
        """Run every declarative check of every table in ``batch``.

        ``known`` holds already collected tables (typed rows) used for references when a
        table is not part of the batch.
        """
        # row lists stay alive for the whole run, so their ids are safe cache keys until the next run
        self.key_cache = {}
        delivered: dict[str, list[Record]] = {}
        for checked in batch:
            delivered.setdefault(checked.table.id, []).extend(checked.rows)
        tables: dict[str, Sequence[Record]] = {**(known or {}), **delivered}
        findings: list[Finding] = []
        for checked in batch:
            # the same table may come from several files: references see all of them, own checks only this one
            own = tables if len(delivered[checked.table.id]) == len(checked.rows) else {**tables, checked.table.id: checked.rows}
            for check in checked.table.checks:
                findings.extend(self.run_check(check, checked, own))
            findings.extend(self.cascades(checked))
        return findings

    def cascades(self, checked: CheckedTable) -> Iterator[Finding]:
        """A value chosen under a parent (a city under its province) must belong to that parent."""
        for field_ in checked.table.template_fields:
            parent = checked.table.field(field_.parent_field) if field_.parent_field else None
            if parent is None or not field_.code_list or not parent.code_list:
                continue
            parents_of: dict[str, set[str]] = {}
            for entry in self.catalogue.code_list(field_.code_list).values:
                parents_of.setdefault(entry.label, set()).add(entry.parent or "")
            code_of = {entry.label: entry.code for entry in self.catalogue.code_list(parent.code_list).values}
            for index, row in enumerate(checked.rows):
                child, above = row.get(field_.header), row.get(parent.header)
                if child in parents_of and above in code_of and code_of[above] not in parents_of[child]:
                    yield Finding(checked.locator.cell(index, field_.header), "cell.not_under_parent", Severity.ERROR,
                                  f"“{field_.header}”的“{child}”不属于“{parent.header}”“{above}”",
                                  f"请先选{parent.header}，再从该{parent.header}下的选项中选择{field_.header}", str(child))

    def run_check(self, check: Check, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
        runner = _RUNNERS[check.kind]
        yield from runner(self, check, checked, tables)

    def compiled(self, source: str, table_id: str) -> Evaluator:
        key = f"{table_id}\x1f{source}"
        if key not in self._compiled:
            self._compiled[key] = compile_expression(source, table_id)
        return self._compiled[key]

    def applies(self, check: Check, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Callable[[Record], bool]:
        """Whether the check's ``when`` condition holds for a row (always, without one)."""
        if not check.when:
            return lambda row: True
        condition = self.compiled(check.when, checked.table.id)
        context = EvalContext(row={}, tables=tables, stats=self.stats, table_id=checked.table.id)

        def holds(row: Record) -> bool:
            context.row = row
            return condition(context) is True

        return holds


def _finding(check: Check, location: Location, detail: str = "", value: Any = None) -> Finding:
    message = f"{check.message}（{detail}）" if detail else check.message
    return Finding(location, check.id, check.severity, message, check.hint, shorten(value) if value is not None else None)


def _unique(engine: Engine, check: UniqueCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    applies = engine.applies(check, checked, tables)
    first: dict[tuple[str, ...], int] = {}
    for index, row in enumerate(checked.rows):
        key = _key(row, check.fields)
        if key is None or not applies(row):
            continue
        if key in first:
            other = checked.locator.record(first[key]).row
            detail = f"与第 {other} 行重复" if other else "与前面的记录重复"
            yield _finding(check, checked.locator.cell(index, check.fields[0]), detail, "、".join(key))
        else:
            first[key] = index


def _target_keys(engine: Engine, tables: Mapping[str, Sequence[Record]], table_id: str,
                 headers: Sequence[str]) -> frozenset[tuple[str, ...]]:
    """The keys of a table's rows. Many checks look up the same keys: each set is built once per run."""
    rows = tables.get(table_id, ())
    cache_key = (id(rows), table_id, tuple(headers))
    cached = engine.key_cache.get(cache_key)
    if cached is None:
        cached = engine.key_cache[cache_key] = frozenset(key for row in rows if (key := _key(row, headers)) is not None)
    return cached


def _reference(engine: Engine, check: ReferenceCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    available = [target for target in check.targets if target.table in tables]
    if not available:
        names = "、".join(target.table for target in check.targets)
        yield Finding(checked.locator.whole(), check.id, Severity.WARNING,
                      f"无法核对“{'、'.join(check.fields)}”：缺少被引用的表（{names}）",
                      "把基础数据表与本表一起校验，或先汇总基础数据表")
        return
    keys: set[tuple[str, ...]] = set()
    for target in available:
        keys |= _target_keys(engine, tables, target.table, target.fields)
    applies = engine.applies(check, checked, tables)
    for index, row in enumerate(checked.rows):
        key = _key(row, check.fields)
        if key is not None and key not in keys and applies(row):
            yield _finding(check, checked.locator.cell(index, check.fields[0]), "", "、".join(key))


def _exclusion(engine: Engine, check: ExclusionCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    taken: set[tuple[str, ...]] = set()
    for other in check.others:
        taken |= _target_keys(engine, tables, other.table, other.fields)
    if not taken:
        return
    applies = engine.applies(check, checked, tables)
    for index, row in enumerate(checked.rows):
        key = _key(row, check.fields)
        if key is not None and key in taken and applies(row):
            yield _finding(check, checked.locator.cell(index, check.fields[0]), "", "、".join(key))


def _code_list(engine: Engine, check: CodeListCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    applies = engine.applies(check, checked, tables)
    default = next(iter(check.lists.values())) if not check.version_field else None
    for index, row in enumerate(checked.rows):
        list_id = check.lists.get(key_text(row.get(check.version_field))) if check.version_field else default
        code = key_text(row.get(check.code_field))
        if list_id is None or not code or not applies(row):
            continue
        pairs = engine.code_pairs.get(list_id, frozenset())
        label = key_text(row.get(check.label_field)) if check.label_field else None
        if check.label_field and label:
            ok = (code, label) in pairs
        else:
            ok = any(pair[0] == code for pair in pairs)
        if not ok:
            shown = f"{code} {label}" if label else code
            yield _finding(check, checked.locator.cell(index, check.code_field), f"代码表 {list_id}", shown)


def _relation(engine: Engine, check: RelationCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    condition = engine.compiled(check.assert_, checked.table.id)
    applies = engine.applies(check, checked, tables)
    anchor = check.fields[0] if check.fields else _first_field(check.assert_)
    context = EvalContext(row={}, tables=tables, stats=engine.stats, table_id=checked.table.id)
    for index, row in enumerate(checked.rows):
        context.row = row
        if condition(context) is False and applies(row):
            location = checked.locator.cell(index, anchor) if anchor else checked.locator.record(index)
            yield _finding(check, location, _values_detail(check, row, checked.table), row.get(anchor) if anchor else None)


def _first_field(source: str) -> str | None:
    refs = [ref for ref in field_refs(parse(source)) if ref.table is None]
    return refs[0].header if refs else None


def _values_detail(check: RelationCheck, row: Record, table: Table) -> str:
    names = list(dict.fromkeys(ref.header for ref in field_refs(parse(check.assert_)) if ref.table is None))[:4]
    parts = []
    for name in names:
        field_ = table.field(name)
        parts.append(f"{name}={format_value(row.get(name), field_.type if field_ else FieldType.TEXT) or '空'}")
    return "，".join(parts)


def _at_precision(value: date, field_type: FieldType) -> tuple[int, ...]:
    if field_type is FieldType.YEAR:
        return (value.year,)
    if field_type is FieldType.YEAR_MONTH:
        return (value.year, value.month)
    return (value.year, value.month, value.day)


def _show_bound(value: date, field_type: FieldType) -> str:
    if field_type is FieldType.YEAR:
        return str(value.year)
    return f"{value:%Y-%m}" if field_type is FieldType.YEAR_MONTH else value.isoformat()


def _date_window(engine: Engine, check: DateWindowCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    field_ = checked.table.field(check.field)
    if field_ is None:
        return
    kind = field_.type
    tests: list[tuple[Callable[[tuple[int, ...], tuple[int, ...]], bool], tuple[int, ...], str]] = []
    for bound, test, word in ((check.not_before, lambda v, b: v >= b, "不早于"), (check.after, lambda v, b: v > b, "晚于"),
                              (check.not_after, lambda v, b: v <= b, "不晚于"), (check.before, lambda v, b: v < b, "早于")):
        if bound is not None:
            limit = engine.times.bound(bound)
            tests.append((test, _at_precision(limit, kind), f"应{word} {_show_bound(limit, kind)}"))
    applies = engine.applies(check, checked, tables)
    verdicts: dict[Any, str] = {}  # years and months repeat: judge each distinct value once
    for index, row in enumerate(checked.rows):
        value = row.get(check.field)
        if value is None:
            continue
        failed = verdicts.get(value)
        if failed is None:
            point = (value,) if isinstance(value, int) else _at_precision(value, kind)
            failed = verdicts[value] = "，".join(words for test, limit, words in tests if not test(point, limit))
        if failed and applies(row):
            yield _finding(check, checked.locator.cell(index, check.field), failed, format_value(value, kind))


def _aggregate(engine: Engine, check: AggregateCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    condition = engine.compiled(check.assert_, checked.table.id)
    own = checked.rows[0] if checked.rows and checked.table.shape is Shape.FORM else {}
    context = EvalContext(row=own, tables=tables, stats=engine.stats, table_id=checked.table.id)
    if condition(context) is not False:
        return
    anchor = _first_field(check.assert_) if checked.table.shape is Shape.FORM else None
    location = checked.locator.cell(0, anchor) if anchor else checked.locator.whole()
    yield _finding(check, location)


_RUNNERS: dict[str, Callable[..., Iterable[Finding]]] = {
    "unique": _unique,
    "reference": _reference,
    "exclusion": _exclusion,
    "code_list": _code_list,
    "relation": _relation,
    "date_window": _date_window,
    "aggregate": _aggregate,
}
