"""The Thai fiscal calendar: report months, their days, and the fiscal year a day belongs to."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fiscal import BE_OFFSET, ReportMonth, fiscal_year_of

PROPERTY = settings(derandomize=True, max_examples=500, deadline=None)


@pytest.mark.parametrize(
    ("day", "fiscal_year", "report_no"),
    [
        (date(2020, 10, 1), 2564, 1),  # the seed's first report month
        (date(2020, 10, 31), 2564, 1),
        (date(2020, 11, 30), 2564, 2),
        (date(2020, 12, 31), 2564, 3),
        (date(2021, 1, 1), 2564, 4),  # a new calendar (and BE) year, the same fiscal year
        (date(2021, 2, 28), 2564, 5),
        (date(2021, 6, 15), 2564, 9),
        (date(2021, 9, 30), 2564, 12),  # the last day of the fiscal year
        (date(2021, 10, 1), 2565, 1),  # and the next one begins
        (date(2026, 11, 23), 2570, 2),
    ],
)
def test_containing(day: date, fiscal_year: int, report_no: int) -> None:
    assert ReportMonth.containing(day) == ReportMonth(fiscal_year, report_no)
    assert fiscal_year_of(day) == fiscal_year


def test_january_be_year_is_its_fiscal_year_but_not_that_of_october() -> None:
    january = ReportMonth.containing(date(2021, 1, 15))
    october = ReportMonth(january.fiscal_year, 1)
    assert january.year + BE_OFFSET == 2564 == january.fiscal_year
    assert october.year + BE_OFFSET == 2563 != october.fiscal_year


@pytest.mark.parametrize(
    ("report_no", "year", "month"),
    [(1, 2020, 10), (2, 2020, 11), (3, 2020, 12), (4, 2021, 1), (9, 2021, 6), (12, 2021, 9)],
)
def test_calendar_month_and_year(report_no: int, year: int, month: int) -> None:
    report = ReportMonth(2564, report_no)
    assert (report.year, report.month) == (year, month)


@pytest.mark.parametrize(
    ("report", "first", "last"),
    [
        (ReportMonth(2564, 1), date(2020, 10, 1), date(2020, 10, 31)),  # 31 days
        (ReportMonth(2564, 2), date(2020, 11, 1), date(2020, 11, 30)),  # 30 days
        (ReportMonth(2567, 5), date(2024, 2, 1), date(2024, 2, 29)),  # leap February
        (ReportMonth(2568, 5), date(2025, 2, 1), date(2025, 2, 28)),  # common February
        (ReportMonth(2543, 5), date(2000, 2, 1), date(2000, 2, 29)),  # divisible by 400: leap
        (ReportMonth(2443, 5), date(1900, 2, 1), date(1900, 2, 28)),  # divisible by 100: not
        (ReportMonth(2564, 12), date(2021, 9, 1), date(2021, 9, 30)),
        (ReportMonth(2564, 3), date(2020, 12, 1), date(2020, 12, 31)),
    ],
)
def test_first_and_last_day(report: ReportMonth, first: date, last: date) -> None:
    assert report.first_day == first
    assert report.last_day == last
    assert (report.last_day + timedelta(days=1)).day == 1


def test_previous_stays_within_the_fiscal_year() -> None:
    assert ReportMonth(2564, 1).previous() is None
    assert ReportMonth(2564, 2).previous() == ReportMonth(2564, 1)
    assert ReportMonth(2564, 12).previous() == ReportMonth(2564, 11)


def test_months_of_year() -> None:
    months = ReportMonth(2564, 7).months_of_year()
    assert months == [ReportMonth(2564, n) for n in range(1, 13)]
    assert months[0].first_day == date(2020, 10, 1)
    assert months[-1].last_day == date(2021, 9, 30)
    # Together the twelve months cover the fiscal year without a gap.
    for earlier, later in pairwise(months):
        assert earlier.last_day + timedelta(days=1) == later.first_day


def test_ordering_follows_time() -> None:
    shuffled = [ReportMonth(2565, 1), ReportMonth(2564, 12), ReportMonth(2564, 4)]
    assert sorted(shuffled) == [ReportMonth(2564, 4), ReportMonth(2564, 12), ReportMonth(2565, 1)]
    assert ReportMonth(2564, 12) < ReportMonth(2565, 1)
    assert ReportMonth(2564, 3) < ReportMonth(2564, 4)  # December before January
    assert max(shuffled) == ReportMonth(2565, 1)


def test_is_a_hashable_value() -> None:
    assert ReportMonth(2564, 1) == ReportMonth(2564, 1)
    assert len({ReportMonth(2564, 1), ReportMonth(2564, 1), ReportMonth(2564, 2)}) == 2


@pytest.mark.parametrize("report_no", [0, 13, -1, 100])
def test_invalid_report_number(report_no: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.12"):
        ReportMonth(2564, report_no)


@PROPERTY
@given(st.dates())
def test_containing_month_holds_the_day(day: date) -> None:
    month = ReportMonth.containing(day)
    assert 1 <= month.report_no <= 12
    assert month.first_day <= day <= month.last_day
    assert (month.year, month.month) == (day.year, day.month)
    assert ReportMonth.containing(month.first_day) == month
    assert ReportMonth.containing(month.last_day) == month
    assert fiscal_year_of(day) == month.fiscal_year


@PROPERTY
@given(st.integers(min_value=2000, max_value=3000), st.integers(min_value=1, max_value=12))
def test_month_round_trips_through_its_days(fiscal_year: int, report_no: int) -> None:
    month = ReportMonth(fiscal_year, report_no)
    assert ReportMonth.containing(month.first_day) == month
    assert ReportMonth.containing(month.last_day) == month
    previous = month.previous()
    if previous is not None:
        assert ReportMonth.containing(month.first_day - timedelta(days=1)) == previous
