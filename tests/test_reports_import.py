"""Importing past monthly reports: the seed's year, exports back in, and every reason to refuse."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from domain.fiscal import ReportMonth
from domain.models import ReportValues, Submission
from reports import reports_import
from reports.csv_export import export_csv
from reports.demo_data import SEED_PROJECT
from reports.project_import import ImportFileError
from reports.reports_file import field_of
from reports.reports_import import RowStatus, format_report, import_reports
from reports.xlsx_export import export_xlsx
from storage.sqlite import SqliteStorage
from tests.support import ROAD, SCHOOL, build_world

BANGKOK = ZoneInfo("Asia/Bangkok")
HEADER = (
    "รหัสโครงการ", "ปีงบประมาณ", "รายงานครั้งที่", "วันที่รายงาน", "ความก้าวหน้า (%)",
    "งบประมาณที่เบิกใช้ (บาท)", "ผลการดำเนินงาน", "เป็นไปตามแผน", "เหตุผล (แผน)",
    "เป็นไปตามเป้าหมาย", "เหตุผล (เป้าหมาย)",
)  # fmt: skip
ENGLISH = (
    "code", "fiscal_year", "report_no", "reported_on", "progress", "disbursed", "note", "on_plan",
    "plan_reason", "on_target", "target_reason",
)  # fmt: skip
# The seed form's twelve reports (FORM.md), as the old system would export them.
SEED_ROWS = [
    ("1", "31/10/2563", "8.00", "อยู่ระหว่างขั้นตอน..."),
    ("2", "30/11/2563", "16.00", ""),
    ("3", "30/12/2563", "25.00", "ประชุมเพื่อเตรียมความพร้อม และแบ่งงาน"),
    ("4", "28/01/2564", "30.00", "ประชุมเตรียมความพร้อมในการดำเนินการตามโครงการภายใต้สถานการณ์โควิด"),
    ("5", "28/02/2564", "40.00", ""),
    ("6", "24/03/2564", "50.00", "เร่งรัดแต่ละเครือข่ายให้เบิกจ่ายค่าวัสดุตามโครงการ"),
    ("7", "26/04/2564", "55.00", "เตรียมความพร้อมเนื่องจากสถานการณ์แพร่ระบาดของไวรัสโคโรน่า 2019"),
    ("8", "29/05/2564", "60.00", "เตรียมความพร้อมเปิดภาคเรียน1/2564"),
    ("9", "29/06/2564", "65.00", "เร่งรัดโรงเรียนจัดส่งฎีกาเบิกจ่าย"),
    ("10", "31/07/2564", "80.00", ""),
    ("11", "29/08/2564", "80.00", "เบิกจ่ายได้ 1 เครือข่าย อีก 3เครือข่ายส่งเงินงบประมาณคืน"),
    ("12", "27/09/2564", "100.00", "ดำเนินตามโครงการเสร็จสิ้นแล้ว"),
]


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    repository = await SqliteStorage.open(tmp_path / "t.sqlite3")
    await build_world(repository)
    await repository.upsert_project(SEED_PROJECT)
    yield repository
    await repository.close()


def write_csv(
    path: Path, rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = HEADER
) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


def road(no: int, progress: str, disbursed: str = "0", /, **fields: str) -> tuple[str, ...]:
    """A row for ROAD (fiscal year 2570: report 1 is October 2026 = 2569 BE); `fields` by the
    English column names replace cells."""
    day = {1: "31/10/2569", 2: "30/11/2569", 3: "28/12/2569"}[no]
    cells = (ROAD.code, "2570", str(no), day, progress, disbursed, "", "เป็นไปตามแผน", "",
             "เป็นไปตามเป้าหมาย", "")  # fmt: skip
    row = dict(zip(ENGLISH, cells, strict=True)) | fields
    return tuple(row[name] for name in ENGLISH)


async def test_the_seed_year_imports_and_keeps_the_contradiction_as_a_note(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    rows = [
        (SEED_PROJECT.code, "2564", no, day, progress, "0", note, "เป็นไปตามแผน", "",
         "เป็นไปตามเป้าหมาย", "")
        for no, day, progress, note in SEED_ROWS
    ]  # fmt: skip

    result = await import_reports(repo, write_csv(tmp_path / "seed.csv", rows), zone=BANGKOK)

    assert [o.status for o in result.outcomes] == [RowStatus.CREATED] * 12
    assert (result.created, result.unchanged, result.rejected) == (12, 0, 0)
    stored = await repo.reports_of_project(SEED_PROJECT.code, 2564)
    assert [r.values.progress for r in stored] == [Decimal(p) for _, _, p, _ in SEED_ROWS]
    first, eleventh = stored[0], stored[10]
    assert first.values == ReportValues(
        date(2020, 10, 31), Decimal("8.00"), Decimal(0), "อยู่ระหว่างขั้นตอน...", True, "", True, ""
    )
    assert first.sent_at == datetime.combine(date(2020, 10, 31), time(16), tzinfo=BANGKOK)
    assert (first.channel, first.sent_by, first.revision) == ("import", None, 1)
    # Report 11 says money was paid while the figures say 0 baht: stored, but pointed out.
    assert result.outcomes[10].notes and "เบิกจ่าย" in result.outcomes[10].notes[0]
    assert eleventh.values.note.startswith("เบิกจ่ายได้")
    text = format_report(result)
    assert "สร้างใหม่ (created) 12" in text and "ข้อสังเกต" in text


async def test_an_imported_report_counts_as_sent_at_four_in_the_configured_zone(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    path = write_csv(tmp_path / "r.csv", [road(1, "10", "1000")])

    result = await import_reports(repo, path, zone=tokyo)

    assert result.created == 1
    report = await repo.get_report(ROAD.code, 2570, 1)
    assert report is not None
    assert report.sent_at == datetime(2026, 10, 31, 16, tzinfo=tokyo)
    assert report.sent_at == datetime(2026, 10, 31, 14, tzinfo=BANGKOK)


async def test_importing_the_same_file_again_changes_nothing(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [road(1, "10", "1000"), road(2, "20", "5,000")])
    first = await import_reports(repo, path, zone=BANGKOK)
    again = await import_reports(repo, path, zone=BANGKOK)

    assert [o.status for o in first.outcomes] == [RowStatus.CREATED] * 2
    assert [o.status for o in again.outcomes] == [RowStatus.UNCHANGED] * 2
    report = await repo.get_report(ROAD.code, 2570, 2)
    assert report is not None and len(await repo.revisions(report.id)) == 1


async def test_a_csv_export_imports_back_unchanged(repo: SqliteStorage, tmp_path: Path) -> None:
    # Notes that the export guards against formulas come back as they were.
    for no, note in ((1, "-เริ่มสำรวจพื้นที่"), (2, "=1+1 ไม่ใช่สูตร"), (3, "")):
        values = ReportValues(
            date(2026, 9 + no, 28), Decimal(no * 10), Decimal(no * 1000), note,
            no != 2, "" if no != 2 else "ฝนตกหนัก", True, "",
        )  # fmt: skip
        at = datetime(2026, 9 + no, 28, 9, tzinfo=BANGKOK)
        await repo.submit_report(Submission(ROAD.code, 2570, no, values, None, "telegram", at))
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        await export_csv(repo, out, fiscal_year=2570, project_code=None)

    result = await import_reports(repo, path, zone=BANGKOK)

    assert [o.status for o in result.outcomes] == [RowStatus.UNCHANGED] * 3
    assert result.warnings == ()


async def test_an_xlsx_export_imports_back_unchanged(repo: SqliteStorage, tmp_path: Path) -> None:
    await import_reports(
        repo, write_csv(tmp_path / "r.csv", [road(1, "10.5", "1000.25")]), zone=BANGKOK
    )
    path = tmp_path / "export.xlsx"
    await export_xlsx(repo, path, fiscal_year=2570, zone=BANGKOK)

    result = await import_reports(repo, path, zone=BANGKOK)

    assert [(o.code, o.status) for o in result.outcomes] == [(ROAD.code, RowStatus.UNCHANGED)]


async def test_xlsx_with_english_headers_and_typed_cells(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ENGLISH))
    sheet.append([ROAD.code, 2570, 1, date(2026, 10, 30), 12.5, 1500, None, True, None, "yes", ""])
    sheet.append([ROAD.code, "2570", 2.0, "2026-11-30", "๒๐", "1.5 หมื่น", "ok", "no", "ฝนตก",
                  1, None])  # fmt: skip
    path = tmp_path / "r.xlsx"
    book.save(path)

    result = await import_reports(repo, path, zone=BANGKOK)

    assert [o.status for o in result.outcomes] == [RowStatus.CREATED] * 2
    second = await repo.get_report(ROAD.code, 2570, 2)
    assert second is not None
    assert (second.values.progress, second.values.disbursed) == (Decimal(20), Decimal(15000))
    assert (second.values.on_plan, second.values.plan_reason) == (False, "ฝนตก")
    assert second.values.on_target is True


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"code": "99999999-0000"}, "ไม่พบโครงการรหัส 99999999-0000"),
        ({"code": ""}, "ไม่มีรหัสโครงการ"),
        ({"report_no": "13"}, "ต้องเป็น 1 ถึง 12"),
        ({"report_no": "สาม"}, "ต้องเป็นตัวเลข 1 ถึง 12"),
        ({"fiscal_year": "2027"}, "เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ."),
        ({"fiscal_year": ""}, "ไม่มีปีงบประมาณ"),
        ({"reported_on": "31/02/2570"}, "ไม่มีวันที่นี้ในปฏิทิน"),
        ({"reported_on": ""}, "ไม่มีวันที่รายงาน"),
        ({"reported_on": "30/09/2569"}, "อยู่ก่อนเดือนที่รายงาน"),
        ({"progress": "เยอะ"}, "อ่านค่าความก้าวหน้าไม่ได้"),
        ({"progress": "120"}, "ต้องอยู่ระหว่าง 0 ถึง 100"),
        ({"progress": "80,5"}, "ทศนิยมต้องใช้จุด (.)"),
        ({"disbursed": "-5"}, "ติดลบไม่ได้"),
        ({"disbursed": "1,300,000"}, "มากกว่างบประมาณที่ได้รับ"),
        ({"on_plan": "ไม่เป็นไปตามแผน"}, "ตอบว่าไม่เป็นไปตามแผน แต่ไม่มีเหตุผล"),
        ({"on_target": "no", "target_reason": "-"}, "ไม่เป็นไปตามเป้าหมาย แต่ไม่มีเหตุผล"),
        ({"on_plan": "บางส่วน"}, "อ่านไม่ออก"),
        ({"on_target": ""}, "ไม่ได้ระบุว่าเป็นไปตามเป้าหมายหรือไม่"),
        ({"note": "ก" * 501}, "เกินกำหนด 500 ตัวอักษร"),
    ],
)
async def test_each_reason_to_refuse_a_row(
    repo: SqliteStorage, tmp_path: Path, fields: dict[str, str], reason: str
) -> None:
    path = write_csv(tmp_path / "r.csv", [road(1, "10", "1000", **fields)])

    result = await import_reports(repo, path, zone=BANGKOK)

    (outcome,) = result.outcomes
    assert outcome.status is RowStatus.REJECTED
    assert any(reason in r for r in outcome.reasons), outcome.reasons
    assert await repo.reports_of_project(ROAD.code) == []


async def test_a_row_gives_all_its_reasons_at_once(repo: SqliteStorage, tmp_path: Path) -> None:
    row = road(1, "ไม่รู้", "ไม่ทราบ", report_no="0", on_plan="no")
    (outcome,) = (
        await import_reports(repo, write_csv(tmp_path / "r.csv", [row]), zone=BANGKOK)
    ).outcomes
    assert len(outcome.reasons) == 4, outcome.reasons


async def test_a_month_outside_the_project_dates(repo: SqliteStorage, tmp_path: Path) -> None:
    # SCHOOL starts on 1 November 2026: it has no October report.
    row = road(1, "5", code=SCHOOL.code)
    (outcome,) = (
        await import_reports(repo, write_csv(tmp_path / "r.csv", [row]), zone=BANGKOK)
    ).outcomes
    assert outcome.status is RowStatus.REJECTED
    assert "โครงการเริ่มเมื่อ 1 พ.ย. 2569 จึงไม่มีรายงานเดือน ต.ค. 2569" in outcome.reasons


async def test_a_different_stored_report_is_never_overwritten(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    await import_reports(repo, write_csv(tmp_path / "a.csv", [road(1, "10", "1000")]), zone=BANGKOK)

    result = await import_reports(
        repo, write_csv(tmp_path / "b.csv", [road(1, "15", "1000")]), zone=BANGKOK
    )

    (outcome,) = result.outcomes
    assert outcome.status is RowStatus.REJECTED
    assert "แก้ไขผ่านแชต" in outcome.reasons[0]
    stored = await repo.get_report(ROAD.code, 2570, 1)
    assert stored is not None and stored.values.progress == Decimal(10)


async def test_the_same_month_twice_in_one_file(repo: SqliteStorage, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [road(1, "10"), road(1, "10")])
    result = await import_reports(repo, path, zone=BANGKOK)
    assert [o.status for o in result.outcomes] == [RowStatus.CREATED, RowStatus.REJECTED]
    assert "ซ้ำกับแถวที่ 2" in result.outcomes[1].reasons[0]


async def test_progress_going_down_within_the_file_is_refused(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    rows = [road(1, "50", "1000"), road(2, "40", "2000"), road(3, "60", "500")]
    result = await import_reports(repo, write_csv(tmp_path / "r.csv", rows), zone=BANGKOK)

    assert [o.status for o in result.outcomes] == [
        RowStatus.CREATED,
        RowStatus.REJECTED,
        RowStatus.REJECTED,
    ]
    assert "ต่ำกว่ารายงานครั้งก่อน (50.00 %)" in result.outcomes[1].reasons[0]
    # Row 3 is checked against row 2's month only if row 2 was stored: it was not, so month 1.
    assert "ยอดเบิกจ่าย 500 บาท ต่ำกว่ารายงานครั้งก่อน (1,000 บาท)" in result.outcomes[2].reasons[0]
    assert all("\n" not in r for o in result.outcomes for r in o.reasons)


async def test_progress_going_down_from_a_stored_month_is_refused(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    await import_reports(repo, write_csv(tmp_path / "a.csv", [road(1, "50")]), zone=BANGKOK)
    result = await import_reports(
        repo, write_csv(tmp_path / "b.csv", [road(2, "45")]), zone=BANGKOK
    )
    assert result.outcomes[0].status is RowStatus.REJECTED


async def test_a_contradiction_with_a_later_stored_month_is_refused(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    # The chat stored December already; importing November must not overtake it.
    await import_reports(repo, write_csv(tmp_path / "a.csv", [road(3, "30", "3000")]), zone=BANGKOK)

    rows = [road(2, "40", "2000"), road(1, "10", "4000"), road(2, "20", "2000")]
    result = await import_reports(repo, write_csv(tmp_path / "b.csv", rows), zone=BANGKOK)

    first, second, third = result.outcomes
    assert "สูงกว่ารายงานครั้งที่ 3 ที่ส่งไปแล้ว (30.00 %)" in first.reasons[0]
    assert "ยอดเบิกจ่าย 4,000 บาท สูงกว่ารายงานครั้งที่ 3" in second.reasons[0]
    # Two rows for one month are ambiguous, whichever of them storage would take.
    assert "ซ้ำกับแถวที่ 2" in third.reasons[0]
    assert [r.report_no for r in await repo.reports_of_project(ROAD.code)] == [3]


async def test_headers_missing_unknown_and_export_only(repo: SqliteStorage, tmp_path: Path) -> None:
    lacking = write_csv(tmp_path / "a.csv", [], header=HEADER[:4])
    with pytest.raises(ImportFileError, match="ความก้าวหน้า \\(progress\\)"):
        await import_reports(repo, lacking, zone=BANGKOK)
    extra = (*HEADER, "ชื่อโครงการ", "ส่งเมื่อ", "หมายเหตุอื่น")
    result = await import_reports(
        repo,
        write_csv(tmp_path / "b.csv", [(*road(1, "5"), "x", "y", "z")], header=extra),
        zone=BANGKOK,
    )
    assert result.created == 1
    assert len(result.warnings) == 1 and "หมายเหตุอื่น" in result.warnings[0]


def test_header_names() -> None:
    assert field_of("เหตุผล (แผน)") == "plan_reason"
    assert field_of("เหตุผล (เป้าหมาย)") == "target_reason"
    assert field_of("เหตุผล") is None  # which of the two? not guessed
    assert field_of("Fiscal Year") == "fiscal_year"
    assert field_of("ความก้าวหน้า (%)") == "progress"
    assert field_of("ส่งเมื่อ") == ""


TRICKY_NOTES = (
    "=SUM(A1)",
    "-ดำเนินการตามแผน",
    "'=x",
    "''",
    "+66 81 234 5678",
    "@home",
    "ติดตั้งกล้องครบ 40 จุด",
    "'ปกติ",
)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_notes_come_back_exactly_through_an_export(
    repo: SqliteStorage, tmp_path: Path, kind: str
) -> None:
    for no, note in enumerate(TRICKY_NOTES, start=1):
        month = ReportMonth(2570, no)
        reason = "" if no != 3 else "-รอไฟฟ้า"
        values = ReportValues(month.last_day, Decimal(no), Decimal(no), note, no != 3, reason,
                              True, "")  # fmt: skip
        at = datetime.combine(month.last_day, time(9), tzinfo=BANGKOK)
        await repo.submit_report(Submission(ROAD.code, 2570, no, values, None, "telegram", at))
    path = tmp_path / f"export.{kind}"
    if kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            await export_csv(repo, out, fiscal_year=2570, project_code=ROAD.code)
    else:
        await export_xlsx(repo, path, fiscal_year=2570, project_code=ROAD.code, zone=BANGKOK)
    fresh = await SqliteStorage.open(tmp_path / "fresh.sqlite3")
    try:
        await fresh.upsert_project(ROAD)

        result = await import_reports(fresh, path, zone=BANGKOK)

        assert [o.status for o in result.outcomes] == [RowStatus.CREATED] * len(TRICKY_NOTES)
        imported = await fresh.reports_of_project(ROAD.code)
        assert tuple(r.values.note for r in imported) == TRICKY_NOTES
        assert imported[2].values.plan_reason == "-รอไฟฟ้า"
        assert [r.values for r in imported] == [
            r.values for r in await repo.reports_of_project(ROAD.code)
        ]
    finally:
        await fresh.close()


async def test_a_project_read_again_after_others_still_sees_the_rows_stored(
    repo: SqliteStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only one project is kept at hand: the unknown code pushes ROAD out between its months.
    monkeypatch.setattr(reports_import, "KNOWN_PROJECTS", 1)
    rows = [road(1, "50", "1000"), road(2, "60", "1000", code="NOPE"), road(2, "40", "2000")]

    result = await import_reports(repo, write_csv(tmp_path / "r.csv", rows), zone=BANGKOK)

    assert [o.status for o in result.outcomes] == [RowStatus.CREATED, *[RowStatus.REJECTED] * 2]
    assert "ต่ำกว่ารายงานครั้งก่อน (50.00 %)" in result.outcomes[2].reasons[0]
