"""The typed schema model: code lists, fields, declarative checks, tables and a schema set.

Everything here is data read from ``schemas/<edition>/``; the check engine interprets
it. Adding a table, a field or a check is a YAML edit, never new Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, dataclass_transform

from statecollect.findings import Severity

if TYPE_CHECKING:
    from pydantic import Field as PydanticField
else:
    def PydanticField(**options: Any) -> Any:
        """pydantic's ``Field``, imported when pydantic first reads an annotation: see :class:`Model`."""
        from pydantic import Field

        return Field(**options)

__all__ = [
    "AggregateCheck",
    "Category",
    "Check",
    "CodeEntry",
    "CodeList",
    "CodeListCheck",
    "DateBound",
    "DateWindowCheck",
    "DefaultSplit",
    "ExclusionCheck",
    "Field",
    "FieldType",
    "Model",
    "model",
    "ReferenceCheck",
    "ReferenceTarget",
    "RelationCheck",
    "SchemaSet",
    "Severity",
    "Shape",
    "Table",
    "TimeBasis",
    "Unimplemented",
    "UniqueCheck",
]


T = TypeVar("T")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def model(cls: type[T]) -> type[T]:
    """How every model is declared: a frozen dataclass whose fields are given by name."""
    return dataclass(frozen=True, kw_only=True)(cls)


