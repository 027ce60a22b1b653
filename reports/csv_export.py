"""Monthly reports as CSV, one row per project and month, for Excel and for checking by eye."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import TextIO

from domain.models import MONEY_STEP, PERCENT_STEP, MonthlyReport, Project
from domain.thaidate import format_be_date, format_thai_month
from storage.contracts import ReportStore

HEADER: tuple[str, ...] = (
    "รหัสโครงการ",
    "ชื่อโครงการ",
    "หน่วยงาน",
    "ปีงบประมาณ",
    "รายงานครั้งที่",
    "เดือน",
    "วันที่รายงาน",
    "ความก้าวหน้า (%)",
    "งบประมาณที่เบิกใช้ (บาท)",
    "ผลการดำเนินงาน",
    "เป็นไปตามแผน",
    "เหตุผล (แผน)",
    "เป็นไปตามเป้าหมาย",
    "เหตุผล (เป้าหมาย)",
    "ฉบับแก้ไขที่",
    "ช่องทาง",
    "ส่งเมื่อ",
)

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a text
# starting with the guard itself is guarded too, so that taking the guard off is exact.
_GUARDED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def guard_cell(text: str) -> str:
    """Free text made safe for a spreadsheet opening the CSV: a `'` put before a text starting
    with = + - @ tab or CR (which would run as a formula), or with `'` (so `'=x` is `''=x`).
    `unguard_cell` takes it off again."""
    return "'" + text if text.startswith(_GUARDED_STARTS) else text


def unguard_cell(text: str) -> str:
    """A CSV cell as it was before `guard_cell`: one leading `'` taken off when what follows
    starts with a guarded character; any other text is left as it is."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_GUARDED_STARTS) else text


def _amount(value: Decimal, step: Decimal) -> str:
    # Plain digits and a dot, no thousands separator, so that Excel reads a number.
    return f"{value.quantize(step):f}"


def report_row(project: Project, report: MonthlyReport) -> list[str]:
    """One CSV row (in HEADER order) for a project's monthly report."""
    v = report.values
    return [
        guard_cell(project.code),
        guard_cell(project.name),
        guard_cell(project.agency),
        str(report.fiscal_year),
        str(report.report_no),
        format_thai_month(report.fiscal_year, report.report_no),
        format_be_date(v.reported_on),
        _amount(v.progress, PERCENT_STEP),
        _amount(v.disbursed, MONEY_STEP),
        guard_cell(v.note),
        "เป็นไปตามแผน" if v.on_plan else "ไม่เป็นไปตามแผน",
        guard_cell(v.plan_reason),
        "เป็นไปตามเป้าหมาย" if v.on_target else "ไม่เป็นไปตามเป้าหมาย",
        guard_cell(v.target_reason),
        str(report.revision),
        guard_cell(report.channel),
        report.sent_at.isoformat(),
    ]


async def export_csv(
    repo: ReportStore,
    out: TextIO,
    *,
    fiscal_year: int | None,
    project_code: str | None,
    agency: str | None = None,
) -> int:
    """Write the header and one row per stored monthly report; returns the number of data rows.

    The text is written as is, without a byte-order mark. Excel needs one to read Thai as
    UTF-8, so the caller opens a file with `open(path, "w", encoding="utf-8-sig", newline="")`,
    or, writing to stdout, writes "\\ufeff" first. Rows end in CRLF as RFC 4180 says; hence
    `newline=""`, which keeps Python from turning them into CR CR LF on Windows.
    """
    rows = await repo.report_rows(fiscal_year=fiscal_year, project_code=project_code, agency=agency)
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for project, report in rows:
        writer.writerow(report_row(project, report))
    return len(rows)
