"""The official form as a Word file: the same content and wording as the PDF and the text form,
Sarabun for Thai (Word's complex-script font and size too), A4, and offered wherever the PDF is:
in chat after the PDF, and from the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.document import Document as WordDocument
from docx.oxml.ns import qn

from bot.cli import main
from handlers import texts
from handlers.conversation import Conversation
from reports.documents import ReportDocuments
from reports.docx_form import DOCX, render_docx
from reports.form import render_text
from reports.form_model import SIGNATURE_DOTS
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, NOW, ROAD, Chat, World, build_world, stored_report
from tests.test_form import seed_document


def opened(data: bytes) -> WordDocument:
    return docx.Document(io.BytesIO(data))


def body_text(word: WordDocument) -> str:
    """Every paragraph of the body, tables included, in document order."""
    parts = []
    for element in word.element.body.iter():
        if element.tag == qn("w:p"):
            parts.append("".join(t.text or "" for t in element.iter(qn("w:t"))))
    return "\n".join(parts)


def squashed(text: str) -> str:
    return "".join(text.split())


def test_the_word_form_says_what_the_text_form_says_in_sarabun_on_a4() -> None:
    doc = dataclasses.replace(seed_document(), as_of=date(2026, 11, 30))
    word = opened(render_docx(doc))
    body = squashed(body_text(word))
    for line in render_text(doc).splitlines():
        # The text form puts a report's figures on one line (Word has them in two columns),
        # and the name on the signature line (Word, as the PDF, puts it under the line).
        pieces = [line]
        if line.startswith(":: "):
            pieces = line.split(" : งบประมาณที่เบิกใช้")
        elif line.startswith("ลงชื่อ"):
            pieces = [f"ลงชื่อ {SIGNATURE_DOTS} ผู้รับผิดชอบโครงการ", f"({doc.signature.name})"]
        for piece in pieces:
            assert squashed(piece) in body, piece
    page = word.sections[0]
    sizes = (page.page_width, page.page_height, page.left_margin, page.right_margin)
    assert [round(size.mm, 1) for size in sizes if size is not None] == [210, 297, 25, 20]
    normal = word.styles["Normal"].element.rPr
    fonts = normal.find(qn("w:rFonts"))
    assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:cs")) == "Sarabun"
    assert normal.find(qn("w:szCs")).get(qn("w:val")) == "28", "14 pt for Thai too"
    assert normal.find(qn("w:lang")).get(qn("w:bidi")) == "th-TH"
    headings = [p for p in word.paragraphs if p.text in {s.heading for s in doc.sections}]
    assert len(headings) == len(doc.sections)
    assert all(p.paragraph_format.keep_with_next for p in headings)
    footer = word.sections[0].footer.paragraphs[0]
    assert "ข้อมูล ณ วันที่ 30 พ.ย. 2569" in footer.text
    codes = "".join(t.text for t in footer._element.iter(qn("w:instrText")))
    assert "PAGE" in codes and "NUMPAGES" in codes
    core = word.core_properties
    assert core.title.endswith(doc.project_code) and core.language == "th-TH"
    assert doc.project_code in core.subject


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        world = await build_world(repo)
        await stored_report(repo, ROAD.code, 1, "30", "100000")
        yield world
    finally:
        await repo.close()


async def test_in_chat_the_word_file_is_offered_with_the_pdf(world: World) -> None:
    documents = ReportDocuments(world.repo, zone=BANGKOK, clock=lambda: NOW)
    c = Chat(Conversation(world.repo, lambda: NOW, documents=documents), "somchai")
    await c.say("แบบรายงาน")
    [pdf] = await c.press(ROAD.name)
    assert texts.BTN_FORM_WORD in [choice.label for choice in pdf.choices]
    [word] = await c.press(texts.BTN_FORM_WORD)
    assert word.attachment is not None
    assert word.attachment.name == f"แบบรายงาน-{ROAD.code}-2570.docx"
    assert word.attachment.mime == DOCX
    assert ROAD.code in body_text(opened(word.attachment.data))


async def test_the_cli_exports_one_projects_word_file(tmp_path: Path) -> None:
    database, out = tmp_path / "bot.sqlite3", tmp_path / "form.docx"
    env = {"PROGRESS_BOT_DATABASE": str(database)}
    assert await asyncio.to_thread(main, ["demo-data"], env) == 0
    code = "50140000-3629"
    args = ["export", "--format", "docx", "--project", code, "--out", str(out)]
    assert await asyncio.to_thread(main, args, env) == 0
    assert code in body_text(opened(out.read_bytes()))
    without = ["export", "--format", "docx", "--out", str(out)]
    assert await asyncio.to_thread(main, without, env) == 1
