"""Loading a schema set from ``schemas/<edition>/`` and checking it as a whole.

A schema folder holds ``catalogue.yaml`` (edition, categories), ``codelists/*.yaml`` and
``tables/*.yaml``. Loading validates each file against the model and then everything
that spans files: code lists named by fields, tables named by references, fields named by
checks and expressions. Every problem becomes a :class:`Finding` with file and line.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from statecollect import cache, findings as findings_module, schema as schema_module
from statecollect.expressions import ExpressionError, Scope, check_scope, field_refs, parse
from statecollect.findings import Finding, Location, Severity
from statecollect.schema import (
    CHECK_KIND_LABELS,
    TEMPORAL_TYPES,
    AggregateCheck,
    Category,
    CodeList,
    CodeListCheck,
    DateWindowCheck,
    DefaultSplit,
    ExclusionCheck,
    ReferenceCheck,
    RelationCheck,
    SchemaSet,
    Table,
    UniqueCheck,
    model,
)
from statecollect.yamlsource import YamlFileError, line_of, read_yaml, validated, validation_problems

__all__ = [
    "SchemaLoadError",
    "SchemaReport",
    "check_schema_dir",
    "default_schema_dir",
    "load_schema_set",
    "table_sort_key",
]

EDITION_ENV = "STATECOLLECT_SCHEMAS"
M = TypeVar("M")


class SchemaLoadError(Exception):
    """A schema set with problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Finding]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the schema set")
        self.problems = problems


@dataclass
class SchemaReport:
    """The result of checking a schema folder: the set (when usable) and every problem."""

    directory: Path
    schema_set: SchemaSet | None
    problems: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(problem.severity is Severity.ERROR for problem in self.problems)

    def to_dict(self) -> dict[str, Any]:
        tables = self.schema_set.tables if self.schema_set else ()
        return {
            "directory": str(self.directory),
            "ok": self.ok,
            "table_count": len(tables),
            "field_count": sum(len(table.fields) for table in tables),
            "check_count": sum(len(table.checks) for table in tables),
            "code_list_count": len(self.schema_set.code_lists) if self.schema_set else 0,
            "problem_count": len(self.problems),
            "problems": [problem.to_dict() for problem in self.problems],
        }


def default_schema_dir(edition: str = "2020") -> Path:
    """The built-in schema folder: from a source checkout, or installed under ``share/``."""
    override = os.environ.get(EDITION_ENV)
    if override:
        return Path(override) / edition
    checkout = Path(__file__).resolve().parents[2] / "schemas" / edition
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "statecollect" / "schemas" / edition


