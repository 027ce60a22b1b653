"""The streaming XLSX writer, read back with openpyxl: types, styles, escaping, sheet layout."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from reports import xlsx_writer
from reports.xlsx_writer import WorkbookWriter, column_letter, escape, excel_serial

THAI = "ปรับปรุงถนนซอยลาดกระบัง 14"


def write(rows: list[list[object]], **sheet: object) -> bytes:
    out = io.BytesIO()
    with WorkbookWriter(out) as book:
        added = book.add_sheet("ข้อมูล", ["ก", "ข", "ค"], **sheet)  # type: ignore[arg-type]
        for row in rows:
            added.append(row)
    return out.getvalue()


def read(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_values_keep_their_types() -> None:
    moment = datetime(2026, 11, 28, 16, 30, 15)
    row: list[object] = [
        7, 2.5, Decimal("1234567.89"), Decimal("0.00"), True, False,
        date(2026, 10, 31), moment, THAI, -3, Decimal("-0.5"),
    ]  # fmt: skip
    sheet = read(write([row]))["ข้อมูล"]

    got = [c.value for c in sheet[2]]
    assert got[:6] == [7, 2.5, 1234567.89, 0, True, False]
    assert isinstance(got[0], int) and isinstance(got[2], float) and isinstance(got[4], bool)
    assert got[6] == datetime(2026, 10, 31) and sheet["G2"].is_date
    assert got[7] == moment and sheet["H2"].is_date
    assert sheet["G2"].number_format == "yyyy-mm-dd"  # a date without a column format
    assert got[8:] == [THAI, -3, -0.5]


def test_column_formats_apply_to_values_of_the_column() -> None:
    rows: list[list[object]] = [
        [date(2020, 10, 31), Decimal("25.25"), datetime(2021, 1, 2, 9, 5)],
        [None, 12, "ไม่มี"],
    ]
    formats = {0: "dd/mm/bbbb", 1: "#,##0.00", 2: "dd/mm/bbbb hh:mm"}
    sheet = read(write(rows, formats=formats))["ข้อมูล"]

    assert sheet["A2"].value == datetime(2020, 10, 31) and sheet["A2"].number_format == "dd/mm/bbbb"
    assert sheet["A2"].is_date
    assert sheet["B2"].number_format == "#,##0.00" and sheet["B3"].number_format == "#,##0.00"
    assert sheet["C2"].value == datetime(2021, 1, 2, 9, 5)
    assert sheet["C2"].number_format == "dd/mm/bbbb hh:mm"
    assert sheet["A3"].value is None and sheet["C3"].value == "ไม่มี"


def test_text_is_escaped_and_cleaned() -> None:
    hostile: list[object] = [
        '<b>"A&B"</b> ราคา > 5 & < 10', "ก\x00ข\x07ค\x1bง\ufffe\ud800", "  เว้น  ", "a\r\nb\tc",
    ]  # fmt: skip
    sheet = read(write([hostile, ["\x01\x02"]]))["ข้อมูล"]

    assert [c.value for c in sheet[2]] == [
        '<b>"A&B"</b> ราคา > 5 & < 10', "กขคง", "  เว้น  ", "a\r\nb\tc",
    ]  # fmt: skip
    assert sheet["A3"].value is None  # nothing left: no cell
    assert escape("<&>\"'") == "&lt;&amp;&gt;&quot;'"


def test_layout_frozen_header_widths_filter_and_thai_sheet_names() -> None:
    out = io.BytesIO()
    with WorkbookWriter(out) as book:
        first = book.add_sheet("รายงานทุกเดือน", ["รหัส", "ชื่อ"], widths=(16, 40.5))
        first.append(["1", "หนึ่ง"])
        first.append(["2", "สอง"])
        first.set_filter()
        first.append([])
        first.append(["รวม"])
        second = book.add_sheet("ต.ค. 2569", ["ก"], frozen_rows=0)
        second.append(["x"])
    book_ = read(out.getvalue())

    assert book_.sheetnames == ["รายงานทุกเดือน", "ต.ค. 2569"]
    main = book_["รายงานทุกเดือน"]
    assert main.freeze_panes == "A2"
    assert main.column_dimensions["A"].width == 16 and main.column_dimensions["B"].width == 40.5
    assert main.auto_filter.ref == "A1:B3"
    assert [c.value for c in main[1]] == ["รหัส", "ชื่อ"]
    assert all(c.font.bold and c.alignment.wrap_text for c in main[1])
    assert not main["A2"].font.bold
    assert main.max_row == 5 and main["A5"].value == "รวม" and main["A4"].value is None
    assert book_["ต.ค. 2569"].freeze_panes is None
    assert not book_["ต.ค. 2569"].auto_filter.ref


def test_every_part_is_well_formed_xml() -> None:
    data = write([["<&>", 1, date(2026, 1, 1)]], formats={1: "0.00"}, widths=(10,))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        for name in names:
            ElementTree.fromstring(archive.read(name))  # raises on malformed XML
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/styles.xml"} <= set(names)
    assert {"xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"} <= set(names)


def test_the_same_content_makes_the_same_file() -> None:
    rows: list[list[object]] = [[THAI, Decimal("1.5"), date(2026, 1, 1)]]
    assert write(rows) == write(rows)


def test_a_long_sheet_streams_in_many_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "_CHUNK", 2000)
    rows: list[list[object]] = [[f"{THAI} {n}", n, Decimal(n) / 4] for n in range(3000)]
    sheet = read(write(rows))["ข้อมูล"]

    assert sheet.max_row == 3001
    assert [c.value for c in sheet[3001]] == [f"{THAI} 2999", 2999, 749.75]


def test_serial_numbers_match_excel() -> None:
    assert excel_serial(date(1900, 1, 1)) == 1
    assert excel_serial(date(1900, 2, 28)) == 59
    assert excel_serial(date(1900, 3, 1)) == 61  # Excel's 29 February 1900 is day 60
    assert excel_serial(date(2026, 11, 30)) == 46356
    assert excel_serial(datetime(2026, 11, 30, 18)) == 46356.75
    sheet = read(write([[date(1900, 1, 1), date(1900, 3, 1), datetime(2026, 11, 30, 9, 0, 7)]]))
    assert [c.value for c in sheet["ข้อมูล"][2]] == [
        datetime(1900, 1, 1), datetime(1900, 3, 1), datetime(2026, 11, 30, 9, 0, 7),
    ]  # fmt: skip


def test_what_excel_cannot_hold_is_refused_or_shown_as_text() -> None:
    sheet = read(write([[math.inf, Decimal("NaN")]]))["ข้อมูล"]
    assert [c.value for c in sheet[2]][:2] == ["inf", "NaN"]
    with pytest.raises(ValueError, match="time zones"):
        write([[datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Bangkok"))]])
    with pytest.raises(TypeError, match="no cell"):
        write([[object()]])


@pytest.mark.parametrize("title", ["", "ก" * 32, "a/b", "a[1]", "'quoted'", "ค?", "x\x01"])
def test_sheet_names_excel_refuses(title: str) -> None:
    book = WorkbookWriter(io.BytesIO())
    with pytest.raises(ValueError, match="sheet name"):
        book.add_sheet(title)
    book.abandon()


def test_sheet_names_are_unique_ignoring_case() -> None:
    with WorkbookWriter(io.BytesIO()) as book:
        book.add_sheet("Sheet")
        with pytest.raises(ValueError, match="already"):
            book.add_sheet("SHEET")


def test_a_workbook_needs_a_sheet(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        WorkbookWriter(tmp_path / "empty.xlsx").close()
    assert list(tmp_path.iterdir()) == []


def test_a_file_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"

    def failing() -> None:
        with WorkbookWriter(path) as book:
            book.add_sheet("ก").append(["x"])
            raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        failing()
    assert list(tmp_path.iterdir()) == []

    with WorkbookWriter(path) as book:
        book.add_sheet("ก").append(["x"])
    assert list(tmp_path.iterdir()) == [path]
    assert openpyxl.load_workbook(path)["ก"]["A1"].value == "x"


def test_column_letters() -> None:
    assert [column_letter(n) for n in (1, 17, 26, 27, 52, 703, 16384)] == [
        "A", "Q", "Z", "AA", "AZ", "AAA", "XFD",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="outside"):
        column_letter(0)
