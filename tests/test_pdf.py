"""The form as PDF, read back with pypdf and rasterised with pdftoppm.

How the text is compared: the glyphs carry a ToUnicode map, so pypdf reads Thai back as typed,
vowels and tone marks included (tests/test_pdf_text.py checks every line and every mark). Both
sides are compared without whitespace (pypdf puts line breaks where lines were wrapped).
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from reports import pdf_fonts
from reports.demo_data import SEED_PROJECT
from reports.form import form_document, render_text
from reports.pdf import render_pdf
from reports.pdf_fonts import FONT_FAMILY, sarabun
from reports.pdf_glyphs import shaper
from reports.thai_wrap import tokens, wrap
from tests.test_form import SEED_OFFICER, as_project, seed_document, seed_reports

_FOOTER = re.compile(r"รหัสโครงการ \S+ หน้า \d+/\d+")


def squeeze(text: str) -> str:
    """Text as compared here: without whitespace."""
    return re.sub(r"\s+", "", text)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def seed_pdf() -> bytes:
    return render_pdf(seed_document())


def test_every_heading_code_and_report_can_be_read_back(seed_pdf: bytes) -> None:
    text = "\n".join(page_texts(seed_pdf))
    assert "50140000-3629" in text
    body = squeeze(_FOOTER.sub("", text))
    doc = seed_document()
    for heading in [doc.title, *(section.heading for section in doc.sections)]:
        assert squeeze(heading) in body, heading
    for report in seed_reports():
        number, progress = report.report_no, f"{report.values.progress:.2f}"
        assert squeeze(f"รายงานครั้งที่{number} ::") in body
        assert squeeze(f"ความก้าวหน้าของงานฯ = {progress} %") in body
        assert squeeze(f"งบประมาณที่เบิกใช้ (ครั้งที่ {number}) = 0 บาท") in body
    assert squeeze("(นายณัฐพงษ์ ลาญาติ)") in body
    assert squeeze("ขอรับรองว่า ข้อมูลที่ปรากฏในเอกสารฉบับนี้") in body


def test_the_whole_text_form_is_in_the_pdf_word_for_word(seed_pdf: bytes) -> None:
    body = squeeze(_FOOTER.sub("", "\n".join(page_texts(seed_pdf))))
    lines = render_text(seed_document()).splitlines()
    # The PDF lays out the signature and report figures differently; all else is the same text.
    missing = [line for line in lines if squeeze(line) not in body]
    assert all("ลงชื่อ" in line or line.startswith(":: ความก้าวหน้า") for line in missing)


def test_thai_words_read_back_intact(seed_pdf: bytes) -> None:
    text = page_texts(seed_pdf)[0]
    for word in ("ผู้ประสานงาน", "ที่", "ญาติ", "ปีงบประมาณ", "หลักการและเหตุผล"):
        assert word in text
    assert "สำนักงานเขตลาดกระบัง" in text


def test_the_footer_numbers_the_pages(seed_pdf: bytes) -> None:
    pages = page_texts(seed_pdf)
    assert 3 <= len(pages) <= 5
    for number, text in enumerate(pages, start=1):
        assert f"หน้า {number}/{len(pages)}" in text
        assert "รหัสโครงการ 50140000-3629" in text


def test_sarabun_is_embedded(seed_pdf: bytes) -> None:
    embedded = set()
    for page in PdfReader(io.BytesIO(seed_pdf)).pages:
        resources = page["/Resources"]
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"]
        assert isinstance(fonts, DictionaryObject)
        for ref in fonts.values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # the TrueType program itself, subset
            embedded.add(str(font["/BaseFont"]))
    assert embedded and all(FONT_FAMILY in name for name in embedded)
    assert len(embedded) == 2  # regular and bold


def test_the_same_form_gives_the_same_bytes(seed_pdf: bytes) -> None:
    assert render_pdf(seed_document()) == seed_pdf
    dated = render_pdf(seed_document(), created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    metadata = PdfReader(io.BytesIO(dated)).metadata
    assert metadata is not None and metadata.creation_date is not None
    assert metadata.creation_date.year == 2026
    assert dated != seed_pdf


def test_a_very_long_rationale_runs_over_pages_without_losing_a_word() -> None:
    sentence = "".join(line.strip() for line in SEED_PROJECT.rationale.splitlines())
    rationale = " ".join([sentence] * 12)
    project = as_project(dataclasses.replace(SEED_PROJECT, rationale=rationale))
    pdf = render_pdf(form_document(project, seed_reports(), SEED_OFFICER))
    pages = page_texts(pdf)
    assert len(pages) >= 7
    text = _FOOTER.sub("", "\n".join(pages))
    start = text.index("1.3 หลักการและเหตุผล") + len("1.3 หลักการและเหตุผล")
    drawn = [line.strip() for line in text[start : text.index("1.4 ")].splitlines()]
    drawn = [line for line in drawn if line]
    assert squeeze("".join(drawn)) == squeeze(rationale)
    # Every line ends where a newmm word ends: no Thai word is cut at the margin.
    boundaries, at = set(), 0
    for token in tokens(rationale):
        at += len(squeeze(token))
        boundaries.add(at)
    at = 0
    for line in drawn[:-1]:
        at += len(squeeze(line))
        assert at in boundaries, line[-15:]


def test_wrapped_lines_fit_the_measured_width() -> None:
    face = shaper(sarabun().regular)
    sentence = "".join(line.strip() for line in SEED_PROJECT.rationale.splitlines())
    width_pt = 165 * 72 / 25.4

    def measure(text: str) -> float:
        return face.width(text, 14)

    lines = wrap(sentence, width_pt, measure)
    assert len(lines) > 3
    assert all(measure(line) <= width_pt + 0.01 for line in lines)
    assert "".join(lines).replace(" ", "") == sentence.replace(" ", "")


@pytest.mark.skipif(
    # Under CI this must run: .ci/run installs poppler-utils, so a skip there would hide a gap.
    shutil.which("pdftoppm") is None and not os.environ.get("CI"),
    reason="pdftoppm is not installed (Debian package poppler-utils; .ci/run installs it)",
)
def test_page_one_rasterises_with_ink_where_the_text_is(seed_pdf: bytes, tmp_path: Path) -> None:
    source = tmp_path / "form.pdf"
    source.write_bytes(seed_pdf)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("p*.png")
    with Image.open(png) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 at 50 dpi
        text_area = gray.crop((width // 8, height // 20, width * 7 // 8, height * 9 // 10))
        dark = sum(text_area.histogram()[:128])  # pixels darker than mid-grey
        margin = gray.crop((0, 0, width // 12, height))  # the left margin stays blank
        assert dark > 2000
        darkest, _ = margin.getextrema()
        assert isinstance(darkest, int) and darkest > 200


def test_long_reasons_wrap_inside_their_column() -> None:
    reason = "ผู้รับจ้างส่งมอบงานล่าช้าเนื่องจากฝนตกหนักต่อเนื่องและวัสดุก่อสร้างขาดตลาด " * 4
    values = dataclasses.replace(
        seed_reports()[0].values, on_plan=False, plan_reason=reason, on_target=False
    )
    first = dataclasses.replace(seed_reports()[0], values=values)
    pdf = render_pdf(form_document(as_project(SEED_PROJECT), [first], SEED_OFFICER))
    body = squeeze(_FOOTER.sub("", "".join(page_texts(pdf))))
    assert squeeze(reason) in body
    assert squeeze(": ไม่เป็นไปตามเป้าหมาย") in body


def test_a_missing_font_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_fonts, "FONT_PACKAGE", "fontpkg_not_installed")
    with pytest.raises(pdf_fonts.FontMissing, match="fontpkg-sarabun"):
        pdf_fonts.sarabun.__wrapped__()
