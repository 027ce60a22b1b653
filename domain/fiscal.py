"""The Thai fiscal calendar: a fiscal year runs 1 October to 30 September and is named by the
Buddhist year in which it ends; its report number 1 is October, 12 is September."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

BE_OFFSET = 543


@dataclass(frozen=True, slots=True, order=True)
class ReportMonth:
    """One reporting month: fiscal year (BE) and report number 1..12."""

    fiscal_year: int
    report_no: int

    def __post_init__(self) -> None:
        if not 1 <= self.report_no <= 12:
            raise ValueError(f"report number must be 1..12, not {self.report_no}")

    @classmethod
    def containing(cls, day: date) -> ReportMonth:
        """The reporting month that a calendar day falls in."""
        fiscal_year = day.year + BE_OFFSET + (1 if day.month >= 10 else 0)
        return cls(fiscal_year, (day.month - 10) % 12 + 1)

    @property
    def year(self) -> int:
        """Calendar year (CE) of this month."""
        return self.fiscal_year - BE_OFFSET - (1 if self.month >= 10 else 0)

    @property
    def month(self) -> int:
        """Calendar month number 1..12."""
        return (self.report_no + 8) % 12 + 1

    @property
    def first_day(self) -> date:
        """First calendar day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """Last calendar day of the month."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def previous(self) -> ReportMonth | None:
        """The month before, within the same fiscal year (None for October)."""
        return ReportMonth(self.fiscal_year, self.report_no - 1) if self.report_no > 1 else None

    def months_of_year(self) -> list[ReportMonth]:
        """All twelve months of this fiscal year, October first."""
        return [ReportMonth(self.fiscal_year, n) for n in range(1, 13)]


def fiscal_year_of(day: date) -> int:
    """Fiscal year (BE) that a calendar day belongs to."""
    return ReportMonth.containing(day).fiscal_year
