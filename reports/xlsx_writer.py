"""A streaming XLSX writer: the SpreadsheetML parts written as text straight into the zip file.

openpyxl spends 15-20 µs on every cell; here a row is one f-string per cell and the XML goes
out in chunks of a few hundred kilobytes, so a sheet of any length costs neither time nor
memory to speak of. Sheets are written one after the other (a zip file takes one entry at a
time); the workbook, its relationships, the content types and the styles, which depend on every
sheet, are written when the book is closed.

Cells: str (an inline string, stripped of the characters XML 1.0 cannot hold), bool, int,
float, Decimal, date and datetime (a serial number with a date style; naive datetimes only,
Excel has no time zones); None and "" leave the cell out. A column may have a number format; a
date in a column without one gets an ISO-like date format so that it still reads as a date.
Output to a path is written to a ".part" file beside it and renamed when complete, so a failed
export never leaves a truncated workbook behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, Final

DEFAULT_DATE_FORMAT: Final = "yyyy-mm-dd"
DEFAULT_DATETIME_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
MAX_COLUMNS: Final = 16384
MAX_ROWS: Final = 1048576

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Everything outside XML 1.0's Char production: C0 controls but tab, CR and LF, lone surrogates,
# U+FFFE and U+FFFF.
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NEEDS_ESCAPE = re.compile('[&<>"\r]')
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()
_CHUNK = 1 << 18  # characters of XML gathered before they go to the zip entry
_CACHE_SIZE = 1 << 16  # texts remembered as escaped XML (a project's recur on every sheet)


def clean(text: str) -> str:
    """The text without the characters XML 1.0 cannot hold (control characters and the like)."""
    return _ILLEGAL.sub("", text)


def escape(text: str) -> str:
    """Text cleaned (`clean`) and escaped for XML element content and attribute values."""
    text = _ILLEGAL.sub("", text)
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def inline_string(value: str) -> str:
    """The <is> element of an inline string cell ("" for a text that is empty when cleaned)."""
    escaped = escape(value)
    if not escaped:
        return ""
    if escaped[0] in " \t\n" or escaped[-1] in " \t\n" or "&#13;" in escaped:
        return f'<is><t xml:space="preserve">{escaped}</t></is>'
    return f"<is><t>{escaped}</t></is>"


def column_letter(index: int) -> str:
    """The letters of a 1-based column number: 1 is A, 27 is AA."""
    if not 1 <= index <= MAX_COLUMNS:
        raise ValueError(f"column {index} is outside 1..{MAX_COLUMNS}")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def excel_serial(value: date) -> int | float:
    """Days since Excel's epoch (1899-12-30, with its 1900 leap-year quirk); a datetime's time
    of day is the fraction, as openpyxl computes it."""
    days = value.toordinal() - _EPOCH_ORDINAL
    if 0 < days <= 60:
        days -= 1  # Excel counts a 29 February 1900 that never was
    if not isinstance(value, datetime):
        return days
    if value.tzinfo is not None:
        raise ValueError("Excel has no time zones: give a naive (wall-clock) datetime")
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6
    return days + seconds / 86400


def check_sheet_name(title: str) -> None:
    """Raise ValueError unless Excel accepts `title` as a sheet name."""
    if not title or len(title) > 31:
        raise ValueError(f"a sheet name has 1 to 31 characters: {title!r}")
    if _SHEET_NAME_FORBIDDEN.search(title) or title[0] == "'" or title[-1] == "'":
        raise ValueError(f"a sheet name cannot contain []:*?/\\ nor start or end with ': {title!r}")
    if _ILLEGAL.search(title):
        raise ValueError(f"a sheet name cannot contain control characters: {title!r}")


class WorkbookWriter:
    """A workbook written as it goes: `add_sheet`, append its rows, and `close` (or use `with`).

    Adding a sheet finishes the previous one; closing the writer finishes the last and writes
    the workbook parts. Leaving a `with` block by an exception abandons the file.
    """

    # Deflate level 3 takes under half the time of the usual 6, for a file ~13 % larger.
    def __init__(self, out: BinaryIO | Path, *, compresslevel: int = 3) -> None:
        self._path = out if isinstance(out, Path) else None
        self._partial = self._path.with_name(self._path.name + ".part") if self._path else None
        target: BinaryIO | Path = self._partial if self._partial is not None else out
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._sheets: list[Sheet] = []
        self._open: Sheet | None = None
        self._formats: dict[str, int] = {}  # number format -> its cell style (xf) index
        self.inline: Callable[[str], str] = lru_cache(maxsize=_CACHE_SIZE)(inline_string)
        self._closed = False

    def __enter__(self) -> WorkbookWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    def add_sheet(
        self,
        title: str,
        header: Sequence[str] = (),
        *,
        widths: Sequence[float] = (),
        formats: Mapping[int, str] | None = None,
        frozen_rows: int = 1,
    ) -> Sheet:
        """Start the next sheet, with its header row (bold, wrapped) written if given.

        `widths` are column widths in characters from column A; `formats` maps 0-based column
        indexes to Excel number formats; `frozen_rows` rows stay in view when scrolling.
        """
        if self._closed:
            raise ValueError("the workbook is closed")
        check_sheet_name(title)
        if any(s.title.casefold() == title.casefold() for s in self._sheets):
            raise ValueError(f"there is a sheet named {title!r} already")
        if self._open is not None:
            self._open.close()
        column_styles = {column: self.style(code) for column, code in (formats or {}).items()}
        number = len(self._sheets) + 1
        entry = self._zip.open(f"xl/worksheets/sheet{number}.xml", "w")
        sheet = Sheet(self, entry, title, number, column_styles)
        self._sheets.append(sheet)
        self._open = sheet
        sheet.start(widths, frozen_rows, selected=number == 1)
        if header:
            sheet.append_header(header)
        return sheet

    def style(self, number_format: str) -> int:
        """The cell style (xf index) showing numbers in this format, created on first use."""
        found = self._formats.get(number_format)
        if found is None:
            found = self._formats[number_format] = _FIRST_FORMAT_STYLE + len(self._formats)
        return found

    def _sheet_done(self, sheet: Sheet) -> None:
        if self._open is sheet:
            self._open = None

    def close(self) -> None:
        """Finish the open sheet and write the workbook parts; the file is then complete."""
        if self._closed:
            return
        if self._open is not None:
            self._open.close()
        if not self._sheets:
            self.abandon()
            raise ValueError("a workbook needs at least one sheet")
        self._closed = True
        try:
            for name, xml in self._package_parts():
                # Opened by name, an entry gets the fixed time 1980-01-01: the same content makes
                # the same file (writestr would stamp the time of day).
                with self._zip.open(name, "w") as entry:
                    entry.write(xml.encode("utf-8"))
            self._zip.close()
        except BaseException:
            self.abandon()
            raise
        if self._partial is not None and self._path is not None:
            os.replace(self._partial, self._path)

    def abandon(self) -> None:
        """Stop writing: the zip is closed as is and a ".part" file is removed."""
        self._closed = True
        try:
            if self._open is not None:
                self._open.abandon()
            with contextlib.suppress(OSError, ValueError):
                self._zip.close()
        finally:
            if self._partial is not None:
                self._partial.unlink(missing_ok=True)

    def _package_parts(self) -> list[tuple[str, str]]:
        count = len(self._sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for n in range(1, count + 1)
        )
        content_types = (
            f'{_DECLARATION}<Types xmlns="{_CT_NS}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
            f"{overrides}</Types>"
        )
        root_rels = (
            f'{_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        )
        sheet_rels = "".join(
            f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)
        )
        book_rels = (
            f'{_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        )
        return [
            ("xl/workbook.xml", self._workbook_xml()),
            ("xl/_rels/workbook.xml.rels", book_rels),
            ("xl/styles.xml", self._styles_xml()),
            ("_rels/.rels", root_rels),
            ("[Content_Types].xml", content_types),
        ]

    def _workbook_xml(self) -> str:
        sheets = "".join(
            f'<sheet name="{escape(s.title)}" sheetId="{s.number}" r:id="rId{s.number}"/>'
            for s in self._sheets
        )
        # Excel's own record of each sheet's filter range.
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.number - 1}" hidden="1">'
            f"{escape(quote_sheet_name(s.title))}!{s.filter_ref(absolute=True)}</definedName>"
            for s in self._sheets
            if s.filter_ref()
        )
        return (
            f'{_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _styles_xml(self) -> str:
        formats = sorted(self._formats.items(), key=lambda item: item[1])
        num_fmts = "".join(
            f'<numFmt numFmtId="{_FIRST_CUSTOM_FORMAT + n}" formatCode="{escape(code)}"/>'
            for n, (code, _) in enumerate(formats)
        )
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        format_xfs = "".join(
            f'<xf numFmtId="{_FIRST_CUSTOM_FORMAT + n}" fontId="0" fillId="0" borderId="0" '
            'xfId="0" applyNumberFormat="1"/>'
            for n in range(len(formats))
        )
        return (
            f'{_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
            + (f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>' if formats else "")
            + f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            f'<cellXfs count="{_FIRST_FORMAT_STYLE + len(formats)}">'
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
            'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
            f"{format_xfs}</cellXfs>"
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


_HEADER_STYLE = 1  # bold, wrapped, top-aligned
_FIRST_FORMAT_STYLE = 2
_FIRST_CUSTOM_FORMAT = 164  # ids below are Excel's built-in formats


def quote_sheet_name(title: str) -> str:
    """A sheet name as a formula or defined name refers to it: 'name' with ' doubled."""
    return "'" + title.replace("'", "''") + "'"


