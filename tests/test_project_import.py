"""Importing projects from CSV and XLSX: headers, values, per-row reasons, idempotence."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from domain.models import ProjectData
from reports.project_import import (
    ImportFileError,
    ImportResult,
    RowOutcome,
    RowStatus,
    format_report,
    import_projects,
    normalize_header,
    read_project_file,
    read_project_rows,
)
from storage.sqlite import SqliteStorage

THAI_HEADER = (
    "รหัสโครงการ...",
    "ชื่อโครงการ/กิจกรรม",
    "ปีงบประมาณ พ.ศ.",
    "เริ่มต้นโครงการ",
    "สิ้นสุดโครงการ",
    "งบประมาณที่ได้รับ",
    "งบประมาณที่ใช้ไป",
    "หน่วยงานที่รับผิดชอบ.",
    "ชื่อผู้รับผิดชอบ...",
    "โทรศัพท์ผู้รับผิดชอบ",
    "ผู้ประสานงาน สยป",
    "โทรศัพท์ผู้ประสานงาน",
    "หลักการและเหตุผล",
    "วัตถุประสงค์ของโครงการ",
    "ด้านปริมาณ",
    "ด้านคุณภาพ",
    "ประเด็นยุทธศาสตร์",
    "ประเด็นยุทธศาสตร์ย่อย",
    "เป้าหมายที่",
    "ตัวชี้วัด...",
)
ENGLISH_HEADER = (
    "code",
    "Name",
    "fiscal year",
    "start_date",
    "End Date",
    "budget_received",
    "budget used",
    "agency",
    "officer_name",
    "officer phone",
    "coordinator_name",
    "coordinator_phone",
    "rationale",
    "objectives",
    "target_quantity",
    "target_quality",
    "strategy",
    "sub_strategy",
    "goal",
    "indicator",
)
FULL_ROW = (
    "50140000-3629",
    "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน",
    "2564",
    "2020-10-01 00:00:00",
    "30/09/2564",
    "90,000",
    "๑,๕๐๐.๕๐",
    "สำนักงานเขตลาดกระบัง / ฝ่ายการศึกษา / ฝ่ายการศึกษา",
    "นายณัฐพงษ์ ลาญาติ",
    "02 3269015",
    "น.ส.รัตนา ปิยะวรสกุล",
    "1513",
    "บรรทัดแรก\nบรรทัดที่สอง",
    "๑. ข้อแรก\n๒. ข้อสอง",
    "๑. สี่เครือข่าย",
    "๑. มีคุณภาพ",
    "ด้านที่ ๗",
    "๗.๒",
    "๗.๒.๑",
    "มิติที่1",
)
FULL_DATA = ProjectData(
    code="50140000-3629",
    name="ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน",
    fiscal_year=2564,
    start_date=date(2020, 10, 1),
    end_date=date(2021, 9, 30),
    budget_received=Decimal("90000.00"),
    budget_used=Decimal("1500.50"),
    agency="สำนักงานเขตลาดกระบัง / ฝ่ายการศึกษา / ฝ่ายการศึกษา",
    officer_name="นายณัฐพงษ์ ลาญาติ",
    officer_phone="02 3269015",
    coordinator_name="น.ส.รัตนา ปิยะวรสกุล",
    coordinator_phone="1513",
    rationale="บรรทัดแรก\nบรรทัดที่สอง",
    objectives="๑. ข้อแรก\n๒. ข้อสอง",
    target_quantity="๑. สี่เครือข่าย",
    target_quality="๑. มีคุณภาพ",
    strategy="ด้านที่ ๗",
    sub_strategy="๗.๒",
    goal="๗.๒.๑",
    indicator="มิติที่1",
)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    repository = await SqliteStorage.open(tmp_path / "t.sqlite3")
    yield repository
    await repository.close()


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',;\t\n"') else cell


def write_csv(
    path: Path, rows: list[tuple[str, ...]], *, delimiter: str = ",", bom: bool = False
) -> Path:
    text = "\r\n".join(delimiter.join(_quote(c) for c in row) for row in rows) + "\r\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def simple(tmp_path: Path, *rows: tuple[str, ...], header: tuple[str, ...] = ()) -> Path:
    head = header or (
        "รหัสโครงการ",
        "ชื่อโครงการ",
        "ปีงบประมาณ",
        "เริ่มต้นโครงการ",
        "สิ้นสุดโครงการ",
        "งบประมาณที่ได้รับ",
    )
    return write_csv(tmp_path / "p.csv", [head, *rows])


def only(outcomes: list[RowOutcome]) -> RowOutcome:
    assert len(outcomes) == 1
    return outcomes[0]


@pytest.mark.parametrize("bom", [True, False])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("header", [THAI_HEADER, ENGLISH_HEADER], ids=["thai", "english"])
async def test_csv_with_every_field(
    repo: SqliteStorage, tmp_path: Path, bom: bool, delimiter: str, header: tuple[str, ...]
) -> None:
    path = write_csv(tmp_path / "p.csv", [header, FULL_ROW], delimiter=delimiter, bom=bom)

    result = await import_projects(repo, path)

    assert [(o.row, o.code, o.status) for o in result.outcomes] == [
        (2, "50140000-3629", RowStatus.CREATED)
    ]
    assert result.warnings == ()
    stored = await repo.get_project("50140000-3629")
    assert stored is not None
    assert (
        ProjectData(**{f.name: getattr(stored, f.name) for f in dataclasses.fields(ProjectData)})
        == FULL_DATA
    )


async def test_xlsx_with_date_cells_and_number_cells(repo: SqliteStorage, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        [
            "รหัสโครงการ",
            "ชื่อโครงการ",
            "ปีงบประมาณ",
            "เริ่มต้นโครงการ",
            "สิ้นสุดโครงการ",
            "งบประมาณที่ได้รับ",
            "งบประมาณที่ใช้ไป",
            "โทรศัพท์ผู้ประสานงาน",
        ]
    )
    sheet.append(
        ["A-1", "หนึ่ง", 2564, date(2020, 10, 1), datetime(2021, 9, 30), 1234.5, 90000, 1513]
    )
    sheet.append(["A-2", "สอง", 2565.0, "1/10/2564", "๓๐/๐๙/๒๕๖๕", 12.345, "ten", None])
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append(["A-3", "สาม", "2565", date(2564, 10, 1), None, 85000.0, None, None])
    path = tmp_path / "projects.xlsx"
    book.save(path)

    result = await import_projects(repo, path)

    by_row = {o.row: o for o in result.outcomes}
    assert sorted(by_row) == [2, 3, 5]
    assert by_row[2].status is RowStatus.CREATED
    assert by_row[3].status is RowStatus.REJECTED
    assert len(by_row[3].reasons) == 2  # both budgets, not only the first
    assert "ทศนิยมเกิน 2 ตำแหน่ง" in by_row[3].reasons[0]
    assert "อ่านจำนวนเงินไม่ได้" in by_row[3].reasons[1]
    assert by_row[5].status is RowStatus.CREATED
    first = await repo.get_project("A-1")
    assert first is not None
    assert (first.start_date, first.end_date) == (date(2020, 10, 1), date(2021, 9, 30))
    assert first.budget_received == Decimal("1234.50")
    assert first.budget_used == Decimal("90000.00")
    assert first.coordinator_phone == "1513"
    third = await repo.get_project("A-3")
    assert third is not None
    assert third.start_date == date(2021, 10, 1)  # a BE year stored in a date cell
    assert third.budget_received == Decimal("85000.00")
    assert await repo.get_project("A-2") is None

    again = await import_projects(repo, path)
    assert [o.status for o in again.outcomes if o.status is not RowStatus.REJECTED] == [
        RowStatus.UNCHANGED,
        RowStatus.UNCHANGED,
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("90,000", Decimal("90000.00")),
        ("90000.50", Decimal("90000.50")),
        ("๙๐,๐๐๐", Decimal("90000.00")),
        ("๙๐,๐๐๐.- บาท", Decimal("90000.00")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("0", Decimal("0.00")),
        ("", None),
    ],
)
def test_budget_values_accepted(tmp_path: Path, cell: str, expected: Decimal | None) -> None:
    outcome = only(read_project_rows(simple(tmp_path, ("X", "n", "2564", "", "", cell))))
    assert outcome.status is RowStatus.VALID
    assert outcome.data is not None
    assert outcome.data.budget_received == expected
    assert outcome.data.budget_received is None or outcome.data.budget_received.as_tuple()[2] == -2


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("-5", "ติดลบ"),
        ("abc", "อ่านจำนวนเงินไม่ได้"),
        ("1.234", "ไม่เกิน 2 ตำแหน่ง"),
        ("9,00", "จุลภาค"),
        ("1e5", "อ่านจำนวนเงินไม่ได้"),
        ("NaN", "อ่านจำนวนเงินไม่ได้"),
    ],
)
def test_budget_values_rejected(tmp_path: Path, cell: str, reason: str) -> None:
    outcome = only(read_project_rows(simple(tmp_path, ("X", "n", "2564", "", "", cell))))
    assert outcome.status is RowStatus.REJECTED
    assert any(reason in r and "งบประมาณที่ได้รับ" in r for r in outcome.reasons)


@pytest.mark.parametrize(
    "cell",
    ["2020-10-01", "2020-10-01 00:00:00", "1/10/2563", "01/10/2563", "๑/๑๐/๒๕๖๓", "2563-10-01"],
)
def test_dates_accepted(tmp_path: Path, cell: str) -> None:
    outcome = only(read_project_rows(simple(tmp_path, ("X", "n", "2564", cell, "", ""))))
    assert outcome.data is not None
    assert outcome.data.start_date == date(2020, 10, 1)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1/10/2020", "ปี พ.ศ."),  # day/month or month/day? A CE year leaves it a guess.
        ("1/10/63", "อ่านเป็นวันที่ไม่ได้"),
        ("2020/10/01", "อ่านเป็นวันที่ไม่ได้"),
        ("31/02/2564", "ไม่มีวันที่นี้"),
        ("tomorrow", "อ่านเป็นวันที่ไม่ได้"),
    ],
)
def test_dates_rejected(tmp_path: Path, cell: str, reason: str) -> None:
    outcome = only(read_project_rows(simple(tmp_path, ("X", "n", "2564", cell, "", ""))))
    assert outcome.status is RowStatus.REJECTED
    assert len(outcome.reasons) == 1
    assert "เริ่มต้นโครงการ" in outcome.reasons[0]
    assert reason in outcome.reasons[0]


@pytest.mark.parametrize(
    ("cell", "expected", "reason"),
    [
        ("2564", 2564, ""),
        ("๒๕๖๔", 2564, ""),
        ("พ.ศ. 2564", 2564, ""),
        ("2021", None, "เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ."),
        ("", None, "ไม่มีปีงบประมาณ"),
        ("64", None, "ไม่ใช่ปี พ.ศ."),
        ("3000", None, "ไม่ใช่ปี พ.ศ."),
    ],
)
def test_fiscal_year(tmp_path: Path, cell: str, expected: int | None, reason: str) -> None:
    outcome = only(read_project_rows(simple(tmp_path, ("X", "n", cell, "", "", ""))))
    if expected is None:
        assert outcome.status is RowStatus.REJECTED
        assert reason in outcome.reasons[0]
    else:
        assert outcome.data is not None
        assert outcome.data.fiscal_year == expected


async def test_rejected_rows_with_all_reasons_change_nothing(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    path = simple(
        tmp_path,
        ("OK-1", "ดี", "2564", "2020-10-01", "2021-09-30", "1000"),
        ("", "ไม่มีรหัส", "2564", "", "", ""),
        ("BAD-1", "", "2021", "1/13/2564", "", "ไม่ทราบ"),
        ("BAD-2", "สิ้นสุดก่อนเริ่ม", "2564", "2021-09-30", "2020-10-01", ""),
        ("OK-1", "ซ้ำ", "2564", "", "", ""),
    )

    result = await import_projects(repo, path)

    outcomes = {o.row: o for o in result.outcomes}
    assert outcomes[2].status is RowStatus.CREATED
    assert outcomes[3].reasons == ("ไม่มีรหัสโครงการ",)
    assert len(outcomes[4].reasons) == 4
    assert "ไม่มีชื่อโครงการ" in outcomes[4].reasons
    assert any("ค.ศ." in r for r in outcomes[4].reasons)
    assert any("เริ่มต้นโครงการ" in r for r in outcomes[4].reasons)
    assert any("งบประมาณที่ได้รับ" in r for r in outcomes[4].reasons)
    assert outcomes[5].reasons == ("วันสิ้นสุดโครงการอยู่ก่อนวันเริ่มต้นโครงการ",)
    assert outcomes[6].reasons == ("รหัสโครงการ OK-1 ซ้ำกับแถวที่ 2 ในไฟล์เดียวกัน",)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (1, 0, 0, 4)
    assert [p.code for p in await repo.list_projects()] == ["OK-1"]
    stored = await repo.get_project("OK-1")
    assert stored is not None
    assert stored.name == "ดี"


async def test_reimport_is_unchanged_and_an_edit_is_updated(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    rows = [("P-1", "หนึ่ง", "2564", "", "", "100"), ("P-2", "สอง", "2564", "", "", "0")]
    path = simple(tmp_path, *rows)
    first = await import_projects(repo, path)
    assert [o.status for o in first.outcomes] == [RowStatus.CREATED] * 2

    second = await import_projects(repo, path)
    assert [o.status for o in second.outcomes] == [RowStatus.UNCHANGED] * 2

    edited = simple(tmp_path, rows[0], ("P-2", "สอง", "2564", "", "", "200.00"))
    third = await import_projects(repo, edited)
    assert [o.status for o in third.outcomes] == [RowStatus.UNCHANGED, RowStatus.UPDATED]
    stored = await repo.get_project("P-2")
    assert stored is not None
    assert stored.budget_received == Decimal("200.00")


async def test_columns_missing_from_the_file_keep_stored_values(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    await repo.upsert_project(FULL_DATA)
    path = write_csv(
        tmp_path / "budget.csv",
        [
            ("code", "name", "fiscal_year", "budget_used"),
            (FULL_DATA.code, FULL_DATA.name, "2564", "2,000"),
        ],
    )

    result = await import_projects(repo, path)

    assert [o.status for o in result.outcomes] == [RowStatus.UPDATED]
    stored = await repo.get_project(FULL_DATA.code)
    assert stored is not None
    assert stored.budget_used == Decimal("2000.00")
    assert stored.rationale == FULL_DATA.rationale
    assert stored.start_date == FULL_DATA.start_date


def test_unknown_columns_are_one_warning_each(tmp_path: Path) -> None:
    header = ("รหัสโครงการ", "ชื่อโครงการ", "หมายเหตุ", "ปีงบประมาณ", "")
    path = write_csv(
        tmp_path / "p.csv", [header, ("A", "a", "x", "2564", ""), ("B", "b", "y", "2564", "")]
    )

    parsed = read_project_file(path)

    assert len(parsed.warnings) == 1
    assert "หมายเหตุ" in parsed.warnings[0]
    assert [o.status for o in parsed.rows] == [RowStatus.VALID] * 2


def test_header_normalization() -> None:
    assert normalize_header(" รหัสโครงการ... ") == normalize_header("รหัสโครงการ")
    assert normalize_header("*Fiscal_Year:") == normalize_header("fiscal year")
    assert normalize_header("1.1 ชื่อโครงการ/กิจกรรม") == normalize_header("ชื่อโครงการ/กิจกรรม")
    assert normalize_header("งบประมาณที่ได้รับ (บาท)") == normalize_header("งบประมาณที่ได้รับ")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "no-header.csv",
            "50140000-3629,ชื่อ,2564\r\n50140000-3630,ชื่อ,2564\r\n".encode(),
            "รหัสโครงการ",
        ),
        ("empty.csv", b"", "ว่าง"),
        ("blank.csv", b"\r\n , ,\r\n", "ว่าง"),
        ("tis620.csv", "รหัสโครงการ,ชื่อโครงการ,ปีงบประมาณ\r\n".encode("cp874"), "UTF-8"),
        ("binary.csv", b"\x00\x01\x02code,name\x00", "CSV"),
        ("fake.xlsx", b"this is not a workbook", ".xlsx"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xls"),
        ("no-name.csv", b"code,fiscal_year\r\nA,2564\r\n", "name"),
        ("twice.csv", "code,รหัสโครงการ,name,fiscal_year\r\n".encode(), "ซ้ำ"),
    ],
)
async def test_unreadable_files_fail_as_a_whole(
    repo: SqliteStorage, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ImportFileError, match=message):
        await import_projects(repo, path)
    assert await repo.list_projects() == []


def test_missing_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="เปิดไฟล์ไม่ได้"):
        read_project_file(tmp_path / "nowhere.csv")


def test_format_report_has_a_line_per_row_and_totals() -> None:
    result = ImportResult(
        (
            RowOutcome(2, "A", RowStatus.CREATED),
            RowOutcome(3, "", RowStatus.REJECTED, ("ไม่มีรหัสโครงการ", "ไม่มีชื่อโครงการ")),
            RowOutcome(4, "B", RowStatus.UNCHANGED),
        ),
        ("ไม่รู้จักคอลัมน์ที่ 3 'x'",),
    )

    lines = format_report(result).splitlines()

    assert lines[0].startswith("คำเตือน (warning)")
    assert lines[1] == "แถว 2: A - สร้างใหม่ (created)"
    assert lines[2] == "แถว 3: (ไม่มีรหัส) - ไม่นำเข้า (rejected): ไม่มีรหัสโครงการ; ไม่มีชื่อโครงการ"
    assert lines[3] == "แถว 4: B - ไม่เปลี่ยนแปลง (unchanged)"
    assert lines[4] == (
        "รวม 3 แถว (rows): สร้างใหม่ (created) 1, ปรับปรุง (updated) 0, "
        "ไม่เปลี่ยนแปลง (unchanged) 1, ไม่นำเข้า (rejected) 1"
    )


async def test_an_end_date_before_the_stored_start_is_rejected(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    await repo.upsert_project(FULL_DATA)
    path = write_csv(
        tmp_path / "end.csv",
        [("code", "name", "fiscal_year", "end_date"), (FULL_DATA.code, "x", "2564", "2020-09-30")],
    )

    result = await import_projects(repo, path)

    assert [o.status for o in result.outcomes] == [RowStatus.REJECTED]
    assert "ที่บันทึกไว้" in result.outcomes[0].reasons[0]
    stored = await repo.get_project(FULL_DATA.code)
    assert stored is not None
    assert (stored.name, stored.end_date) == (FULL_DATA.name, FULL_DATA.end_date)


def test_the_csv_formula_guard_is_taken_off_exactly(tmp_path: Path) -> None:
    # What reports.csv_export.guard_cell wrote comes back as typed; any other text as it is.
    names = {"''=x": "'=x", "'-ดำเนินการ": "-ดำเนินการ", "'ปกติ": "'ปกติ", "'" * 3: "''"}
    path = simple(tmp_path, *((f"A{i}", cell, "2564") for i, cell in enumerate(names)))

    rows = read_project_rows(path)

    assert [o.data.name if o.data else None for o in rows] == list(names.values())


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ก" * 61, "รหัสโครงการยาว 61 ตัวอักษร"),
        ("50140000\n4001", "ขึ้นบรรทัดใหม่"),
        ("50140000\t4001", "แท็บ"),
        ("5014\u200b0000", "มองไม่เห็น"),
    ],
)
def test_codes_that_cannot_be_kept_are_rejected_with_a_reason(
    tmp_path: Path, code: str, reason: str
) -> None:
    outcome = only(read_project_rows(simple(tmp_path, (code, "n", "2564", "", "", ""))))
    assert outcome.status is RowStatus.REJECTED
    assert any(reason in r for r in outcome.reasons), outcome.reasons


def test_a_long_thai_code_within_the_limit_is_taken(tmp_path: Path) -> None:
    code = "สำนักงานเขตลาดกระบัง-ฝ่ายโยธา-ปรับปรุงถนน-2570-0001"
    outcome = only(read_project_rows(simple(tmp_path, (code, "n", "2564", "", "", ""))))
    assert outcome.status is RowStatus.VALID and outcome.code == code
