"""The official form as a Word document (DOCX), for editing before it is signed.

The same document model as the PDF and the chat text (reports.form), the same wording and order:
A4, the PDF's margins, Sarabun 14 pt. Thai is a complex script in Word: the font and size are
set for it too (w:cs, w:szCs) and the text is marked th-TH, or Word would fall back to another
face and size for every Thai character. Label, colon and value stand in borderless tables so
that the colons line up; headings are kept with what follows them; the footer carries the
project code, the day of the figures and "หน้า N/M" as Word fields.
"""

from __future__ import annotations

import io
from datetime import datetime, time

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph

from domain.thaidate import format_thai_date
from reports.form_model import (
    SIGNATURE_DOTS,
    Fields,
    FormDocument,
    NumberedList,
    Paragraph,
    ReportEntry,
    Section,
    Signature,
)

FONT = "Sarabun"
BODY_PT, TITLE_PT, FOOTER_PT = 14, 17, 11
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 25, 20, 18, 20  # mm, as the PDF
INDENT = Mm(6)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# A fixed time keeps the bytes of a rendering reproducible (the PDF does the same).
FIXED_TIME = datetime(2000, 1, 1)


def render_docx(doc: FormDocument) -> bytes:
    """The form as DOCX bytes."""
    word = Document()
    _page(word)
    _styles(word)
    _properties(word, doc)
    title = word.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, doc.title, bold=True, size=TITLE_PT)
    for section in doc.sections:
        _section(word, section)
    _signature(word, doc.signature)
    _footer(word, doc)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _page(word: WordDocument) -> None:
    page = word.sections[0]
    page.orientation = WD_ORIENT.PORTRAIT
    page.page_width, page.page_height = Mm(210), Mm(297)
    page.left_margin, page.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    page.top_margin, page.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    page.footer_distance = Mm(8)


def _thai_font(properties: object, size: float) -> None:
    """Sarabun at `size` for every script of a run or style (rPr), Thai marked th-TH."""
    fonts = properties.get_or_add_rFonts()  # type: ignore[attr-defined]
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    for tag in ("w:sz", "w:szCs"):
        element = properties.find(qn(tag))  # type: ignore[attr-defined]
        if element is None:
            element = OxmlElement(tag)
            properties.append(element)  # type: ignore[attr-defined]
        element.set(qn("w:val"), str(round(size * 2)))
    lang = properties.find(qn("w:lang"))  # type: ignore[attr-defined]
    if lang is None:
        lang = OxmlElement("w:lang")
        properties.append(lang)  # type: ignore[attr-defined]
    lang.set(qn("w:val"), "th-TH")
    lang.set(qn("w:bidi"), "th-TH")


def _styles(word: WordDocument) -> None:
    normal = word.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _thai_font(normal.element.get_or_add_rPr(), BODY_PT)
    spacing = normal.paragraph_format
    spacing.space_before, spacing.space_after = Pt(0), Pt(0)
    spacing.line_spacing = 1.0


def _properties(word: WordDocument, doc: FormDocument) -> None:
    core = word.core_properties
    core.title = f"{doc.title} {doc.project_code}"
    core.subject = doc.subject
    core.author = doc.author
    core.keywords = doc.keywords
    core.language = "th-TH"
    core.comments = "สร้างโดย progress-bot"
    core.last_modified_by = "progress-bot"
    moment = datetime.combine(doc.as_of, time()) if doc.as_of else FIXED_TIME
    core.created = core.modified = moment
    core.revision = 1


def _run(paragraph: DocxParagraph, text: str, *, bold: bool = False, size: float = BODY_PT) -> None:
    run = paragraph.add_run(text)
    run.bold = bold
    _thai_font(run._element.get_or_add_rPr(), size)


def _section(word: WordDocument, section: Section) -> None:
    heading = word.add_paragraph()
    heading.paragraph_format.space_before = Pt(6 if section.level == 1 else 3)
    heading.paragraph_format.keep_with_next = True  # never alone at the foot of a page
    _run(heading, section.heading, bold=True, size=BODY_PT + (1 if section.level == 1 else 0))
    for block in section.blocks:
        if isinstance(block, Fields):
            _fields(word, block)
        elif isinstance(block, Paragraph):
            for line in block.lines:
                paragraph = word.add_paragraph()
                paragraph.paragraph_format.left_indent = INDENT
                if line:
                    _run(paragraph, line)
        elif isinstance(block, NumberedList):
            _numbered(word, block)
        else:
            _report(word, block)


