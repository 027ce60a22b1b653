"""The reporting calendar: which month is being reported, its deadline, and when to remind.

The rules, in plain words:

- A reporting month is a calendar month, numbered within its fiscal year as in
  `domain.fiscal.ReportMonth` (October is report 1 of the fiscal year named by the Buddhist
  year in which it ends).
- A working day is Monday to Friday and not a day off. By default the days off are the Thai
  government holidays from the `holidays` package (see `ThaiGovernmentHolidays` for which).
- The deadline is the last working day of the month.
- The window opens `window_days` days before the last day of the month (30 Nov -> 25 Nov).
- Reminders go out at `send_time`, in the settings' time zone, on working days:
  WINDOW when the window opens (or on the next working day, but never after the deadline),
  TWO_DAYS on the second working day before the deadline, DEADLINE on the deadline day, and
  OVERDUE on the first working day after it (so in the next month).
- Urgency runs OVERDUE > DEADLINE > TWO_DAYS > WINDOW. A reminder is kept only if it comes
  strictly before every more urgent one: of two on the same day only the more urgent goes out,
  and a WINDOW that would come after TWO_DAYS is dropped.
- A reminder is due at an instant once it has come, until a later reminder of the same month
  has come or it has gone stale: reminders before the deadline go stale when the deadline day
  ends, OVERDUE after `overdue_grace_days` working days. So at most one reminder per month is
  due, the latest; after downtime the missed ones collapse into that one.
- Nothing is due in quiet hours (20:00-08:00 by default). Quiet hours may wrap midnight or not;
  equal start and end mean no quiet hours.
- Every instant is timezone-aware; a naive datetime is refused with ValueError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from domain.fiscal import ReportMonth

BANGKOK = ZoneInfo("Asia/Bangkok")

HolidayTest = Callable[[date], bool]
DeadlineRule = Literal["last_working_day"]

# A search for a working day gives up after this many days off in a row: only a broken holiday
# test (one that says every day is off) could need that many, and it must not hang the bot.
_SEARCH_LIMIT = 366

_ONE_DAY = timedelta(days=1)


class ReminderKind(StrEnum):
    """What a reminder says; members are listed from least to most urgent."""

    WINDOW = "window"
    TWO_DAYS = "two_days"
    DEADLINE = "deadline"
    OVERDUE = "overdue"

    @property
    def urgency(self) -> int:
        """Rank of urgency: WINDOW 0 < TWO_DAYS 1 < DEADLINE 2 < OVERDUE 3."""
        return list(ReminderKind).index(self)


def _within(moment: time, start: time, end: time) -> bool:
    """Whether a wall-clock time lies in [start, end), a range that may wrap midnight."""
    if start < end:
        return start <= moment < end
    if start > end:
        return moment >= start or moment < end
    return False  # equal ends: an empty range, no quiet hours


@dataclass(frozen=True)
class CalendarSettings:
    """When the window opens, when reminders go out, and when the bot keeps quiet."""

    timezone: ZoneInfo = BANGKOK
    window_days: int = 5
    send_time: time = time(9, 0)
    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)
    plan: tuple[ReminderKind, ...] = tuple(ReminderKind)
    deadline: DeadlineRule = "last_working_day"
    overdue_grace_days: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.window_days <= 27:
            # 27 is the most that keeps the opening day inside a 28-day February.
            raise ValueError(f"window_days must be 1..27, not {self.window_days}")
        for name in ("send_time", "quiet_start", "quiet_end"):
            if getattr(self, name).tzinfo is not None:
                raise ValueError(f"{name} must be a wall-clock time without tzinfo (see timezone)")
        if _within(self.send_time, self.quiet_start, self.quiet_end):
            raise ValueError(
                f"send_time {self.send_time:%H:%M} falls in quiet hours "
                f"{self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}"
            )
        if not self.plan:
            raise ValueError("plan must name at least one reminder kind")
        strangers = [kind for kind in self.plan if not isinstance(kind, ReminderKind)]
        if strangers:
            raise ValueError(f"plan may hold only ReminderKind members, not {strangers!r}")
        if len(set(self.plan)) != len(self.plan):
            raise ValueError(f"plan names a reminder kind twice: {list(self.plan)}")
        if self.deadline not in get_args(DeadlineRule):
            raise ValueError(
                f"deadline must be one of {get_args(DeadlineRule)}, not {self.deadline!r}"
            )
        if self.overdue_grace_days < 1:
            raise ValueError(
                f"overdue_grace_days must be at least 1, not {self.overdue_grace_days}"
            )


# The name the `holidays` package gives National Labour Day and, inside "ชดเชย...", its in-lieu day.
# Names are read in Thai, the package's own language, passed explicitly: left unset, the language
# follows the process's locale variables and the names would change with them.
LABOUR_DAY_TH = "วันแรงงานแห่งชาติ"


class ThaiGovernmentHolidays:
    """Days off for Thai government offices, read lazily per year from the `holidays` package.

    Taken: the package's "public" category (the Holidays Act days, Songkran, the Buddhist days,
    the royal days, cabinet-declared bridge days, and in-lieu days, which count as days off) and
    its "government" category (the Royal Ploughing Ceremony, a day off for government offices).
    Left out: National Labour Day and its in-lieu day (listed as public, but a day off for the
    private and financial sectors only; government offices work), unless `labour_day_off`;
    and the package's other categories (armed forces, bank, school, and "workday" observances
    such as Loy Krathong). National Children's Day stays in: it is listed as public although it
    is an observance, but it is always the second Saturday of January, so it changes nothing.
    The package knows bridge days and the Ploughing Ceremony only once the cabinet or the palace
    has announced them; `extra_days_off` adds days it does not know yet.
    """

    def __init__(
        self, *, extra_days_off: Iterable[date] = (), labour_day_off: bool = False
    ) -> None:
        self._extra = frozenset(extra_days_off)
        self._labour_day_off = labour_day_off
        self._years: dict[int, frozenset[date]] = {}

    def __call__(self, day: date) -> bool:
        """Whether a day is a day off (weekends aside)."""
        return day in self._extra or day in self.days_off(day.year)

    def days_off(self, year: int) -> frozenset[date]:
        """The package's days off in one calendar year, loaded once and kept."""
        if (known := self._years.get(year)) is None:
            known = self._years[year] = self._load(year)
        return known

    def _load(self, year: int) -> frozenset[date]:
        import holidays as holidays_package  # a few tenths of a second: only when first needed

        listed = holidays_package.country_holidays(
            "TH", years=year, categories=("public", "government"), language="th", expand=False
        )
        return frozenset(
            day
            for day in listed
            if self._labour_day_off
            or not all(LABOUR_DAY_TH in name for name in listed.get_list(day))
        )


