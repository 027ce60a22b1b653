"""Loading projects (section 1 of the form) from a CSV or XLSX file, row by row, with reasons.

`read_project_file` reads and validates without touching storage; `open_project_import` gives a
`RowImport` that reads, checks and stores one row at a time and hands each outcome over as soon
as it is done (the CLI prints it then), and `import_projects` does the same and keeps every
outcome. A row that fails any check is rejected with all its reasons and changes nothing; the
other rows are still imported. Re-importing the same file reports every row stored as
unchanged, so an import that was stopped part way is taken up by running it again. The file is
read within the caps of `reports.table_file` (columns, rows, characters), whatever it says of
its size.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from domain.limits import code_problem
from domain.models import MONEY_STEP, ProjectData
from domain.numbers import arabic_digits
from domain.parsing import ParseError, parse_baht
from domain.thaidate import BE_YEARS, CE_YEARS, ThaiDateError, parse_date
from reports.errors import ImportFileError as ImportFileError
from reports.table_file import Cells, TableFile, cut_message
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


class Counted(Protocol):
    """An outcome of one row: its row number and status."""

    @property
    def row(self) -> int: ...

    @property
    def status(self) -> RowStatus: ...


_O = TypeVar("_O", bound=Counted)


class Counts:
    """Rows per status, from `count`, which the class gives."""

    __slots__ = ()

    def count(self, status: RowStatus) -> int:
        """Rows that ended with this status."""
        raise NotImplementedError

    @property
    def rows(self) -> int:
        """Rows handled, whatever their status."""
        return sum(self.count(s) for s in RowStatus)

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


@dataclass(frozen=True, slots=True)
class Imported(Counts, Generic[_O]):
    """What an import did, row by row (projects here; monthly reports in reports_import)."""

    outcomes: tuple[_O, ...]
    warnings: tuple[str, ...] = ()

    def count(self, status: RowStatus) -> int:
        """Rows that ended with this status."""
        return sum(1 for o in self.outcomes if o.status is status)


class ImportResult(Imported[RowOutcome]):
    """What an import of projects did, row by row."""

    __slots__ = ()


@dataclass(slots=True)
class Tally(Counts):
    """How far an import has gone: the rows handled per status, and the last row handled (0
    before the first). `cut` is the last row read when the file went on past the row cap."""

    per_status: Counter[RowStatus] = dataclasses.field(default_factory=Counter)
    last_row: int = 0
    cut: int | None = None

    def count(self, status: RowStatus) -> int:
        """Rows that ended with this status."""
        return self.per_status[status]

    def add(self, outcome: Counted) -> None:
        """Count a row that is done."""
        self.per_status[outcome.status] += 1
        self.last_row = outcome.row


async def whole(step: Awaitable[_T]) -> tuple[_T, bool]:
    """The step's result, awaited to its end even when the task awaiting it is cancelled
    meanwhile (a row is stored whole or not at all, and the report says which); and whether it
    was cancelled."""
    task = asyncio.ensure_future(step)
    cancelled = False
    while True:
        try:
            return await asyncio.shield(task), cancelled
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True


class RowImport(Generic[_O]):
    """An import under way: the file is open and its header read (`warnings` says what of it is
    not imported). `run` reads the rows a batch at a time in a worker thread, then checks and
    stores each in turn and hands its outcome to `on_row` as soon as it is done, so that nothing
    but a batch and the counts is held. Cancelled (Ctrl-C), it finishes the row in hand, hands
    it over, then raises CancelledError: `tally.last_row` is then the last row done, and every
    row after it is untouched, so that importing the same file again takes up from there."""

    def __init__(
        self,
        table: TableFile,
        warnings: tuple[str, ...],
        check: Callable[[int, Cells], _O],
        store: Callable[[_O], Awaitable[_O]],
    ) -> None:
        self.warnings = warnings
        self.tally = Tally()
        self._table = table
        self._check = check
        self._store = store

    async def run(self, on_row: Callable[[_O], object] = lambda _: None) -> Tally:
        """Check, store and hand over every row; the counts, with `cut` set if the file went on
        past the cap."""
        while True:
            batch, stop = await whole(asyncio.to_thread(self._table.read_batch))
            if stop:
                raise asyncio.CancelledError
            if not batch:
                break
            for number, cells in batch:
                outcome = self._check(number, cells)
                if outcome.status is RowStatus.VALID:
                    outcome, stop = await whole(self._store(outcome))
                self.tally.add(outcome)
                on_row(outcome)
                if stop:
                    raise asyncio.CancelledError
        self.tally.cut = self._table.cut
        return self.tally

    def all_warnings(self) -> tuple[str, ...]:
        """The warnings, and once run, the cut if the file went on past the row cap."""
        cut = self.tally.cut
        return self.warnings if cut is None else (*self.warnings, cut_message(cut))


def read_project_file(path: Path) -> ProjectFile:
    """Read and validate a CSV or XLSX file of projects, without storing anything; holds every
    row (for a look at a file, and tests: the import streams)."""
    with TableFile(path) as table:
        columns, warnings = _map_columns(table.header)
        seen: dict[str, int] = {}
        rows = [_check_row(number, by_field(cells, columns), seen) for number, cells in table]
        cut = (cut_message(table.cut),) if table.cut is not None else ()
        found = frozenset(columns.values())
        return ProjectFile(tuple(rows), found, (*table.warnings, *warnings, *cut))


def read_project_rows(path: Path) -> list[RowOutcome]:
    """Each data row of the file as VALID (with its data) or REJECTED (with reasons)."""
    return list(read_project_file(path).rows)


@asynccontextmanager
async def open_project_import(repo: Registry, path: Path) -> AsyncIterator[RowImport[RowOutcome]]:
    """The file opened and its header checked (ImportFileError if it cannot be imported), ready
    to `run`: each valid row is stored; the columns the file lacks keep their stored values."""
    table, stop = await whole(asyncio.to_thread(TableFile, path))
    try:
        if stop:
            raise asyncio.CancelledError
        columns, warnings = _map_columns(table.header)
        present = frozenset(columns.values())
        seen: dict[str, int] = {}

        def check(number: int, cells: Cells) -> RowOutcome:
            return _check_row(number, by_field(cells, columns), seen)

        async def store(outcome: RowOutcome) -> RowOutcome:
            return await _store_project(repo, outcome, present)

        yield RowImport(table, (*table.warnings, *warnings), check, store)
    finally:
        table.close()


async def import_projects(repo: Registry, path: Path) -> ImportResult:
    """Store the valid rows of a project file; every outcome, held (the CLI streams instead)."""
    outcomes: list[RowOutcome] = []
    async with open_project_import(repo, path) as run:
        await run.run(outcomes.append)
    return ImportResult(tuple(outcomes), run.all_warnings())


async def _store_project(
    repo: Registry, outcome: RowOutcome, present: frozenset[str]
) -> RowOutcome:
    data = outcome.data
    assert data is not None
    existing = await repo.get_project(data.code)
    if existing is not None:
        kept = {f: getattr(existing, f) for f in _FIELDS if f not in present}
        data = dataclasses.replace(data, **kept)
    if data.start_date and data.end_date and data.end_date < data.start_date:
        reason = "วันสิ้นสุดโครงการอยู่ก่อนวันเริ่มต้นโครงการที่บันทึกไว้"
        return dataclasses.replace(outcome, status=RowStatus.REJECTED, reasons=(reason,), data=None)
    _, done = await repo.upsert_project(data)
    stored = dataclasses.replace(outcome, status=RowStatus(done.value), data=data)
    if data.officer_name.strip() and not await repo.officers_of_project(data.code):
        name = data.officer_name.strip()
        known = await repo.find_person(name) is not None
        problem = "ยังไม่ได้เชื่อมกับโครงการนี้" if known else "ยังไม่ได้ลงทะเบียนในระบบ"
        warning = (
            f"คำเตือน: ผู้รับผิดชอบ '{name}' {problem} จะไม่มีใครได้รับการเตือนเรื่องโครงการนี้ "
            f"(progress-bot people add --name '{name}' --officer-of {data.code})"
        )
        stored = dataclasses.replace(stored, reasons=(*stored.reasons, warning))
    return stored


def format_row(outcome: RowOutcome) -> list[str]:
    """The line of one row: its number, code, status and reasons."""
    line = f"แถว {outcome.row}: {outcome.code or '(ไม่มีรหัส)'} - {STATUS_LABELS[outcome.status]}"
    return [line + (": " + "; ".join(outcome.reasons) if outcome.reasons else "")]


def format_totals(counts: Counts) -> str:
    """The closing line: rows in all, and per status."""
    shown = ", ".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.counts.items())
    return f"รวม {counts.rows} แถว (rows): {shown}"


def format_warning(warning: str) -> str:
    """A warning as the CLI shows it."""
    return f"คำเตือน (warning): {warning}"


def summary_text(
    warnings: Iterable[str],
    outcomes: Iterable[_T],
    row_lines: Callable[[_T], list[str]],
    totals: str,
) -> str:
    """An import as a human reads it: warnings, the lines of each row, then the totals (for
    projects and for reports alike)."""
    lines = [format_warning(w) for w in warnings]
    for outcome in outcomes:
        lines += row_lines(outcome)
    lines.append(totals)
    return "\n".join(lines)


def format_report(result: ImportResult) -> str:
    """A human summary: warnings, one line per row, then the totals."""
    return summary_text(result.warnings, result.outcomes, format_row, format_totals(result))


def _map_columns(header: Cells) -> tuple[dict[int, str], list[str]]:
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
    elif problem := code_problem(code):
        reasons.append(problem)
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


def by_field(cells: Cells, columns: Mapping[int, str]) -> dict[str, object]:
    """The cells of a row by the field of their column (None where the row is short)."""
    return {field: cells[i] if i < len(cells) else None for i, field in columns.items()}


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
    text = re.sub(r"^พ\.?\s*ศ\.?\s*", "", arabic_digits(cell_text(value)))
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
