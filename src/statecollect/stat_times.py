"""Statistic times of a collection round, derived from its year — never hard-coded.

For collection year Y: 学年 (Y-1)-09-01…Y-08-31, 自然年 (Y-1)-01-01…(Y-1)-12-31,
时点 Y-09-30.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from statecollect.schema import DateBound, TimeBasis

__all__ = ["StatisticTimes"]


@dataclass(frozen=True)
class StatisticTimes:
    year: int
    snapshot: date
    academic_start: date
    academic_end: date
    calendar_start: date
    calendar_end: date

    @classmethod
    def for_year(cls, year: int) -> StatisticTimes:
        return cls(
            year=year,
            snapshot=date(year, 9, 30),
            academic_start=date(year - 1, 9, 1),
            academic_end=date(year, 8, 31),
            calendar_start=date(year - 1, 1, 1),
            calendar_end=date(year - 1, 12, 31),
        )

    def anchor(self, name: str) -> date:
        value = getattr(self, name)
        if not isinstance(value, date):
            raise KeyError(name)
        return value

    def bound(self, bound: DateBound) -> date:
        """The date a schema's time bound stands for: a fixed date, or an anchor shifted by whole years."""
        if bound.date is not None:
            parts = [int(part) for part in bound.date.split("-")] + [1, 1]
            return date(parts[0], parts[1], parts[2])
        anchor = self.anchor(bound.anchor or "snapshot")
        return anchor.replace(year=anchor.year + bound.years, day=min(anchor.day, 28) if anchor.month == 2 else anchor.day)

    def variables(self) -> dict[str, object]:
        """The ``$``-variables of the expression language."""
        return {
            "year": self.year,
            "snapshot": self.snapshot,
            "academic_start": self.academic_start,
            "academic_end": self.academic_end,
            "calendar_start": self.calendar_start,
            "calendar_end": self.calendar_end,
        }

    def describe(self, basis: TimeBasis) -> str:
        """The statistic time of a table in words, e.g. ``2019-09-01 至 2020-08-31（2019-2020学年）``."""
        if basis is TimeBasis.SNAPSHOT:
            return f"{self.snapshot.isoformat()}（时点）"
        if basis is TimeBasis.ACADEMIC_YEAR:
            return (
                f"{self.academic_start.isoformat()} 至 {self.academic_end.isoformat()}"
                f"（{self.year - 1}-{self.year}学年）"
            )
        return f"{self.calendar_start.isoformat()} 至 {self.calendar_end.isoformat()}（{self.year - 1}自然年）"