class Model:
    """The models are frozen dataclasses that pydantic checks when they are read from YAML
    (:func:`statecollect.yamlsource.validated`). Every command loads them from the cache, and
    importing pydantic took longer than checking a small workbook: their annotations, pydantic's
    names in them included, stay strings until pydantic reads them."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}


class Shape(StrEnum):
    FORM = "form"
    LIST = "list"


class TimeBasis(StrEnum):
    SNAPSHOT = "snapshot"
    ACADEMIC_YEAR = "academic_year"
    CALENDAR_YEAR = "calendar_year"


TIME_BASIS_LABELS: dict[TimeBasis, str] = {
    TimeBasis.SNAPSHOT: "时点",
    TimeBasis.ACADEMIC_YEAR: "学年",
    TimeBasis.CALENDAR_YEAR: "自然年",
}


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    ID = "id"
    INTEGER = "integer"
    DECIMAL = "decimal"
    YEAR = "year"
    YEAR_MONTH = "year_month"
    DATE = "date"
    CODE = "code"
    YES_NO = "yes_no"
    URL = "url"
    EMAIL = "email"
    PHONE = "phone"


FIELD_TYPE_LABELS: dict[FieldType, str] = {
    FieldType.TEXT: "文本",
    FieldType.LONG_TEXT: "长文本",
    FieldType.ID: "编号（文本）",
    FieldType.INTEGER: "整数",
    FieldType.DECIMAL: "小数",
    FieldType.YEAR: "年份 YYYY",
    FieldType.YEAR_MONTH: "年月 YYYY-MM",
    FieldType.DATE: "日期 YYYY-MM-DD",
    FieldType.CODE: "代码表选项",
    FieldType.YES_NO: "是/否",
    FieldType.URL: "网址",
    FieldType.EMAIL: "电子邮箱",
    FieldType.PHONE: "电话",
}

NUMERIC_TYPES = frozenset({FieldType.INTEGER, FieldType.DECIMAL})
TEMPORAL_TYPES = frozenset({FieldType.YEAR, FieldType.YEAR_MONTH, FieldType.DATE})


# --------------------------------------------------------------------------- code lists


@model
class CodeEntry(Model):
    code: str
    label: str
    parent: str | None = None


@model
class CodeList(Model):
    """A value list for dropdowns and membership checks.

    ``source`` names where the values come from; ``note`` records corrections made to a
    garbled source list. Majors and disciplines also carry their grouping levels.
    """

    id: Annotated[str, PydanticField(pattern=r"^[A-Z][A-Z0-9_]*$")]
    name: str
    source: str
    note: str | None = None
    parent_list: str | None = None
    categories: tuple[CodeEntry, ...] = ()
    groups: tuple[CodeEntry, ...] = ()
    values: tuple[CodeEntry, ...]

    def __post_init__(self) -> None:
        _reject_duplicates([entry.code for entry in self.values], "code")

    def labels(self) -> tuple[str, ...]:
        return tuple(entry.label for entry in self.values)


def _reject_duplicates(items: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"duplicate {what} {item!r}")
        seen.add(item)


# --------------------------------------------------------------------------- fields


@model
class Field(Model):
    """One column of a table (or one line of a form table)."""

    key: Annotated[str, PydanticField(pattern=r"^[A-Z][A-Z0-9_]*$")]
    header: str
    type: FieldType
    required: bool = True
    in_template: bool = True
    code_list: str | None = None
    parent_field: str | None = None
    pattern: str | None = None
    pattern_hint: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    decimals: int | None = None
    unit: str | None = None
    help: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.type is FieldType.CODE and not self.code_list:
            raise ValueError("a code field needs code_list")
        if self.code_list and self.type is not FieldType.CODE:
            raise ValueError("code_list is only for type code")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern: {exc}") from exc
        if (self.min is not None or self.max is not None) and self.type not in NUMERIC_TYPES:
            raise ValueError("min/max are only for integer and decimal fields")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")


# --------------------------------------------------------------------------- checks


# the checks whose condition YAML writes `assert:` (a Python keyword) into the field `assert_`: either name is accepted
_ALIASED: dict[str, Any] = {**Model.__pydantic_config__, "populate_by_name": True}


@model
class _CheckBase(Model):
    id: Annotated[str, PydanticField(pattern=r"^[A-Z][A-Z0-9_]*\.[a-z0-9_]+$")]
    severity: Severity = Severity.ERROR
    message: str
    hint: str
    source: tuple[str, ...] = ()
    note: str | None = None
    when: str | None = None


@model
class UniqueCheck(_CheckBase):
    """The combination of ``fields`` must not repeat within the table."""

    kind: Literal["unique"]
    fields: tuple[str, ...]


@model
class ReferenceTarget(Model):
    table: str
    fields: tuple[str, ...]


@model
class ReferenceCheck(_CheckBase):
    """The values of ``fields`` must exist as ``fields`` of at least one target table."""

    kind: Literal["reference"]
    fields: tuple[str, ...]
    targets: tuple[ReferenceTarget, ...]

    def __post_init__(self) -> None:
        for target in self.targets:
            if len(target.fields) != len(self.fields):
                raise ValueError(f"target {target.table} names {len(target.fields)} fields, expected {len(self.fields)}")


@model
class ExclusionCheck(_CheckBase):
    """The values of ``fields`` must not appear among the keys of the other tables."""

    kind: Literal["exclusion"]
    fields: tuple[str, ...]
    others: tuple[ReferenceTarget, ...]


@model
class CodeListCheck(_CheckBase):
    """A code and its label must be a pair of one code list, chosen by a version field."""

    kind: Literal["code_list"]
    code_field: str
    label_field: str | None = None
    version_field: str | None = None
    lists: dict[str, str]


@model
class RelationCheck(_CheckBase):
    """A condition every record must meet (``assert``), optionally only ``when`` another holds."""

    kind: Literal["relation"]
    assert_: Annotated[str, PydanticField(alias="assert")]
    fields: tuple[str, ...] = ()

    __pydantic_config__: ClassVar[dict[str, Any]] = _ALIASED


BoundAnchor = Literal["snapshot", "academic_start", "academic_end", "calendar_start", "calendar_end"]


@model
class DateBound(Model):
    """A date relative to the statistic times: an anchor shifted by whole years, or a fixed date."""

    anchor: BoundAnchor | None = None
    years: int = 0
    date: str | None = None

    def __post_init__(self) -> None:
        if (self.anchor is None) == (self.date is None):
            raise ValueError("a bound needs exactly one of anchor or date")
        if self.date is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", self.date):
            raise ValueError("date must be YYYY, YYYY-MM or YYYY-MM-DD")


@model
class DateWindowCheck(_CheckBase):
    """A year, month or date field must lie inside a window; compared at the field's precision."""

    kind: Literal["date_window"]
    field: str
    not_before: DateBound | None = None
    after: DateBound | None = None
    not_after: DateBound | None = None
    before: DateBound | None = None

    def __post_init__(self) -> None:
        if not (self.not_before or self.after or self.not_after or self.before):
            raise ValueError("a date window needs at least one bound")


