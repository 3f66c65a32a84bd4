"""The check engine: every field rule and declarative check of a schema, run lazily.

Tables arrive as raw columns with a locator that knows their cells. The engine types
every cell (:mod:`statecollect.cells`), then runs each table's declarative checks through
one registry of check kinds, and collects every failure as a :class:`Finding` — it never
stops at the first. Reference, exclusion and cross-table checks look up the other tables
of the same batch, or tables given as already collected (the merged base tables).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import chain, repeat
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, Protocol, cast

from statecollect.catalogue import Catalogue
from statecollect.cells import FieldParser, Parsed, all_plain, build_parser, format_value
from statecollect.expressions import EvalContext, LookupIndexes, compile_expression, field_refs, key_text, parse
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

__all__ = ["CheckedTable", "Engine", "FormLocator", "GridLocator", "Key", "Locator", "TableInput", "key_shown", "record_key"]

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
        return replace(self.base, row=row, column=header, cell=f"{letter}{row}" if letter else None)

    def record(self, index: int) -> Location:
        return replace(self.base, row=self.row_numbers[index])

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
        return replace(self.base, row=row, column=header, cell=f"{self.value_column}{row}" if row else None)

    def record(self, index: int) -> Location:
        return self.base

    def whole(self) -> Location:
        return self.base


@dataclass
class TableInput:
    """A table as returned: one column of raw values per header, all of the same length."""

    table: Table
    columns: Mapping[str, list[Any]]
    count: int
    locator: Locator

    @classmethod
    def from_records(cls, table: Table, records: Sequence[Mapping[str, Any]], locator: Locator) -> TableInput:
        headers = [field_.header for field_ in table.template_fields]
        return cls(table, {header: [record.get(header) for record in records] for header in headers}, len(records), locator)


@dataclass
class CheckedTable:
    """A typed table, kept by column. Records (one mapping per row) are made only when a check
    needs whole rows: the common checks read the columns, which is many times faster."""

    table: Table
    columns: dict[str, list[Any]]
    count: int
    locator: Locator
    findings: list[Finding] = field(default_factory=list)
    _rows: list[Record] | None = field(default=None, repr=False)

    @classmethod
    def from_rows(cls, table: Table, rows: list[Record], locator: Locator) -> CheckedTable:
        headers = [field_.header for field_ in table.template_fields]
        return cls(table, {header: [row.get(header) for row in rows] for header in headers}, len(rows), locator, _rows=rows)

    @property
    def rows(self) -> list[Record]:
        if self._rows is None:
            self._rows = list(self.records())
        return self._rows

    def records(self) -> Iterator[Record]:
        """Each record in turn, made afresh unless ``rows`` already holds them: a check that walks the
        records once does not keep tens of thousands of mappings alive."""
        if self._rows is not None:
            yield from self._rows
            return
        headers = list(self.columns)
        for values in zip(*self.columns.values(), strict=True) if headers else ((),) * self.count:
            yield dict(zip(headers, values, strict=True))

    def record(self, index: int) -> Record:
        if self._rows is not None:
            return self._rows[index]
        return {header: column[index] for header, column in self.columns.items()}

    def column(self, header: str) -> list[Any]:
        return self.columns.get(header) or [None] * self.count


# a record's key: its text for a one-field key (most are: a staff or student number), the texts
# of its fields for a longer one; one-field keys are not wrapped in tuples, which would double
# the memory of a large school's key sets
Key = str | tuple[str, ...]


def record_key(row: Mapping[str, Any], headers: Sequence[str]) -> Key | None:
    """A record's key over ``headers`` as the checks compare keys (12.0 and "12" are one), or None
    when a part is blank: a record without its key clashes with nothing."""
    values = tuple(value if type(value) is str else key_text(value) for value in map(row.get, headers))
    if "" in values:
        return None
    return values[0] if len(values) == 1 else values


def key_shown(key: Key) -> str:
    """A key as people read it: its parts joined by 、."""
    return key if isinstance(key, str) else "、".join(key)


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
        # keys of referenced tables, by table and fields, each kept with the rows or parts it was built from
        self.key_cache: dict[tuple[str, tuple[str, ...]], tuple[object, AbstractSet[str] | _SeveralFieldKeys]] = {}
        # lookups such as count(BKSJBQK.学号, …) index another table once per run, shared by every check
        self.lookup_cache: LookupIndexes = {}

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
        checked = CheckedTable(data.table, {}, data.count, data.locator)
        for header, required, parser in self.parsers(data.table):
            column = data.columns.get(header) or [None] * data.count
            checked.columns[header] = self.type_column(data, header, required, parser, column, checked.findings)
        if not data.count and not data.table.may_be_empty:
            checked.findings.append(Finding(data.locator.whole(), "table.empty", Severity.ERROR,
                                    f"{data.table.display_name} 没有数据", "本表平台要求填报，请补充数据"))
        return checked

    def type_records(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> CheckedTable:
        """Records that are not read from a department's sheet (a master's, a frozen snapshot,
        synthetic data), typed; findings point at their index."""
        return self.type_table(TableInput.from_records(table, rows, GridLocator(Location(), range(len(rows)), {})))

    def type_column(self, data: TableInput, header: str, required: bool, parser: FieldParser,
                    column: list[Any], findings: list[Finding]) -> list[Any]:
        """Typed values of one column. A column repeats few distinct values, so each is parsed once,
        and the passes over the whole column run in C (set, map)."""
        distinct = set(column)
        kinds = set(map(type, distinct))
        if kinds & {bool, int, float}:
            # FALSE and 0 are one member of a set: only the column itself tells which types it holds
            kinds = set(map(type, column))
        if bool in kinds:
            # True == 1.0 would share one parse: such rare columns go value by value
            results = [parser(value) for value in column]
            bad_indexes = [index for index, result in enumerate(results) if result.issues or (required and result.value is None)]
            for index in bad_indexes:
                self.report_cell(data, index, header, column[index], results[index], required, findings)
            return [result.value for result in results]
        plain: set[Any] = set()
        if parser.plain_text:
            texts = _without_blank(distinct) if kinds == {str} else {value for value in distinct if type(value) is str and value}
            if all_plain(list(texts), parser.max_length):
                plain = texts
        elif parser.plain_numbers is not None and float in kinds and kinds <= {float, str}:
            numbers = _without_blank(distinct)  # blank cells still go to the parser: a required field may be empty
            if set(map(type, numbers)) == {float} and parser.plain_numbers(numbers):
                plain = numbers  # a float is its own decimal value
        # a column of distinct texts (student numbers) is as long as its set: no copy of it when all are plain
        parsed = {value: parser(value) for value in (distinct - plain if len(plain) < len(distinct) else ())}
        bad = {value for value, result in parsed.items() if result.issues or (required and result.value is None)}
        if bad:
            for index, value in enumerate(column):
                if value in bad:
                    self.report_cell(data, index, header, value, parsed[value], required, findings)
        if all(type(result.value) is type(value) and result.value == value for value, result in parsed.items()):
            return column  # every value is its own typed value (clean text, a valid code): nothing to copy
        typed_of = dict(zip(plain, plain))
        typed_of.update((value, result.value) for value, result in parsed.items())
        return list(map(typed_of.__getitem__, column))

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
        """Run every declarative check of every table in ``batch``; see :meth:`check_each`."""
        return [finding for findings in self.check_each(batch, known) for finding in findings]

    def check_each(self, batch: Sequence[CheckedTable], known: Mapping[str, Sequence[Record]] | None = None) -> list[list[Finding]]:
        """The findings of every declarative check, for each table of ``batch`` in turn.

        ``known`` holds already collected tables (typed rows) used for references when a
        table is not part of the batch.
        """
        # each entry is kept with what it was built from, and answers only for that
        self.key_cache = {}
        self.lookup_cache = {}
        delivered: dict[str, list[CheckedTable]] = {}
        for checked in batch:
            delivered.setdefault(checked.table.id, []).append(checked)
        tables = _BatchTables(known or {}, delivered)
        each: list[list[Finding]] = []
        for checked in batch:
            # the same table may come from several files: references see all of them, own checks only this one
            own = tables if len(delivered[checked.table.id]) == 1 else tables.alone(checked)
            findings = [finding for check in checked.table.checks for finding in self.run_check(check, checked, own)]
            each.append([*findings, *self.cascades(checked)])
        return each

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
            for index, row in enumerate(checked.records()):
                child, above = row.get(field_.header), row.get(parent.header)
                if child in parents_of and above in code_of and code_of[above] not in parents_of[child]:
                    yield Finding(checked.locator.cell(index, field_.header), "cell.not_under_parent", Severity.ERROR,
                                  f"“{field_.header}”的“{child}”不属于“{parent.header}”“{above}”",
                                  f"请先选{parent.header}，再从该{parent.header}下的选项中选择{field_.header}", str(child))

    def run_check(self, check: Check, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
        runner = _RUNNERS[check.kind]
        yield from runner(self, check, checked, tables)

    def context(self, tables: Mapping[str, Sequence[Record]], row: Record | None = None) -> EvalContext:
        """What an expression of a check is evaluated against in this run."""
        return EvalContext(row=row or {}, tables=tables, stats=self.stats, indexes=self.lookup_cache)

    def applies(self, check: Check, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Callable[[Record], bool]:
        """Whether the check's ``when`` condition holds for a row (always, without one)."""
        if not check.when:
            return lambda row: True
        condition = compile_expression(check.when, checked.table.id)  # cached: parsed and compiled once
        context = self.context(tables)

        def holds(row: Record) -> bool:
            context.row = row
            return condition(context) is True

        return holds


