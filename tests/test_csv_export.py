"""CSV export of monthly reports, and the Thai date formats it uses."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.models import MonthlyReport, Project, ProjectData, ReportValues, Submission
from domain.thaidate import (
    THAI_MONTHS_ABBR,
    THAI_MONTHS_FULL,
    format_be_date,
    format_thai_date,
    format_thai_month,
)
from reports.csv_export import HEADER, export_csv, guard_cell, unguard_cell
from storage.sqlite import SqliteStorage

BANGKOK = ZoneInfo("Asia/Bangkok")


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    repository = await SqliteStorage.open(tmp_path / "t.sqlite3")
    await repository.upsert_project(
        ProjectData(
            "50140000-3629",
            "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน",
            2564,
            agency="สำนักงานเขตลาดกระบัง / ฝ่ายการศึกษา / ฝ่ายการศึกษา",
        )
    )
    await repository.upsert_project(
        ProjectData("50150000-0001", "=cmd|' /C calc'!A0", 2565, agency="สำนักงานเขตบางรัก")
    )
    yield repository
    await repository.close()


async def submit(
    repo: SqliteStorage,
    code: str,
    fiscal_year: int,
    report_no: int,
    values: ReportValues,
    channel: str = "telegram",
) -> None:
    sent_at = datetime.combine(values.reported_on, time(16, 5), tzinfo=BANGKOK)
    await repo.submit_report(
        Submission(code, fiscal_year, report_no, values, None, channel, sent_at)
    )


def values(
    reported_on: date,
    progress: str,
    disbursed: str,
    note: str = "",
    *,
    on_plan: bool = True,
    plan_reason: str = "",
    on_target: bool = True,
    target_reason: str = "",
) -> ReportValues:
    return ReportValues(
        reported_on,
        Decimal(progress),
        Decimal(disbursed),
        note,
        on_plan,
        plan_reason,
        on_target,
        target_reason,
    )


async def exported(
    repo: SqliteStorage,
    *,
    fiscal_year: int | None = None,
    project_code: str | None = None,
    agency: str | None = None,
) -> tuple[int, list[list[str]]]:
    out = io.StringIO(newline="")
    count = await export_csv(
        repo, out, fiscal_year=fiscal_year, project_code=project_code, agency=agency
    )
    return count, list(csv.reader(io.StringIO(out.getvalue(), newline="")))


async def test_rows_carry_every_field_formatted(repo: SqliteStorage) -> None:
    await submit(repo, "50140000-3629", 2564, 1, values(date(2020, 10, 31), "8", "0", "เริ่มงาน"))
    await submit(
        repo,
        "50140000-3629",
        2564,
        2,
        values(
            date(2020, 11, 30),
            "80.5",
            "50000",
            on_plan=False,
            plan_reason="ผู้รับจ้างส่งของล่าช้า",
            on_target=False,
            target_reason="งบประมาณถูกตัด",
        ),
    )

    count, rows = await exported(repo)

    assert count == 2
    assert tuple(rows[0]) == HEADER
    assert rows[1] == [
        "50140000-3629",
        "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน",
        "สำนักงานเขตลาดกระบัง / ฝ่ายการศึกษา / ฝ่ายการศึกษา",
        "2564",
        "1",
        "ต.ค. 2563",
        "31/10/2563",
        "8.00",
        "0.00",
        "เริ่มงาน",
        "เป็นไปตามแผน",
        "",
        "เป็นไปตามเป้าหมาย",
        "",
        "1",
        "telegram",
        "2020-10-31T16:05:00+07:00",
    ]
    assert rows[2][5:15] == [
        "พ.ย. 2563",
        "30/11/2563",
        "80.50",
        "50000.00",
        "",
        "ไม่เป็นไปตามแผน",
        "ผู้รับจ้างส่งของล่าช้า",
        "ไม่เป็นไปตามเป้าหมาย",
        "งบประมาณถูกตัด",
        "1",
    ]


async def test_a_correction_exports_its_latest_revision(repo: SqliteStorage) -> None:
    await submit(repo, "50140000-3629", 2564, 4, values(date(2021, 1, 28), "30", "1000"))
    corrected = values(date(2021, 1, 28), "30", "1234567.8")
    at = datetime(2021, 2, 1, 9, 0, tzinfo=BANGKOK)
    await repo.correct_report(
        Submission("50140000-3629", 2564, 4, corrected, None, "line", at, reason="พิมพ์ผิด")
    )

    _, rows = await exported(repo)

    assert rows[1][5] == "ม.ค. 2564"
    assert rows[1][8] == "1234567.80"
    assert rows[1][14:] == ["2", "line", "2021-02-01T09:00:00+07:00"]


async def test_filters(repo: SqliteStorage) -> None:
    await submit(repo, "50140000-3629", 2564, 1, values(date(2020, 10, 31), "8", "0"))
    await submit(repo, "50140000-3629", 2565, 1, values(date(2021, 10, 29), "10", "0"))
    await submit(repo, "50150000-0001", 2565, 1, values(date(2021, 10, 29), "5", "0"))

    assert (await exported(repo))[0] == 3
    count, rows = await exported(repo, fiscal_year=2565)
    assert count == 2
    assert {r[0] for r in rows[1:]} == {"50140000-3629", "50150000-0001"}
    count, rows = await exported(repo, project_code="50150000-0001")
    assert (count, rows[1][0]) == (1, "50150000-0001")
    count, rows = await exported(repo, agency="สำนักงานเขตลาดกระบัง")
    assert count == 2
    assert [(r[0], r[3]) for r in rows[1:]] == [
        ("50140000-3629", "2564"),
        ("50140000-3629", "2565"),
    ]
    count, rows = await exported(repo, fiscal_year=2563)
    assert (count, len(rows)) == (0, 1)  # the header alone


async def test_formula_like_text_is_guarded(repo: SqliteStorage) -> None:
    await submit(
        repo,
        "50150000-0001",
        2565,
        1,
        values(
            date(2021, 10, 29),
            "5",
            "0",
            "-ลดลง 5%",
            on_plan=False,
            plan_reason="+ เพิ่ม",
            on_target=False,
            target_reason="@SUM(A1)",
        ),
        channel="\tconsole",
    )

    _, rows = await exported(repo)

    row = rows[1]
    assert row[1] == "'=cmd|' /C calc'!A0"
    assert (row[9], row[11], row[13], row[15]) == ("'-ลดลง 5%", "'+ เพิ่ม", "'@SUM(A1)", "'\tconsole")
    assert row[7] == "5.00"  # numbers are ours, never guarded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        ("ปกติ", "ปกติ"),
        ("'=x", "''=x"),  # guarded too, or it would come back as =x
        ("''", "'" * 3),
        ("'ปกติ", "''ปกติ"),
    ],
)
def test_guard_cell(text: str, expected: str) -> None:
    assert guard_cell(text) == expected
    assert unguard_cell(expected) == text


@pytest.mark.parametrize("text", ["'ปกติ", "'", "'1", "ab", "a'=b"])
def test_unguard_cell_takes_off_only_what_a_guard_put(text: str) -> None:
    assert unguard_cell(text) == text


@given(st.text())
def test_unguard_cell_undoes_guard_cell(text: str) -> None:
    assert unguard_cell(guard_cell(text)) == text


async def test_file_opened_as_utf8_sig_has_one_bom_and_crlf(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    await submit(repo, "50140000-3629", 2564, 1, values(date(2020, 10, 31), "8", "0", "บรรทัด\nสอง"))
    path = tmp_path / "out.csv"

    with path.open("w", encoding="utf-8-sig", newline="") as out:
        await export_csv(repo, out, fiscal_year=None, project_code=None)

    raw = path.read_bytes()
    assert raw.startswith("\ufeffรหัสโครงการ".encode())
    assert raw.count("\ufeff".encode()) == 1
    assert b"\r\r\n" not in raw
    assert raw.count(b"\r\n") == 2
    text = raw.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text, newline="")))[1][9] == "บรรทัด\nสอง"


async def test_export_writes_no_bom_itself(repo: SqliteStorage) -> None:
    out = io.StringIO()
    await export_csv(repo, out, fiscal_year=None, project_code=None)
    assert out.getvalue().startswith("รหัสโครงการ,")


def test_thai_dates() -> None:
    assert format_be_date(date(2020, 10, 31)) == "31/10/2563"
    assert format_be_date(date(2021, 1, 5)) == "05/01/2564"
    assert format_thai_date(date(2020, 11, 30)) == "30 พ.ย. 2563"
    assert format_thai_date(date(2021, 9, 1)) == "1 ก.ย. 2564"
    assert format_thai_month(2564, 1) == "ต.ค. 2563"
    assert format_thai_month(2564, 3) == "ธ.ค. 2563"
    assert format_thai_month(2564, 4) == "ม.ค. 2564"
    assert format_thai_month(2564, 12) == "ก.ย. 2564"
    assert len(THAI_MONTHS_ABBR) == len(THAI_MONTHS_FULL) == 12
    assert (THAI_MONTHS_ABBR[0], THAI_MONTHS_FULL[0]) == ("ม.ค.", "มกราคม")
    assert (THAI_MONTHS_ABBR[11], THAI_MONTHS_FULL[11]) == ("ธ.ค.", "ธันวาคม")


class BatchWatcher(SqliteStorage):
    """Gives the reports one project at a time and notes how much was written before each."""

    out: io.StringIO
    written_before: list[int]

    async def report_batches(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
        per_batch: int = 500,
    ) -> AsyncIterator[Sequence[tuple[Project, MonthlyReport]]]:
        batches = super().report_batches(
            fiscal_year=fiscal_year, project_code=project_code, agency=agency, per_batch=1
        )
        async for batch in batches:
            self.written_before.append(len(self.out.getvalue()))
            yield batch


async def test_rows_are_written_batch_by_batch_as_they_are_read(tmp_path: Path) -> None:
    watcher = await BatchWatcher.open(tmp_path / "w.sqlite3")
    assert isinstance(watcher, BatchWatcher)
    watcher.out, watcher.written_before = io.StringIO(), []
    try:
        for n in range(3):
            code = f"50140000-000{n}"
            await watcher.upsert_project(ProjectData(code, f"โครงการ {n}", 2565))
            await submit(watcher, code, 2565, 1, values(date(2021, 10, 29), str(n), "0"))
        assert await export_csv(watcher, watcher.out, fiscal_year=None, project_code=None) == 3
    finally:
        await watcher.close()

    header_only = len(watcher.out.getvalue().split("\r\n")[0]) + 2
    # Each project's row was out before the next project was read.
    assert watcher.written_before[0] == header_only
    assert watcher.written_before == sorted(set(watcher.written_before))
    assert len(watcher.out.getvalue().split("\r\n")) == 5  # header, three rows, end
