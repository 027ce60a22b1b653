"""What the exports' sheets share: number formats, and cell values as Excel should see them.

Text never runs as a formula in Excel and holds no character XML cannot; moments are wall-clock
time in the bot's time zone (`bot.timezone` in the config), which the caller passes down. The
sheets themselves are written by `reports.xlsx_writer`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reports.xlsx_writer import clean

# "bbbb" is Excel's Buddhist-year code (as in Thai Excel's own date formats): a real date,
# which sorts, filters and computes as a date, shown as 31/10/2563.
DATE_FORMAT = "dd/mm/bbbb"
DATETIME_FORMAT = "dd/mm/bbbb hh:mm"
PERCENT_FORMAT = "0.00"
MONEY_FORMAT = "#,##0.00"


def text(value: str) -> str | None:
    """A text cell's value: the text as typed, without the characters XML cannot hold; None (no
    cell at all) for an empty text. It is written as an inline string, which Excel never runs as
    a formula whatever it starts with, so it needs no guard (the CSV export's `'` would show)."""
    return clean(value) or None


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """A moment as wall-clock time in `zone`, without the zone (Excel has no time zones)."""
    return moment.astimezone(zone).replace(tzinfo=None)