class _BatchTables(Mapping[str, Sequence[Record]]):
    """The rows of every table a check may look up, by table id: the batch's own tables (their
    records made on first use only) over the tables already collected."""

    def __init__(self, known: Mapping[str, Sequence[Record]], delivered: Mapping[str, list[CheckedTable]]) -> None:
        self._known = known
        self._delivered = delivered
        self._joined: dict[str, list[Record]] = {}

    def __getitem__(self, table_id: str) -> Sequence[Record]:
        parts = self._delivered.get(table_id)
        if parts is None:
            return self._known[table_id]
        if len(parts) == 1:
            return parts[0].rows
        if table_id not in self._joined:
            self._joined[table_id] = [row for part in parts for row in part.rows]
        return self._joined[table_id]

    def alone(self, checked: CheckedTable) -> _BatchTables:
        """These tables with ``checked`` as its table's only copy. The other tables' joined rows are
        shared: the run's key and lookup caches answer for the very rows they were built from."""
        view = _BatchTables(self._known, {**self._delivered, checked.table.id: [checked]})
        view._joined = self._joined
        return view

    def parts(self, table_id: str) -> list[CheckedTable] | None:
        """The batch's own copies of a table (kept by column), or None for a table collected before."""
        return self._delivered.get(table_id)

    def __contains__(self, table_id: object) -> bool:
        return table_id in self._delivered or table_id in self._known

    def __iter__(self) -> Iterator[str]:
        return iter({**self._known, **self._delivered})

    def __len__(self) -> int:
        return len({**self._known, **self._delivered})


