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
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.checks import Neighbours, check_disbursed, check_note, check_progress
from domain.models import MonthlyReport, Project, Submission
from domain.months import month_name, project_span
from domain.thaidate import format_thai_date
from reports.project_import import STATUS_LABELS, Imported, RowStatus
from reports.reports_file import ReportRow, RowOutcome, read_report_file
from storage.contracts import Records
from storage.errors import AlreadyReported

__all__ = ["ImportResult", "RowOutcome", "RowStatus", "format_report", "import_reports"]

CHANNEL = "import"
SENT_AT = time(16, 0)  # an imported report counts as sent in the afternoon of its date
SHOWN = (RowStatus.CREATED, RowStatus.UNCHANGED, RowStatus.REJECTED)


class ImportResult(Imported[RowOutcome]):
    """What an import of monthly reports did, row by row."""

    __slots__ = ()


class _Known:
    """Projects and their reports, read once per project and kept up to date with the rows
    stored, so that each row is checked against the stored months and the file's earlier rows."""

    def __init__(self, repo: Records) -> None:
        self.repo = repo
        self.projects: dict[str, Project | None] = {}
        self.reports: dict[str, list[MonthlyReport]] = {}

    async def project(self, code: str) -> Project | None:
        if code not in self.projects:
            self.projects[code] = await self.repo.get_project(code)
            if self.projects[code] is not None:
                self.reports[code] = await self.repo.reports_of_project(code)
        return self.projects[code]


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
    project = await known.project(report.code)
    if project is None:
        return _rejected(
            outcome,
            f"ไม่พบโครงการรหัส {report.code} ในระบบ "
            "(นำเข้าโครงการก่อนด้วย progress-bot projects import)",
        )
    reports = known.reports[report.code]
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


async def import_reports(repo: Records, path: Path, *, zone: ZoneInfo) -> ImportResult:
    """Store the valid rows of a file of monthly reports, in file order; returns every outcome.

    A report is recorded as sent at SENT_AT on its report date, wall-clock time in `zone` (the
    bot's time zone)."""
    parsed = await asyncio.to_thread(read_report_file, path)
    known = _Known(repo)
    outcomes: list[RowOutcome] = []
    for outcome in parsed.rows:
        if outcome.report is None:
            outcomes.append(outcome)
        else:
            outcomes.append(await _import_row(repo, known, outcome, zone))
    return ImportResult(tuple(outcomes), parsed.warnings)


def format_report(result: ImportResult) -> str:
    """A human summary for the CLI: warnings, one line per row (with notes), then the totals."""
    lines = [f"คำเตือน (warning): {w}" for w in result.warnings]
    for o in result.outcomes:
        month = f" ครั้งที่ {o.report.report_no}/{o.report.fiscal_year}" if o.report else ""
        line = f"แถว {o.row}: {o.code or '(ไม่มีรหัส)'}{month} - {STATUS_LABELS[o.status]}"
        lines.append(line + (": " + "; ".join(o.reasons) if o.reasons else ""))
        lines += [f"    {note}" for note in o.notes]
    counts = ", ".join(f"{STATUS_LABELS[s]} {result.count(s)}" for s in SHOWN)
    lines.append(f"รวม {len(result.outcomes)} แถว (rows): {counts}")
    return "\n".join(lines)
