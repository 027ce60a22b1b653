"""The PDF's text layer gives back exactly the Thai that was typed: read with pypdf (through the
fonts' ToUnicode maps) and with pdftotext (which takes each line's /ActualText), each page reads
back as the lines drawn on it: every line whole, in one piece, and nothing more or less, with
whitespace aside and the order of the lines left to the reader (pdftotext reads a two-column
grid row by row, pypdf in drawing order; the footers are drawn last).

Before, ำ read back as ํา (so "ดำเนิน" was never found) and pdftotext put tone marks after the
next letter ("ทีร่ บ ั ผิดชอบ")."""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import fpdf
import pypdf
import pytest

from domain.models import MonthlyReport, ReportValues
from reports.demo_data import SEED_PROJECT
from reports.form import form_document
from reports.form_model import FormDocument
from reports.pdf import render_pdf
from reports.pdf_glyphs import GlyphWriter
from tests.test_form import SEED_OFFICER, as_project, report, seed_document, seed_reports

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None and not os.environ.get("CI"),
    reason="pdftotext is not installed (Debian package poppler-utils; .ci/run installs it)",
)

CONSONANTS = "กขคงจฉชซญฎฏฐณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ"
ABOVE = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47"  # ั ิ ี ึ ื ็
BELOW = "\u0e38\u0e39\u0e3a"  # ุ ู ฺ
TONES = "\u0e48\u0e49\u0e4a\u0e4b"  # ่ ้ ๊ ๋
LEADING = "เแโใไ"


def every_combination() -> Iterator[str]:
    """Words with every consonant under every vowel above and below, with and without each
    tone mark, with ำ (alone and under a tone), the thanthakhat, leading and following vowels,
    Thai digits and signs."""
    for consonant in CONSONANTS:
        for vowel, tone in itertools.product(ABOVE + BELOW, ("", *TONES)):
            if vowel == "\u0e47" and tone:
                continue  # ็ takes no tone mark
            yield f"{consonant}{vowel}{tone}น"
        for tone in ("", *TONES):
            yield f"{consonant}{tone}\u0e33"  # ำ: น้ำ, ก่ำ
            yield f"{LEADING[ord(consonant) % 5]}{consonant}{tone}า"
        yield f"{consonant}\u0e4c"  # ์
        yield f"{consonant}\u0e30{consonant}\u0e32{consonant}\u0e45"  # ะ า ๅ
    yield "ฤดู ฦๅ ๆ ฯ ๏ ๚ ๛ ๐๑๒๓๔๕๖๗๘๙ ดำเนินการ สำนักงานเขตลาดกระบัง ที่รับผิดชอบ"


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[str]]:
    """Every line the PDF draws, by page."""
    lines: dict[int, list[str]] = {}
    draw = GlyphWriter.draw

    def record(self: GlyphWriter, x: float, baseline: float, text: str) -> None:
        lines.setdefault(self.pdf.page, []).append(text)
        draw(self, x, baseline, text)

    monkeypatch.setattr(GlyphWriter, "draw", record)
    return lines


def reads_back(pages: list[str], drawn: dict[int, list[str]]) -> None:
    """Each page's text holds each line drawn on it whole, and nothing else."""
    assert len(pages) == len(drawn)
    for number, text in enumerate(pages, start=1):
        got = squashed(text)
        for line in drawn[number]:
            assert squashed(line) in got, f"page {number}: {line!r} does not read back whole"
        assert Counter(got) == Counter(squashed("".join(drawn[number]))), f"page {number}"


def squashed(text: str) -> str:
    return "".join(text.split())