def _number(value: int | float | Decimal) -> str | None:
    """A number as XML text; None when it is not finite."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return f"{value:f}" if value.is_finite() else None


class Sheet:
    """One worksheet being written: `append` rows, `set_filter` after the rows it covers."""

    def __init__(
        self,
        book: WorkbookWriter,
        entry: IO[bytes],
        title: str,
        number: int,
        column_styles: Mapping[int, int],
    ) -> None:
        self.title, self.number = title, number
        self.rows = 0  # rows written (or skipped, when empty) so far
        self._book, self._entry = book, entry
        self._parts: list[str] = []
        self._size = 0
        # Per column, as far as used: '<c r="A', its style attribute (' s="2"' or ""), and what
        # follows the row number in a text cell and in a number cell.
        self._cells: list[str] = []
        self._styles: list[str] = []
        self._as_text: list[str] = []
        self._as_number: list[str] = []
        self._column_styles = dict(column_styles)
        self._inline = book.inline
        self._width = 0  # columns of the widest row
        self._filter: tuple[int, int] | None = None  # (columns, rows) under the filter
        self._done = False

    def start(self, widths: Sequence[float], frozen_rows: int, *, selected: bool) -> None:
        tab = ' tabSelected="1"' if selected else ""
        if frozen_rows > 0:
            cell = f"A{frozen_rows + 1}"
            view = (
                f'<sheetView{tab} workbookViewId="0"><pane ySplit="{frozen_rows}" '
                f'topLeftCell="{cell}" activePane="bottomLeft" state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="{cell}" sqref="{cell}"/></sheetView>'
            )
        else:
            view = f'<sheetView{tab} workbookViewId="0"/>'
        cols = "".join(
            f'<col min="{n}" max="{n}" width="{width:g}" customWidth="1"/>'
            for n, width in enumerate(widths, start=1)
        )
        self._write(
            f'{_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f"<sheetViews>{view}</sheetViews>"
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
        )

    def _grow(self, columns: int) -> None:
        if columns > MAX_COLUMNS:
            raise ValueError(f"a row has at most {MAX_COLUMNS} cells")
        for index in range(len(self._cells), columns):
            self._cells.append(f'<c r="{column_letter(index + 1)}')
            style = self._column_styles.get(index)
            attribute = f' s="{style}"' if style is not None else ""
            self._styles.append(attribute)
            self._as_text.append(f'"{attribute} t="inlineStr">')
            self._as_number.append(f'"{attribute}><v>')

    def append_header(self, header: Sequence[str]) -> None:
        """A row of titles in the bold header style."""
        r = self._next_row(len(header))
        style = f' s="{_HEADER_STYLE}"'
        cells = [self._cell(i, r, value, style) for i, value in enumerate(header)]
        self._write(f'<row r="{r}">{"".join(cells)}</row>')

    def _next_row(self, columns: int) -> str:
        if self._done:
            raise ValueError(f"sheet {self.title!r} is finished")
        if self.rows >= MAX_ROWS:
            raise ValueError(f"a sheet has at most {MAX_ROWS} rows")
        self.rows += 1
        if columns > len(self._cells):
            self._grow(columns)
        if columns > self._width:
            self._width = columns
        return str(self.rows)

    def append(self, values: Sequence[object]) -> None:
        """Write the next row (an empty one leaves the row blank)."""
        r = self._next_row(len(values))
        if not values:
            return
        # The common types first, each cell one f-string; `_cell` takes care of the rest.
        cells, as_text, as_number, inline = (
            self._cells,
            self._as_text,
            self._as_number,
            self._inline,
        )
        out = [f'<row r="{r}">']
        append = out.append
        for i, value in enumerate(values):
            if value is None:
                continue
            if type(value) is str:
                text = inline(value)
                if text:
                    append(f"{cells[i]}{r}{as_text[i]}{text}</c>")
            elif type(value) is Decimal and value.is_finite():
                append(f"{cells[i]}{r}{as_number[i]}{value:f}</v></c>")
            elif type(value) is int:
                append(f"{cells[i]}{r}{as_number[i]}{value}</v></c>")
            elif (type(value) is date or type(value) is datetime) and self._styles[i]:
                append(f"{cells[i]}{r}{as_number[i]}{excel_serial(value)}</v></c>")
            else:
                append(self._cell(i, r, value, self._styles[i]))
        append("</row>")
        xml = "".join(out)
        self._parts.append(xml)
        self._size += len(xml)
        if self._size >= _CHUNK:
            self._flush()

    def _cell(self, i: int, r: str, value: object, style: str) -> str:
        """A cell of any type (`append` writes the common ones itself); "" for no cell."""
        ref = f"{self._cells[i]}{r}"
        if value is None:
            return ""
        if isinstance(value, str):
            text = self._inline(value)
            return f'{ref}"{style} t="inlineStr">{text}</c>' if text else ""
        if isinstance(value, bool):
            return f'{ref}"{style} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float | Decimal):
            number = _number(value)
            if number is None:  # not finite (nan, inf): shown as text
                return f'{ref}"{style} t="inlineStr">{self._inline(str(value))}</c>'
            return f'{ref}"{style}><v>{number}</v></c>'
        if isinstance(value, date):
            if not style:
                style = self._date_style(value)
            return f'{ref}"{style}><v>{excel_serial(value)}</v></c>'
        raise TypeError(f"no cell for a {type(value).__name__}: {value!r}")

    def _date_style(self, value: date) -> str:
        code = DEFAULT_DATETIME_FORMAT if isinstance(value, datetime) else DEFAULT_DATE_FORMAT
        return f' s="{self._book.style(code)}"'

    def set_filter(self) -> None:
        """Filter buttons over the first row, covering the rows written so far."""
        self._filter = (max(self._width, 1), max(self.rows, 1))

    def filter_ref(self, *, absolute: bool = False) -> str:
        """The filtered range ("A1:Q5"), or "" without a filter."""
        if self._filter is None:
            return ""
        columns, rows = self._filter
        last = column_letter(columns)
        return f"$A$1:${last}${rows}" if absolute else f"A1:{last}{rows}"

    def _write(self, xml: str) -> None:
        self._parts.append(xml)
        self._size += len(xml)
        if self._size >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._parts:
            self._entry.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0

    def close(self) -> None:
        """Finish the sheet (no more rows); the writer moves on to the next."""
        if self._done:
            return
        self._done = True
        ref = self.filter_ref()
        self._parts.append(
            "</sheetData>"
            + (f'<autoFilter ref="{ref}"/>' if ref else "")
            + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
            'footer="0.5"/></worksheet>'
        )
        self._flush()
        self._entry.close()
        self._book._sheet_done(self)

    def abandon(self) -> None:
        """Stop without finishing (the workbook is being abandoned)."""
        self._done = True
        # The workbook is abandoned anyway: nothing here may hide why.
        with contextlib.suppress(OSError, ValueError):
            self._entry.close()
        self._book._sheet_done(self)