@model
class AggregateCheck(_CheckBase):
    """A condition over whole tables: sums, counts, other tables' values."""

    kind: Literal["aggregate"]
    assert_: Annotated[str, PydanticField(alias="assert")]

    __pydantic_config__: ClassVar[dict[str, Any]] = _ALIASED


Check = UniqueCheck | ReferenceCheck | ExclusionCheck | CodeListCheck | RelationCheck | DateWindowCheck | AggregateCheck

CHECK_KIND_LABELS: dict[str, str] = {
    "unique": "唯一性",
    "reference": "存在性（引用）",
    "exclusion": "排它性",
    "code_list": "代码对照",
    "relation": "字段间关系",
    "date_window": "时间范围",
    "aggregate": "汇总/跨表比较",
}


@model
class Unimplemented(Model):
    """A platform rule statement the engine does not check, with the reason."""

    source: str
    reason: str


# --------------------------------------------------------------------------- tables


@model
class Table(Model):
    id: Annotated[str, PydanticField(pattern=r"^[A-Z][A-Z0-9]*$")]
    physical: str
    number: str
    number_2019: str
    title: str
    category: int
    shape: Shape
    time_basis: TimeBasis
    base: bool = False
    may_be_empty: bool = False
    part_of: str | None = None
    folded_from: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    help: str | None = None
    note: str | None = None
    fields: tuple[Field, ...]
    checks: tuple[Annotated[Check, PydanticField(discriminator="kind")], ...] = ()
    unimplemented: tuple[Unimplemented, ...] = ()

    def __post_init__(self) -> None:
        _reject_duplicates([field.key for field in self.fields], "field key")
        _reject_duplicates([field.header for field in self.fields], "field header")
        _reject_duplicates([check.id for check in self.checks], "check id")

    @property
    def template_fields(self) -> tuple[Field, ...]:
        """The columns of the platform's import template, in order."""
        return tuple(field for field in self.fields if field.in_template)

    def field(self, header: str) -> Field | None:
        return next((field for field in self.fields if field.header == header), None)

    @property
    def display_name(self) -> str:
        return f"表{self.number} {self.title}"


@model
class Category(Model):
    number: int
    title: str


@model
class DefaultAssignment(Model):
    responsible: str
    helpers: tuple[str, ...] = ()


@model
class OnlyFor(Model):
    """Tables (or whole categories) collected by default only in schools of the given types."""

    tables: tuple[str, ...] = ()
    categories: tuple[int, ...] = ()
    school_types: tuple[str, ...]


@model
class DefaultSplit(Model):
    """The edition's default task split (任务分解表), written out by ``init``."""

    departments: tuple[str, ...]
    only_for: tuple[OnlyFor, ...] = ()
    assignments: dict[str, DefaultAssignment]

    def collected_by_default(self, table: Table, school_type: str) -> bool:
        for rule in self.only_for:
            if table.id in rule.tables or table.category in rule.categories:
                return school_type in rule.school_types
        return True


@model
class SchemaSet(Model):
    """One edition's complete schema: categories, tables in catalogue order, code lists."""

    edition: str
    title: str
    categories: tuple[Category, ...]
    tables: tuple[Table, ...]
    code_lists: dict[str, CodeList]
    default_split: DefaultSplit | None = None
