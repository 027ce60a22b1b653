"""The summaries as plain values, and the pure rules that build one month's from stored reports.

Standing still: this month's progress equals the previous report's and is below 100 %.
Behind: progress grows more slowly per month than it did between the two reports before.
A contradiction: `domain.checks.check_note`, the conversation's own question, on the stored
note against the stored figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Protocol, TypeVar

from domain.checks import note_question
from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, Person, Project
from domain.months import MonthOption, project_span


class Figures(Protocol):
    """What the rules read of a report: a whole `MonthlyReport` (the XLSX export has them) or
    the lean `ReportFigures` of the summary's bulk read."""

    @property
    def project_code(self) -> str: ...
    @property
    def fiscal_year(self) -> int: ...
    @property
    def report_no(self) -> int: ...
    @property
    def progress(self) -> Decimal: ...
    @property
    def disbursed(self) -> Decimal: ...
    @property
    def note(self) -> str: ...


_F = TypeVar("_F", bound=Figures)
ReportsByCode = Mapping[str, Sequence[Figures]]
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_report_no = attrgetter("report_no")


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """One project in one month: its report (or the latest before it) and what stands out."""

    project: Project
    officers: tuple[str, ...]
    report: Figures | None  # this month's
    shown: Figures | None  # this month's, or else the latest earlier one of the year
    previous: Figures | None  # the latest report before this month, if any
    standing_still: bool = False
    behind: bool = False
    contradiction: str | None = None

    @property
    def reported(self) -> bool:
        """Whether this month's report is in."""
        return self.report is not None

    @property
    def progress(self) -> Decimal | None:
        """Cumulative progress shown for the month (this month's or the latest earlier)."""
        return self.shown.progress if self.shown else None

    @property
    def disbursed(self) -> Decimal | None:
        """Cumulative disbursement shown for the month."""
        return self.shown.disbursed if self.shown else None

    @property
    def progress_change(self) -> Decimal | None:
        """This month's progress minus the previous report's; None without both."""
        if self.report is None or self.previous is None:
            return None
        return self.report.progress - self.previous.progress

    @property
    def disbursed_change(self) -> Decimal | None:
        """This month's disbursement minus the previous report's; None without both."""
        if self.report is None or self.previous is None:
            return None
        return self.report.disbursed - self.previous.disbursed

    @property
    def flagged(self) -> bool:
        """Whether a coordinator should look at this project."""
        return not self.reported or self.standing_still or self.behind or bool(self.contradiction)


@dataclass(frozen=True, slots=True)
class AgencySummary:
    """Every project of an agency (None: of all agencies) running in a month, with totals."""

    agency: str | None
    month: ReportMonth
    projects: tuple[ProjectStatus, ...]

    @property
    def reported(self) -> tuple[ProjectStatus, ...]:
        """Projects whose report for the month is in."""
        return tuple(p for p in self.projects if p.reported)

    @property
    def missing(self) -> tuple[ProjectStatus, ...]:
        """Projects whose report for the month is not in."""
        return tuple(p for p in self.projects if not p.reported)

    @property
    def total_disbursed(self) -> Decimal:
        """Cumulative disbursement of every project, as shown for the month."""
        return sum((p.disbursed or Decimal(0) for p in self.projects), Decimal(0))

    @property
    def total_budget(self) -> Decimal:
        """Budget received by every project (where known)."""
        return sum((p.project.budget_received or Decimal(0) for p in self.projects), Decimal(0))


@dataclass(frozen=True, slots=True)
class OfficerProject:
    """One of an officer's projects: the latest report and the months that can be sent now."""

    project: Project
    latest: MonthlyReport | None
    due: tuple[MonthOption, ...]


@dataclass(frozen=True, slots=True)
class OfficerSummary:
    """An officer's projects as of a day."""

    person: Person | None
    today: date
    projects: tuple[OfficerProject, ...]


def running_in(project: Project, month: ReportMonth) -> bool:
    """Whether the project's dates (or else its fiscal year) overlap the month."""
    start, end = project_span(project)
    return start <= month.last_day and month.first_day <= end


def project_status(
    project: Project,
    reports: Sequence[Figures],
    month: ReportMonth,
    officers: tuple[str, ...] = (),
) -> ProjectStatus:
    """The project's standing in the month, from its reports of that fiscal year (any order)."""
    fiscal_year, number = month.fiscal_year, month.report_no
    year = sorted(
        [r for r in reports if r.fiscal_year == fiscal_year and r.report_no <= number],
        key=_report_no,
    )
    report = year[-1] if year and year[-1].report_no == number else None
    earlier = year[:-1] if report is not None else year
    previous = earlier[-1] if earlier else None
    if report is None:
        return ProjectStatus(project, officers, None, previous, previous)
    progress = report.progress
    still = previous is not None and progress == previous.progress and progress < _HUNDRED
    behind = False
    if previous is not None and len(earlier) >= 2 and not still and progress < _HUNDRED:
        before = earlier[-2]
        # Increases per month, so that a skipped month does not look like a doubled pace.
        pace = (progress - previous.progress) / (report.report_no - previous.report_no)
        pace_before = (previous.progress - before.progress) / (
            previous.report_no - before.report_no
        )
        behind = pace < pace_before
    paid_before = previous.disbursed if previous is not None else _ZERO
    contradiction = note_question(report.note, progress, report.disbursed, paid_before)
    return ProjectStatus(project, officers, report, report, previous, still, behind, contradiction)


def summarize_month(
    projects: Iterable[Project],
    reports: ReportsByCode,
    officers: Mapping[str, tuple[str, ...]],
    month: ReportMonth,
    agency: str | None = None,
) -> AgencySummary:
    """The month's summary of the given projects (those not running in the month are left out)."""
    first, last = month.first_day, month.last_day
    statuses = tuple(
        project_status(p, reports.get(p.code, ()), month, officers.get(p.code, ()))
        for p, (start, end) in ((p, project_span(p)) for p in projects)
        if start <= last and first <= end  # running in the month (as `running_in`)
    )
    return AgencySummary(agency, month, statuses)


def group_reports(reports: Iterable[_F]) -> dict[str, list[_F]]:
    """Reports per project code, in the order given."""
    grouped: dict[str, list[_F]] = defaultdict(list)
    for report in reports:
        grouped[report.project_code].append(report)
    return grouped