def _without_blank(values: set[Any]) -> set[Any]:
    return values - {""} if "" in values else values


def _key_texts(column: list[Any]) -> list[Any]:
    """A column's values as key text (see :func:`key_text`); text, the usual case, is used as it is."""
    if set(map(type, column)) <= {str}:
        return column
    texts = {value: value if type(value) is str else key_text(value) for value in set(column)}
    return list(map(texts.__getitem__, column))


def _row_keys(checked: CheckedTable, headers: Sequence[str]) -> list[Key | None]:
    """Each record's :data:`Key` over ``headers``, None where a part is blank — built column by column."""
    parts = [_key_texts(checked.column(header)) for header in headers]
    if len(parts) == 1:
        return [key or None for key in parts[0]] if "" in parts[0] else parts[0]
    keys: list[Key | None] = list(zip(*parts, strict=True)) if parts else [None] * checked.count
    if any("" in part for part in parts):
        keys = [None if key is None or "" in key else key for key in keys]
    return keys


def _rows_where(check: Check, engine: Engine, checked: CheckedTable, tables: Mapping[str, Sequence[Record]],
                indexes: Iterable[int]) -> list[int]:
    """Those of ``indexes`` whose record meets the check's ``when`` condition (all, without one)."""
    if not check.when:
        return list(indexes)
    return _indexes_where(engine.applies(check, checked, tables), checked, _own_fields(check.when), indexes)


def _finding(check: Check, location: Location, detail: str = "", value: Any = None) -> Finding:
    message = f"{check.message}（{detail}）" if detail else check.message
    return Finding(location, check.id, check.severity, message, check.hint, shorten(value) if value is not None else None)


