"""The reporting calendar: working days, deadlines, reminder instants and what is due when."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fiscal import BE_OFFSET, ReportMonth
from scheduler.calendar import (
    BANGKOK,
    CalendarSettings,
    ReminderKind,
    ReportingCalendar,
    ThaiGovernmentHolidays,
)

PROPERTY = settings(derandomize=True, max_examples=100, deadline=None)

WINDOW, TWO_DAYS, DEADLINE, OVERDUE = (
    ReminderKind.WINDOW,
    ReminderKind.TWO_DAYS,
    ReminderKind.DEADLINE,
    ReminderKind.OVERDUE,
)

# One real Thai calendar for the whole module: the `holidays` data is loaded once per year.
THAI_DAYS_OFF = ThaiGovernmentHolidays()
THAI = ReportingCalendar(CalendarSettings(), holidays=THAI_DAYS_OFF)


def calendar(days_off: Iterable[date] = (), **options: Any) -> ReportingCalendar:
    """A calendar whose only holidays are `days_off`, with settings overridden by `options`."""
    off = frozenset(days_off)
    return ReportingCalendar(CalendarSettings(**options), holidays=off.__contains__)


def bkk(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BANGKOK)


def month(year: int, month_no: int) -> ReportMonth:
    return ReportMonth.containing(date(year, month_no, 1))


# ReminderKind and settings


def test_kinds_rank_by_urgency() -> None:
    assert sorted(ReminderKind, key=lambda k: k.urgency, reverse=True) == [
        OVERDUE,
        DEADLINE,
        TWO_DAYS,
        WINDOW,
    ]
    assert [str(kind) for kind in ReminderKind] == ["window", "two_days", "deadline", "overdue"]


def test_default_settings() -> None:
    defaults = CalendarSettings()
    assert defaults.timezone == ZoneInfo("Asia/Bangkok")
    assert defaults.window_days == 5
    assert (defaults.send_time, defaults.quiet_start, defaults.quiet_end) == (
        time(9),
        time(20),
        time(8),
    )
    assert defaults.plan == (WINDOW, TWO_DAYS, DEADLINE, OVERDUE)
    assert defaults.deadline == "last_working_day"
    assert defaults.overdue_grace_days == 10


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window_days": 0}, "window_days must be 1..27, not 0"),
        ({"window_days": 28}, "window_days must be 1..27, not 28"),
        ({"send_time": time(21)}, "send_time 21:00 falls in quiet hours 20:00-08:00"),
        ({"send_time": time(7, 59)}, "send_time 07:59 falls in quiet hours"),
        ({"send_time": time(20)}, "send_time 20:00 falls in quiet hours"),
        (
            {"quiet_start": time(12), "quiet_end": time(13), "send_time": time(12, 30)},
            "send_time 12:30 falls in quiet hours 12:00-13:00",
        ),
        ({"send_time": time(9, tzinfo=UTC)}, "send_time must be a wall-clock time"),
        ({"quiet_end": time(8, tzinfo=UTC)}, "quiet_end must be a wall-clock time"),
        ({"plan": ()}, "plan must name at least one reminder kind"),
        ({"plan": (WINDOW, WINDOW)}, "plan names a reminder kind twice"),
        ({"plan": ("window",)}, "plan may hold only ReminderKind members"),
        ({"deadline": "first_working_day"}, "deadline must be one of"),
        ({"overdue_grace_days": 0}, "overdue_grace_days must be at least 1, not 0"),
    ],
)
def test_settings_refuse_what_makes_no_sense(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CalendarSettings(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"window_days": 1},
        {"window_days": 27},
        {"send_time": time(8)},  # quiet hours end at 08:00, exclusive
        {"send_time": time(19, 59)},
        {"quiet_start": time(12), "quiet_end": time(13), "send_time": time(13)},
        {"quiet_start": time(0), "quiet_end": time(0), "send_time": time(3)},  # no quiet hours
        {"plan": (OVERDUE,)},
    ],
)
def test_settings_accept_the_edges(options: dict[str, Any]) -> None:
    CalendarSettings(**options)


# Working days


def test_working_days_skip_weekends_and_the_injected_holidays() -> None:
    cal = calendar({date(2026, 11, 26)})
    assert cal.is_working_day(date(2026, 11, 25))  # Wednesday
    assert not cal.is_working_day(date(2026, 11, 26))  # a holiday Thursday
    assert not cal.is_working_day(date(2026, 11, 28))  # Saturday
    assert not cal.is_working_day(date(2026, 11, 29))  # Sunday


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
        (date(2026, 11, 25), 1, date(2026, 11, 27)),  # over the holiday on the 26th
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # over the weekend
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # from a Saturday
        (date(2026, 11, 30), -2, date(2026, 11, 25)),
        (date(2026, 11, 29), -1, date(2026, 11, 27)),  # from a Sunday, backwards
        (date(2026, 11, 2), 20, date(2026, 12, 1)),
        (date(2026, 12, 1), -20, date(2026, 11, 2)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert calendar({date(2026, 11, 26)}).add_working_days(start, n) == expected


def test_zero_working_days_from_a_day_off_is_refused() -> None:
    with pytest.raises(ValueError, match="2026-11-28 is not a working day"):
        calendar().add_working_days(date(2026, 11, 28), 0)


def test_a_holiday_test_that_never_ends_fails_instead_of_hanging() -> None:
    everything_off = ReportingCalendar(CalendarSettings(), holidays=lambda day: True)
    with pytest.raises(ValueError, match="no working day within 366 days"):
        everything_off.add_working_days(date(2026, 11, 2), 1)
    with pytest.raises(ValueError, match="has no working day"):
        everything_off.deadline(month(2026, 11))


# Deadlines and reminder instants, without holidays


@pytest.mark.parametrize(
    ("year", "month_no", "opens", "plan"),
    [
        # 28 days, ending on a Friday; the window opens on Sunday 23rd, so WINDOW goes on Monday.
        (2025, 2, date(2025, 2, 23), [(24, 2), (26, 2), (28, 2), (3, 3)]),
        # 29 days, ending on a Thursday; the window opens on Saturday 24th.
        (2024, 2, date(2024, 2, 24), [(26, 2), (27, 2), (29, 2), (1, 3)]),
        # 30 days, ending on a Monday: TWO_DAYS goes back over the weekend.
        (2026, 11, date(2026, 11, 25), [(25, 11), (26, 11), (30, 11), (1, 12)]),
        # 31 days, ending on a Sunday: the deadline moves back to Friday 29th.
        (2027, 1, date(2027, 1, 26), [(26, 1), (27, 1), (29, 1), (1, 2)]),
    ],
)
def test_month_ends_of_every_length(
    year: int, month_no: int, opens: date, plan: list[tuple[int, int]]
) -> None:
    cal = calendar()
    reported = month(year, month_no)
    assert cal.window_opens(reported) == opens
    assert cal.deadline(reported) == date(year, month_no, plan[2][0])
    expected = [
        (kind, bkk(year + (1 if m < month_no else 0), m, d))
        for kind, (d, m) in zip(ReminderKind, plan, strict=True)
    ]
    assert cal.reminders(reported) == expected


def test_a_holiday_on_the_last_day_moves_the_deadline_back() -> None:
    cal = calendar({date(2026, 12, 31), date(2027, 1, 1)})
    december = month(2026, 12)
    assert cal.deadline(december) == date(2026, 12, 30)
    # The window opens on Saturday 26th, so on Monday 28th: TWO_DAYS's day, and TWO_DAYS wins.
    assert cal.reminders(december) == [
        (TWO_DAYS, bkk(2026, 12, 28)),
        (DEADLINE, bkk(2026, 12, 30)),
        (OVERDUE, bkk(2027, 1, 4)),
    ]


@pytest.mark.parametrize(
    ("window_days", "kinds"),
    [
        (5, [WINDOW, TWO_DAYS, DEADLINE, OVERDUE]),  # opens Wednesday 25th
        (4, [TWO_DAYS, DEADLINE, OVERDUE]),  # opens Thursday 26th, TWO_DAYS's day
        (3, [TWO_DAYS, DEADLINE, OVERDUE]),  # opens Friday 27th, after TWO_DAYS: dropped
        (2, [TWO_DAYS, DEADLINE, OVERDUE]),  # Saturday -> Monday 30th, the deadline
        (1, [TWO_DAYS, DEADLINE, OVERDUE]),  # Sunday -> Monday 30th, the deadline
    ],
)
def test_a_late_window_gives_way_to_more_urgent_reminders(
    window_days: int, kinds: list[ReminderKind]
) -> None:
    reminders = calendar(window_days=window_days).reminders(month(2026, 11))
    assert [kind for kind, _ in reminders] == kinds


def test_a_window_that_would_open_after_the_deadline_comes_on_the_deadline() -> None:
    # January 2027 ends on a Sunday: a window opening on Saturday 30th moves to Monday 1 February,
    # which is past the deadline (Friday 29th), so it is held to the deadline and merges into it.
    cal = calendar(window_days=1, plan=(WINDOW, OVERDUE))
    assert cal.reminders(month(2027, 1)) == [(WINDOW, bkk(2027, 1, 29)), (OVERDUE, bkk(2027, 2, 1))]
    cal = calendar(window_days=1)
    assert cal.reminders(month(2027, 1))[-2:] == [
        (DEADLINE, bkk(2027, 1, 29)),
        (OVERDUE, bkk(2027, 2, 1)),
    ]


def test_without_two_days_in_the_plan_a_late_window_stays() -> None:
    cal = calendar(window_days=3, plan=(WINDOW, DEADLINE, OVERDUE))
    assert cal.reminders(month(2026, 11)) == [
        (WINDOW, bkk(2026, 11, 27)),
        (DEADLINE, bkk(2026, 11, 30)),
        (OVERDUE, bkk(2026, 12, 1)),
    ]


def test_reminders_follow_the_settings_zone_and_send_time() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    cal = calendar(timezone=tokyo, send_time=time(10, 30), plan=(DEADLINE,))
    assert cal.reminders(month(2026, 11)) == [
        (DEADLINE, datetime(2026, 11, 30, 10, 30, tzinfo=tokyo))
    ]


# The turn of the fiscal year, and of the Buddhist year


def test_septembers_overdue_comes_in_october_and_belongs_to_the_old_fiscal_year() -> None:
    cal = calendar()
    september = month(2026, 9)
    assert september == ReportMonth(2569, 12)
    assert cal.reminders(september)[-1] == (OVERDUE, bkk(2026, 10, 1))
    assert cal.month_of(bkk(2026, 10, 1)) == ReportMonth(2570, 1)
    assert cal.due_at(bkk(2026, 10, 1, 9)) == [(ReportMonth(2569, 12), OVERDUE, bkk(2026, 10, 1))]


def test_the_month_in_progress_is_read_in_the_settings_zone() -> None:
    cal = calendar()
    assert cal.month_of(bkk(2026, 9, 30, 23, 59)) == ReportMonth(2569, 12)
    # 17:30 UTC on 30 September is 00:30 on 1 October in Bangkok.
    assert cal.month_of(datetime(2026, 9, 30, 17, 30, tzinfo=UTC)) == ReportMonth(2570, 1)


def test_january_changes_the_buddhist_year_but_not_the_fiscal_year() -> None:
    cal = calendar()
    december, january = cal.month_of(bkk(2026, 12, 31, 12)), cal.month_of(bkk(2027, 1, 1, 12))
    assert (december, january) == (ReportMonth(2570, 3), ReportMonth(2570, 4))
    buddhist_years = (december.year + BE_OFFSET, january.year + BE_OFFSET)
    assert buddhist_years == (2569, 2570)
    assert cal.due_at(bkk(2027, 1, 1, 9)) == [(december, OVERDUE, bkk(2027, 1, 1))]


# Quiet hours


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(7, 59, True), (8, 0, False), (12, 0, False), (19, 59, False), (20, 0, True), (23, 30, True)],
)
def test_quiet_hours_wrap_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert calendar().in_quiet_hours(bkk(2026, 11, 25, hour, minute)) is quiet


def test_quiet_hours_are_read_in_the_settings_zone() -> None:
    # 14:00 UTC is 21:00 in Bangkok.
    assert calendar().in_quiet_hours(datetime(2026, 11, 25, 14, tzinfo=UTC))
    assert not calendar().in_quiet_hours(datetime(2026, 11, 25, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (bkk(2026, 11, 25, 21), bkk(2026, 11, 26, 8)),
        (bkk(2026, 11, 26, 3), bkk(2026, 11, 26, 8)),
        (bkk(2026, 11, 25, 10, 15), bkk(2026, 11, 25, 10, 15)),
        (bkk(2026, 11, 25, 8), bkk(2026, 11, 25, 8)),
        (bkk(2026, 12, 31, 22), bkk(2027, 1, 1, 8)),
        (datetime(2026, 11, 25, 14, tzinfo=UTC), bkk(2026, 11, 26, 8)),
    ],
)
def test_next_send_time(at: datetime, expected: datetime) -> None:
    sent = calendar().next_send_time(at)
    assert sent == expected
    assert sent.tzinfo == BANGKOK


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    cal = calendar(quiet_start=time(12), quiet_end=time(13))
    assert cal.in_quiet_hours(bkk(2026, 11, 25, 12, 30))
    assert not cal.in_quiet_hours(bkk(2026, 11, 25, 13))
    assert not cal.in_quiet_hours(bkk(2026, 11, 25, 23))
    assert cal.next_send_time(bkk(2026, 11, 25, 12, 30)) == bkk(2026, 11, 25, 13)


def test_equal_quiet_start_and_end_mean_no_quiet_hours() -> None:
    cal = calendar(quiet_start=time(0), quiet_end=time(0))
    assert not any(cal.in_quiet_hours(bkk(2026, 11, 25, hour)) for hour in range(24))


def test_nothing_is_due_in_quiet_hours() -> None:
    cal = calendar()
    assert cal.due_at(bkk(2026, 11, 30, 19, 59)) == [(month(2026, 11), DEADLINE, bkk(2026, 11, 30))]
    assert cal.due_at(bkk(2026, 11, 30, 21)) == []
    assert cal.due_at(bkk(2026, 12, 1, 7, 59)) == []


# What is due when


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (bkk(2026, 11, 24, 12), []),  # October's OVERDUE (2 Nov) is stale since 16 Nov
        (bkk(2026, 11, 25, 8, 59), []),
        (bkk(2026, 11, 25, 9), [WINDOW]),
        (bkk(2026, 11, 25, 19), [WINDOW]),
        (bkk(2026, 11, 26, 9), [TWO_DAYS]),  # WINDOW is stale once TWO_DAYS has come
        (bkk(2026, 11, 28, 12), [TWO_DAYS]),  # a Saturday: still the latest of the month
        (bkk(2026, 11, 30, 9), [DEADLINE]),
        (bkk(2026, 12, 1, 8, 30), []),  # the deadline day is over; OVERDUE has not come
        (bkk(2026, 12, 1, 9), [OVERDUE]),
        (bkk(2026, 12, 14, 19), [OVERDUE]),  # the 10th working day from 1 December
        (bkk(2026, 12, 15, 8), []),  # 10 working days have passed: stale
    ],
)
def test_only_the_latest_live_reminder_of_a_month_is_due(
    at: datetime, expected: list[ReminderKind]
) -> None:
    cal = calendar()
    due = cal.due_at(at)
    assert [kind for _, kind, _ in due] == expected
    assert all(reported == month(2026, 11) for reported, _, _ in due)


def test_after_downtime_the_missed_reminders_collapse_into_the_latest() -> None:
    # The bot was down from the 20th; at start-up on the deadline morning only DEADLINE is due,
    # not the WINDOW and TWO_DAYS it missed.
    assert calendar().due_at(bkk(2026, 11, 30, 10, 5)) == [
        (month(2026, 11), DEADLINE, bkk(2026, 11, 30))
    ]


def test_last_months_overdue_and_this_months_window_can_both_be_due() -> None:
    cal = calendar(window_days=10, overdue_grace_days=15)
    assert cal.due_at(bkk(2025, 2, 18, 9)) == [
        (month(2025, 1), OVERDUE, bkk(2025, 2, 3)),
        (month(2025, 2), WINDOW, bkk(2025, 2, 18)),
    ]
    assert cal.due_at(bkk(2025, 2, 24, 9)) == [(month(2025, 2), WINDOW, bkk(2025, 2, 18))]


def test_a_long_grace_keeps_older_overdue_reminders_live() -> None:
    cal = calendar(overdue_grace_days=45)
    assert [(m, kind) for m, kind, _ in cal.due_at(bkk(2025, 4, 1, 10))] == [
        (month(2025, 1), OVERDUE),
        (month(2025, 2), OVERDUE),
        (month(2025, 3), OVERDUE),
    ]


def test_a_plan_without_overdue_stops_at_the_end_of_the_deadline_day() -> None:
    cal = calendar(plan=(WINDOW, DEADLINE))
    assert cal.due_at(bkk(2026, 11, 30, 19)) == [(month(2026, 11), DEADLINE, bkk(2026, 11, 30))]
    assert cal.due_at(bkk(2026, 12, 1, 9)) == []


@pytest.mark.parametrize(
    "call",
    [
        ReportingCalendar.due_at,
        ReportingCalendar.in_quiet_hours,
        ReportingCalendar.next_send_time,
        ReportingCalendar.month_of,
    ],
)
def test_naive_datetimes_are_refused(call: Any) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        call(calendar(), datetime(2026, 11, 25, 9))


# The real Thai calendar, on days checked against the `holidays` data


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 4), True),
        (date(2026, 12, 7), False),  # in lieu of King Bhumibol's Birthday, Saturday 5 December
        (date(2026, 12, 8), True),
        (date(2026, 12, 10), False),  # Constitution Day
        (date(2026, 12, 31), False),  # New Year's Eve
        (date(2026, 1, 2), False),  # a cabinet-declared bridge day
        (date(2026, 4, 13), False),  # Songkran 13-15 April
        (date(2026, 4, 15), False),
        (date(2026, 4, 16), True),
        (date(2026, 5, 1), True),  # Labour Day: government offices work
        (date(2027, 5, 3), True),  # Labour Day's in-lieu Monday, likewise
        (date(2026, 5, 13), False),  # Royal Ploughing Ceremony, a government day off
        (date(2026, 6, 1), False),  # in lieu of Visakha Bucha, Sunday 31 May
    ],
)
def test_thai_days_off(day: date, working: bool) -> None:
    assert THAI.is_working_day(day) is working


def test_songkran_is_skipped_by_working_day_arithmetic() -> None:
    assert THAI.add_working_days(date(2026, 4, 10), 1) == date(2026, 4, 16)


def test_december_2026_in_the_thai_calendar() -> None:
    december = month(2026, 12)
    assert THAI.deadline(december) == date(2026, 12, 30)  # 31 December is New Year's Eve
    assert THAI.reminders(december) == [
        (TWO_DAYS, bkk(2026, 12, 28)),  # the window opens Saturday 26th -> Monday 28th: merged
        (DEADLINE, bkk(2026, 12, 30)),
        (OVERDUE, bkk(2027, 1, 4)),  # after New Year's Eve, New Year's Day and a weekend
    ]
    assert THAI.due_at(bkk(2027, 1, 4, 9)) == [(december, OVERDUE, bkk(2027, 1, 4))]


def test_labour_day_can_be_counted_as_a_day_off() -> None:
    assert ThaiGovernmentHolidays(labour_day_off=True)(date(2026, 5, 1))
    assert ThaiGovernmentHolidays(labour_day_off=True)(date(2027, 5, 3))


def test_days_the_package_does_not_know_yet_can_be_added() -> None:
    later = date(2027, 5, 12)
    assert not ThaiGovernmentHolidays()(later)
    assert ThaiGovernmentHolidays(extra_days_off=[later])(later)


def test_thai_holidays_do_not_depend_on_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    # The package names holidays in the locale's language unless told; Labour Day is found by
    # its Thai name, so an English locale must not bring it back as a day off.
    monkeypatch.setenv("LANGUAGE", "en_US")
    days_off = ThaiGovernmentHolidays()
    assert not days_off(date(2026, 5, 1))
    assert days_off(date(2026, 12, 7))


def test_thai_holidays_are_loaded_once_per_year() -> None:
    days_off = ThaiGovernmentHolidays()
    assert days_off.days_off(2026) is days_off.days_off(2026)
    assert date(2026, 12, 7) in days_off.days_off(2026)
    assert date(2026, 12, 7) not in days_off.days_off(2027)


# Properties

months = st.builds(
    lambda year, month_no: ReportMonth.containing(date(year, month_no, 1)),
    st.integers(2024, 2035),
    st.integers(1, 12),
)
plans = st.lists(st.sampled_from(list(ReminderKind)), min_size=1, unique=True).map(tuple)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.sampled_from([BANGKOK, UTC, ZoneInfo("America/New_York")]),
)


@PROPERTY
@given(months)
def test_the_deadline_is_the_last_working_day_of_its_month(reported: ReportMonth) -> None:
    deadline = THAI.deadline(reported)
    assert reported.first_day <= deadline <= reported.last_day
    assert THAI.is_working_day(deadline)
    later = [
        deadline + timedelta(days=n) for n in range(1, (reported.last_day - deadline).days + 1)
    ]
    assert not any(THAI.is_working_day(day) for day in later)


@PROPERTY
@given(months, st.integers(1, 27), plans)
def test_reminders_are_increasing_and_on_working_days_at_send_time(
    reported: ReportMonth, window_days: int, plan: tuple[ReminderKind, ...]
) -> None:
    settings = CalendarSettings(window_days=window_days, plan=plan)
    cal = ReportingCalendar(settings, holidays=THAI_DAYS_OFF)
    reminders = cal.reminders(reported)
    assert reminders
    assert all(a[1] < b[1] for a, b in pairwise(reminders))
    assert all(a[0].urgency < b[0].urgency for a, b in pairwise(reminders))
    assert {kind for kind, _ in reminders} <= set(plan)
    assert max(plan, key=lambda k: k.urgency) == reminders[-1][0]
    for kind, instant in reminders:
        assert instant.tzinfo == BANGKOK
        assert instant.time() == time(9)
        assert cal.is_working_day(instant.date())
        deadline = cal.deadline(reported)
        if kind is OVERDUE:
            assert instant.date() > deadline
        else:
            assert instant.date() <= deadline


@PROPERTY
@given(instants)
def test_due_reminders_have_come_and_are_one_a_month(at: datetime) -> None:
    due = THAI.due_at(at)
    assert all(instant <= at for _, _, instant in due)
    assert len({reported for reported, _, _ in due}) == len(due)
    assert [instant for _, _, instant in due] == sorted(instant for _, _, instant in due)
    if THAI.in_quiet_hours(at):
        assert due == []
    for reported, kind, instant in due:
        assert (kind, instant) in THAI.reminders(reported)
        later = [t for _, t in THAI.reminders(reported) if instant < t <= at]
        assert later == []


@PROPERTY
@given(instants)
def test_the_next_send_time_is_not_before_and_not_quiet(at: datetime) -> None:
    sent = THAI.next_send_time(at)
    assert sent >= at
    assert not THAI.in_quiet_hours(sent)
    assert sent - at <= timedelta(hours=12)


@PROPERTY
@given(st.dates(date(2024, 1, 1), date(2035, 12, 31)), st.integers(-40, 40))
def test_working_day_steps_undo_each_other(day: date, n: int) -> None:
    start = THAI.add_working_days(day, 1)
    assert THAI.add_working_days(THAI.add_working_days(start, n), -n) == start
