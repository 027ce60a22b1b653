"""`progress-bot reports import FILE`: past monthly reports from a CSV or XLSX, checked as the
conversation checks them, so that a fiscal year that began before the bot can be printed whole.

Each row is read on its own (`reports.reports_file`), then against storage: the project must
exist and run in that month, and the figures must fit the months around it, stored or from
earlier rows of the same file (`check_progress`, `check_disbursed`, as in the chat). A row for a
month that is stored already is "unchanged" when identical and otherwise rejected: a stored
report is only ever changed through a correction in the chat, which keeps its history and
reason. Re-importing a file therefore changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.checks import Neighbours, check_disbursed, check_note, check_progress
from domain.models import MonthlyReport, Project, Submission
from domain.months import month_name, project_span
from domain.thaidate import format_thai_date
from reports.project_import import (
    STATUS_LABELS,
    Counts,
    Imported,
    RowImport,
    RowStatus,
    summary_text,
    whole,
)
from reports.reports_file import ReportRow, RowOutcome, row_checker
from reports.table_file import TableFile
from storage.contracts import Records
from storage.errors import AlreadyReported

__all__ = [
    "ImportResult",
    "RowOutcome",
    "RowStatus",
    "format_report",
    "format_row",
    "format_totals",
    "import_reports",
    "open_report_import",
]

CHANNEL = "import"
SENT_AT = time(16, 0)  # an imported report counts as sent in the afternoon of its date
SHOWN = (RowStatus.CREATED, RowStatus.UNCHANGED, RowStatus.REJECTED)
KNOWN_PROJECTS = 1000  # projects whose reports are kept at hand during an import


class ImportResult(Imported[RowOutcome]):
    """What an import of monthly reports did, row by row."""

    __slots__ = ()


class _Known:
    """Projects and their reports, read once per project and kept up to date with the rows
    stored, so that each row is checked against the stored months and the file's earlier rows.
    Only the KNOWN_PROJECTS used last are kept: one read again finds in storage the rows stored
    meanwhile, so forgetting it loses nothing."""

    def __init__(self, repo: Records) -> None:
        self.repo = repo
        self.projects: OrderedDict[str, tuple[Project | None, list[MonthlyReport]]] = OrderedDict()

    async def project(self, code: str) -> tuple[Project | None, list[MonthlyReport]]:
        """The project with this code (None if there is none), and its reports."""
        if code in self.projects:
            self.projects.move_to_end(code)
            return self.projects[code]
        project = await self.repo.get_project(code)
        reports = await self.repo.reports_of_project(code) if project is not None else []
        self.projects[code] = project, reports
        if len(self.projects) > KNOWN_PROJECTS:
            self.projects.popitem(last=False)
        return project, reports


def _rejected(outcome: RowOutcome, *reasons: str) -> RowOutcome:
    return dataclasses.replace(outcome, status=RowStatus.REJECTED, reasons=reasons, report=None)


def _stored_elsewhere(report: ReportRow) -> str:
    return (
        f"มีรายงานเดือน {month_name(report.month)} (ครั้งที่ {report.report_no}) ในระบบแล้ว "
        "และต่างจากแถวนี้ จึงไม่นำเข้าทับ หากรายงานที่บันทึกไว้ผิด "
        'กรุณาแก้ไขผ่านแชต (พิมพ์ "แก้ไข") ซึ่งจะเก็บประวัติและเหตุผลของการแก้ไขไว้'
    )


def _problems(project: Project, report: ReportRow, around: Neighbours) -> list[str]:
    reasons: list[str] = []
    start, end = project_span(project)
    month = report.month
    if month.last_day < start:
        reasons.append(
            f"โครงการเริ่มเมื่อ {format_thai_date(start)} จึงไม่มีรายงานเดือน {month_name(month)}"
        )
    elif month.first_day > end:
        reasons.append(
            f"โครงการสิ้นสุดเมื่อ {format_thai_date(end)} จึงไม่มีรายงานเดือน {month_name(month)}"
        )
    values = report.values
    for finding in (
        check_progress(values.progress, around),
        check_disbursed(values.disbursed, around, project.budget_received),
    ):
        if finding is not None:
            # The first line states the problem; the rest tells a chat user which button to press.
            reasons.append(finding.message.split("\n")[0])
    return reasons


async def _import_row(
    repo: Records, known: _Known, outcome: RowOutcome, zone: ZoneInfo
) -> RowOutcome:
    report = outcome.report
    assert report is not None
    project, reports = await known.project(report.code)
    if project is None:
        return _rejected(
            outcome,
            f"ไม่พบโครงการรหัส {report.code} ในระบบ "
            "(นำเข้าโครงการก่อนด้วย progress-bot projects import)",
        )
    key = (report.fiscal_year, report.report_no)
    stored = next((r for r in reports if (r.fiscal_year, r.report_no) == key), None)
    if stored is not None:
        if stored.values == report.values:
            return dataclasses.replace(outcome, status=RowStatus.UNCHANGED)
        return _rejected(outcome, _stored_elsewhere(report))
    around = Neighbours.around(reports, *key)
    reasons = _problems(project, report, around)
    if reasons:
        return _rejected(outcome, *reasons)
    values = report.values
    question = check_note(values.note, values.progress, values.disbursed, around)
    sent_at = datetime.combine(values.reported_on, SENT_AT, tzinfo=zone)
    submission = Submission(report.code, *key, values, None, CHANNEL, sent_at)
    try:
        reports.append(await repo.submit_report(submission))
    except AlreadyReported:  # sent through the chat while the file was being imported
        return _rejected(outcome, _stored_elsewhere(report))
    notes = (f"ข้อสังเกต: {question} (นำเข้าตามไฟล์)",) if question else ()
    return dataclasses.replace(outcome, status=RowStatus.CREATED, notes=notes)


@asynccontextmanager
async def open_report_import(
    repo: Records, path: Path, *, zone: ZoneInfo
) -> AsyncIterator[RowImport[RowOutcome]]:
    """The file opened and its header checked (ImportFileError if it cannot be imported), ready
    to `run`: the valid rows are stored in file order.

    A report is recorded as sent at SENT_AT on its report date, wall-clock time in `zone` (the
    bot's time zone)."""
    table, stop = await whole(asyncio.to_thread(TableFile, path))
    try:
        if stop:
            raise asyncio.CancelledError
        check, warnings = row_checker(table.header)
        known = _Known(repo)

        async def store(outcome: RowOutcome) -> RowOutcome:
            return await _import_row(repo, known, outcome, zone)

        yield RowImport(table, (*table.warnings, *warnings), check, store)
    finally:
        table.close()


async def import_reports(repo: Records, path: Path, *, zone: ZoneInfo) -> ImportResult:
    """Store the valid rows of a file of monthly reports, in file order; every outcome, held
    (the CLI streams instead)."""
    outcomes: list[RowOutcome] = []
    async with open_report_import(repo, path, zone=zone) as run:
        await run.run(outcomes.append)
    return ImportResult(tuple(outcomes), run.all_warnings())


def format_row(outcome: RowOutcome) -> list[str]:
    """The line of one row (its number, code, month, status and reasons), then its notes."""
    report = outcome.report
    month = f" ครั้งที่ {report.report_no}/{report.fiscal_year}" if report else ""
    line = (
        f"แถว {outcome.row}: {outcome.code or '(ไม่มีรหัส)'}{month} - {STATUS_LABELS[outcome.status]}"
    )
    if outcome.reasons:
        line += ": " + "; ".join(outcome.reasons)
    return [line, *(f"    {note}" for note in outcome.notes)]


def format_totals(counts: Counts) -> str:
    """The closing line: rows in all, and per status."""
    shown = ", ".join(f"{STATUS_LABELS[s]} {counts.count(s)}" for s in SHOWN)
    return f"รวม {counts.rows} แถว (rows): {shown}"


def format_report(result: ImportResult) -> str:
    """A human summary: warnings, one line per row (with notes), then the totals."""
    return summary_text(result.warnings, result.outcomes, format_row, format_totals(result))
