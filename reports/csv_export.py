"""Monthly reports as CSV, one row per project and month, for Excel and for checking by eye."""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Iterator
from decimal import Decimal
from functools import lru_cache
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


_month_name = lru_cache(maxsize=None)(format_thai_month)  # "ต.ค. 2569", named once


def _project_cells(project: Project) -> list[str]:
    return [guard_cell(project.code), guard_cell(project.name), guard_cell(project.agency)]


def report_row(project: Project, report: MonthlyReport) -> list[str]:
    """One CSV row (in HEADER order) for a project's monthly report."""
    return _report_row(_project_cells(project), report)


def _report_row(project_cells: list[str], report: MonthlyReport) -> list[str]:
    v = report.values
    return [
        *project_cells,
        str(report.fiscal_year),
        str(report.report_no),
        _month_name(report.fiscal_year, report.report_no),
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


def _rows(batch: Iterable[tuple[Project, MonthlyReport]]) -> Iterator[list[str]]:
    """The CSV rows of a batch; a project's own cells are made once for all its reports."""
    project: Project | None = None
    cells: list[str] = []
    for each, report in batch:
        if each is not project:
            project, cells = each, _project_cells(each)
        yield _report_row(cells, report)


async def export_csv(
    repo: ReportStore,
    out: TextIO,
    *,
    fiscal_year: int | None,
    project_code: str | None,
    agency: str | None = None,
    project_codes: Collection[str] | None = None,
    up_to: int = 12,
) -> int:
    """Write the header and one row per stored monthly report; returns the number of data rows.
    `project_codes`, when given, keeps to those projects (a person's scope); `up_to`, to the
    reports of months up to that report number.

    The reports are read a few hundred projects at a time (`report_batches`) and each batch is
    written before the next is read, so that a year of 10,000 projects never sits in memory.

    The text is written as is, without a byte-order mark. Excel needs one to read Thai as
    UTF-8, so the caller opens a file with `open(path, "w", encoding="utf-8-sig", newline="")`,
    or, writing to stdout, writes "\\ufeff" first. Rows end in CRLF as RFC 4180 says; hence
    `newline=""`, which keeps Python from turning them into CR CR LF on Windows.
    """
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    async for batch in repo.report_batches(
        fiscal_year=fiscal_year, project_code=project_code, agency=agency
    ):
        if project_codes is not None or up_to < 12:
            batch = [
                (project, report)
                for project, report in batch
                if (project_codes is None or project.code in project_codes)
                and report.report_no <= up_to
            ]
        writer.writerows(_rows(batch))
        count += len(batch)
    return count
