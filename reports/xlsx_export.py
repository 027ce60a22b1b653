"""Monthly reports as an Excel workbook: every project-month on the first sheet (the columns of
the CSV export, so it imports back the same way), then one summary sheet per month ("ต.ค. 2563",
...) with who has reported, the figures and what stands out.

Reading, for a whole year or agency: the first sheet is written a few hundred projects at a time
as storage gives them (`report_batches`), then each month's sheet from that month's reports
(`recent_reports` with count 1: one query a month, not one per project), keeping per project only
the last three reports seen, all that `summary_model.project_status` looks at. So the export holds
a few months' reports at most, never the year's (10,000 projects x 12 months held at once took
over 250 MiB). Only a small share of the projects listed (one project, a coordinator's few) is
read project by project, and then held whole. Without a fiscal year, the years read are those the
projects run in: neither the chat nor the import takes a report for a month outside the
project's dates.

Writing: `reports.xlsx_writer` streams each sheet into the zip file as XML text, in a worker
thread so that the event loop keeps serving chats meanwhile. The month sheets follow one another,
each going through the projects once.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
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
from reports.xlsx_writer import Sheet, WorkbookWriter
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


class _Book:
    """The workbook being written: the first sheet project by project, then a sheet per month;
    times in `zone`, `progress` counting each project twice (written out, then summarised)."""

    def __init__(
        self,
        out: BinaryIO | Path,
        projects: Sequence[Project],
        officers: Mapping[str, tuple[str, ...]],
        zone: ZoneInfo,
        progress: Progress | None,
    ) -> None:
        self.projects, self.officers, self.zone = projects, officers, zone
        self.spans = [project_span(p) for p in projects]
        self.counter = _Counter(2 * len(projects), progress)
        self.latest: dict[int, int] = {}  # per fiscal year, the latest month reported
        self.rows = 0
        self.book = WorkbookWriter(out)
        self.main: Sheet | None = self.book.add_sheet(
            MAIN_SHEET, HEADER, widths=MAIN_WIDTHS, formats=MAIN_FORMATS
        )

    def write_main(
        self, found: Iterable[tuple[Project, Sequence[MonthlyReport]]], done: int
    ) -> None:
        """Rows of the first sheet, for projects in order; `done` projects are written then."""
        assert self.main is not None, "the first sheet is finished"
        main, zone, latest = self.main, self.zone, self.latest
        for project, reports in found:
            for report in reports:
                main.append(main_row(project, report, zone))
                if latest.get(report.fiscal_year, 0) < report.report_no:
                    latest[report.fiscal_year] = report.report_no
            self.rows += len(reports)
        self.counter.advance_to(done)

    def months(self) -> list[ReportMonth]:
        """Each fiscal year's months from October up to the latest month anyone reported (on
        the first sheet); the first sheet is finished."""
        if self.main is not None:
            self.main.set_filter()
            self.main = None
        return [
            ReportMonth(y, n) for y in sorted(self.latest) for n in range(1, self.latest[y] + 1)
        ]

    def write_month(
        self,
        month: ReportMonth,
        index: int,
        months: int,
        recent: Mapping[str, Sequence[MonthlyReport]],
    ) -> None:
        """The sheet of the month, number `index` of `months`, from each project's last three
        reports of that fiscal year up to the month (by report number)."""
        sheet = self.book.add_sheet(
            _month_name(month.fiscal_year, month.report_no), MONTH_HEADER,
            widths=MONTH_WIDTHS, formats=MONTH_FORMATS,
        )  # fmt: skip
        first, last, total = month.first_day, month.last_day, _Totals()
        count = len(self.projects)
        for number, (project, (start, end)) in enumerate(
            zip(self.projects, self.spans, strict=True)
        ):
            if start <= last and first <= end:  # running in the month (as `running_in`)
                status = project_status(
                    project, recent.get(project.code, ()), month,
                    self.officers.get(project.code, ()),
                )  # fmt: skip
                sheet.append(month_row(status))
                total.add(status)
            # The projects summarised so far, counting each month as a share of them.
            self.counter.advance_to(count + (index * count + number + 1) // months)
        sheet.set_filter()  # over the projects, not the totals below
        sheet.append([])
        sheet.append(total.row())

    def close(self) -> None:
        """Finish the last sheet and the workbook."""
        self.months()
        self.book.close()
        self.counter.finish()

    def abandon(self) -> None:
        """Give up: no workbook (a ".part" file is removed)."""
        self.book.abandon()


def write_workbook(
    out: BinaryIO | Path,
    projects: Sequence[Project],
    reports: Mapping[str, Sequence[MonthlyReport]],
    officers: Mapping[str, tuple[str, ...]],
    zone: ZoneInfo,
    progress: Progress | None = None,
) -> None:
    """The whole workbook from reports read beforehand (per project code, by fiscal year and
    report number), times in `zone`; `progress` counts each project twice."""
    try:
        book = _Book(out, projects, officers, zone, progress)
        try:
            for done, project in enumerate(projects, start=1):
                book.write_main([(project, reports.get(project.code, ()))], done)
            by_year: dict[tuple[str, int], list[MonthlyReport]] = {}
            for code, found in reports.items():
                for report in found:
                    by_year.setdefault((code, report.fiscal_year), []).append(report)
            for year_reports in by_year.values():
                year_reports.sort(key=_report_no)
            months = book.months()
            for index, month in enumerate(months):
                recent = {
                    code: _up_to(found, month.report_no)
                    for (code, year), found in by_year.items()
                    if year == month.fiscal_year
                }
                book.write_month(month, index, len(months), recent)
        except BaseException:
            book.abandon()
            raise
        book.close()
    finally:
        _text.cache_clear()  # kept for an export only, not by the bot between exports


async def _write_streamed(
    repo: Records,
    out: BinaryIO | Path,
    projects: Sequence[Project],
    officers: Mapping[str, tuple[str, ...]],
    zone: ZoneInfo,
    progress: Progress | None,
    *,
    years: Collection[int],
    fiscal_year: int | None,
    agency: str | None,
    up_to: int,
) -> int:
    """The workbook written as storage gives the reports (see the module's docstring); each
    batch and month is read while the one before is being written."""
    position = {p.code: n for n, p in enumerate(projects, start=1)}
    writing: asyncio.Future[None] | None = None

    async def written() -> None:
        nonlocal writing
        if writing is not None:
            done, writing = writing, None
            await done

    def write(job: Callable[..., None], *args: object) -> None:
        nonlocal writing
        writing = asyncio.ensure_future(asyncio.to_thread(job, *args))

    try:
        book = await asyncio.to_thread(_Book, out, projects, officers, zone, progress)
        try:
            async for batch in repo.report_batches(fiscal_year=fiscal_year, agency=agency):
                found: dict[str, tuple[Project, list[MonthlyReport]]] = {}
                for project, report in batch:
                    if (
                        project.code in position
                        and report.fiscal_year in years
                        and report.report_no <= up_to
                    ):
                        found.setdefault(project.code, (project, []))[1].append(report)
                if found:
                    await written()
                    write(book.write_main, list(found.values()), position[next(reversed(found))])
            await written()
            months = book.months()
            recent: dict[str, list[MonthlyReport]] = {}
            for index, month in enumerate(months):
                reported = await repo.recent_reports(
                    month.fiscal_year, month.report_no, count=1, agency=agency
                )
                await written()  # the sheet before reads `recent`
                if month.report_no == 1:
                    recent = {}  # a new fiscal year
                for report in reported:
                    if report.report_no == month.report_no and report.project_code in position:
                        last = recent.setdefault(report.project_code, [])
                        last.append(report)
                        del last[:-3]
                write(book.write_month, month, index, len(months), recent)
            await written()
        except BaseException:
            if writing is not None:
                await asyncio.wait([writing])  # the worker thread is done with the file
            book.abandon()
            raise
        await asyncio.to_thread(book.close)
        return book.rows
    finally:
        _text.cache_clear()


def runs_within(project: Project, fiscal_year: int) -> bool:
    """Whether the project runs in some month of the fiscal year (its rows are in that file)."""
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
    repo: Records, projects: Sequence[Project], fiscal_year: int | None, up_to: int
) -> dict[str, list[MonthlyReport]]:
    found: dict[str, list[MonthlyReport]] = {}
    for project in projects:
        reports = await repo.reports_of_project(project.code, fiscal_year)
        reports = [r for r in reports if r.report_no <= up_to]
        if reports:
            found[project.code] = reports
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
    up_to: int = 12,
) -> int:
    """Write the workbook to `out`; returns the number of project-month rows on the first sheet.
    Moments (when each report was sent) are wall-clock time in `zone`, the bot's time zone.

    The filters combine: a fiscal year, one project, projects under an agency path, and a set of
    project codes (a coordinator's scope); `up_to` keeps the reports of the fiscal year's months
    up to that report number (the year as it stood at that month's end).

    `progress(done, total)` counts projects twice (once written out, once summarised), every
    hundred or so and at the end; it is called from a worker thread, where the workbook is
    written so that the event loop keeps serving chats meanwhile.
    """
    listed = await repo.list_projects(agency=agency)
    projects = [
        p
        for p in listed
        if (project_code is None or p.code == project_code)
        and (project_codes is None or p.code in project_codes)
        and (fiscal_year is None or runs_within(p, fiscal_year))
    ]
    officers = await officer_names(repo, agency=agency)
    # A query per project costs about as much as reading a year's reports of four projects in
    # bulk: a few projects out of many are read one by one (and held), the rest streamed.
    years = {fiscal_year} if fiscal_year is not None else _years_run(projects)
    if len(projects) * PER_PROJECT_SHARE < len(listed) or len(years) > MAX_YEARS:
        reports = await _read_each(repo, projects, fiscal_year, up_to)
        await asyncio.to_thread(write_workbook, out, projects, reports, officers, zone, progress)
        return sum(len(found) for found in reports.values())
    return await _write_streamed(
        repo, out, projects, officers, zone, progress,
        years=years, fiscal_year=fiscal_year, agency=agency, up_to=up_to,
    )  # fmt: skip
