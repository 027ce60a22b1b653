"""Reading a file of past monthly reports (CSV or XLSX, Thai or English headers), row by row.

The columns are those `reports.csv_export` writes (and the first sheet of the XLSX export), so an
export imports back. Each row is read with the conversation's own readers (`parse_percent`,
`parse_baht`) and checked on its own here; the checks that need storage (the project, its dates,
the months around) are in `reports.reports_import`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from domain.fiscal import ReportMonth
from domain.limits import NOTE_LIMIT, REASON_LIMIT, REASON_MIN
from domain.models import ReportValues
from domain.months import month_name
from domain.parsing import ParseError, parse_baht, parse_percent
from domain.thaidate import format_be_date
from reports.errors import ImportFileError
from reports.project_import import (
    InvalidCell,
    RowStatus,
    by_field,
    cell_date,
    cell_fiscal_year,
    cell_text,
    normalize_header,
)
from reports.table_file import Cells, TableFile, cut_message

_T = TypeVar("_T")

# Accepted headers for each field, the first naming it in messages; English names too.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "code": ("รหัสโครงการ", "code", "project_code"),
    "fiscal_year": ("ปีงบประมาณ", "fiscal_year", "ปีงบประมาณ พ.ศ."),
    "report_no": ("รายงานครั้งที่", "report_no", "ครั้งที่"),
    "reported_on": ("วันที่รายงาน", "reported_on"),
    "progress": ("ความก้าวหน้า", "progress", "ความก้าวหน้าของงานฯ"),
    "disbursed": ("งบประมาณที่เบิกใช้", "disbursed", "ยอดเบิกจ่าย"),
    "note": ("ผลการดำเนินงาน", "note"),
    "on_plan": ("เป็นไปตามแผน", "on_plan"),
    "plan_reason": ("เหตุผล (แผน)", "plan_reason"),
    "on_target": ("เป็นไปตามเป้าหมาย", "on_target"),
    "target_reason": ("เหตุผล (เป้าหมาย)", "target_reason"),
}
REQUIRED = (
    "code", "fiscal_year", "report_no", "reported_on", "progress", "disbursed", "on_plan",
    "on_target",
)  # fmt: skip
# What the exports write besides: read without a warning, and not imported.
EXPORT_ONLY = ("ชื่อโครงการ", "หน่วยงาน", "เดือน", "ฉบับแก้ไขที่", "ช่องทาง", "ส่งเมื่อ")
LABELS: Mapping[str, str] = {field: names[0] for field, names in ALIASES.items()}

_YES = {"ใช่", "เป็น", "yes", "y", "true", "1", "✓"}
_NO = {"ไม่", "ไม่ใช่", "ไม่เป็น", "no", "n", "false", "0"}


def _exact(header: str) -> str:
    # Like normalize_header, but keeping "(แผน)" and "(เป้าหมาย)", which tell two reasons apart.
    text = re.sub(r"[\s.:*_\u200b\ufeff]", "", header).casefold()
    return re.sub(r"^[0-9๐-๙]+", "", text)


def _tables() -> tuple[dict[str, str], dict[str, str | None]]:
    exact: dict[str, str] = {}
    loose: dict[str, str | None] = {}
    for field, names in ALIASES.items():
        for name in names:
            exact[_exact(name)] = field
            key = normalize_header(name)
            loose[key] = field if loose.get(key, field) == field else None  # None: ambiguous
    for name in EXPORT_ONLY:
        exact[_exact(name)] = ""
    return exact, loose


_EXACT, _LOOSE = _tables()


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One valid row: which project and month, and what it reports."""

    row: int
    code: str
    fiscal_year: int
    report_no: int
    values: ReportValues

    @property
    def month(self) -> ReportMonth:
        """The month reported."""
        return ReportMonth(self.fiscal_year, self.report_no)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One data row: its spreadsheet row number (header = 1), project code, status, the Thai
    reasons it was rejected, the report it holds (when valid), and notes shown with it."""

    row: int
    code: str
    status: RowStatus
    reasons: tuple[str, ...] = ()
    report: ReportRow | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportFile:
    """Every data row of a file, VALID or REJECTED, and warnings about its columns."""

    rows: tuple[RowOutcome, ...]
    warnings: tuple[str, ...] = ()


def field_of(header: str) -> str | None:
    """The field a header names ("" for an export-only column), or None if unknown."""
    key = _exact(header)
    return _EXACT[key] if key in _EXACT else _LOOSE.get(normalize_header(header))


def read_report_file(path: Path) -> ReportFile:
    """Read and check every row of a CSV or XLSX file of monthly reports, storing nothing; holds
    every row (for a look at a file, and tests: the import streams)."""
    with TableFile(path) as table:
        check, warnings = row_checker(table.header)
        rows = [check(number, cells) for number, cells in table]
        cut = (cut_message(table.cut),) if table.cut is not None else ()
        return ReportFile(tuple(rows), (*table.warnings, *warnings, *cut))


def row_checker(header: Cells) -> tuple[Callable[[int, Cells], RowOutcome], list[str]]:
    """How to check each row of a file with this header row, and the warnings about its columns
    (ImportFileError when a column is missing or repeated). The checker remembers the rows it
    has seen, to tell a month reported twice in the same file."""
    columns, warnings = _map_columns(header)
    seen: dict[tuple[str, int, int], int] = {}

    def check(number: int, cells: Cells) -> RowOutcome:
        return check_row(number, by_field(cells, columns), seen)

    return check, warnings


def _map_columns(header: Cells) -> tuple[dict[int, str], list[str]]:
    columns: dict[int, str] = {}
    warnings: list[str] = []
    for i, cell in enumerate(header):
        title = cell_text(cell)
        field = field_of(title) if title else ""
        if field is None:
            warnings.append(f"ไม่รู้จักคอลัมน์ที่ {i + 1} '{title}' จึงไม่นำเข้า (unknown column)")
        elif field and field in columns.values():
            raise ImportFileError(
                f"คอลัมน์ '{title}' ซ้ำกับคอลัมน์ก่อนหน้า ({LABELS[field]}) "
                f"(column {i + 1} repeats the {field} column)"
            )
        elif field:
            columns[i] = field
    missing = [f for f in REQUIRED if f not in columns.values()]
    if missing:
        names = ", ".join(f"{LABELS[f]} ({f})" for f in missing)
        raise ImportFileError(f"ไม่พบคอลัมน์ {names} ในแถวหัวตาราง (missing columns)")
    return columns, warnings


def check_row(
    row: int, values: Mapping[str, object], seen: dict[tuple[str, int, int], int]
) -> RowOutcome:
    """The row read and checked on its own: VALID with its report, or REJECTED with reasons.

    `seen` maps (code, fiscal year, report number) to the first row that reported it.
    """
    reasons: list[str] = []

    def take(field: str, read: Callable[[object, str], _T], default: _T) -> _T:
        try:
            return read(values.get(field), LABELS[field])
        except InvalidCell as exc:
            reasons.append(str(exc))
            return default

    code = cell_text(values.get("code"))
    if not code:
        reasons.append("ไม่มีรหัสโครงการ")
    year = take("fiscal_year", cell_fiscal_year, 0)
    number = take("report_no", _report_no, 0)
    reported_on = take("reported_on", _required_date, None)
    progress = take("progress", _reader(parse_percent), Decimal(0))
    disbursed = take("disbursed", _reader(parse_baht), Decimal(0))
    note = take("note", _note, "")
    on_plan = take("on_plan", _yes_no, True)
    plan_reason = "" if on_plan else take("plan_reason", _reason, "")
    on_target = take("on_target", _yes_no, True)
    target_reason = "" if on_target else take("target_reason", _reason, "")
    if year and number:
        month = ReportMonth(year, number)
        if reported_on is not None and reported_on < month.first_day:
            reasons.append(
                f"วันที่รายงาน {format_be_date(reported_on)} อยู่ก่อนเดือนที่รายงาน ({month_name(month)})"
            )
        if code and (code, year, number) in seen:
            reasons.append(
                f"รายงานครั้งที่ {number} ปีงบประมาณ {year} ของโครงการ {code} "
                f"ซ้ำกับแถวที่ {seen[code, year, number]} ในไฟล์เดียวกัน"
            )
        elif code:
            seen[code, year, number] = row
    if reasons or reported_on is None:
        return RowOutcome(row, code, RowStatus.REJECTED, tuple(reasons))
    stated = ReportValues(
        reported_on, progress, disbursed, note, on_plan, plan_reason, on_target, target_reason
    )
    return RowOutcome(row, code, RowStatus.VALID, report=ReportRow(row, code, year, number, stated))


def _report_no(value: object, label: str) -> int:
    text = re.sub(r"^ครั้งที่\s*", "", cell_text(value))
    if not text:
        raise InvalidCell(f"ไม่มี{label}")
    if isinstance(value, bool) or not re.fullmatch(r"[0-9๐-๙]{1,2}", text):
        raise InvalidCell(f"{label} '{text}' ต้องเป็นตัวเลข 1 ถึง 12 (1 = ตุลาคม, 12 = กันยายน)")
    number = int(text.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")))
    if not 1 <= number <= 12:
        raise InvalidCell(f"{label} {number} ต้องเป็น 1 ถึง 12 (1 = ตุลาคม, 12 = กันยายน)")
    return number


def _required_date(value: object, label: str) -> date:
    found = cell_date(value, label)
    if found is None:
        raise InvalidCell(f"ไม่มี{label}")
    return found


def _reader(parse: Callable[[str], Decimal]) -> Callable[[object, str], Decimal]:
    def read(value: object, label: str) -> Decimal:
        shown = cell_text(value)
        try:
            return parse(shown)
        except ParseError as error:
            raise InvalidCell(f"{label} '{shown[:40]}': {error}") from None

    return read


def _note(value: object, label: str) -> str:
    # As the conversation takes a note: one line, and "-" for none.
    note = " ".join(cell_text(value).split())
    if note in {"-", "ไม่มี"}:
        return ""
    if len(note) > NOTE_LIMIT:
        raise InvalidCell(f"{label} ยาว {len(note)} ตัวอักษร เกินกำหนด {NOTE_LIMIT} ตัวอักษร")
    return note


def _yes_no(value: object, label: str) -> bool:
    if isinstance(value, bool):  # an XLSX TRUE/FALSE cell
        return value
    text = re.sub(r"\s", "", cell_text(value)).casefold()
    if text in _YES or text == _exact(label):
        return True
    if text in _NO or text == "ไม่" + _exact(label):
        return False
    if not text:
        raise InvalidCell(f"ไม่ได้ระบุว่า{label}หรือไม่")
    raise InvalidCell(
        f"{label} '{cell_text(value)[:40]}' อ่านไม่ออก (ใช้ {label} / ไม่{label} / ใช่ / ไม่ / yes / no)"
    )


def _reason(value: object, label: str) -> str:
    reason = cell_text(value)
    topic = "แผน" if "แผน" in label else "เป้าหมาย"
    if len(reason) < REASON_MIN:
        raise InvalidCell(f"ตอบว่าไม่เป็นไปตาม{topic} แต่ไม่มีเหตุผล (ต้องมีอย่างน้อย {REASON_MIN} ตัวอักษร)")
    if len(reason) > REASON_LIMIT:
        raise InvalidCell(f"{label} ยาวเกิน {REASON_LIMIT} ตัวอักษร")
    return reason