def with_pypdf(pdf: bytes) -> list[str]:
    """The text of each page, as pypdf reads it."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def with_pdftotext(pdf: bytes, folder: Path) -> list[str]:
    """The text of each page, as pdftotext reads it (pages end with a form feed)."""
    path = folder / "form.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return text.split("\f")[:-1]


def generated() -> FormDocument:
    words = list(every_combination())
    rationale = "\n".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12))
    project = as_project(dataclasses.replace(SEED_PROJECT, rationale=rationale))
    return form_document(project, seed_reports(), SEED_OFFICER, as_of=date(2026, 11, 30))


@pytest.mark.parametrize("make", [seed_document, generated], ids=["seed", "every-combination"])
def test_pypdf_reads_back_every_line_as_typed(
    drawn: dict[int, list[str]], make: Callable[[], FormDocument]
) -> None:
    pdf = render_pdf(make())
    assert sum(map(len, drawn.values())) > 50
    reads_back(with_pypdf(pdf), drawn)


@needs_pdftotext
@pytest.mark.parametrize("make", [seed_document, generated], ids=["seed", "every-combination"])
def test_pdftotext_reads_back_every_line_as_typed(
    drawn: dict[int, list[str]], make: Callable[[], FormDocument], tmp_path: Path
) -> None:
    reads_back(with_pdftotext(render_pdf(make()), tmp_path), drawn)


def test_searching_the_seed_form_finds_what_it_says(tmp_path: Path) -> None:
    pdf = render_pdf(seed_document())
    text = "".join(with_pypdf(pdf))
    assert text.count("ดำเนิน") == 6
    assert "สำนักงานเขตลาดกระบัง" in text and "ที่รับผิดชอบ" in text
    if shutil.which("pdftotext"):
        assert "".join(with_pdftotext(pdf, tmp_path)).count("ดำเนิน") == 6


def test_the_glyph_drawing_was_checked_against_this_fpdf2() -> None:
    # reports/pdf_glyphs.py writes text operators through fpdf2 internals (the font subset,
    # _set_font_for_page, _out, page). They were checked against fpdf2 2.8; on another version,
    # check them (and these extraction tests) before moving the pin in pyproject.toml.
    assert fpdf.__version__.startswith("2.8."), (
        f"fpdf2 {fpdf.__version__}: reports/pdf_glyphs.py was checked against 2.8 only"
    )


# Layout: what the text layer shows of where lines are drawn.


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float, float, str]]:
    """Every line drawn: page, x, baseline, text."""
    lines: list[tuple[int, float, float, str]] = []
    draw = GlyphWriter.draw

    def record(self: GlyphWriter, x: float, baseline: float, text: str) -> None:
        lines.append((self.pdf.page, x, baseline, text))
        draw(self, x, baseline, text)

    monkeypatch.setattr(GlyphWriter, "draw", record)
    return lines


def with_rationale(lines: int, reports: list[MonthlyReport]) -> FormDocument:
    rationale = "\n".join(f"บรรทัดที่ {n} ของหลักการและเหตุผล" for n in range(lines))
    project = as_project(dataclasses.replace(SEED_PROJECT, rationale=rationale))
    return form_document(project, reports, SEED_OFFICER)


def test_a_heading_is_never_alone_at_the_foot_of_a_page(
    placed: list[tuple[int, float, float, str]],
) -> None:
    # Section 2 with one report, pushed down the page a line at a time.
    one = seed_reports()[:1]
    headings = {section.heading for section in seed_document().sections}
    for lines in range(0, 60, 1):
        placed.clear()
        render_pdf(with_rationale(lines, one))
        body = [line for line in placed if not line[3].startswith("รหัสโครงการ ")]
        for (page, _, _, text), (next_page, _, _, _) in itertools.pairwise(body):
            assert not (text in headings and next_page != page), f"{text!r} alone ({lines})"


def test_the_colons_of_1_1_and_1_2_stand_in_one_column(
    placed: list[tuple[int, float, float, str]],
) -> None:
    render_pdf(seed_document())
    labels = {"ชื่อโครงการ/กิจกรรม", "รหัสโครงการ", "ปีงบประมาณ พ.ศ.", "หน่วยงานที่รับผิดชอบ",
              "ชื่อผู้รับผิดชอบ", "ผู้ประสานงาน สยป", "เริ่มต้นโครงการ"}  # fmt: skip
    colons = []
    for previous, line in itertools.pairwise(placed):
        if line[3].strip() == ":" and previous[3] in labels:
            colons.append(round(line[1], 2))
    assert len(colons) == len(labels) and len(set(colons)) == 1


def test_a_long_reason_keeps_the_figures_beside_the_answers(
    placed: list[tuple[int, float, float, str]],
) -> None:
    reason = "ผู้รับจ้างส่งมอบงานล่าช้าเนื่องจากฝนตกหนักต่อเนื่องและน้ำท่วมพื้นที่ก่อสร้าง " * 3
    values = ReportValues(
        date(2021, 3, 31), Decimal(40), Decimal(1000), "", False, reason.strip(), True, ""
    )
    render_pdf(form_document(as_project(SEED_PROJECT), [report(6, values)], SEED_OFFICER))
    progress = next(line for line in placed if line[3].startswith(":: ความก้าวหน้า"))
    answer = next(line for line in placed if line[3].startswith(": ไม่เป็นไปตามแผน"))
    assert answer[2] == progress[2] and answer[1] > progress[1], "side by side on one line"


def test_a_character_the_font_lacks_is_a_box_and_stays_in_the_text(tmp_path: Path) -> None:
    note = "ดำเนินการแล้ว 👍 ✅ เรียบร้อย"
    values = ReportValues(date(2021, 3, 31), Decimal(40), Decimal(1000), note, True, "", True, "")
    pdf = render_pdf(form_document(as_project(SEED_PROJECT), [report(6, values)], SEED_OFFICER))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    content = b"".join(page.get_contents().get_data() for page in reader.pages)  # type: ignore[union-attr]
    assert content.count(b" re S Q") >= 2, "a box for each emoji, never nothing"
    if shutil.which("pdftotext"):
        assert note in "".join(with_pdftotext(pdf, tmp_path)), "copied out as typed"