def table_sort_key(number: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of display numbers: 1-2 < 1-10, SF-2 < SF-10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[-－]", number))


def load_schema_set(directory: Path) -> SchemaSet:
    """Load and check a schema folder; raise :class:`SchemaLoadError` listing every problem.

    A set that passed its checks is kept in a cache keyed by every file's size and time,
    so later commands skip the YAML parsing and cross-checks (a tenth of the time).
    """
    entry = _cache_entry(directory)
    cached = cache.load(entry, SchemaSet)
    if cached is not None:
        return cached
    report = check_schema_dir(directory)
    if report.schema_set is None or not report.ok:
        raise SchemaLoadError(report.problems)
    cache.store(entry, report.schema_set)
    return report.schema_set


def _cache_entry(directory: Path) -> Path | None:
    try:
        state = "\n".join(cache.file_stamp(path) for path in sorted(directory.rglob("*.yaml")))
    except OSError:
        return None
    return cache.entry_for("schemas", directory, state, (schema_module, findings_module))


def check_schema_dir(directory: Path) -> SchemaReport:
    """Check a schema folder and collect every problem rather than stopping at the first."""
    collector = _Collector(directory)
    if not directory.is_dir():
        collector.add(directory, (), "找不到架构目录", "请确认路径，或先运行 statecollect schema check 指定正确的目录")
        return SchemaReport(directory, None, collector.problems)
    catalogue = collector.read_model(directory / "catalogue.yaml", _Catalogue)
    code_lists = {cl.id: cl for cl in collector.read_all(directory / "codelists", CodeList)}
    tables = collector.read_all(directory / "tables", Table)
    split_path = directory / "task_split.yaml"
    default_split = collector.read_model(split_path, DefaultSplit) if split_path.is_file() else None
    if catalogue is None:
        return SchemaReport(directory, None, collector.problems)
    _check_cross_file(collector, catalogue, code_lists, tables)
    if default_split is not None:
        _check_default_split(collector, split_path, default_split, tables, code_lists)
    tables.sort(key=lambda table: (table.category, table_sort_key(table.number)))
    schema_set = SchemaSet(
        edition=catalogue.edition,
        title=catalogue.title,
        categories=catalogue.categories,
        tables=tuple(tables),
        code_lists=code_lists,
        default_split=default_split,
    )
    return SchemaReport(directory, schema_set, collector.problems)


@model
class _Catalogue:  # not a Model: as ever, keys other than these are left alone
    edition: str
    title: str
    categories: tuple[Category, ...]


# --------------------------------------------------------------------------- collecting


class _Collector:
    """Reads files into models and records problems with their file and line."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Finding] = []
        self.files: dict[int, Path] = {}
        self.unreadable: set[str] = set()

    def add(self, path: Path, loc: Sequence[str | int], message: str, hint: str, line: int | None = None) -> None:
        if line is None and loc and path.is_file():
            line = line_of(path, loc)
        shown = path.relative_to(self.directory) if path.is_relative_to(self.directory) else path
        self.problems.append(
            Finding(
                location=Location(file=str(shown), line=line),
                rule_id="schema.invalid",
                severity=Severity.ERROR,
                message=message,
                hint=hint,
            )
        )

    def lacks(self, table_id: str, known: Collection[str]) -> bool:
        """Whether ``table_id`` names no table — a table whose file could not be read was already reported."""
        return table_id not in known and table_id not in self.unreadable

    def read_model(self, path: Path, model: type[M]) -> M | None:
        if not path.is_file():
            self.add(path, (), "缺少文件", f"请创建 {path.name}")
            return None
        # a file that fails is named by its stem, so other files' references to it are not reported twice
        self.unreadable.add(path.stem)
        try:
            data = read_yaml(path)
        except YamlFileError as exc:
            self.add(path, (), exc.message, "请修正 YAML 语法（缩进、冒号、引号）", line=exc.line)
            return None
        from pydantic import ValidationError  # a cache miss only: see statecollect.schema

        try:
            instance = validated(model, data)
        except ValidationError as exc:
            for line, message in validation_problems(path, exc, frozenset(CHECK_KIND_LABELS)):
                self.add(path, (), message, "请按架构说明修正此项", line=line)
            return None
        self.files[id(instance)] = path
        self.unreadable.discard(path.stem)
        return instance

    def read_all(self, folder: Path, model: type[M]) -> list[M]:
        if not folder.is_dir():
            self.add(folder, (), "缺少目录", f"请创建目录 {folder.name}/")
            return []
        found = (self.read_model(path, model) for path in sorted(folder.glob("*.yaml")))
        return [item for item in found if item is not None]

    def path_of(self, instance: object) -> Path:
        return self.files.get(id(instance), self.directory)


# --------------------------------------------------------------------------- cross-file checks


def _check_cross_file(
    collector: _Collector,
    catalogue: _Catalogue,
    code_lists: dict[str, CodeList],
    tables: list[Table],
) -> None:
    by_id: dict[str, Table] = {}
    numbers: dict[str, Table] = {}
    check_ids: dict[str, Table] = {}
    categories = {category.number for category in catalogue.categories}
    for table in tables:
        path = collector.path_of(table)
        if table.id in by_id:
            collector.add(path, ("id",), f"表标识 {table.id} 与 {collector.path_of(by_id[table.id]).name} 重复", "每张表的 id 必须唯一")
        by_id[table.id] = table
        if path.stem != table.id:
            collector.add(path, ("id",), f"文件名 {path.name} 与表标识 {table.id} 不一致", f"将文件改名为 {table.id}.yaml")
        if table.part_of is None:
            if table.number in numbers:
                collector.add(path, ("number",), f"表号 {table.number} 与 {numbers[table.number].id} 重复", "每张表的表号必须唯一")
            numbers[table.number] = table
        if table.category not in categories:
            collector.add(path, ("category",), f"类别 {table.category} 不在 catalogue.yaml 中", "请使用 1–8 之间已定义的类别")
        for index, check in enumerate(table.checks):
            if check.id in check_ids:
                collector.add(path, ("checks", index, "id"), f"校验标识 {check.id} 重复", "每条校验的 id 在整套架构中必须唯一")
            check_ids[check.id] = table
            if not check.id.startswith(table.id + "."):
                collector.add(path, ("checks", index, "id"), f"校验标识 {check.id} 应以表标识 {table.id}. 开头", f"改为 {table.id}.<名称>")
    for table in tables:
        _TableChecker(collector, table, by_id, code_lists).run()


def _check_default_split(
    collector: _Collector, path: Path, split: DefaultSplit, tables: list[Table], code_lists: dict[str, CodeList]
) -> None:
    known = {table.id for table in tables}
    for table_id in split.assignments:
        if collector.lacks(table_id, known):
            collector.add(path, ("assignments", table_id), f"任务分解中的表 {table_id} 不存在", "请填写已定义表的 id")
    for table_id in sorted(known - set(split.assignments)):
        collector.add(path, ("assignments",), f"表 {table_id} 没有默认责任部门", "请在 assignments 中补上")
    departments = set(split.departments)
    for table_id, assignment in split.assignments.items():
        for name in (assignment.responsible, *assignment.helpers):
            if name not in departments:
                collector.add(path, ("assignments", table_id), f"部门 “{name}” 不在 departments 列表中", "请先在 departments 中列出该部门")
    school_types = set(code_lists["XXXZ"].labels()) if "XXXZ" in code_lists else set()
    for index, rule in enumerate(split.only_for):
        for table_id in rule.tables:
            if collector.lacks(table_id, known):
                collector.add(path, ("only_for", index), f"表 {table_id} 不存在", "请填写已定义表的 id")
        for school_type in rule.school_types:
            if school_types and school_type not in school_types:
                collector.add(path, ("only_for", index), f"学校性质 “{school_type}” 不在代码表 XXXZ 中", "请使用平台的学校性质名称")


@dataclass
class _TableChecker:
    collector: _Collector
    table: Table
    tables: dict[str, Table]
    code_lists: dict[str, CodeList]

    @property
    def path(self) -> Path:
        return self.collector.path_of(self.table)

    def problem(self, loc: Sequence[str | int], message: str, hint: str) -> None:
        self.collector.add(self.path, loc, message, hint)

    def run(self) -> None:
        self.check_fields()
        self.check_links()
        for index, check in enumerate(self.table.checks):
            self.check_one(index, check)

    def headers(self, table: Table) -> set[str]:
        return {field.header for field in table.fields}

    def check_fields(self) -> None:
        own = self.headers(self.table)
        for index, field_ in enumerate(self.table.fields):
            if field_.code_list and field_.code_list not in self.code_lists:
                self.problem(("fields", index, "code_list"), f"未知代码表 {field_.code_list}", "请在 codelists/ 中添加该代码表或改正名称")
            if field_.parent_field and field_.parent_field not in own:
                self.problem(("fields", index, "parent_field"), f"上级字段 “{field_.parent_field}” 不存在", "parent_field 须为本表字段的表头")
            elif field_.parent_field:
                self.check_cascade(index, field_)

    def check_cascade(self, index: int, field_: Any) -> None:
        """A cascading field's list must name the parent field's list as the level above it."""
        parent = self.table.field(field_.parent_field)
        child_list = self.code_lists.get(field_.code_list or "")
        if field_.code_list and child_list is None:
            return  # an unknown list, reported once as such
        if parent is None or child_list is None or child_list.parent_list != parent.code_list:
            self.problem(("fields", index, "parent_field"),
                         f"级联字段的代码表 {field_.code_list} 的 parent_list 应为上级字段的代码表 {parent.code_list if parent else '?'}",
                         "在代码表文件中写明 parent_list，并为每项写 parent")

    def check_links(self) -> None:
        for index, other in enumerate(self.table.depends_on):
            if self.collector.lacks(other, self.tables):
                self.problem(("depends_on", index), f"依赖的表 {other} 不存在", "请填写已定义表的 id")
        if self.table.part_of and self.collector.lacks(self.table.part_of, self.tables):
            self.problem(("part_of",), f"所属的表 {self.table.part_of} 不存在", "请填写已定义表的 id")

    def require_fields(self, loc: Sequence[str | int], table_id: str, names: Sequence[str]) -> None:
        table = self.tables.get(table_id)
        if table is None and not self.collector.lacks(table_id, self.tables):
            return
        if table is None:
            self.problem(loc, f"引用了不存在的表 {table_id}", "请填写已定义表的 id")
            return
        missing = [name for name in names if name not in self.headers(table)]
        if missing:
            self.problem(loc, f"表 {table_id} 没有字段 {'、'.join(missing)}", "字段须与表头完全一致")

    def check_one(self, index: int, check: Any) -> None:
        loc: tuple[str | int, ...] = ("checks", index)
        if check.when:
            self.check_expression((*loc, "when"), check.when, record_level=True)
        if isinstance(check, UniqueCheck | RelationCheck) and check.fields:
            self.require_fields((*loc, "fields"), self.table.id, check.fields)
        if isinstance(check, ReferenceCheck | ExclusionCheck):
            self.require_fields((*loc, "fields"), self.table.id, check.fields)
            targets = check.targets if isinstance(check, ReferenceCheck) else check.others
            key = "targets" if isinstance(check, ReferenceCheck) else "others"
            for position, target in enumerate(targets):
                self.require_fields((*loc, key, position), target.table, target.fields)
        elif isinstance(check, CodeListCheck):
            self.check_code_list_check(loc, check)
        elif isinstance(check, RelationCheck):
            self.check_expression((*loc, "assert"), check.assert_, record_level=True)
        elif isinstance(check, AggregateCheck):
            self.check_expression((*loc, "assert"), check.assert_, record_level=False)
        elif isinstance(check, DateWindowCheck):
            field_ = self.table.field(check.field)
            if field_ is None:
                self.problem((*loc, "field"), f"字段 “{check.field}” 不存在", "字段须与表头完全一致")
            elif field_.type not in TEMPORAL_TYPES:
                self.problem((*loc, "field"), f"字段 “{check.field}” 不是年份、年月或日期类型", "时间范围校验只适用于时间字段")

    def check_code_list_check(self, loc: tuple[str | int, ...], check: CodeListCheck) -> None:
        names = [check.code_field, *(name for name in (check.label_field, check.version_field) if name)]
        self.require_fields(loc, self.table.id, names)
        for version, list_id in check.lists.items():
            if list_id not in self.code_lists:
                self.problem((*loc, "lists", version), f"未知代码表 {list_id}", "请在 codelists/ 中添加该代码表或改正名称")

    def check_expression(self, loc: tuple[str | int, ...], source: str, *, record_level: bool) -> None:
        scope = Scope(
            table_id=self.table.id,
            headers=frozenset(self.headers(self.table)),
            shape=self.table.shape.value,
            record_level=record_level,
            other_tables={
                table_id: (table.shape.value, frozenset(self.headers(table)))
                for table_id, table in self.tables.items()
            },
        )
        try:
            node = parse(source)
            if any(ref.table in self.collector.unreadable for ref in field_refs(node)):
                return
            check_scope(node, scope)
        except ExpressionError as exc:
            self.problem(loc, f"表达式有误：{exc}", "字段名须与表头一致，含标点的表头用反引号 ` ` 括起")