class ReportingCalendar:
    """Reporting months, deadlines and reminder instants under one set of settings."""

    def __init__(self, settings: CalendarSettings, *, holidays: HolidayTest | None = None) -> None:
        self.settings = settings
        self._is_day_off: HolidayTest = (
            holidays if holidays is not None else ThaiGovernmentHolidays()
        )

    # Days

    def prepare(self, day: date) -> None:
        """Load the days off of `day`'s year now: the holiday tables take a few tenths of a
        second to import, which a caller may rather spend in a thread."""
        self._is_day_off(day)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a holiday."""
        return day.weekday() < 5 and not self._is_day_off(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (before it if n < 0); n=0 is `day`, if a working day."""
        if n == 0:
            if self.is_working_day(day):
                return day
            raise ValueError(f"{day} is not a working day, so it is not 0 working days from itself")
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining, days_off = abs(n), 0
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining, days_off = remaining - 1, 0
            elif (days_off := days_off + 1) > _SEARCH_LIMIT:
                raise ValueError(f"no working day within {_SEARCH_LIMIT} days of {day}")
        return day

    def deadline(self, month: ReportMonth) -> date:
        """The last working day of the month."""
        # settings.deadline has the one value "last_working_day"; another rule would branch here.
        day = month.last_day
        while not self.is_working_day(day):
            day -= _ONE_DAY
            if day < month.first_day:
                raise ValueError(f"{month} has no working day, so no deadline")
        return day

    def window_opens(self, month: ReportMonth) -> date:
        """The day the reporting window opens: `window_days` before the month's last day."""
        return month.last_day - timedelta(days=self.settings.window_days)

    # Reminders

    def reminders(self, month: ReportMonth) -> list[tuple[ReminderKind, datetime]]:
        """The plan's reminder instants for a month, in time order."""
        deadline = self.deadline(month)
        opens = self.window_opens(month)
        if not self.is_working_day(opens):
            opens = self.add_working_days(opens, 1)
        days = {
            ReminderKind.WINDOW: min(opens, deadline),
            ReminderKind.TWO_DAYS: self.add_working_days(deadline, -2),
            ReminderKind.DEADLINE: deadline,
            ReminderKind.OVERDUE: self.add_working_days(deadline, 1),
        }
        kept: list[tuple[ReminderKind, date]] = []
        for kind in sorted(self.settings.plan, key=lambda k: k.urgency, reverse=True):
            if not kept or days[kind] < kept[-1][1]:
                kept.append((kind, days[kind]))
        return [(kind, self._send_instant(day)) for kind, day in reversed(kept)]

    def due_at(self, at: datetime) -> list[tuple[ReportMonth, ReminderKind, datetime]]:
        """What should have gone out by `at` and still makes sense: the latest reminder a month."""
        at = self._local(at)
        if self.in_quiet_hours(at):
            return []
        due: list[tuple[ReportMonth, ReminderKind, datetime]] = []
        month = current = self.month_of(at)
        # Usually the current month and the previous one (whose OVERDUE comes in this month);
        # further back only while a month's last reminder is still live, as a long grace allows.
        while True:
            planned = self.reminders(month)
            come = [(kind, instant) for kind, instant in planned if instant <= at]
            if come:
                kind, instant = come[-1]
                if at < self._stale_from(month, kind, instant):
                    due.append((month, kind, instant))
            if month != current and self._stale_from(month, *planned[-1]) <= at:
                break  # this month is over, and every earlier one went stale before it
            month = ReportMonth.containing(month.first_day - _ONE_DAY)
        return sorted(due, key=lambda entry: entry[2])

    def _stale_from(self, month: ReportMonth, kind: ReminderKind, instant: datetime) -> datetime:
        """The instant from which a reminder no longer makes sense, whatever else has come."""
        if kind is ReminderKind.OVERDUE:
            day = self.add_working_days(instant.date(), self.settings.overdue_grace_days)
        else:
            day = self.deadline(month) + _ONE_DAY
        return datetime.combine(day, time(0), tzinfo=self.settings.timezone)

    def _send_instant(self, day: date) -> datetime:
        return datetime.combine(day, self.settings.send_time, tzinfo=self.settings.timezone)

    # Instants

    def in_quiet_hours(self, at: datetime) -> bool:
        """Whether the bot keeps quiet at this instant."""
        moment = self._local(at).time()
        return _within(moment, self.settings.quiet_start, self.settings.quiet_end)

    def next_send_time(self, at: datetime) -> datetime:
        """The first instant at or after `at` outside quiet hours, in the settings' zone."""
        at = self._local(at)
        if not self.in_quiet_hours(at):
            return at
        end = self.settings.quiet_end
        day = at.date() + _ONE_DAY if at.time() >= end else at.date()
        return datetime.combine(day, end, tzinfo=self.settings.timezone)

    def month_of(self, at: datetime) -> ReportMonth:
        """The reporting month in progress at an instant, read in the settings' zone."""
        return ReportMonth.containing(self._local(at).date())

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at.isoformat()}: pass a timezone-aware instant")
        return at.astimezone(self.settings.timezone)
