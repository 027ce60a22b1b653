"""The official form as an A4 PDF in Sarabun, with Thai shaped by HarfBuzz.

fpdf2 wraps text at spaces only, and Thai has none between words, so every line is broken
here (reports.thai_wrap, pythainlp newmm) and drawn unwrapped (reports.pdf_glyphs).
Sarabun, the Google Fonts cut of TH Sarabun New, draws larger than TH SarabunPSK at the same
size: 14 pt here reads like the 16 pt of a printed government form.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.fonts import TTFFont

from domain.thaidate import format_thai_date
from reports.form_model import (
    SIGNATURE_DOTS,
    Block,
    Fields,
    FormDocument,
    NumberedList,
    Paragraph,
    ReportEntry,
    Section,
    Signature,
)
from reports.pdf_fonts import sarabun
from reports.pdf_glyphs import GlyphWriter
from reports.thai_wrap import wrap

MM_PER_PT = 25.4 / 72
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 25.0, 20.0, 18.0, 20.0
BODY_PT, TITLE_PT, FOOTER_PT = 14.0, 17.0, 11.0
LEADING = 1.45  # line height / font size: room for stacked Thai marks above and below
INDENT = 6.0  # content under a heading, and the answers of a report under its label
# A fixed creation date keeps the bytes of a rendering reproducible.
FIXED_CREATION = datetime(2000, 1, 1, tzinfo=UTC)

Cell = tuple[float, float, list[str]]  # left, width, wrapped lines


def render_pdf(doc: FormDocument, *, created_at: datetime | None = None) -> bytes:
    """The form as PDF bytes; identical bytes for an identical form unless `created_at` is set."""
    pdf = _FormPDF(doc)
    pdf.set_creation_date(created_at or FIXED_CREATION)
    writer = _Writer(pdf)
    writer.document(doc)
    writer.footers(doc)
    return bytes(pdf.output())


class _FormPDF(FPDF):
    """A4 with Sarabun, and the document's metadata (title, subject, author, language)."""

    def __init__(self, doc: FormDocument) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        fonts = sarabun()
        self.face = fonts.family
        self.add_font(fonts.family, "", fonts.regular)
        self.add_font(fonts.family, "B", fonts.bold)
        for font in self.fonts.values():
            if isinstance(font, TTFFont):
                # Subsetting keeps glyphs unchanged, so their stored bounding boxes hold; not
                # recomputing them halves the time of output().
                font.ttfont.recalcBBoxes = False
        self.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
        self.set_auto_page_break(False)  # pages are broken by _Writer.ensure
        self.set_title(f"{doc.title} {doc.project_code}")
        self.set_subject(doc.subject)
        self.set_author(doc.author)
        self.set_keywords(doc.keywords)
        self.set_lang("th")
        self.set_creator("progress-bot")


