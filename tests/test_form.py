"""The official form as text: a golden rendering of the seed, the form's edge cases, and the
splitting of the text into chat messages at word boundaries."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pythainlp.tokenize import word_tokenize

from domain.models import MonthlyReport, Person, Project, ProjectData, ReportValues, Role
from reports.demo_data import (
    OFFICER_NAME,
    OFFICER_PHONE,
    OFFICER_POSITION,
    SEED_PROJECT,
    SEED_REPORTS,
)
from reports.form import FormDocument, form_document, render_text, split_messages
from reports.form_model import NumberedList, Paragraph, ReportEntry
from reports.thai_wrap import words, wrap

GOLDEN = Path(__file__).parent / "golden" / "seed_form.txt"
BANGKOK = ZoneInfo("Asia/Bangkok")


def as_project(data: ProjectData, id: int = 1) -> Project:
    """A stored project with the given data."""
    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    return Project(**fields, id=id)


def report(
    number: int,
    values: ReportValues,
    code: str = SEED_PROJECT.code,
    fiscal_year: int = 2564,
) -> MonthlyReport:
    """A stored monthly report."""
    sent_at = datetime.combine(values.reported_on, time(16, 0), tzinfo=BANGKOK)
    return MonthlyReport(number, code, fiscal_year, number, values, None, "import", sent_at, 1)


def seed_reports() -> list[MonthlyReport]:
    """The seed form's twelve reports: 0 baht, on plan, on target."""
    return [
        report(n, ReportValues(day, Decimal(progress), Decimal("0.00"), note, True, "", True, ""))
        for n, (day, progress, note) in enumerate(SEED_REPORTS, start=1)
    ]


SEED_OFFICER = Person(7, OFFICER_NAME, OFFICER_PHONE, OFFICER_POSITION, frozenset({Role.OFFICER}))


def seed_document() -> FormDocument:
    """The seed project's form with its officer."""
    return form_document(as_project(SEED_PROJECT), seed_reports(), SEED_OFFICER)


def test_the_seed_form_renders_as_the_golden_text() -> None:
    assert render_text(seed_document()) + "\n" == GOLDEN.read_text(encoding="utf-8")


