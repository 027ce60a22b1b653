"""Loading projects (section 1 of the form) from a CSV or XLSX file, row by row, with reasons.

`read_project_file` reads and validates without touching storage; `import_projects` then stores
the valid rows. A row that fails any check is rejected with all its reasons and changes nothing;
the other rows are still imported. Re-importing the same file reports every row as unchanged.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import enum
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import openpyxl
from pythainlp.util import thai_digit_to_arabic_digit

from domain.models import MONEY_STEP, ProjectData
from domain.parsing import ParseError, parse_baht
from domain.thaidate import BE_YEARS, CE_YEARS, ThaiDateError, parse_date
from storage.contracts import Registry

_FIELDS = tuple(f.name for f in dataclasses.fields(ProjectData))
_REQUIRED = ("code", "name", "fiscal_year")
_TEXT_FIELDS = _FIELDS[_FIELDS.index("agency") :]  # agency .. indicator: free text
_T = TypeVar("_T")

# Accepted headers besides each field's own name (with spaces or underscores).
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "code": ("รหัสโครงการ", "project_code"),
    "name": ("ชื่อโครงการ/กิจกรรม", "ชื่อโครงการ"),
    "fiscal_year": ("ปีงบประมาณ", "ปีงบประมาณ พ.ศ."),
    "start_date": ("วันเริ่มต้นโครงการ", "เริ่มต้นโครงการ"),
    "end_date": ("วันสิ้นสุดโครงการ", "สิ้นสุดโครงการ"),
    "budget_received": ("งบประมาณที่ได้รับ",),
    "budget_used": ("งบประมาณที่ใช้ไป",),
    "agency": ("หน่วยงานที่รับผิดชอบ", "หน่วยงาน"),
    "officer_name": ("ชื่อผู้รับผิดชอบ",),
    "officer_phone": ("โทรศัพท์ผู้รับผิดชอบ",),
    "coordinator_name": ("ผู้ประสานงาน", "ผู้ประสานงาน สยป"),
    "coordinator_phone": ("โทรศัพท์ผู้ประสานงาน",),
    "rationale": ("หลักการและเหตุผล",),
    "objectives": ("วัตถุประสงค์ของโครงการ", "วัตถุประสงค์"),
    "target_quantity": ("เป้าหมายด้านปริมาณ", "ด้านปริมาณ"),
    "target_quality": ("เป้าหมายด้านคุณภาพ", "ด้านคุณภาพ"),
    "strategy": ("ประเด็นยุทธศาสตร์",),
    "sub_strategy": ("ประเด็นยุทธศาสตร์ย่อย",),
    "goal": ("เป้าหมายที่",),
    "indicator": ("ตัวชี้วัด",),
}

# The first alias names the field in messages.
FIELD_LABELS: Mapping[str, str] = {f: names[0] for f, names in _ALIASES.items()}


def normalize_header(header: str) -> str:
    """A header as compared: no spaces, dots, colons, `*`, `_`, section number or `(unit)`."""
    text = re.sub(r"\(.*?\)", "", header.replace("\u200b", "").replace("\ufeff", ""))
    text = re.sub(r"[\s.:*_]", "", text).casefold()
    return re.sub(r"^[0-9๐-๙]+", "", text)  # a leading "1.1" of the printed form


def _header_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for field in _FIELDS:
        for alias in (field, *_ALIASES.get(field, ())):
            key = normalize_header(alias)
            assert table.setdefault(key, field) == field, f"header {alias!r} is ambiguous"
    return table


_HEADERS = _header_table()


class ImportFileError(Exception):
    """The file as a whole cannot be imported (format, encoding or missing columns)."""


class RowStatus(enum.StrEnum):
    """What happened to one row."""

    VALID = "valid"  # read and checked, not stored (yet)
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


STATUS_LABELS: Mapping[RowStatus, str] = {
    RowStatus.VALID: "ถูกต้อง (valid)",
    RowStatus.CREATED: "สร้างใหม่ (created)",
    RowStatus.UPDATED: "ปรับปรุง (updated)",
    RowStatus.UNCHANGED: "ไม่เปลี่ยนแปลง (unchanged)",
    RowStatus.REJECTED: "ไม่นำเข้า (rejected)",
}


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One data row: its spreadsheet row number (header = 1), code, status and Thai reasons."""

    row: int
    code: str
    status: RowStatus
    reasons: tuple[str, ...] = ()
    data: ProjectData | None = None


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A read and validated file: its rows, the fields it has columns for, and warnings."""

    rows: tuple[RowOutcome, ...]
    columns: frozenset[str]
    warnings: tuple[str, ...] = ()


class _Counted(Protocol):
    @property
    def status(self) -> RowStatus: ...


_O = TypeVar("_O", bound=_Counted)


@dataclass(frozen=True, slots=True)
class Imported(Generic[_O]):
    """What an import did, row by row (projects here; monthly reports in reports_import)."""

    outcomes: tuple[_O, ...]
    warnings: tuple[str, ...] = ()

    def count(self, status: RowStatus) -> int:
        """Rows that ended with this status."""
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def counts(self) -> dict[RowStatus, int]:
        """Rows per status, for every status a stored row can end with."""
        return {s: self.count(s) for s in RowStatus if s is not RowStatus.VALID}

    @property
    def created(self) -> int:
        """Rows stored as new."""
        return self.count(RowStatus.CREATED)

    @property
    def updated(self) -> int:
        """Rows that changed what was stored."""
        return self.count(RowStatus.UPDATED)

    @property
    def unchanged(self) -> int:
        """Rows equal to what is stored."""
        return self.count(RowStatus.UNCHANGED)

    @property
    def rejected(self) -> int:
        """Rows refused, with reasons."""
        return self.count(RowStatus.REJECTED)


class ImportResult(Imported[RowOutcome]):
    """What an import of projects did, row by row."""

    __slots__ = ()


def read_project_file(path: Path) -> ProjectFile:
    """Read and validate a CSV or XLSX file of projects, without storing anything."""
    header, body = read_rows(path)
    columns, warnings = _map_columns(header)
    seen: dict[str, int] = {}
    rows = [_check_row(number, by_field(cells, columns), seen) for number, cells in body]
    return ProjectFile(tuple(rows), frozenset(columns.values()), tuple(warnings))


def read_project_rows(path: Path) -> list[RowOutcome]:
    """Each data row of the file as VALID (with its data) or REJECTED (with reasons)."""
    return list(read_project_file(path).rows)


async def import_projects(repo: Registry, path: Path) -> ImportResult:
    """Store the valid rows of a project file; columns the file lacks keep their stored values."""
    parsed = await asyncio.to_thread(read_project_file, path)
    outcomes: list[RowOutcome] = []
    for outcome in parsed.rows:
        if outcome.data is None:
            outcomes.append(outcome)
            continue
        data = outcome.data
        existing = await repo.get_project(data.code)
        if existing is not None:
            kept = {f: getattr(existing, f) for f in _FIELDS if f not in parsed.columns}
            data = dataclasses.replace(data, **kept)
        if data.start_date and data.end_date and data.end_date < data.start_date:
            reason = "วันสิ้นสุดโครงการอยู่ก่อนวันเริ่มต้นโครงการที่บันทึกไว้"
            outcomes.append(
                dataclasses.replace(
                    outcome, status=RowStatus.REJECTED, reasons=(reason,), data=None
                )
            )
            continue
        _, done = await repo.upsert_project(data)
        outcomes.append(dataclasses.replace(outcome, status=RowStatus(done.value), data=data))
    return ImportResult(tuple(outcomes), parsed.warnings)


def format_report(result: ImportResult) -> str:
    """A human summary for the CLI: warnings, one line per row, then the totals."""
    lines = [f"คำเตือน (warning): {w}" for w in result.warnings]
    for o in result.outcomes:
        line = f"แถว {o.row}: {o.code or '(ไม่มีรหัส)'} - {STATUS_LABELS[o.status]}"
        lines.append(line + (": " + "; ".join(o.reasons) if o.reasons else ""))
    counts = ", ".join(f"{STATUS_LABELS[s]} {n}" for s, n in result.counts.items())
    lines.append(f"รวม {len(result.outcomes)} แถว (rows): {counts}")
    return "\n".join(lines)


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() != ""


def _map_columns(header: list[object]) -> tuple[dict[int, str], list[str]]:
    columns: dict[int, str] = {}
    warnings: list[str] = []
    for i, cell in enumerate(header):
        title = cell_text(cell)
        if not title:
            continue
        field = _HEADERS.get(normalize_header(title))
        if field is None:
            warnings.append(f"ไม่รู้จักคอลัมน์ที่ {i + 1} '{title}' จึงไม่นำเข้า (unknown column)")
        elif field in columns.values():
            raise ImportFileError(
                f"คอลัมน์ '{title}' ซ้ำกับคอลัมน์ก่อนหน้า ({FIELD_LABELS[field]}) "
                f"(column {i + 1} repeats the {field} column)"
            )
        else:
            columns[i] = field
    for field in _REQUIRED:
        if field not in columns.values():
            names = ", ".join((_ALIASES[field][0], field))
            raise ImportFileError(
                f"ไม่พบคอลัมน์{FIELD_LABELS[field]} (ต้องมีหัวคอลัมน์ในแถวแรก เช่น {names}) "
                f"(no {field} column in the header row)"
            )
    return columns, warnings


def _check_row(row: int, values: Mapping[str, object], seen: dict[str, int]) -> RowOutcome:
    reasons: list[str] = []

    def take(field: str, parse: Callable[[object, str], _T], default: _T) -> _T:
        try:
            return parse(values[field], FIELD_LABELS[field]) if field in values else default
        except InvalidCell as exc:
            reasons.append(str(exc))
            return default

    code = cell_text(values.get("code"))
    if not code:
        reasons.append("ไม่มีรหัสโครงการ")
    elif code in seen:
        reasons.append(f"รหัสโครงการ {code} ซ้ำกับแถวที่ {seen[code]} ในไฟล์เดียวกัน")
    else:
        seen[code] = row
    name = cell_text(values.get("name"))
    if not name:
        reasons.append("ไม่มีชื่อโครงการ")
    year = take("fiscal_year", cell_fiscal_year, 0)
    start, end = take("start_date", cell_date, None), take("end_date", cell_date, None)
    if start and end and end < start:
        reasons.append("วันสิ้นสุดโครงการอยู่ก่อนวันเริ่มต้นโครงการ")
    received = take("budget_received", _money, None)
    used = take("budget_used", _money, None)
    if reasons:
        return RowOutcome(row, code, RowStatus.REJECTED, tuple(reasons))
    texts = {f: cell_text(values.get(f)) for f in _TEXT_FIELDS}
    data = ProjectData(code, name, year, start, end, received, used, **texts)
    return RowOutcome(row, code, RowStatus.VALID, data=data)


def read_rows(path: Path) -> tuple[list[object], list[tuple[int, list[object]]]]:
    """The header (the first row with anything in it), then every later row with anything in
    it, with its spreadsheet row number (the first row is 1)."""
    table = read_table(path)
    start = next((i for i, row in enumerate(table) if any(_filled(c) for c in row)), None)
    if start is None:
        raise ImportFileError(f"ไฟล์ว่าง ไม่มีข้อมูล (the file is empty): {path.name}")
    body = [
        (number + 1, table[number])
        for number in range(start + 1, len(table))
        if any(_filled(c) for c in table[number])
    ]
    return table[start], body


def by_field(cells: list[object], columns: Mapping[int, str]) -> dict[str, object]:
    """The cells of a row by the field of their column (None where the row is short)."""
    return {field: cells[i] if i < len(cells) else None for i, field in columns.items()}


def read_table(path: Path) -> list[list[object]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"เปิดไฟล์ไม่ได้ (cannot open the file): {exc}") from exc
    if raw.startswith(b"\xd0\xcf\x11\xe0") or path.suffix.lower() == ".xls":
        raise ImportFileError(
            "ไฟล์ Excel รุ่นเก่า (.xls) ใช้ไม่ได้ กรุณาบันทึกเป็น .xlsx หรือ CSV UTF-8 "
            "(old .xls format: save as .xlsx or CSV UTF-8)"
        )
    if raw.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(raw)
    return _read_csv(raw)


def _read_xlsx(raw: bytes) -> list[list[object]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
        raise ImportFileError(f"อ่านไฟล์ Excel ไม่ได้ (not a readable .xlsx file): {exc}") from exc
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _read_csv(raw: bytes) -> list[list[object]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "ไฟล์ไม่ได้เข้ารหัสแบบ UTF-8 กรุณาบันทึกเป็น 'CSV UTF-8' หรือ .xlsx "
            "(the file is not UTF-8 text: save it as 'CSV UTF-8' or .xlsx)"
        ) from exc
    if "\x00" in text:
        raise ImportFileError("ไฟล์ไม่ใช่ข้อความ CSV (the file is not CSV text)")
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Counting in the header line is predictable where csv.Sniffer guesses from quoting.
    delimiter = max(",;\t", key=first.count)
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ImportFileError(f"อ่านไฟล์ CSV ไม่ได้ (unreadable CSV): {exc}") from exc


# Cell values. CSV cells are text; XLSX cells may also be numbers, dates or datetimes.

_MAX_MONEY = Decimal("999999999999.99")


class InvalidCell(ValueError):
    """A cell that fails its check; the message is the Thai reason shown to the user."""


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone or code typed into a number cell
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def cell_fiscal_year(value: object, label: str) -> int:
    text = re.sub(r"^พ\.?\s*ศ\.?\s*", "", thai_digit_to_arabic_digit(cell_text(value)))
    if not text:
        raise InvalidCell(f"ไม่มี{label}")
    if isinstance(value, bool) or not re.fullmatch(r"\d{4}", text):
        raise InvalidCell(f"{label} '{cell_text(value)}' ไม่ใช่ปี พ.ศ. 4 หลัก")
    year = int(text)
    if year in CE_YEARS:
        # Adding 543 silently would be a guess; the reason tells the user what to write.
        raise InvalidCell(
            f"{label} {year} เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ. "
            f"(ปีงบประมาณที่สิ้นสุดในปี ค.ศ. {year} คือ พ.ศ. {year + 543})"
        )
    if year not in BE_YEARS:
        raise InvalidCell(f"{label} {year} ไม่ใช่ปี พ.ศ. ที่เป็นไปได้")
    return year


def cell_date(value: object, label: str) -> date | None:
    if not cell_text(value):
        return None
    if not isinstance(value, str | date):
        raise InvalidCell(f"{label} '{cell_text(value)}' ไม่ใช่วันที่ (ใช้ 2020-10-01 หรือ 1/10/2563)")
    try:
        return parse_date(value)
    except ThaiDateError as exc:
        raise InvalidCell(f"{label} '{cell_text(value)}': {exc}") from None


def _money(value: object, label: str) -> Decimal | None:
    shown = cell_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = Decimal(str(value))  # str(): 1234.5 as typed, not its binary expansion
    else:
        if shown in ("", "-"):  # a dash is how Thai tables leave an amount blank
            return None
        try:
            # The conversation's reader: Thai digits, separators, "บาท", "90,000.-", units.
            amount = parse_baht(shown)
        except ParseError as error:
            raise InvalidCell(f"{label} '{shown[:40]}': {error}") from None
    if not amount.is_finite():
        raise InvalidCell(f"{label} '{shown}' ไม่ใช่ตัวเลขจำนวนเงิน")
    if amount < 0:
        raise InvalidCell(f"{label} ติดลบไม่ได้ ({shown})")
    if amount > _MAX_MONEY:
        raise InvalidCell(f"{label} {shown} มากเกินไป")
    rounded = amount.quantize(MONEY_STEP)
    if rounded != amount:
        raise InvalidCell(f"{label} {shown} มีทศนิยมเกิน 2 ตำแหน่ง")
    return rounded
