"""The table catalogue: finding tables by number, id or title, and describing them.

Built on a loaded :class:`SchemaSet`. Descriptions are plain data (dicts of strings and
numbers) so the terminal view and ``--format json`` show the very same content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from statecollect.errors import UserError
from statecollect.schema import (
    CHECK_KIND_LABELS,
    FIELD_TYPE_LABELS,
    TIME_BASIS_LABELS,
    AggregateCheck,
    Category,
    Check,
    CodeList,
    CodeListCheck,
    DateBound,
    DateWindowCheck,
    ExclusionCheck,
    Field,
    ReferenceCheck,
    ReferenceTarget,
    RelationCheck,
    SchemaSet,
    Shape,
    Table,
    UniqueCheck,
)
from statecollect.schema_loader import default_schema_dir, load_schema_set

__all__ = ["Catalogue", "TableNotFound", "load_catalogue"]

SHAPE_LABELS: dict[Shape, str] = {Shape.FORM: "单条", Shape.LIST: "列表"}
ANCHOR_LABELS: dict[str, str] = {
    "snapshot": "统计时点",
    "academic_start": "学年开始日",
    "academic_end": "学年结束日",
    "calendar_start": "自然年开始日",
    "calendar_end": "自然年结束日",
}


class TableNotFound(UserError, LookupError):
    """No table matches what the user typed; the hint lists close matches."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = "可能是：" + "、".join(suggestions) if suggestions else "用 statecollect schema list 查看全部表号"
        super().__init__(f"找不到数据表 “{query}”", hint)
        self.query = query
        self.suggestions = suggestions