def _unique(engine: Engine, check: UniqueCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    keys = _row_keys(checked, check.fields)
    distinct = set(keys)
    if len(distinct) == len(keys) or len(distinct - {None}) == len(keys) - keys.count(None):
        return  # no key repeats (rows without a key clash with nothing): the usual case, told in C
    repeated = {key for key, times in Counter(keys).items() if times > 1 and key is not None}
    first: dict[Key, int] = {}
    for index in _rows_where(check, engine, checked, tables, (index for index, key in enumerate(keys) if key in repeated)):
        key = keys[index]
        assert key is not None
        if key in first:
            other = checked.locator.record(first[key]).row
            detail = f"与第 {other} 行重复" if other else "与前面的记录重复"
            yield _finding(check, checked.locator.cell(index, check.fields[0]), detail, key_shown(key))
        else:
            first[key] = index


def _target_keys(engine: Engine, tables: Mapping[str, Sequence[Record]], table_id: str,
                 headers: Sequence[str]) -> AbstractSet[str] | _SeveralFieldKeys:
    """The keys of a table's rows. Many checks look up the same keys: each set is built once per run,
    from the columns when the table is part of the batch."""
    parts = tables.parts(table_id) if isinstance(tables, _BatchTables) else None
    rows = tables.get(table_id, ()) if parts is None else ()
    source = parts if parts is not None else rows
    found = engine.key_cache.get((table_id, tuple(headers)))
    if found is not None and found[0] is source:
        cached = found[1]
    else:  # kept with the rows or parts it holds the keys of: one file's view of a table gets its own
        texts = [[_key_texts(part.column(header)) for header in headers] for part in parts or ()]
        known = [key for key in map(record_key, rows, repeat(headers)) if key is not None]
        if len(headers) == 1:  # each key is its text
            keys = set(chain.from_iterable(columns[0] for columns in texts))
            keys.update(cast(list[str], known))
            keys.discard("")
            cached = keys
        else:
            cached = _SeveralFieldKeys(texts, cast(list[tuple[str, ...]], known))
        engine.key_cache[(table_id, tuple(headers))] = (source, cached)  # read only from here on
    return cached


class _Several(frozenset[Any]):
    """The rests of the keys that share a first field."""


class _SeveralFieldKeys:
    """Keys of several fields, held as the first field's text → the rest of the key. Held as
    tuples in a set, a large school's (学号, 学生姓名) pairs take twice the memory; here the
    texts are those of the columns. A key with a blank part never matches: no record's key has one."""

    __slots__ = ("_rest",)

    def __init__(self, columns: Sequence[Sequence[list[str]]], known: Sequence[tuple[str, ...]]) -> None:
        firsts: list[str] = []
        rests: list[Any] = []
        for texts in columns:
            firsts += texts[0]
            rests += texts[1] if len(texts) == 2 else zip(*texts[1:], strict=True)
        firsts += (key[0] for key in known)
        rests += (_rest_of(key) for key in known)
        self._rest: dict[str, Any] = dict(zip(firsts, rests, strict=True))
        if len(self._rest) < len(firsts) or "" in self._rest or _any_blank(rests):
            self._rest = _gathered(firsts, rests)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple):
            return False
        rest, wanted = self._rest.get(key[0]), _rest_of(key)
        return rest == wanted or (type(rest) is _Several and wanted in rest)

    def __len__(self) -> int:
        return len(self._rest)


def _rest_of(key: tuple[str, ...]) -> Any:
    return key[1] if len(key) == 2 else key[1:]


def _has_blank(rest: Any) -> bool:
    return rest == "" if type(rest) is str else "" in rest


def _any_blank(rests: list[Any]) -> bool:
    # the rest of a two-field key is one text, searched for a blank in C
    return "" in rests if not rests or type(rests[0]) is str else any(map(_has_blank, rests))


def _gathered(firsts: list[str], rests: list[Any]) -> dict[str, Any]:
    """First text → rest, the keys with a blank part left out (no record's key has one), and the
    rests of a first text that repeats gathered into one :class:`_Several`."""
    single: dict[str, Any] = {}
    several: dict[str, set[Any]] = {}
    for first, rest in zip(firsts, rests, strict=True):
        if first == "" or _has_blank(rest):
            continue
        seen = single.setdefault(first, rest)
        if seen != rest:
            several.setdefault(first, {seen}).add(rest)
    single.update((first, _Several(rests)) for first, rests in several.items())
    return single


