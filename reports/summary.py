"""Summaries for chat and exports: a coordinator's month across an agency, an officer's projects.

`coordinator_summary` reads storage in bulk (the figures of the three latest reports of each
project up to the month in one query, the project list, and the officer links with every
person): a summary of 10,000 projects must not cost 10,000 queries, nor build every report of
the year, nor whole reports where the rules read a few figures. The values and the pure rules
are in `reports.summary_model` (the XLSX export applies the same rules to every month);
`reports.summary_text.render_summary` words them.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from domain.fiscal import ReportMonth
from domain.models import Project
from domain.months import reportable_months
from reports.summary_model import (
    AgencySummary,
    OfficerProject,
    OfficerSummary,
    ProjectStatus,
    group_reports,
    summarize_month,
)
from reports.summary_text import render_summary
from storage.contracts import Records

__all__ = [
    "AgencySummary",
    "OfficerProject",
    "OfficerSummary",
    "ProjectStatus",
    "coordinator_summary",
    "officer_names",
    "officer_summary",
    "render_summary",
]


async def officer_names(repo: Records, *, agency: str | None = None) -> dict[str, tuple[str, ...]]:
    """Names of each project's responsible officers (under an agency), read in one query."""
    found: dict[str, list[str]] = defaultdict(list)
    for code, name in await repo.officer_names(agency=agency):
        found[code].append(name)
    return {code: tuple(names) for code, names in found.items()}


async def coordinator_summary(
    repo: Records,
    *,
    agency: str | None,
    month: ReportMonth,
    projects: Sequence[Project] | None = None,
) -> AgencySummary:
    """Who has and has not reported in the month, figures, flags and totals (agency None: all;
    `projects`, when given, narrows it to exactly those, e.g. a coordinator's scope)."""

    async def listed() -> Sequence[Project]:
        return await repo.list_projects(agency=agency) if projects is None else projects

    # The three reads overlap: while one query runs in the database thread, the rows of the
    # one before become objects here. The rules look back two reports before the month's.
    found, recent, officers = await asyncio.gather(
        listed(),
        repo.recent_figures(month.fiscal_year, month.report_no, count=3, agency=agency),
        officer_names(repo, agency=agency),
    )
    return summarize_month(found, group_reports(recent), officers, month, agency)


async def officer_summary(repo: Records, person_id: int, today: date) -> OfficerSummary:
    """The officer's projects with the latest figures and the months that are due."""
    person = await repo.get_person(person_id)
    items: list[OfficerProject] = []
    for project in await repo.projects_of_officer(person_id):
        reports = await repo.reports_of_project(project.code)
        reported = {ReportMonth(r.fiscal_year, r.report_no) for r in reports}
        latest = max(reports, key=lambda r: (r.fiscal_year, r.report_no), default=None)
        due = tuple(reportable_months(project, reported, today))
        items.append(OfficerProject(project, latest, due))
    return OfficerSummary(person, today, tuple(items))