class _Writer:
    """Lays the form's blocks down the pages, keeping each small block on one page."""

    def __init__(self, pdf: _FormPDF) -> None:
        self.pdf = pdf
        self.glyphs = GlyphWriter(pdf)
        self.widths: dict[tuple[str, float, str], float] = {}
        self.answers_at = 0.0  # where the answers column of a report block starts
        self.label_columns: dict[int, float] = {}  # a field list's shared first label column

    # Fonts, measuring, lines and pages.

    def font(self, style: str = "", size: float = BODY_PT) -> float:
        """Select a face and size; return its line height."""
        self.pdf.set_font(self.pdf.face, style, size)
        return size * MM_PER_PT * LEADING

    def measure(self, text: str) -> float:
        """Width of a text in the current face and size (cached for the document)."""
        key = (self.pdf.font_style, self.pdf.font_size_pt, text)
        width = self.widths.get(key)
        if width is None:
            width = self.widths[key] = self.glyphs.width(text)
        return width

    def room_left(self) -> float:
        """Height left on the page above the bottom margin."""
        return self.pdf.h - MARGIN_BOTTOM - self.pdf.get_y()

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` (at most a page) fits below the current line."""
        if height > self.room_left() and self.pdf.get_y() > MARGIN_TOP:
            self.pdf.add_page()

    def put(self, x: float, text: str, height: float, width: float = 0, align: str = "L") -> None:
        """One unwrapped line at `x` on the current line; the cursor stays on that line."""
        if align == "C":
            x += (width - self.measure(text)) / 2
        # The baseline where fpdf2's cell() puts it, so body and footer agree.
        self.glyphs.draw(x, self.pdf.get_y() + height / 2 + 0.3 * self.pdf.font_size, text)

    def lines(self, x: float, lines: list[str], height: float) -> None:
        """Lines one under another, breaking the page between them if need be."""
        for line in lines:
            self.ensure(height)
            self.put(x, line, height)
            self.gap(height)

    def footers(self, doc: FormDocument) -> None:
        """Each page's footer, once the pages are counted: the project, the day of the figures,
        and หน้า N/M. Drawn like the rest (one shaping path), onto the pages already made."""
        total = self.pdf.page
        left = f"รหัสโครงการ {doc.project_code}"
        if doc.as_of is not None:
            left += f"  ข้อมูล ณ วันที่ {format_thai_date(doc.as_of)}"
        self.font(size=FOOTER_PT)
        baseline = self.pdf.h - MARGIN_BOTTOM + 9 + 0.3 * self.pdf.font_size
        for number in range(1, total + 1):
            self.pdf.page = number
            self.glyphs.draw(MARGIN_LEFT, baseline, left)
            right = f"หน้า {number}/{total}"
            self.glyphs.draw(self.pdf.w - MARGIN_RIGHT - self.measure(right), baseline, right)
        self.pdf.page = total

    def gap(self, height: float) -> None:
        """Move down by `height`."""
        self.pdf.set_y(self.pdf.get_y() + height)

    def cells(self, cells: Iterable[tuple[float, float, str]]) -> list[Cell]:
        """Cells (left, width, text) with their text wrapped to their width."""
        return [(left, room, wrap(text, room, self.measure)) for left, room, text in cells]

    def row(self, cells: list[Cell], height: float) -> None:
        """Cells side by side, each wrapped in its column; the row is as tall as its tallest.
        A row taller than a page has its cells one under another instead."""
        tallest = height * max(len(lines) for _, _, lines in cells)
        if tallest > self.pdf.h - MARGIN_TOP - MARGIN_BOTTOM:
            for left, _, lines in cells:
                self.lines(left, lines, height)
            return
        self.ensure(tallest)
        top = self.pdf.get_y()
        for left, _, lines in cells:
            self.pdf.set_y(top)
            self.lines(left, lines, height)
        self.pdf.set_y(top + tallest)

    # The form.

    def document(self, doc: FormDocument) -> None:
        # Sections of fields one after another (1.1 and 1.2) share one label column, so that
        # their colons line up.
        self.font()
        self.label_columns = {}
        group: list[Section] = []
        for section in (*doc.sections, None):
            if (
                section is not None
                and section.blocks
                and all(isinstance(b, Fields) for b in section.blocks)
            ):
                group.append(section)
                continue
            widest = max(
                (
                    self.measure(row[0].label)
                    for member in group
                    for block in member.blocks
                    if isinstance(block, Fields)
                    for row in block.rows
                ),
                default=0.0,
            )
            for member in group:
                for block in member.blocks:
                    self.label_columns[id(block)] = widest
            group = []
        self.pdf.add_page()
        height = self.font("B", TITLE_PT)
        self.put(MARGIN_LEFT, doc.title, height, self.pdf.epw, align="C")
        self.gap(height * 1.5)
        for section in doc.sections:
            self.section(section)
        self.signature(doc.signature)

    def section(self, section: Section) -> None:
        x, width = MARGIN_LEFT + INDENT, self.pdf.epw - INDENT
        body = self.font()
        # One answers column for all reports: after the widest disbursement, leaving the
        # answers a third of the line at least.
        entries = [block for block in section.blocks if isinstance(block, ReportEntry)]
        widest = max((self.measure(": " + e.disbursed_text) for e in entries), default=0)
        self.answers_at = min(widest, (width - INDENT) * 2 / 3) + INDENT
        following = self.first_height(section.blocks[0], width, body) if section.blocks else 0
        height = self.font("B", BODY_PT + (1 if section.level == 1 else 0))
        lines = wrap(section.heading, self.pdf.epw, self.measure)
        self.gap(height * (0.4 if section.level == 1 else 0.2))
        # A heading goes with the start of what follows it: never alone at the foot of a page.
        self.ensure(height * len(lines) + max(following, body))
        self.lines(MARGIN_LEFT, lines, height)
        height = self.font()
        for block in section.blocks:
            if isinstance(block, Fields):
                self.fields(block, x, width, height)
            elif isinstance(block, Paragraph):
                self.paragraph(block, x, width, height)
            elif isinstance(block, NumberedList):
                self.numbered(block, x, width, height)
            else:
                self.report(block, x, width, height)

    def paragraph(self, block: Paragraph, x: float, width: float, height: float) -> None:
        """The author's lines, each wrapped; an empty line is half a line of space."""
        for line in block.lines:
            if line:
                self.lines(x, wrap(line, width, self.measure), height)
            else:
                self.gap(height / 2)

    def fields(self, block: Fields, x: float, width: float, height: float) -> None:
        """Label, colon and value in aligned columns; two fields of a row side by side."""
        columns = max(len(row) for row in block.rows)
        column = width / columns
        label_width = [
            max(self.measure(row[i].label) for row in block.rows if len(row) > i)
            for i in range(columns)
        ]
        label_width[0] = max(label_width[0], self.label_columns.get(id(block), 0.0))
        colon = self.measure(" : ")
        if columns > 1:
            # The second column starts just after the first column's longest value (dates,
            # short), leaving the second the rest of the line (at least 45 % of it).
            values = max(self.measure(row[0].value) for row in block.rows if len(row) > 1)
            column = min(label_width[0] + colon + values + 1.5 * INDENT, width * 0.55)
        for row in block.rows:
            cells: list[tuple[float, float, str]] = []
            for i, field in enumerate(row):
                left = x + i * column
                span = column - INDENT if i == 0 else width - column
                room = (width if len(row) == 1 else span) - label_width[i] - colon
                cells += [
                    (left, label_width[i], field.label),
                    (left + label_width[i], colon, " : "),
                    (left + label_width[i] + colon, room, field.value),
                ]
            self.row(self.cells(cells), height)

    def numbered(self, block: NumberedList, x: float, width: float, height: float) -> None:
        """Caption, then items with their Thai numbers hanging in a column of their own."""
        if block.caption:
            self.ensure(height * 2)
            self.lines(x, [block.caption], height)
            x, width = x + INDENT, width - INDENT
        number_width = max(self.measure(n) for n in block.numbers()) + self.measure("  ")
        for number, item in zip(block.numbers(), block.items, strict=True):
            self.row(
                self.cells(
                    ((x, number_width, number), (x + number_width, width - number_width, item))
                ),
                height,
            )

    def first_height(self, block: Block, width: float, height: float) -> float:
        """The height of what must follow a heading on its page: a whole report block, the
        first row of fields or item of a list, or two lines of a paragraph."""
        if isinstance(block, ReportEntry):
            return self.report_layout(block, MARGIN_LEFT + INDENT, width, height)[3]
        if isinstance(block, Paragraph):
            first = next((line for line in block.lines if line), "")
            return height * min(2, max(1, len(wrap(first, width, self.measure))))
        if isinstance(block, NumberedList):
            room = width - (INDENT if block.caption else 0)
            room -= max(self.measure(n) for n in block.numbers()) + self.measure("  ")
            item = block.items[0] if block.items else ""
            return height * ((1 if block.caption else 0) + len(wrap(item, room, self.measure)))
        first_row = block.rows[0] if block.rows else ()
        colon = self.measure(" : ")
        tallest = max(
            (len(wrap(f.value, width / len(first_row) - colon, self.measure)) for f in first_row),
            default=1,
        )
        return height * tallest

    def report_layout(
        self, entry: ReportEntry, x: float, width: float, height: float
    ) -> tuple[float, list[str], list[list[Cell]], float]:
        """A report block laid out: the label's width, the first lines (date and note), the
        figures beside the answers (each answer wrapped in its column, however long its
        reason), and the block's height. Only figures too wide for their column put the four
        one under another."""
        self.font("B")
        label_width = self.measure(entry.label + " ")
        self.font()
        first = wrap(entry.dated.lstrip(), width - label_width, self.measure)
        inner, room, column = x + INDENT, width - INDENT, self.answers_at
        pairs = ((entry.progress_text, entry.plan), (": " + entry.disbursed_text, entry.target))
        if all(self.measure(left) <= column - INDENT for left, _ in pairs):
            grid = [
                self.cells(((inner, column - INDENT, left), (inner + column, room - column, right)))
                for left, right in pairs
            ]
        else:
            stacked = (entry.progress_text, ": " + entry.disbursed_text, entry.plan, entry.target)
            grid = [self.cells(((inner, room, text),)) for text in stacked]
        needed = height * (len(first) + sum(max(len(c[2]) for c in row) for row in grid))
        return label_width, first, grid, needed

    def report(self, entry: ReportEntry, x: float, width: float, height: float) -> None:
        """รายงานครั้งที่N in bold with its date and note; under it the figures beside the
        answers, as the printed form has them in columns."""
        label_width, first, grid, needed = self.report_layout(entry, x, width, height)
        self.ensure(needed)
        self.font("B")
        self.put(x, entry.label, height)
        self.font()
        self.lines(x + label_width, first, height)
        for row in grid:
            self.row(row, height)
        self.gap(height * 0.3)

    def signature(self, signature: Signature) -> None:
        """Certification across the page; signature, name and position centred on the right."""
        height = self.font()
        width = self.pdf.epw
        certification = wrap(signature.certification, width - INDENT, self.measure)
        self.ensure(height * (len(certification) + 5))
        self.gap(height * 0.5)
        self.lines(MARGIN_LEFT + INDENT, certification, height)
        self.gap(height * 1.5)
        for text in (
            f"ลงชื่อ {SIGNATURE_DOTS} ผู้รับผิดชอบโครงการ",
            f"({signature.name or SIGNATURE_DOTS})",
            f"ตำแหน่ง {signature.position or SIGNATURE_DOTS}",
        ):
            self.put(MARGIN_LEFT + width * 0.35, text, height, width * 0.65, "C")
            self.gap(height)
