"""Which months an officer may report, why a month is refused, and reading a typed month."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fiscal import ReportMonth
from domain.models import Project
from domain.months import MonthOption, parse_month, project_span, reportable_months, why_not
from domain.thaidate import THAI_MONTHS_ABBR, THAI_MONTHS_FULL

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)

TODAY = date(2026, 11, 23)  # fiscal year 2570, report 2 (November 2569 BE)


def project(fiscal_year: int = 2570, start: date | None = None, end: date | None = None) -> Project:
    return Project(
        code="50140000-3629",
        name="ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน",
        fiscal_year=fiscal_year,
        start_date=start,
        end_date=end,
    )


def months(options: list[MonthOption]) -> list[tuple[int, int, bool]]:
    return [(o.month.fiscal_year, o.month.report_no, o.overdue) for o in options]


# reportable_months


def test_overdue_months_oldest_first_then_the_current_one() -> None:
    options = reportable_months(project(), set(), date(2027, 2, 10))
    assert months(options) == [
        (2570, 1, True),
        (2570, 2, True),
        (2570, 3, True),
        (2570, 4, True),
        (2570, 5, False),
    ]


def test_second_month_of_the_year() -> None:
    options = reportable_months(project(), set(), TODAY)
    assert months(options) == [(2570, 1, True), (2570, 2, False)]
    assert options[0].label == "ต.ค. 2569 (ครั้งที่ 1, ค้างส่ง)"
    assert options[1].label == "พ.ย. 2569 (ครั้งที่ 2, เดือนนี้)"


def test_last_september_is_not_offered_after_october() -> None:
    spanning = project(start=date(2025, 10, 1), end=date(2027, 9, 30))
    assert (2569, 12, True) not in months(reportable_months(spanning, set(), TODAY))


def test_in_october_last_september_is_overdue() -> None:
    spanning = project(start=date(2025, 10, 1), end=date(2027, 9, 30))
    options = reportable_months(spanning, set(), date(2026, 10, 5))
    assert months(options) == [(2569, 12, True), (2570, 1, False)]
    assert options[0].label == "ก.ย. 2569 (ครั้งที่ 12, ค้างส่ง)"


def test_in_october_a_project_of_the_year_just_ended_offers_its_missing_months() -> None:
    options = reportable_months(project(fiscal_year=2569), set(), date(2026, 10, 31))
    assert months(options) == [(2569, n, True) for n in range(1, 13)]
    reported = {ReportMonth(2569, n) for n in range(1, 12)}
    options = reportable_months(project(fiscal_year=2569), reported, date(2026, 10, 31))
    assert months(options) == [(2569, 12, True)]


def test_in_october_a_new_project_offers_only_october() -> None:
    options = reportable_months(project(fiscal_year=2570), set(), date(2026, 10, 1))
    assert months(options) == [(2570, 1, False)]


def test_months_outside_the_project_dates_are_left_out() -> None:
    short = project(start=date(2026, 12, 15), end=date(2027, 3, 10))
    options = reportable_months(short, set(), date(2027, 5, 1))
    # December counts (the project runs in it), April and May are after the end.
    assert months(options) == [(2570, 3, True), (2570, 4, True), (2570, 5, True), (2570, 6, True)]


def test_a_project_not_yet_started_offers_nothing() -> None:
    later = project(start=date(2027, 1, 1), end=date(2027, 9, 30))
    assert reportable_months(later, set(), TODAY) == []


def test_reported_months_are_left_out() -> None:
    reported = {ReportMonth(2570, 2), ReportMonth(2570, 4)}
    options = reportable_months(project(), reported, date(2027, 2, 10))
    assert months(options) == [(2570, 1, True), (2570, 3, True), (2570, 5, False)]


def test_everything_reported_offers_nothing() -> None:
    reported = {ReportMonth(2570, 1), ReportMonth(2570, 2)}
    assert reportable_months(project(), reported, TODAY) == []


def test_a_project_without_dates_spans_its_fiscal_year() -> None:
    assert project_span(project(fiscal_year=2564)) == (date(2020, 10, 1), date(2021, 9, 30))
    only_start = project(fiscal_year=2564, start=date(2020, 12, 1))
    assert project_span(only_start) == (date(2020, 12, 1), date(2021, 9, 30))
    # A project of an earlier fiscal year offers the months it never reported, and nothing
    # of this year (it has ended).
    earlier = reportable_months(project(fiscal_year=2568), set(), TODAY)
    assert months(earlier) == [(2568, n, True) for n in range(1, 13)]
    all_sent = {ReportMonth(2568, n) for n in range(1, 13)}
    assert reportable_months(project(fiscal_year=2568), all_sent, TODAY) == []


def test_last_month_of_the_year() -> None:
    options = reportable_months(project(fiscal_year=2564), set(), date(2021, 9, 27))
    assert [o.month.report_no for o in options] == list(range(1, 13))
    assert [o.overdue for o in options] == [True] * 11 + [False]


# why_not


def test_a_reportable_month_has_no_objection() -> None:
    assert why_not(project(), ReportMonth(2570, 1), set(), TODAY) is None
    assert why_not(project(), ReportMonth(2570, 2), set(), TODAY) is None


def test_future_month() -> None:
    message = why_not(project(), ReportMonth(2570, 3), set(), TODAY)
    assert message is not None
    assert "ยังไม่ถึงเดือน ธ.ค. 2569" in message


def test_the_first_day_of_a_month_may_report_it() -> None:
    assert why_not(project(), ReportMonth(2570, 3), set(), date(2026, 12, 1)) is None


def test_before_the_project_starts() -> None:
    late_start = project(start=date(2026, 11, 15))
    message = why_not(late_start, ReportMonth(2570, 1), set(), TODAY)
    assert message is not None
    assert "15 พ.ย. 2569" in message
    assert "ต.ค. 2569" in message
    assert "เริ่ม" in message
    # The month in which it starts may be reported.
    assert why_not(late_start, ReportMonth(2570, 2), set(), TODAY) is None


def test_after_the_project_ends() -> None:
    early_end = project(end=date(2026, 10, 20))
    message = why_not(early_end, ReportMonth(2570, 2), set(), TODAY)
    assert message is not None
    assert "20 ต.ค. 2569" in message
    assert "พ.ย. 2569" in message
    assert "สิ้นสุด" in message
    # The month in which it ends may be reported.
    assert why_not(early_end, ReportMonth(2570, 1), set(), TODAY) is None


def test_already_reported() -> None:
    message = why_not(project(), ReportMonth(2570, 2), {ReportMonth(2570, 2)}, TODAY)
    assert message is not None
    assert "พ.ย. 2569" in message
    assert "ครั้งที่ 2" in message
    assert "ส่งไปแล้ว" in message
    assert "แก้ไข" in message  # tells the officer how to change it instead


def test_a_future_month_is_future_before_it_is_outside_the_project() -> None:
    ended = project(end=date(2026, 10, 20))
    message = why_not(ended, ReportMonth(2570, 4), set(), TODAY)
    assert message is not None
    assert message.startswith("ยังไม่ถึงเดือน ม.ค. 2570")


def test_messages_are_short_thai() -> None:
    cases = [
        why_not(project(), ReportMonth(2570, 3), set(), TODAY),
        why_not(project(start=date(2026, 11, 15)), ReportMonth(2570, 1), set(), TODAY),
        why_not(project(end=date(2026, 10, 20)), ReportMonth(2570, 2), set(), TODAY),
        why_not(project(), ReportMonth(2570, 2), {ReportMonth(2570, 2)}, TODAY),
    ]
    for message in cases:
        assert message is not None
        assert any("\u0e01" <= char <= "\u0e5b" for char in message)
        assert len(message) <= 150


# parse_month

NOVEMBER_2569 = ReportMonth(2570, 2)


@pytest.mark.parametrize(
    "text",
    [
        "พ.ย.",
        "พย",
        "พ.ย",
        " พ. ย. ",
        "พฤศจิกายน",
        "พฤศจิกายน 2569",
        "พฤศจิกายน2569",
        "พ.ย. 2569",
        "พ.ย.๒๕๖๙",
        "11/2569",
        "11/69",
        "พ.ย. 69",
        "พฤศจิกายน ๖๙",
        "๑๑/๒๕๖๙",
        "11/2026",
        "ครั้งที่ 2",
        "ครั้งที่2",
        "ครั้งที่๒",
        "ครั้งที่ 02",
    ],
)
def test_parse_november(text: str) -> None:
    assert parse_month(text, TODAY) == NOVEMBER_2569


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ธันวาคม", ReportMonth(2569, 3)),  # December 2568 BE: the latest December up to today
        ("ธ.ค.", ReportMonth(2569, 3)),
        ("ตุลาคม", ReportMonth(2570, 1)),
        ("ม.ค.", ReportMonth(2569, 4)),
        ("กันยายน", ReportMonth(2569, 12)),
        ("ธันวาคม 2569", ReportMonth(2570, 3)),  # an explicit year is taken as it is
        ("ธันวาคม 2568", ReportMonth(2569, 3)),
        ("1/2570", ReportMonth(2570, 4)),
        ("ครั้งที่ 12", ReportMonth(2570, 12)),
        ("ครั้งที่ 1", ReportMonth(2570, 1)),
    ],
)
def test_parse_other_months(text: str, expected: ReportMonth) -> None:
    assert parse_month(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "สวัสดี",
        "2569",
        "11",
        "13/2569",
        "0/2569",
        "11/25",
        "พฤศจิกายน 25",
        "พ.ย. 2300",
        "ครั้งที่ 0",
        "ครั้งที่ 13",
        "ครั้งที่",
        "80%",
    ],
)
def test_parse_not_a_month(text: str) -> None:
    assert parse_month(text, TODAY) is None


@PROPERTY
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)),
    st.integers(min_value=1, max_value=12),
    st.booleans(),
)
def test_a_month_name_without_year_is_the_latest_up_to_today(
    today: date, calendar_month: int, abbreviated: bool
) -> None:
    name = (THAI_MONTHS_ABBR if abbreviated else THAI_MONTHS_FULL)[calendar_month - 1]
    parsed = parse_month(name, today)
    assert parsed is not None
    assert parsed.month == calendar_month
    assert parsed.first_day <= today
    assert parsed.first_day > today - timedelta(days=366)
