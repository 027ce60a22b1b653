"""A CSV or XLSX file read one row at a time, within caps whatever the file says of itself.

An XLSX sheet states its size (`<dimension ref="A1:XFD1048576"/>`), and openpyxl's read-only
mode pads every row to it: a file of a few rows that claims the whole sheet filled the memory.
Here the stated size is neither believed nor looked for (openpyxl read the whole sheet for it,
at load, when it came late or not at all). A row has at most MAX_COLUMNS cells (an XLSX row is
read to one more, to tell that a header goes on past the cap), and reading stops after row
LAST_ROW, the header and MAX_ROWS rows below it; the importers say so when the file goes on.
A CSV file is decoded as it is read, its cells lose the formula guard of the CSV export
(`reports.csv_export.unguard_cell`; an XLSX export has none), and one of its rows may hold at
most MAX_ROW_CHARS characters. The parts of an XLSX file that openpyxl reads whole (the shared
strings, the styles, the workbook) may be at most MAX_PART_BYTES each. The importers read rows
in batches (`read_batch`) of at most BATCH rows or about BATCH_CHARS characters, so that what
is held at once stays small whatever the length of the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, cast

from reports.csv_export import unguard_cell
from reports.errors import ImportFileError

MAX_COLUMNS = 60
MAX_ROWS = 100_000
LAST_ROW = MAX_ROWS + 1  # the header row and MAX_ROWS rows below it
MAX_ROW_CHARS = 1_000_000
BATCH = 200
BATCH_CHARS = 1_000_000
MAX_PART_BYTES = 64 << 20  # a part of a workbook that openpyxl reads whole (shared strings...)

Cells = list[object]
Row = tuple[int, Cells]


class _Closable(Protocol):
    def close(self) -> None: ...


def filled(cell: object) -> bool:
    """A cell with anything in it but spaces."""
    return cell is not None and str(cell).strip() != ""


def cut_message(last_row: int) -> str:
    """What the user is told when a file goes on past its last row read."""
    return (
        f"ไฟล์ยาวเกิน {MAX_ROWS:,} แถว จึงอ่านถึงแถวที่ {last_row:,} เท่านั้น "
        f"แถวหลังจากนั้นไม่ได้นำเข้า กรุณาแบ่งเป็นหลายไฟล์ ไฟล์ละไม่เกิน {MAX_ROWS:,} แถว "
        f"(the file has more than {MAX_ROWS:,} rows: rows after row {last_row:,} were not read)"
    )


class TableFile:
    """An open CSV or XLSX file: its header (the first row with anything in it), then each later
    row with anything in it, with its row number in the file (the first row is 1), cut to
    MAX_COLUMNS cells; by iterating, or a batch at a time.

    `cut` is the last row read when the file goes on past LAST_ROW (known once read through).
    Use it as a context manager, which closes the file.
    """

    def __init__(self, path: Path) -> None:
        self.cut: int | None = None
        self.warnings: list[str] = []
        self._closers: list[_Closable] = []
        try:
            self._raw = self._open(path)
            self.header_row, header = self._header(path)
        except BaseException:
            self.close()
            raise
        if any(filled(c) for c in header[MAX_COLUMNS:]):
            self.warnings.append(
                f"ไฟล์มีเกิน {MAX_COLUMNS} คอลัมน์ จึงอ่านเฉพาะ {MAX_COLUMNS} คอลัมน์แรก "
                f"(only the first {MAX_COLUMNS} columns are read)"
            )
        self.header: Cells = header[:MAX_COLUMNS]
        self._body = self._rows()

    def __enter__(self) -> TableFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the file (and of the workbook)."""
        while self._closers:
            self._closers.pop().close()

    def __iter__(self) -> Iterator[Row]:
        return self._body

    def read_batch(self) -> list[Row]:
        """The next rows, at most BATCH of them or about BATCH_CHARS characters; [] at the end."""
        batch: list[Row] = []
        size = 0
        for row in self._body:
            batch.append(row)
            size += sum(len(c) for c in row[1] if isinstance(c, str))
            if len(batch) >= BATCH or size >= BATCH_CHARS:
                break
        return batch

    def _rows(self) -> Iterator[Row]:
        for number, cells in self._raw:
            if number > LAST_ROW:
                self.cut = LAST_ROW
                return
            del cells[MAX_COLUMNS:]
            if any(filled(c) for c in cells):
                yield number, cells

    def _header(self, path: Path) -> Row:
        for number, cells in self._raw:
            if number > LAST_ROW:
                break
            if any(filled(c) for c in cells):
                return number, cells
        raise ImportFileError(f"ไฟล์ว่าง ไม่มีข้อมูล (the file is empty): {path.name}")

    def _open(self, path: Path) -> Iterator[Row]:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise ImportFileError(f"เปิดไฟล์ไม่ได้ (cannot open the file): {exc}") from exc
        self._closers.append(stream)
        start = stream.read(4)
        stream.seek(0)
        suffix = path.suffix.lower()
        if start == b"\xd0\xcf\x11\xe0" or suffix == ".xls":
            raise ImportFileError(
                "ไฟล์ Excel รุ่นเก่า (.xls) ใช้ไม่ได้ กรุณาบันทึกเป็น .xlsx หรือ CSV UTF-8 "
                "(old .xls format: save as .xlsx or CSV UTF-8)"
            )
        if start == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
            return self._xlsx(stream)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
        self._closers.append(text)
        return _csv_rows(text)

    def _xlsx(self, stream: IO[bytes]) -> Iterator[Row]:
        from reports.xlsx_reader import CappedReader  # openpyxl: only when a workbook comes

        try:
            # From the open file, not the path: openpyxl would refuse a name not ending in .xlsx.
            reader = CappedReader(stream, read_only=True, data_only=True, keep_links=False)
            reader.read()
        except ImportFileError:
            raise
        except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
            raise ImportFileError(f"อ่านไฟล์ Excel ไม่ได้ (not a readable .xlsx file): {exc}") from exc
        book = reader.wb
        self._closers.append(book)
        rows = book.worksheets[0].iter_rows(
            max_row=LAST_ROW + 1, max_col=MAX_COLUMNS + 1, values_only=True
        )
        return _numbered(rows)


