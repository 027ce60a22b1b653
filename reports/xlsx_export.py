"""Monthly reports as an Excel workbook: every project-month on the first sheet (the columns of
the CSV export, so it imports back the same way), then one summary sheet per month ("ต.ค. 2563",
...) with who has reported, the figures and what stands out.

Reading: the reports of a fiscal year come in one query (`recent_reports` with every month), not
one per project (10,000 queries took longer than the rest of the export), and without the
project's columns repeated on every report as `report_rows` would fetch them. Only a small share
of the projects listed (one project, a coordinator's few) is read project by project. Without a
fiscal year, the years read are those the projects run in: neither the chat nor the import takes
a report for a month outside the project's dates.

Writing: `reports.xlsx_writer` streams each sheet into the zip file as XML text, in a worker
thread so that the event loop keeps serving chats meanwhile. The month sheets follow one another,
each going through the projects once with `summary_model.project_status`, given only the reports
it looks at (the month's and the two before).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from domain.fiscal import ReportMonth, fiscal_year_of
from domain.models import MonthlyReport, Project
from domain.months import project_span
from domain.thaidate import format_thai_month
from reports.csv_export import HEADER
from reports.summary import officer_names
from reports.summary_model import ProjectStatus, project_status
from reports.xlsx_sheet import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    local_time,
    text,
)
from reports.xlsx_writer import WorkbookWriter
from storage.contracts import Records

Progress = Callable[[int, int], None]

MAIN_SHEET = "รายงานทุกเดือน"
MAIN_WIDTHS = (16, 40, 34, 11, 12, 11, 13, 15, 20, 50, 17, 30, 19, 30, 11, 10, 17)
MAIN_FORMATS = {6: DATE_FORMAT, 7: PERCENT_FORMAT, 8: MONEY_FORMAT, 16: DATETIME_FORMAT}
MONTH_HEADER: tuple[str, ...] = (
    "รหัสโครงการ", "ชื่อโครงการ", "หน่วยงาน", "ผู้รับผิดชอบ", "ส่งรายงานเดือนนี้",
    "ตัวเลขจากรายงานครั้งที่", "ความก้าวหน้า (%)", "เปลี่ยนจากครั้งก่อน (%)",
    "งบประมาณที่ได้รับ (บาท)", "งบประมาณที่เบิกใช้ (บาท)", "ข้อสังเกต",
)  # fmt: skip
MONTH_WIDTHS = (16, 40, 34, 30, 16, 14, 15, 16, 20, 20, 60)
MONTH_FORMATS = {6: PERCENT_FORMAT, 7: PERCENT_FORMAT, 8: MONEY_FORMAT, 9: MONEY_FORMAT}
PER_PROJECT_SHARE = 4  # read project by project when exporting under a quarter of those listed
MAX_YEARS = 20  # fiscal years read in bulk (one query each) when no year is given
PROGRESS_EVERY = 100  # projects

_month_name = lru_cache(maxsize=None)(format_thai_month)  # "ต.ค. 2569", named once
# A project's code, name and agency recur on every month of both sheets: cleaned once.
_text = lru_cache(maxsize=1 << 16)(text)


def main_row(project: Project, report: MonthlyReport, zone: ZoneInfo) -> list[object]:
    """One row of the first sheet, in `reports.csv_export.HEADER` order; the time it was sent
    as wall-clock time in `zone`."""
    v = report.values
    return [
        _text(project.code), _text(project.name), _text(project.agency),
        report.fiscal_year, report.report_no,
        _month_name(report.fiscal_year, report.report_no),
        v.reported_on, v.progress, v.disbursed, _text(v.note),
        "เป็นไปตามแผน" if v.on_plan else "ไม่เป็นไปตามแผน", _text(v.plan_reason),
        "เป็นไปตามเป้าหมาย" if v.on_target else "ไม่เป็นไปตามเป้าหมาย", _text(v.target_reason),
        report.revision, _text(report.channel), local_time(report.sent_at, zone),
    ]  # fmt: skip


def flags(status: ProjectStatus) -> str:
    """What stands out about a project in the month, in Thai."""
    found = []
    if status.standing_still:
        found.append("ความก้าวหน้าไม่เปลี่ยนจากครั้งก่อน")
    if status.behind:
        found.append("ก้าวหน้าช้ากว่าเดือนก่อน")
    if status.contradiction:
        found.append(status.contradiction)
    return "; ".join(found)


def month_row(s: ProjectStatus) -> list[object]:
    """One row of a month's sheet, in MONTH_HEADER order."""
    p = s.project
    return [
        _text(p.code), _text(p.name), _text(p.agency), _text(", ".join(s.officers)),
        "ส่งแล้ว" if s.reported else "ยังไม่ส่ง", s.shown.report_no if s.shown else None,
        s.progress, s.progress_change, p.budget_received, s.disbursed, _text(flags(s)),
    ]  # fmt: skip


