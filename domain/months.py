"""Which months an officer may report for a project, and reading a month the officer typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from domain.fiscal import BE_OFFSET, ReportMonth
from domain.models import Project
from domain.numbers import arabic_digits
from domain.thaidate import THAI_MONTHS_ABBR, THAI_MONTHS_FULL, format_thai_date, format_thai_month


@dataclass(frozen=True, slots=True)
class MonthOption:
    """A month the officer can report now; overdue months are offered before the current one."""

    month: ReportMonth
    overdue: bool

    @property
    def label(self) -> str:
        """Button text, e.g. "ต.ค. 2569 (ครั้งที่ 1, ค้างส่ง)"."""
        when = "ค้างส่ง" if self.overdue else "เดือนนี้"
        name = format_thai_month(self.month.fiscal_year, self.month.report_no)
        return f"{name} (ครั้งที่ {self.month.report_no}, {when})"


def project_span(project: Project) -> tuple[date, date]:
    """First and last day of the project: its dates, or else its fiscal year."""
    start = project.start_date or ReportMonth(project.fiscal_year, 1).first_day
    end = project.end_date or ReportMonth(project.fiscal_year, 12).last_day
    return start, end


def month_name(month: ReportMonth) -> str:
    """Thai month and Buddhist year, e.g. "พ.ย. 2569"."""
    return format_thai_month(month.fiscal_year, month.report_no)


def why_not(
    project: Project, month: ReportMonth, reported: set[ReportMonth], today: date
) -> str | None:
    """Why a month cannot be reported for this project now (Thai), or None if it can."""
    start, end = project_span(project)
    name = month_name(month)
    if month.first_day > today:
        return f"ยังไม่ถึงเดือน {name} จึงยังรายงานเดือนนี้ไม่ได้"
    if month.last_day < start:
        return f"โครงการเริ่มเมื่อ {format_thai_date(start)} จึงรายงานเดือน {name} ไม่ได้"
    if month.first_day > end:
        return f"โครงการสิ้นสุดเมื่อ {format_thai_date(end)} จึงรายงานเดือน {name} ไม่ได้"
    if month in reported:
        return f'รายงานเดือน {name} (ครั้งที่ {month.report_no}) ส่งไปแล้ว หากต้องการเปลี่ยนตัวเลข พิมพ์ "แก้ไข"'
    return None


def reportable_months(
    project: Project, reported: set[ReportMonth], today: date
) -> list[MonthOption]:
    """Unreported months the officer may send now: overdue ones (oldest first), then this month."""
    current = ReportMonth.containing(today)
    # Overdue: earlier months of this fiscal year and of the project's own fiscal year, and
    # always the month just ended (in October, that is last September).
    own_year = ReportMonth(project.fiscal_year, 1).months_of_year()
    window = {m for m in (*current.months_of_year(), *own_year) if m < current}
    window.add(month_before(current))
    options = [
        MonthOption(m, overdue=True)
        for m in sorted(window)
        if why_not(project, m, reported, today) is None
    ]
    if why_not(project, current, reported, today) is None:
        options.append(MonthOption(current, overdue=False))
    return options


def month_before(month: ReportMonth) -> ReportMonth:
    """The month before, across fiscal years (October's is the September before)."""
    return month.previous() or ReportMonth(month.fiscal_year - 1, 12)


_TIMES = re.compile(r"^ครั้งที่(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})/(\d{4}|\d{2})$")


def _squash(text: str) -> str:
    return re.sub(r"[\s.]", "", arabic_digits(text))


_NAMES = {
    _squash(name): number
    for names in (THAI_MONTHS_FULL, THAI_MONTHS_ABBR)
    for number, name in enumerate(names, start=1)
}


def parse_month(text: str, today: date) -> ReportMonth | None:
    """Read a month typed as "พ.ย.", "พฤศจิกายน 2569", "11/2569" or "ครั้งที่ 2"; None if not a month.

    Without a year, the most recent such month up to today is meant.
    """
    squashed = _squash(text)
    current = ReportMonth.containing(today)
    if match := _TIMES.match(squashed):
        number = int(match.group(1))
        return ReportMonth(current.fiscal_year, number) if 1 <= number <= 12 else None
    year: int | None = None
    if match := _NUMERIC.match(squashed):
        calendar_month, year = int(match.group(1)), int(match.group(2))
        if not 1 <= calendar_month <= 12:
            return None
    else:
        if match := re.match(r"^(\D+?)(\d{4}|\d{2})?$", squashed):
            calendar_month_or_none = _NAMES.get(match.group(1))
            if calendar_month_or_none is None:
                return None
            calendar_month = calendar_month_or_none
            year = int(match.group(2)) if match.group(2) else None
        else:
            return None
    if year is None:
        year = today.year if calendar_month <= today.month else today.year - 1
    elif year < 100:
        # "ต.ค. 69": a two-digit year is a Buddhist year, as Thais write it (2540-2599 only).
        if year < 40:
            return None
        year += 2500
    if year > 2400:
        year -= BE_OFFSET
    if not 1900 < year < 2300:
        return None
    return ReportMonth.containing(date(year, calendar_month, 1))


@dataclass(frozen=True, slots=True)
class Period:
    """A fiscal year, or one month of it, asked for in a summary or an export."""

    fiscal_year: int
    month: ReportMonth | None = None


_FISCAL_WORDS = re.compile(r"^(?:ปีงบประมาณ|ปีงบ|ปี|งบปี|fy)?(?:พศ)?(\d{2}|\d{4})$")
GREGORIAN_YEAR = "ปี {year} เป็นปี ค.ศ. กรุณาพิมพ์ปี พ.ศ. เช่น {thai}"
NOT_A_PERIOD = (
    "ขออภัย ระบบอ่านเดือนหรือปีงบประมาณนี้ไม่ได้ พิมพ์ เช่น ต.ค., ตุลาคม 2569, 10/2569, 2569 หรือ ปีงบ 69"
)


def parse_period(text: str, today: date) -> Period | str:
    """A month ("ต.ค.", "ตุลาคม 2569", "10/2569") or a fiscal year ("2564", "ปีงบ 64",
    "ปีงบประมาณ 2564") as people type them; a Thai sentence saying what is wrong otherwise (a
    Gregorian year gets the Buddhist-Era one it means)."""
    squashed = _squash(text).casefold()
    if match := _FISCAL_WORDS.match(squashed):
        year = int(match.group(1))
        if year < 100:
            year += 2500
        if 1900 < year < 2300:
            return GREGORIAN_YEAR.format(year=year, thai=year + BE_OFFSET)
        if 2400 < year < 2700:
            return Period(year)
        return NOT_A_PERIOD
    month = parse_month(text, today)
    if month is None:
        return NOT_A_PERIOD
    return Period(month.fiscal_year, month)