def _table(word: WordDocument, rows: int, widths: list[float]) -> Table:
    """A borderless table of columns `widths` (mm), indented under its heading."""
    table: Table = word.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), str(round(6 * 56.7)))  # 6 mm in twentieths of a point
    indent.set(qn("w:type"), "dxa")
    table._tbl.tblPr.append(indent)
    for column, width in zip(table.columns, widths, strict=True):
        for cell in column.cells:
            cell.width = Mm(width)
    return table


def _fields(word: WordDocument, block: Fields) -> None:
    """Label, colon and value in columns; two fields of a row side by side."""
    columns = max(len(row) for row in block.rows)
    widths = [42.0, 4.0, 113.0] if columns == 1 else [42.0, 4.0, 32.0, 36.0, 4.0, 41.0]
    table = _table(word, len(block.rows), widths)
    for row, fields in zip(table.rows, block.rows, strict=True):
        cells = iter(row.cells)
        for field in fields:
            for text in (field.label, ":", field.value):
                _run(next(cells).paragraphs[0], text)
        if len(fields) == 1 and columns > 1:
            value = row.cells[2].merge(row.cells[-1])
            value.paragraphs[0].runs[0].text = fields[0].value
            for extra in value.paragraphs[1:]:
                extra._element.getparent().remove(extra._element)


def _numbered(word: WordDocument, block: NumberedList) -> None:
    if block.caption:
        caption = word.add_paragraph()
        caption.paragraph_format.left_indent = INDENT
        caption.paragraph_format.keep_with_next = True
        _run(caption, block.caption)
    indent = INDENT * (2 if block.caption else 1)
    for number, item in zip(block.numbers(), block.items, strict=True):
        paragraph = word.add_paragraph()
        paragraph.paragraph_format.left_indent = indent + Mm(8)
        paragraph.paragraph_format.first_line_indent = -Mm(8)
        _run(paragraph, f"{number}\t{item}")


def _report(word: WordDocument, entry: ReportEntry) -> None:
    """รายงานครั้งที่N in bold with its date and note; the figures beside the answers."""
    head = word.add_paragraph()
    head.paragraph_format.left_indent = INDENT
    head.paragraph_format.keep_with_next = True
    _run(head, entry.label, bold=True)
    _run(head, entry.dated)
    table = _table(word, 2, [80.0, 79.0])
    pairs = ((entry.progress_text, entry.plan), (": " + entry.disbursed_text, entry.target))
    for row, (left, right) in zip(table.rows, pairs, strict=True):
        _run(row.cells[0].paragraphs[0], left)
        _run(row.cells[1].paragraphs[0], right)
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _signature(word: WordDocument, signature: Signature) -> None:
    certification = word.add_paragraph()
    certification.paragraph_format.space_before = Pt(10)
    certification.paragraph_format.left_indent = INDENT
    certification.paragraph_format.keep_with_next = True
    _run(certification, signature.certification)
    word.add_paragraph().paragraph_format.keep_with_next = True
    for text in (
        f"ลงชื่อ {SIGNATURE_DOTS} ผู้รับผิดชอบโครงการ",
        f"({signature.name or SIGNATURE_DOTS})",
        f"ตำแหน่ง {signature.position or SIGNATURE_DOTS}",
    ):
        line = word.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.paragraph_format.left_indent = Mm(55)
        line.paragraph_format.keep_with_next = True
        _run(line, text)


def _footer(word: WordDocument, doc: FormDocument) -> None:
    """รหัสโครงการ, ข้อมูล ณ วันที่, and หน้า N/M as Word's PAGE and NUMPAGES fields."""
    footer = word.sections[0].footer.paragraphs[0]
    text = f"รหัสโครงการ {doc.project_code}"
    if doc.as_of is not None:
        text += f"  ข้อมูล ณ วันที่ {format_thai_date(doc.as_of)}"
    _run(footer, text + "\tหน้า ", size=FOOTER_PT)
    _field(footer, "PAGE", "1")
    _run(footer, "/", size=FOOTER_PT)
    _field(footer, "NUMPAGES", "1")
    footer.paragraph_format.tab_stops.add_tab_stop(Mm(165), alignment=2)  # right, at the margin


def _field(paragraph: DocxParagraph, code: str, shown: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in; `shown` until it does."""
    for kind, content in (("begin", None), ("instr", code), ("separate", None), ("text", shown),
                          ("end", None)):  # fmt: skip
        run = paragraph.add_run()
        _thai_font(run._element.get_or_add_rPr(), FOOTER_PT)
        if kind == "instr":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = f" {content} "
            run._element.append(instruction)
        elif kind == "text":
            run.text = shown
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._element.append(char)