class _Totals:
    """The bottom line of a month's sheet."""

    def __init__(self) -> None:
        self.projects = self.reported = 0
        self.budget = self.disbursed = Decimal(0)

    def add(self, s: ProjectStatus) -> None:
        self.projects += 1
        self.reported += int(s.reported)
        self.budget += s.project.budget_received or Decimal(0)
        self.disbursed += s.disbursed or Decimal(0)

    def row(self) -> list[object]:
        counted = f"ส่งแล้ว {self.reported} จาก {self.projects} โครงการ"
        return ["รวม", counted, *[None] * 6, self.budget, self.disbursed]


class _Counter:
    """Progress over `total` steps, told every PROGRESS_EVERY steps and at the end."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.progress, self.done = total, progress, 0

    def advance_to(self, done: int) -> None:
        if done <= self.done:
            return
        passed = done // PROGRESS_EVERY > self.done // PROGRESS_EVERY
        self.done = done
        if self.progress is not None and (passed or done == self.total):
            self.progress(done, self.total)

    def finish(self) -> None:
        if self.total == 0 and self.progress is not None:
            self.progress(0, 0)
        self.advance_to(self.total)


_report_no = attrgetter("report_no")


def _up_to(found: Sequence[MonthlyReport], report_no: int) -> Sequence[MonthlyReport]:
    """Of a year's reports by report number, the last three up to `report_no`: all that
    `project_status` looks at (the month's report and the two before it)."""
    end = bisect_right(found, report_no, key=_report_no)
    return found[max(0, end - 3) : end]


def write_workbook(
    out: BinaryIO | Path,
    projects: Sequence[Project],
    reports: Mapping[str, Sequence[MonthlyReport]],
    officers: Mapping[str, tuple[str, ...]],
    zone: ZoneInfo,
    progress: Progress | None = None,
) -> None:
    """The whole workbook from what was read, times in `zone`; `progress` counts each project
    twice."""
    counter = _Counter(2 * len(projects), progress)
    try:
        _write_sheets(out, projects, reports, officers, zone, counter)
    finally:
        _text.cache_clear()  # kept for an export only, not by the bot between exports


def _write_sheets(
    out: BinaryIO | Path,
    projects: Sequence[Project],
    reports: Mapping[str, Sequence[MonthlyReport]],
    officers: Mapping[str, tuple[str, ...]],
    zone: ZoneInfo,
    counter: _Counter,
) -> None:
    months = months_reported(reports)
    with WorkbookWriter(out) as book:
        main = book.add_sheet(MAIN_SHEET, HEADER, widths=MAIN_WIDTHS, formats=MAIN_FORMATS)
        for done, project in enumerate(projects, start=1):
            for report in reports.get(project.code, ()):
                main.append(main_row(project, report, zone))
            counter.advance_to(done)
        main.set_filter()
        count = len(projects)
        spans = [project_span(p) for p in projects]
        by_year: dict[tuple[str, int], list[MonthlyReport]] = {}
        for code, found in reports.items():
            for report in found:
                by_year.setdefault((code, report.fiscal_year), []).append(report)
        for year_reports in by_year.values():
            year_reports.sort(key=_report_no)
        for index, month in enumerate(months):
            sheet = book.add_sheet(
                _month_name(month.fiscal_year, month.report_no), MONTH_HEADER,
                widths=MONTH_WIDTHS, formats=MONTH_FORMATS,
            )  # fmt: skip
            first, last, total = month.first_day, month.last_day, _Totals()
            for number, (project, (start, end)) in enumerate(zip(projects, spans, strict=True)):
                if start <= last and first <= end:  # running in the month (as `running_in`)
                    found = by_year.get((project.code, month.fiscal_year), [])
                    officers_of = officers.get(project.code, ())
                    status = project_status(
                        project, _up_to(found, month.report_no), month, officers_of
                    )
                    sheet.append(month_row(status))
                    total.add(status)
                # The projects summarised so far, counting each month as a share of them.
                counter.advance_to(count + (index * count + number + 1) // len(months))
            sheet.set_filter()  # over the projects, not the totals below
            sheet.append([])
            sheet.append(total.row())
    counter.finish()


def months_reported(reports: Mapping[str, Sequence[MonthlyReport]]) -> list[ReportMonth]:
    """Each fiscal year's months from October up to the latest month anyone reported."""
    latest: dict[int, int] = {}
    for found in reports.values():
        for r in found:
            latest[r.fiscal_year] = max(latest.get(r.fiscal_year, 0), r.report_no)
    return [ReportMonth(year, n) for year in sorted(latest) for n in range(1, latest[year] + 1)]


def _runs_within(project: Project, fiscal_year: int) -> bool:
    # Neither the chat nor the import takes a report for a month outside the project's dates,
    # so a project that does not run in the year has nothing to read. (Running in one of the
    # year's months, as `running_in` says, is overlapping the year: its months follow on.)
    start, end = project_span(project)
    return (
        start <= ReportMonth(fiscal_year, 12).last_day
        and ReportMonth(fiscal_year, 1).first_day <= end
    )


def _years_run(projects: Sequence[Project]) -> set[int]:
    """The fiscal years the projects run in (and their own fiscal years)."""
    years: set[int] = set()
    for project in projects:
        start, end = project_span(project)
        first, last = fiscal_year_of(start), fiscal_year_of(end)
        years.update({project.fiscal_year, first, last}, range(first, last + 1))
    return years


async def _read_each(
    repo: Records, projects: Sequence[Project], fiscal_year: int | None
) -> dict[str, list[MonthlyReport]]:
    found: dict[str, list[MonthlyReport]] = {}
    for project in projects:
        reports = await repo.reports_of_project(project.code, fiscal_year)
        if reports:
            found[project.code] = reports
    return found


async def read_reports(
    repo: Records,
    projects: Sequence[Project],
    *,
    listed: int,
    fiscal_year: int | None,
    agency: str | None,
) -> dict[str, list[MonthlyReport]]:
    """The current reports of the projects (of the fiscal year, if given), per project code by
    fiscal year and report number; `listed` projects are under `agency` in all.

    A query per project costs about as much as reading a year's reports of four projects in
    bulk: a few projects out of many are read one by one, the rest a fiscal year at a time.
    """
    years = {fiscal_year} if fiscal_year is not None else _years_run(projects)
    if len(projects) * PER_PROJECT_SHARE < listed or len(years) > MAX_YEARS:
        return await _read_each(repo, projects, fiscal_year)
    wanted = {p.code for p in projects}
    found: dict[str, list[MonthlyReport]] = {}
    for year in sorted(years):  # in order, so each project's reports stay by year and number
        for report in await repo.recent_reports(year, 12, count=12, agency=agency):
            if report.project_code in wanted:
                found.setdefault(report.project_code, []).append(report)
    return found


async def export_xlsx(
    repo: Records,
    out: BinaryIO | Path,
    *,
    zone: ZoneInfo,
    fiscal_year: int | None = None,
    project_code: str | None = None,
    agency: str | None = None,
    project_codes: Collection[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the workbook to `out`; returns the number of project-month rows on the first sheet.
    Moments (when each report was sent) are wall-clock time in `zone`, the bot's time zone.

    The filters combine: a fiscal year, one project, projects under an agency path, and a set of
    project codes (a coordinator's scope).

    `progress(done, total)` counts projects twice (once written out, once summarised), every
    hundred and at the end; it is called from a worker thread, where the workbook is written so
    that the event loop keeps serving chats meanwhile.
    """
    listed = await repo.list_projects(agency=agency)
    projects = [
        p
        for p in listed
        if (project_code is None or p.code == project_code)
        and (project_codes is None or p.code in project_codes)
        and (fiscal_year is None or _runs_within(p, fiscal_year))
    ]
    officers = await officer_names(repo, agency=agency)
    reports = await read_reports(
        repo, projects, listed=len(listed), fiscal_year=fiscal_year, agency=agency
    )
    await asyncio.to_thread(write_workbook, out, projects, reports, officers, zone, progress)
    return sum(len(found) for found in reports.values())