def _reference(engine: Engine, check: ReferenceCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    available = [target for target in check.targets if target.table in tables]
    if not available:
        names = "、".join(target.table for target in check.targets)
        yield Finding(checked.locator.whole(), check.id, Severity.WARNING,
                      f"无法核对“{'、'.join(check.fields)}”：缺少被引用的表（{names}）",
                      "把基础数据表与本表一起校验，或先汇总基础数据表")
        return
    known = [_target_keys(engine, tables, target.table, target.fields) for target in available]
    own = _row_keys(checked, check.fields)
    missing = {key for key in set(own) if key is not None and not any(key in keys for keys in known)}
    if not missing:
        return
    for index in _rows_where(check, engine, checked, tables, (index for index, key in enumerate(own) if key in missing)):
        yield _finding(check, checked.locator.cell(index, check.fields[0]), "", key_shown(own[index] or ""))


def _exclusion(engine: Engine, check: ExclusionCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    taken = [_target_keys(engine, tables, other.table, other.fields) for other in check.others]
    if not any(taken):
        return
    own = _row_keys(checked, check.fields)
    clashing = {key for key in set(own) if key is not None and any(key in keys for keys in taken)}
    for index in _rows_where(check, engine, checked, tables, (index for index, key in enumerate(own) if key in clashing)):
        yield _finding(check, checked.locator.cell(index, check.fields[0]), "", key_shown(own[index] or ""))


def _code_list(engine: Engine, check: CodeListCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    applies = engine.applies(check, checked, tables)
    default = next(iter(check.lists.values())) if not check.version_field else None
    for index, row in enumerate(checked.records()):
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
    condition = compile_expression(check.assert_, checked.table.id)
    anchor = check.fields[0] if check.fields else _first_field(check.assert_)
    context = engine.context(tables)

    def broken(row: Record) -> bool:
        context.row = row
        return condition(context) is False

    for index in _rows_where(check, engine, checked, tables, _indexes_where(broken, checked, _own_fields(check.assert_))):
        row = checked.record(index)
        location = checked.locator.cell(index, anchor) if anchor else checked.locator.record(index)
        yield _finding(check, location, _values_detail(check, row, checked.table), row.get(anchor) if anchor else None)


def _indexes_where(test: Callable[[Record], bool], checked: CheckedTable, fields: tuple[str, ...] | None,
                   among: Iterable[int] | None = None) -> list[int]:
    """Those of the records (or of ``among`` them) for which ``test`` holds. When it reads only
    ``fields`` of its own record, it is judged once per distinct combination of their values:
    rows repeat a handful of them."""
    indexes: Sequence[int] = range(checked.count) if among is None else list(among)
    if not fields:
        return [index for index in indexes if test(checked.record(index))]
    columns = [checked.column(header) for header in fields]
    keys = list(zip(*columns, strict=True)) if among is None else [tuple(column[index] for column in columns) for index in indexes]
    passing = {key for key in set(keys) if test(dict(zip(fields, key, strict=True)))}
    return [index for index, key in zip(indexes, keys) if key in passing] if passing else []


@lru_cache(maxsize=1024)
def _own_fields(source: str) -> tuple[str, ...] | None:
    """The fields of its own record an expression reads, or None when it also reads other tables."""
    refs = field_refs(parse(source))
    if any(ref.table is not None for ref in refs):
        return None
    return tuple(dict.fromkeys(ref.header for ref in refs))


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
    column = checked.column(check.field)
    # years and months repeat: each distinct value is judged once
    verdicts = {value: "，".join(words for test, limit, words in tests
                                 if not test((value,) if isinstance(value, int) else _at_precision(value, kind), limit))
                for value in set(column) if value is not None}
    failing = {value for value, failed in verdicts.items() if failed}
    if not failing:
        return
    for index in _rows_where(check, engine, checked, tables, (index for index, value in enumerate(column) if value in failing)):
        value = column[index]
        yield _finding(check, checked.locator.cell(index, check.field), verdicts[value], format_value(value, kind))


def _aggregate(engine: Engine, check: AggregateCheck, checked: CheckedTable, tables: Mapping[str, Sequence[Record]]) -> Iterator[Finding]:
    condition = compile_expression(check.assert_, checked.table.id)
    own = checked.record(0) if checked.count and checked.table.shape is Shape.FORM else {}
    context = engine.context(tables, own)
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
