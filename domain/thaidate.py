"""The Thai calendar for people: Buddhist Era dates and Thai month names, shown and read.

Dates are stored in CE (`datetime.date`) and only shown or typed in BE; a plain table of month
names keeps this free of locale settings, which differ between machines.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from domain.fiscal import BE_OFFSET, ReportMonth
from domain.numbers import arabic_digits

THAI_MONTHS_ABBR: tuple[str, ...] = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)

THAI_MONTHS_FULL: tuple[str, ...] = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)


def be_year(d: date) -> int:
    """Buddhist Era year of a calendar day."""
    return d.year + BE_OFFSET


def format_be_date(d: date) -> str:
    """Day/month/BE year with two-digit day and month, as on the form: 31/10/2563."""
    return f"{d.day:02d}/{d.month:02d}/{be_year(d)}"


def format_thai_date(d: date) -> str:
    """Day, abbreviated Thai month and BE year: 30 พ.ย. 2563."""
    return f"{d.day} {THAI_MONTHS_ABBR[d.month - 1]} {be_year(d)}"


def format_thai_month(fiscal_year: int, report_no: int) -> str:
    """The calendar month of a fiscal year's report number: (2564, 1) -> ต.ค. 2563."""
    month = ReportMonth(fiscal_year, report_no)
    return f"{THAI_MONTHS_ABBR[month.month - 1]} {month.year + BE_OFFSET}"


# Reading dates typed by people: ISO as the seed prints them, or day/month/BE year as Thais write.

BE_YEARS = range(2400, 2801)
CE_YEARS = range(1900, 2258)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class ThaiDateError(ValueError):
    """A date that cannot be read without guessing; the message says why, in Thai."""


def ce_date(year: int, month: int, day: int) -> date:
    """A calendar date whose year is BE when 2400-2800 (converted to CE), or CE when 1900-2257."""
    if year in BE_YEARS:
        year -= BE_OFFSET
    elif year not in CE_YEARS:
        raise ThaiDateError(f"ปี {year} ไม่ใช่ปีที่เป็นไปได้")
    try:
        return date(year, month, day)
    except ValueError:
        raise ThaiDateError("ไม่มีวันที่นี้ในปฏิทิน") from None


def parse_date(value: str | date) -> date:
    """Read `2020-10-01`, `2020-10-01 00:00:00` or `1/10/2563` (Thai digits too) into a CE date.

    A date cell is taken as it is, except that a BE year in it is converted: Thai Excel often
    stores a typed 1/10/2563 as the year 2563. A day/month/year text must carry a BE year,
    because with a CE year the order of day and month would be a guess.
    """
    if isinstance(value, date):
        return ce_date(value.year, value.month, value.day)
    text = arabic_digits(value.strip())
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return ce_date(year, month, day)
    if match := _SLASH_DATE.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
        if year not in BE_YEARS:
            raise ThaiDateError("วัน/เดือน/ปี ต้องใช้ปี พ.ศ. (เช่น 1/10/2563) หรือใช้รูปแบบ 2020-10-01")
        return ce_date(year, month, day)
    raise ThaiDateError("อ่านเป็นวันที่ไม่ได้ (ใช้ 2020-10-01 หรือ 1/10/2563)")


# Reading a day typed in chat (the last day away): day and month, the year optional.

_MONTHS = {
    re.sub(r"[\s.]", "", name): number
    for names in (THAI_MONTHS_FULL, THAI_MONTHS_ABBR)
    for number, name in enumerate(names, start=1)
}


# A day typed without a year is the nearest such day: within this many days past, it is taken
# as past (and refused as such), not as the same day next year.
_RECENT = timedelta(days=183)


def parse_day(text: str, today: date) -> date | None:
    """A day typed as "30/11/2569", "30/11", "30 พ.ย.", "30 พฤศจิกายน 2569"; without a year, the
    nearest such day (29 พ.ย. typed on 30 พ.ย. is yesterday, not next year); None if it is not a
    day."""
    squashed = arabic_digits(text).strip()
    match = re.fullmatch(r"(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{2}|\d{4}))?", squashed)
    if match is None:
        named = re.fullmatch(r"(\d{1,2})\s*([^\d\s]+(?:\s*\.)?[^\d\s]*)\s*(\d{2}|\d{4})?", squashed)
        if named is None:
            return None
        month = _MONTHS.get(re.sub(r"[\s.]", "", named.group(2)))
        if month is None:
            return None
        day_text, year_text = named.group(1), named.group(3)
    else:
        day_text, month_text, year_text = match.groups()
        month = int(month_text)
    year: int | None = None
    if year_text is not None:
        year = int(year_text)
        year = year + 2500 if year < 100 else year
        year = year - BE_OFFSET if year > 2400 else year
    try:
        if year is not None:
            return date(year, month, int(day_text))
        candidate = date(today.year, month, int(day_text))
        if candidate >= today or today - candidate <= _RECENT:
            return candidate
        return date(today.year + 1, month, int(day_text))
    except ValueError:
        return None
