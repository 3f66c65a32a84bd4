"""The one finding type that flows from every check to the terminal, JSON and workbooks.

A finding says where (file, sheet, cell, column header — or a schema file and line),
which rule (a stable id), how bad, what is wrong and how to fix it, in plain Chinese.
It never carries whole datasets: only the offending value, shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "Location", "Severity", "shorten"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


SEVERITY_LABELS: dict[Severity, str] = {Severity.ERROR: "错误", Severity.WARNING: "警告"}

_MAX_VALUE_CHARS = 60


def shorten(value: Any) -> str:
    """The offending value as a short string for messages."""
    text = "" if value is None else str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points. Rows are Excel row numbers; ``line`` is a YAML line."""

    file: str | None = None
    sheet: str | None = None
    table: str | None = None
    department: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """A human-readable place, e.g. ``教务处.xlsx › 表1-4-1 › D12（专业代码）``."""
        parts = [part for part in (self.file, self.sheet) if part]
        if self.line is not None:
            parts[-1:] = [f"{parts[-1]}:{self.line}" if parts else f"第 {self.line} 行"]
        if self.cell:
            parts.append(f"{self.cell}（{self.column}）" if self.column else self.cell)
        elif self.row is not None:
            parts.append(f"第 {self.row} 行")
        elif self.column:
            parts.append(f"列“{self.column}”")
        return " › ".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    location: Location
    rule_id: str
    severity: Severity
    message: str
    hint: str
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The finding as every ``--format json`` writes it: one flat mapping, the same keys always."""
        where = self.location
        return {
            "file": where.file, "department": where.department, "table": where.table, "sheet": where.sheet,
            "row": where.row, "column": where.column, "cell": where.cell, "line": where.line, "rule": self.rule_id,
            "severity": self.severity.value, "message": self.message, "hint": self.hint, "value": self.value,
        }
