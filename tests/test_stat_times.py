from __future__ import annotations

from datetime import date

import pytest

from statecollect.schema import TimeBasis
from statecollect.stat_times import StatisticTimes


@pytest.mark.parametrize("year", [2019, 2020, 2024])
def test_times_follow_the_year(year: int) -> None:
    times = StatisticTimes.for_year(year)
    assert times.snapshot == date(year, 9, 30)
    assert (times.academic_start, times.academic_end) == (date(year - 1, 9, 1), date(year, 8, 31))
    assert (times.calendar_start, times.calendar_end) == (date(year - 1, 1, 1), date(year - 1, 12, 31))


def test_descriptions_for_2020() -> None:
    times = StatisticTimes.for_year(2020)
    assert times.describe(TimeBasis.SNAPSHOT) == "2020-09-30（时点）"
    assert times.describe(TimeBasis.ACADEMIC_YEAR) == "2019-09-01 至 2020-08-31（2019-2020学年）"
    assert times.describe(TimeBasis.CALENDAR_YEAR) == "2019-01-01 至 2019-12-31（2019自然年）"
    assert times.variables()["year"] == 2020
    assert times.anchor("academic_end") == date(2020, 8, 31)