@dataclass(frozen=True)
class Catalogue:
    schema_set: SchemaSet
    directory: Path

    @property
    def tables(self) -> tuple[Table, ...]:
        return self.schema_set.tables

    @property
    def base_tables(self) -> tuple[Table, ...]:
        return tuple(table for table in self.tables if table.base)

    @property
    def fingerprint(self) -> str:
        """A short hash of every table's template columns: changes whenever a template would."""
        digest = hashlib.sha256(self.schema_set.edition.encode("utf-8"))
        for table in self.tables:
            digest.update("\x1e".join((table.id, *(field.header for field in table.template_fields))).encode("utf-8"))
        return digest.hexdigest()[:12]

    def code_list(self, list_id: str) -> CodeList:
        return self.schema_set.code_lists[list_id]

    def table(self, query: str) -> Table:
        """The table named by display number (``1-5-1``, ``表1-5-1``), id, physical name or title."""
        wanted = query.strip().removeprefix("表").strip()
        for table in self.tables:
            if wanted in {table.id, table.physical, table.title} or (wanted == table.number and not table.part_of):
                return table
        raise TableNotFound(query, self._suggest(wanted))

    def table_by_id(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise TableNotFound(table_id, [])

    def _suggest(self, wanted: str) -> list[str]:
        hits = [
            table.display_name
            for table in self.tables
            if wanted and (wanted in table.title or table.number.startswith(wanted) or wanted.upper() in table.id)
        ]
        return hits[:5]

    def by_category(self) -> list[tuple[Category, list[Table]]]:
        return [
            (category, [table for table in self.tables if table.category == category.number])
            for category in self.schema_set.categories
        ]

    # ------------------------------------------------------------------ descriptions

    def listing(self) -> dict[str, Any]:
        """Every table grouped by category, with counts: the data behind ``schema list``."""
        return {
            "edition": self.schema_set.edition,
            "title": self.schema_set.title,
            "table_count": len(self.tables),
            "field_count": sum(len(table.fields) for table in self.tables),
            "check_count": sum(len(table.checks) for table in self.tables),
            "categories": [
                {
                    "number": category.number,
                    "title": category.title,
                    "tables": [self._summary(table) for table in tables],
                }
                for category, tables in self.by_category()
            ],
        }

    def _summary(self, table: Table) -> dict[str, Any]:
        return {
            "id": table.id,
            "number": table.number,
            "title": table.title,
            "shape": SHAPE_LABELS[table.shape],
            "time_basis": TIME_BASIS_LABELS[table.time_basis],
            "base": table.base,
            "part_of": table.part_of,
            "fields": len(table.template_fields),
            "checks": len(table.checks),
        }

    def describe(self, table: Table) -> dict[str, Any]:
        """One table in full: fields, code lists and checks in words — the data behind ``schema show``."""
        return {
            **self._summary(table),
            "physical": table.physical,
            "number_2019": table.number_2019,
            "category": table.category,
            "may_be_empty": table.may_be_empty,
            "depends_on": [self.name_of(table_id) for table_id in table.depends_on],
            "help": table.help,
            "field_list": [self._describe_field(field) for field in table.fields],
            "check_list": [
                {"id": check.id, "kind": CHECK_KIND_LABELS[check.kind], "severity": check.severity.value,
                 "rule": describe_check(check, self), "message": check.message, "hint": check.hint}
                for check in table.checks
            ],
            "unimplemented": [{"source": item.source, "reason": item.reason} for item in table.unimplemented],
        }

    def _describe_field(self, field: Field) -> dict[str, Any]:
        code_list = self.schema_set.code_lists.get(field.code_list) if field.code_list else None
        return {
            "key": field.key,
            "header": field.header,
            "type": FIELD_TYPE_LABELS[field.type],
            "required": field.required,
            "in_template": field.in_template,
            "code_list": code_list.name if code_list else None,
            "choices": _preview(code_list.labels()) if code_list else None,
            "constraints": describe_constraints(field),
            "help": field.help,
        }

    def name_of(self, table_id: str) -> str:
        try:
            return self.table_by_id(table_id).display_name
        except TableNotFound:
            return table_id


def _preview(labels: Iterable[str], limit: int = 8) -> str:
    items = list(labels)
    shown = "、".join(items[:limit])
    return shown + (f" 等 {len(items)} 项" if len(items) > limit else "")


def describe_constraints(field: Field) -> str:
    parts: list[str] = []
    if field.min is not None and field.max is not None:
        parts.append(f"{field.min:g}～{field.max:g}")
    elif field.min is not None:
        parts.append(f"≥ {field.min:g}")
    elif field.max is not None:
        parts.append(f"≤ {field.max:g}")
    if field.decimals is not None:
        parts.append(f"{field.decimals} 位小数")
    if field.max_length:
        parts.append(f"最多 {field.max_length} 字")
    if field.pattern_hint:
        parts.append(field.pattern_hint)
    if field.unit:
        parts.append(f"单位：{field.unit}")
    return "；".join(parts)


def _join(names: Iterable[str]) -> str:
    return "＋".join(names)


def _targets(targets: Iterable[ReferenceTarget], catalogue: Catalogue) -> str:
    return " 或 ".join(f"{catalogue.name_of(target.table)}（{_join(target.fields)}）" for target in targets)


def _bound(bound: DateBound) -> str:
    if bound.date is not None:
        return bound.date
    label = ANCHOR_LABELS[bound.anchor or "snapshot"]
    if bound.years:
        return f"{label}{'前' if bound.years < 0 else '后'} {abs(bound.years)} 年"
    return label


def describe_check(check: Check, catalogue: Catalogue) -> str:
    """A check in words, e.g. ``工号 在表内不重复``."""
    text = _describe_body(check, catalogue)
    return f"当 {check.when} 时：{text}" if check.when else text


def _describe_body(check: Check, catalogue: Catalogue) -> str:
    if isinstance(check, UniqueCheck):
        return f"{_join(check.fields)} 在表内不重复"
    if isinstance(check, ReferenceCheck):
        return f"{_join(check.fields)} 须存在于 {_targets(check.targets, catalogue)}"
    if isinstance(check, ExclusionCheck):
        return f"{_join(check.fields)} 不得出现在 {_targets(check.others, catalogue)}"
    if isinstance(check, CodeListCheck):
        pair = _join(name for name in (check.code_field, check.label_field) if name)
        if check.version_field:
            lists = "、".join(f"{version}版→{list_id}" for version, list_id in check.lists.items())
            by = f"按 {check.version_field} 选择的代码表（{lists}）"
        else:
            by = "代码表 " + "、".join(check.lists.values())
        return f"{pair} 须与{by}一致"
    if isinstance(check, DateWindowCheck):
        limits = [
            f"{word} {_bound(bound)}"
            for word, bound in (("不早于", check.not_before), ("晚于", check.after), ("不晚于", check.not_after), ("早于", check.before))
            if bound is not None
        ]
        return f"{check.field} {'，且 '.join(limits)}"
    if isinstance(check, RelationCheck | AggregateCheck):
        return check.assert_
    raise TypeError(type(check))


@cache
def _load_cached(directory: Path) -> Catalogue:
    return Catalogue(load_schema_set(directory), directory)


def load_catalogue(edition: str = "2020", directory: Path | None = None) -> Catalogue:
    """Load the catalogue of an edition (the built-in schemas unless ``directory`` is given)."""
    return _load_cached((directory or default_schema_dir(edition)).resolve())
