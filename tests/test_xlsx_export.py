"""XLSX export read back with openpyxl: sheets, headers, real numbers and dates, the guard."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, ProjectData, ReportValues, Submission
from reports import xlsx_export
from reports.csv_export import HEADER
from reports.xlsx_export import MAIN_SHEET, MONTH_HEADER, export_xlsx
from storage.sqlite import SqliteStorage
from tests.support import OTHER, ROAD, SCHOOL, build_world

BANGKOK = ZoneInfo("Asia/Bangkok")
TOKYO = ZoneInfo("Asia/Tokyo")  # two hours ahead of Bangkok
HOSTILE = ProjectData("50140000-9999", "=HYPERLINK(\"http://x\",\"คลิก\")", 2570,
                      agency="สำนักงานเขตลาดกระบัง / ฝ่ายโยธา")  # fmt: skip


async def put(repo: SqliteStorage, code: str, no: int, progress: str, paid: str,
              note: str = "") -> None:  # fmt: skip
    month = ReportMonth(2570, no)
    values = ReportValues(month.last_day, Decimal(progress), Decimal(paid), note, no != 2,
                          "ฝนตกหนัก" if no == 2 else "", True, "")  # fmt: skip
    at = datetime(month.year, month.month, 28, 16, 30, tzinfo=BANGKOK)
    await repo.submit_report(Submission(code, 2570, no, values, None, "telegram", at))


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    repository = await SqliteStorage.open(tmp_path / "t.sqlite3")
    await build_world(repository)
    await repository.upsert_project(HOSTILE)
    await put(repository, ROAD.code, 1, "10", "1000.5", note="@SUM(A1) เริ่มงาน")
    await put(repository, ROAD.code, 2, "25.25", "1234567.89")
    await put(repository, SCHOOL.code, 2, "5", "0")
    await put(repository, OTHER.code, 1, "50", "0")
    yield repository
    await repository.close()


async def export(
    repo: SqliteStorage,
    *,
    fiscal_year: int | None = None,
    agency: str | None = None,
    zone: ZoneInfo = BANGKOK,
) -> openpyxl.Workbook:
    out = io.BytesIO()
    await export_xlsx(repo, out, zone=zone, fiscal_year=fiscal_year, agency=agency)
    out.seek(0)
    return openpyxl.load_workbook(out)


async def test_sheets_header_and_layout(repo: SqliteStorage) -> None:
    book = await export(repo)

    assert book.sheetnames == [MAIN_SHEET, "ต.ค. 2569", "พ.ย. 2569"]
    main = book[MAIN_SHEET]
    assert [c.value for c in main[1]] == list(HEADER)
    assert all(c.font.bold for c in main[1])
    assert main.freeze_panes == "A2"
    assert main.auto_filter.ref == "A1:Q5"
    assert main.column_dimensions["B"].width == 40
    assert main.max_row == 5


async def test_numbers_are_numbers_and_dates_are_dates(repo: SqliteStorage) -> None:
    main = (await export(repo))[MAIN_SHEET]
    rows = {(r[0].value, r[4].value): r for r in main.iter_rows(min_row=2)}

    row = rows[ROAD.code, 2]
    year, number, day, progress, paid = (row[i] for i in (3, 4, 6, 7, 8))
    assert (year.value, number.value) == (2570, 2)
    assert isinstance(progress.value, float) and progress.value == 25.25
    assert isinstance(paid.value, float) and paid.value == 1234567.89
    assert (progress.number_format, paid.number_format) == ("0.00", "#,##0.00")
    assert day.value == datetime(2026, 11, 30) and day.number_format == "dd/mm/bbbb"
    assert day.is_date
    sent = row[16]
    assert sent.value == datetime(2026, 11, 28, 16, 30) and sent.number_format.startswith("dd/mm")
    assert [row[i].value for i in (10, 11, 12)] == ["ไม่เป็นไปตามแผน", "ฝนตกหนัก", "เป็นไปตามเป้าหมาย"]
    assert row[5].value == "พ.ย. 2569"
    assert row[9].value is None  # no note: an empty cell, not an empty text


async def test_times_are_wall_clock_time_in_the_configured_zone(repo: SqliteStorage) -> None:
    main = (await export(repo, zone=TOKYO))[MAIN_SHEET]
    rows = {(r[0].value, r[4].value): r for r in main.iter_rows(min_row=2)}

    # Sent at 16:30 in Bangkok, which is 18:30 in Tokyo; the report date stays a date.
    sent, day = rows[ROAD.code, 2][16], rows[ROAD.code, 2][6]
    assert sent.value == datetime(2026, 11, 28, 18, 30)
    assert day.value == datetime(2026, 11, 30)


async def test_text_that_looks_like_a_formula_stays_text_as_typed(repo: SqliteStorage) -> None:
    # Inline strings never run as formulas, so no guard: a note starting with "-" (common in
    # Thai reports) is shown as typed, not as '- ดำเนินการ.
    await put(repo, HOSTILE.code, 1, "1", "0", note="- ดำเนินการ=1+1")
    await put(repo, SCHOOL.code, 3, "6", "0", note="'=x")
    book = await export(repo)
    main = book[MAIN_SHEET]

    cells = [c for row in main.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c for c in cells if c.data_type != "s"]
    rows = {(r[0].value, r[4].value): r for r in main.iter_rows(min_row=2)}
    name, note = rows[HOSTILE.code, 1][1], rows[HOSTILE.code, 1][9]
    assert (name.value, name.data_type) == (HOSTILE.name, "s")
    assert (note.value, note.data_type) == ("- ดำเนินการ=1+1", "s")
    assert rows[ROAD.code, 1][9].value == "@SUM(A1) เริ่มงาน"
    assert rows[SCHOOL.code, 3][9].value == "'=x"
    month = book["ต.ค. 2569"]
    assert any(c.value == HOSTILE.name for row in month.iter_rows() for c in row)


async def test_a_month_sheet_summarises_the_month(repo: SqliteStorage) -> None:
    book = await export(repo)
    november = book["พ.ย. 2569"]

    assert [c.value for c in november[1]] == list(MONTH_HEADER)
    assert november.freeze_panes == "A2"
    rows = {r[0].value: [c.value for c in r] for r in november.iter_rows(min_row=2) if r[0].value}
    road, school, other = rows[ROAD.code], rows[SCHOOL.code], rows[OTHER.code]
    assert road[3:8] == ["นายสมชาย ใจดี", "ส่งแล้ว", 2, 25.25, 15.25]
    assert road[8:10] == [1200000, 1234567.89]
    assert "ยอดเบิกจ่าย" not in (road[10] or "")
    assert school[4:8] == ["ส่งแล้ว", 2, 5, None]  # its first report: no change to show
    assert other[4:6] == ["ยังไม่ส่ง", 1]  # October's figures shown
    assert rows[HOSTILE.code][4] == "ยังไม่ส่ง"
    total = rows["รวม"]
    assert total[1] == "ส่งแล้ว 2 จาก 4 โครงการ"
    assert total[8:10] == [1560000, 1234567.89]
    assert november.auto_filter.ref == "A1:K5"  # the totals row is not filtered


async def test_filters_and_progress(repo: SqliteStorage, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = tmp_path / "road.xlsx"

    count = await export_xlsx(
        repo, path, project_code=ROAD.code, progress=lambda *a: calls.append(a), zone=BANGKOK
    )

    assert count == 2
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [MAIN_SHEET, "ต.ค. 2569", "พ.ย. 2569"]
    assert book[MAIN_SHEET].max_row == 3
    assert book["ต.ค. 2569"].max_row == 4  # one project, a blank row, the totals
    assert calls[-1] == (2, 2)  # the one project read, then summarised
    bang_khen = await export(repo, agency="สำนักงานเขตบางเขน")
    assert [r[0].value for r in bang_khen[MAIN_SHEET].iter_rows(min_row=2)] == [OTHER.code]
    scope = io.BytesIO()
    count = await export_xlsx(repo, scope, zone=BANGKOK, project_codes={SCHOOL.code, OTHER.code})
    assert count == 2
    codes = [r[0].value for r in openpyxl.load_workbook(scope)[MAIN_SHEET].iter_rows(min_row=2)]
    assert codes == [SCHOOL.code, OTHER.code]


async def test_nothing_to_export(repo: SqliteStorage) -> None:
    calls: list[tuple[int, int]] = []
    out = io.BytesIO()
    count = await export_xlsx(
        repo, out, fiscal_year=2560, progress=lambda *a: calls.append(a), zone=BANGKOK
    )
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert count == 0 and book.sheetnames == [MAIN_SHEET] and book[MAIN_SHEET].max_row == 1
    assert calls == [(0, 0)]


def test_the_be_date_format_is_a_date_format() -> None:
    # openpyxl (and Excel) read a cell with this format as a date; "bbbb" is the Buddhist year.
    from openpyxl.styles.numbers import is_date_format

    assert is_date_format("dd/mm/bbbb")
    assert date(2020, 10, 31).year + 543 == 2563


async def test_every_fiscal_year_gets_its_months(repo: SqliteStorage) -> None:
    await repo.upsert_project(ProjectData("50140000-5001", "โครงการปีถัดไป", 2571, agency="เขต"))
    month = ReportMonth(2571, 2)
    values = ReportValues(month.last_day, Decimal(5), Decimal(0), "", True, "", True, "")
    at = datetime(2027, 11, 30, 9, tzinfo=BANGKOK)
    await repo.submit_report(Submission("50140000-5001", 2571, 2, values, None, "line", at))

    book = await export(repo)

    assert book.sheetnames == [MAIN_SHEET, "ต.ค. 2569", "พ.ย. 2569", "ต.ค. 2570", "พ.ย. 2570"]
    october = [r[0].value for r in book["ต.ค. 2570"].iter_rows(min_row=2) if r[0].value]
    assert october == ["50140000-5001", "รวม"]  # the only project running then
    only_2571 = await export(repo, fiscal_year=2571)
    assert only_2571.sheetnames == [MAIN_SHEET, "ต.ค. 2570", "พ.ย. 2570"]


class CountingRepository(SqliteStorage):
    """Counts the per-project reads, which a whole export must not make."""

    per_project = 0

    async def reports_of_project(
        self, project_code: str, fiscal_year: int | None = None
    ) -> list[MonthlyReport]:
        self.per_project += 1
        return await super().reports_of_project(project_code, fiscal_year)


async def test_reading_in_bulk_or_project_by_project_makes_the_same_workbook(
    repo: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await repo.upsert_project(ProjectData("50140000-5001", "โครงการปีถัดไป", 2571, agency="เขต"))
    month = ReportMonth(2571, 2)
    values = ReportValues(month.last_day, Decimal(5), Decimal(0), "", True, "", True, "")
    at = datetime(2027, 11, 30, 9, tzinfo=BANGKOK)
    await repo.submit_report(Submission("50140000-5001", 2571, 2, values, None, "line", at))
    bulk = [await export_bytes(repo, fiscal_year=year) for year in (None, 2570, 2571)]

    monkeypatch.setattr(xlsx_export, "PER_PROJECT_SHARE", 0)  # every project read on its own
    each = [await export_bytes(repo, fiscal_year=year) for year in (None, 2570, 2571)]

    assert bulk == each  # byte for byte: the writer is deterministic


async def test_a_whole_export_reads_no_project_on_its_own(tmp_path: Path) -> None:
    counting = await CountingRepository.open(tmp_path / "c.sqlite3")
    assert isinstance(counting, CountingRepository)
    try:
        await build_world(counting)
        for n in range(3):
            await counting.upsert_project(ProjectData(f"50140000-60{n:02d}", "อื่น", 2570))
        await put(counting, ROAD.code, 1, "10", "0")
        await put(counting, SCHOOL.code, 2, "5", "0")
        assert await export_xlsx(counting, io.BytesIO(), fiscal_year=2570, zone=BANGKOK) == 2
        assert await export_xlsx(counting, io.BytesIO(), zone=BANGKOK) == 2
        assert counting.per_project == 0
        # One project of six: a query of its own is cheaper than the whole year.
        assert await export_xlsx(counting, io.BytesIO(), project_code=ROAD.code, zone=BANGKOK) == 1
        assert counting.per_project == 1
    finally:
        await counting.close()


async def test_control_characters_and_markup_survive_as_text(repo: SqliteStorage) -> None:
    await put(repo, SCHOOL.code, 1, "1", "0", note='ครู <ใหม่> & "เก่า"\x00\x08 เริ่ม\x1f')
    book = await export(repo)

    note = next(r[9] for r in book[MAIN_SHEET].iter_rows(min_row=2) if r[0].value == SCHOOL.code)
    assert note.value == 'ครู <ใหม่> & "เก่า" เริ่ม'


async def test_progress_only_grows(repo: SqliteStorage) -> None:
    calls: list[tuple[int, int]] = []
    await export_xlsx(repo, io.BytesIO(), progress=lambda *a: calls.append(a), zone=BANGKOK)

    assert calls == sorted(calls) and calls[-1] == (8, 8)  # four projects, twice each


async def export_bytes(repo: SqliteStorage, *, fiscal_year: int | None) -> bytes:
    out = io.BytesIO()
    await export_xlsx(repo, out, fiscal_year=fiscal_year, zone=BANGKOK)
    return out.getvalue()