def test_sections_come_in_the_forms_order() -> None:
    headings = [section.heading.split(" ")[0] for section in seed_document().sections]
    assert headings == ["1.", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2."]


def test_reports_are_printed_in_month_order_whatever_order_they_come_in() -> None:
    shuffled = seed_reports()[::-1]
    text = render_text(form_document(as_project(SEED_PROJECT), shuffled, SEED_OFFICER))
    positions = [text.index(f"รายงานครั้งที่{n} ::") for n in range(1, 13)]
    assert positions == sorted(positions)


def test_not_on_plan_and_not_on_target_carry_their_reasons() -> None:
    values = ReportValues(
        date(2020, 10, 30),
        Decimal("5"),
        Decimal("12345.5"),
        "รอผู้รับจ้าง",
        False,
        "ผู้รับจ้าง  ส่งมอบงานล่าช้า",
        False,
        "",
    )
    text = render_text(form_document(as_project(SEED_PROJECT), [report(1, values)], None))
    assert (
        "รายงานครั้งที่1 :: 30/10/2563 : รอผู้รับจ้าง\n"
        ":: ความก้าวหน้าของงานฯ = 5.00 % : งบประมาณที่เบิกใช้ (ครั้งที่ 1) = 12,345.50 บาท\n"
        ": ไม่เป็นไปตามแผน : ผู้รับจ้าง ส่งมอบงานล่าช้า\n"
        ": ไม่เป็นไปตามเป้าหมาย\n"
    ) in text
    assert "เป็นไปตามแผน\n" not in text.replace("ไม่เป็นไปตามแผน", "")


def test_a_project_without_reports_still_prints_every_section() -> None:
    text = render_text(form_document(as_project(SEED_PROJECT), [], SEED_OFFICER))
    assert "รายงานครั้งที่" not in text
    assert "2. รายงานความก้าวหน้าของโครงการและการใช้จ่ายงบประมาณ\n" in text
    assert "ยังไม่มีรายงานความก้าวหน้าในปีงบประมาณ พ.ศ. 2564" in text
    assert text.endswith("ตำแหน่ง นักวิชาการศึกษาชำนาญการ")


def test_empty_optional_fields_show_a_dash_never_none_or_a_dangling_label() -> None:
    bare = as_project(ProjectData(code="50140000-0001", name="โครงการใหม่", fiscal_year=2570))
    text = render_text(form_document(bare, [], None))
    assert "None" not in text
    assert not [line for line in text.splitlines() if line.rstrip().endswith(":")]
    for line in (
        "เริ่มต้นโครงการ : -",
        "งบประมาณที่ได้รับ : -",
        "งบประมาณที่ใช้ไป : -",
        "หน่วยงานที่รับผิดชอบ : -",
        "ชื่อผู้รับผิดชอบ : -",
        "ผู้ประสานงาน สยป : -",
        "ด้านปริมาณ : -",
        "ตัวชี้วัด : -",
    ):
        assert line + "\n" in text
    assert "1.3 หลักการและเหตุผล\n-\n" in text
    # No officer known: the signature and position are left to be filled in by hand.
    assert text.endswith("(" + "." * 30 + ") ผู้รับผิดชอบโครงการ\nตำแหน่ง " + "." * 40)


def test_the_officer_named_on_the_project_signs_when_no_person_is_given() -> None:
    text = render_text(form_document(as_project(SEED_PROJECT), [], None))
    assert f"({OFFICER_NAME}) ผู้รับผิดชอบโครงการ" in text


def test_one_fiscal_year_of_a_multi_year_project() -> None:
    project = as_project(dataclasses.replace(SEED_PROJECT, budget_used=None))
    later = ReportValues(
        date(2021, 10, 29), Decimal("20"), Decimal("1500000"), "", True, "", True, ""
    )
    reports = [*seed_reports(), report(1, later, fiscal_year=2565)]
    doc = form_document(project, reports, SEED_OFFICER, fiscal_year=2565)
    text = render_text(doc)
    assert doc.fiscal_year == 2565
    assert "ปีงบประมาณ พ.ศ. : 2565\n" in text
    assert text.count("รายงานครั้งที่1 ::") == 1
    assert "รายงานครั้งที่1 :: 29/10/2564\n" in text
    # The latest cumulative disbursement is the budget used, as the reports below say.
    assert "งบประมาณที่ใช้ไป : 1,500,000 บาท (รายงานครั้งที่ 1)\n" in text
    assert "= 1,500,000 บาท" in text


def test_reports_of_another_project_are_refused() -> None:
    stranger = report(1, seed_reports()[0].values, code="99999999-0001")
    with pytest.raises(ValueError, match="99999999-0001"):
        form_document(as_project(SEED_PROJECT), [stranger], None)


@pytest.mark.parametrize(
    ("typed", "items"),
    [
        ("๑. ก\n๒. ข", ("ก", "ข")),
        ("1) ก\n2) ข", ("ก", "ข")),
        ("1.ก\n2.ข", ("ก", "ข")),
        ("- ก\n- ข", ("ก", "ข")),
        ("ก\nข", ("ก", "ข")),
        ("๑. ก\nต่อ\n๒. ข", ("ก ต่อ", "ข")),
        ("๗.๒ ไม่ใช่ลำดับ", ("๗.๒ ไม่ใช่ลำดับ",)),
    ],
)
def test_objectives_are_renumbered_in_thai_digits(typed: str, items: tuple[str, ...]) -> None:
    project = as_project(dataclasses.replace(SEED_PROJECT, objectives=typed))
    block = form_document(project, [], None).sections[4].blocks[0]
    assert block == NumberedList(items)


def test_the_rationale_keeps_its_lines_and_one_blank_between_paragraphs() -> None:
    project = as_project(dataclasses.replace(SEED_PROJECT, rationale="\n ก \n\n\n ข\n\n"))
    assert form_document(project, [], None).sections[3].blocks == (Paragraph(("ก", "", "ข")),)


def test_a_report_block_in_the_forms_phrasing() -> None:
    entry = form_document(as_project(SEED_PROJECT), seed_reports(), None).sections[-1].blocks[1]
    assert isinstance(entry, ReportEntry)
    assert entry.lines() == (
        "รายงานครั้งที่2 :: 30/11/2563",
        ":: ความก้าวหน้าของงานฯ = 16.00 % : งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 0 บาท",
        ": เป็นไปตามแผน",
        ": เป็นไปตามเป้าหมาย",
    )


# Splitting into chat messages.


def token_boundaries(line: str) -> set[int]:
    """Offsets in a line where one newmm token ends and the next begins."""
    offsets, at = {0}, 0
    for token in word_tokenize(line, engine="newmm", keep_whitespace=True):
        at += len(token)
        offsets.add(at)
    return offsets


def check_messages(text: str, messages: list[str], limit: int) -> None:
    """Each message is within the limit and a piece of the text; between two pieces lies only
    whitespace; a cut inside a line falls on newmm token boundaries."""
    assert all(0 < len(message) <= limit for message in messages)
    cursor = 0
    for message in messages:
        start = text.index(message, cursor)
        gap = text[cursor:start]
        assert not gap.strip(), f"lost text {gap!r}"
        if cursor and "\n" not in gap:
            line_start = text.rfind("\n", 0, cursor) + 1
            line_end = text.find("\n", start)
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            boundaries = token_boundaries(line)
            assert cursor - line_start in boundaries, (
                f"cut inside a word at {text[cursor - 10 : cursor + 10]!r}"
            )
            assert start - line_start in boundaries
        cursor = start + len(message)
    assert not text[cursor:].strip()
    assert re.sub(r"\s+", "", "".join(messages)) == re.sub(r"\s+", "", text)


@pytest.mark.parametrize("limit", [4096, 5000])
def test_the_seed_form_fits_telegram_and_line_messages_cut_between_paragraphs(limit: int) -> None:
    text = render_text(seed_document())
    messages = split_messages(text, limit)
    assert len(messages) == 2
    check_messages(text, messages, limit)
    for message in messages[:-1]:
        end = text.index(message) + len(message)
        assert text[end : end + 2] == "\n\n"


@pytest.mark.parametrize("limit", [45, 50, 120])
def test_tiny_limits_cut_long_lines_at_word_boundaries(limit: int) -> None:
    text = render_text(seed_document())
    messages = split_messages(text, limit)
    check_messages(text, messages, limit)
    assert any(len(line) > limit for line in text.splitlines())  # so some cuts fall inside lines


def test_short_and_empty_texts() -> None:
    assert split_messages("สวัสดี", 4096) == ["สวัสดี"]
    assert split_messages("  \n ", 10) == []
    with pytest.raises(ValueError, match="positive"):
        split_messages("ก", 0)


def test_limits_count_utf16_units_as_telegram_does() -> None:
    messages = split_messages("😀" * 6, 4)
    assert messages == ["😀😀", "😀😀", "😀😀"]


def test_a_word_longer_than_the_limit_is_cut_between_graphemes_only() -> None:
    messages = split_messages("ที่ที่ที่ที่", 5)
    assert "".join(messages) == "ที่ที่ที่ที่"
    assert all(message.startswith("ที่") for message in messages)


# Word wrapping, shared by messages and the PDF.


def test_wrap_keeps_thai_words_whole_and_units_with_their_numbers() -> None:
    line = "".join(line.strip() for line in SEED_PROJECT.rationale.splitlines())
    for width in (20, 33, 60):
        lines = wrap(line, width)
        assert all(len(piece) <= width for piece in lines)
        assert "".join(lines).replace(" ", "") == line.replace(" ", "")
        cursor = 0
        boundaries = token_boundaries(line)
        for piece in lines:
            start = line.index(piece, cursor)
            assert start in boundaries and start + len(piece) in boundaries
            cursor = start + len(piece)
    assert wrap("งบประมาณที่เบิกใช้ = 1,000 บาท", 29) == ["งบประมาณที่เบิกใช้ =", "1,000 บาท"]
    for width in range(15, 22):  # from the width of "การเรียนรู้ ฯลฯ", which cannot break
        assert not [x for x in wrap("การจัดการเรียนรู้ ฯลฯ ต่างๆ", width) if x.startswith(("ฯ", "ๆ"))]


def test_words_never_start_with_ฯ_or_ๆ() -> None:
    grouped = words("ต่างๆ งานฯ และ(ฉบับที่ 3)")
    assert all(not "".join(word).startswith(("ฯ", "ๆ")) for word in grouped)
    assert ["งาน", "ฯ"] in grouped


def test_wrap_honours_a_narrower_first_line() -> None:
    lines = wrap("ประชุมเตรียมความพร้อมในการดำเนินการ", 30, first_limit=10)
    assert len(lines[0]) <= 10
    assert all(len(line) <= 30 for line in lines)


def test_the_budget_used_agrees_with_the_latest_report_or_shows_both() -> None:
    paid = ReportValues(date(2021, 3, 31), Decimal("40"), Decimal("600000"), "", True, "", True, "")
    registered = as_project(dataclasses.replace(SEED_PROJECT, budget_used=Decimal(0)))
    text = render_text(form_document(registered, [report(6, paid)], SEED_OFFICER))
    assert "งบประมาณที่ใช้ไป : 600,000 บาท (รายงานครั้งที่ 6) ทะเบียนโครงการระบุ 0 บาท" in text
    agreeing = as_project(dataclasses.replace(SEED_PROJECT, budget_used=Decimal(600000)))
    text = render_text(form_document(agreeing, [report(6, paid)], SEED_OFFICER))
    assert "งบประมาณที่ใช้ไป : 600,000 บาท (รายงานครั้งที่ 6)\n" in text
    text = render_text(form_document(registered, [], SEED_OFFICER))
    assert "งบประมาณที่ใช้ไป : 0 บาท\n" in text, "without reports, the register's figure"