def _numbered(rows: Iterator[tuple[object, ...]]) -> Iterator[Row]:
    # openpyxl yields every row up to the last, empty ones for those the sheet leaves out.
    number = 0
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # damaged XML part way through the sheet
            raise ImportFileError(
                f"อ่านไฟล์ Excel ไม่ได้ตั้งแต่แถวที่ {number + 1} "
                f"(the .xlsx file is damaged from row {number + 1}): {exc}"
            ) from exc
        number += 1
        yield number, list(cells)


class _Lines:
    """The lines of a text file for csv.reader, each row (which may span lines in quotes) at
    most MAX_ROW_CHARS characters. The reader sets `row`, the row being read, and `taken`."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.row = 1
        self.taken = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = self._text.readline(MAX_ROW_CHARS + 1 - self.taken)
        except UnicodeDecodeError as exc:
            after = f" หลังแถวที่ {self.row - 1}" if self.row > 1 else ""
            raise ImportFileError(
                f"ไฟล์ไม่ได้เข้ารหัสแบบ UTF-8{after} กรุณาบันทึกเป็น 'CSV UTF-8' หรือ .xlsx "
                "(the file is not UTF-8 text: save it as 'CSV UTF-8' or .xlsx)"
            ) from exc
        if not line:
            raise StopIteration
        if "\x00" in line:
            raise ImportFileError("ไฟล์ไม่ใช่ข้อความ CSV (the file is not CSV text)")
        self.taken += len(line)
        if self.taken > MAX_ROW_CHARS:
            raise ImportFileError(
                f"แถวที่ {self.row} ยาวเกิน {MAX_ROW_CHARS:,} ตัวอักษร "
                f"(row {self.row} is longer than {MAX_ROW_CHARS:,} characters)"
            )
        return line


def _csv_rows(text: IO[str]) -> Iterator[Row]:
    # The delimiter is the one the first non-blank line has most of: counting there is
    # predictable where csv.Sniffer guesses from quoting.
    lines = _Lines(text)
    first = ""
    for line in lines:
        if line.strip():
            first = line
            break
        lines.taken = 0
        if lines.row > LAST_ROW:
            break
        lines.row += 1
    text.seek(0)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=max(",;\t", key=first.count))
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                f"อ่านไฟล์ CSV ไม่ได้ที่แถวที่ {lines.row} (unreadable CSV at row {lines.row}): {exc}"
            ) from exc
        record[:MAX_COLUMNS] = map(unguard_cell, record[:MAX_COLUMNS])
        yield lines.row, cast(Cells, record)  # whole: a header past the cap is told by it
        lines.row += 1
        lines.taken = 0
