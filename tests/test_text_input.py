"""Typed text made safe, commands recognised, and the half-finished report kept as JSON."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.replies import clean_text, command_of, read
from handlers.commands import WORDS
from handlers.draft import Draft, FigureAnswer, Mode, Offer

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


# clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("80", "80"),
        ("  80 %  ", "80 %"),  # trimmed
        ("\n\nประชุม\n", "ประชุม"),
        ("e\u0301", "\u00e9"),  # composed (NFC)
        ("ก\u0e49\u0e38", "ก\u0e38\u0e49"),  # tone mark typed before the vowel: canonical order
        ("80\x00%", "80%"),  # control characters removed
        ("\x1b[31mแดง", "[31mแดง"),
        ("ab\x07\x7f\x85c", "abc"),
        ("บรรทัดแรก\nบรรทัดสอง", "บรรทัดแรก\nบรรทัดสอง"),  # newline kept
        ("50\t000", "50 000"),  # tab becomes a space
        ("บรรทัดแรก\r\nบรรทัดสอง", "บรรทัดแรก \nบรรทัดสอง"),  # CR becomes a space
        ("\r80\t", "80"),
        ("ยก\u200bเลิก", "ยกเลิก"),  # zero-width space removed
        ("\ufeff80", "80"),  # byte order mark
        ("ส่ง\u200c\u200dรายงาน\u2060", "ส่งรายงาน"),
        ("", ""),
        (" \t\r\n ", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_clean_text_leaves_nothing_unsafe(raw: str) -> None:
    clean = clean_text(raw)
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in clean)
    assert not any(ch in INVISIBLE for ch in clean)
    assert clean == clean.strip()


@PROPERTY
@given(st.text(alphabet="กขคอ่้ีุ ab\u0301\n", max_size=30))
def test_clean_text_of_visible_text_is_its_nfc_form(raw: str) -> None:
    assert clean_text(raw) == unicodedata.normalize("NFC", raw).strip()


def test_clean_text_output_is_nfc_after_removing_invisible_characters() -> None:
    assert clean_text("e\u200b\u0301") == "\u00e9"


# command_of


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/report", "report"),
        ("/report@SomeBot", "report"),
        ("/REPORT", "report"),
        ("/Report@SomeBot ต่อ", "report"),
        ("report", "report"),
        ("ส่งรายงาน", "report"),
        ("รายงาน", "report"),
        (" ยกเลิก ", "cancel"),
        ("/cancel", "cancel"),
        ("/ยกเลิก", "cancel"),
        ("/start", "help"),
        ("เมนู", "help"),
        ("สถานะ", "status"),
        ("ประวัติ", "history"),
        ("แก้ไข", "correct"),
        ("ย้อนกลับ", "back"),
        ("ยกเลิกเถอะ", None),
        ("รายงาน ประจำเดือน", None),
        ("/unknown", None),
        ("/", None),
        ("/ ", None),
        ("", None),
        ("   ", None),
        ("80", None),
    ],
)
def test_command_of(text: str, command: str | None) -> None:
    assert command_of(read(text), WORDS, typos=False) == command


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("ส่งรายงานค่ะ", "report"),
        ("ส่ง รายงาน", "report"),
        ("ส่งรายงานครับผม 🙏", "report"),
        ("ยกเลิกค่ะ", "cancel"),
        ("ย้อนกลับครับ", "back"),
        ("สถานะคะ", "status"),
        ("ส่งราบงาน", "report"),  # one letter wrong
        ("ส่งรายาน", "report"),  # one letter missing
        ("ประวัต", "history"),
        ("ส่งรายงานนน", "report"),  # said long
        ("สรุ", None),  # too short to guess
        ("ส่งรายงานเดือนนี้", None),  # more than one letter off: an answer, not a command
    ],
)
def test_commands_are_read_as_people_type_them(text: str, command: str | None) -> None:
    assert command_of(read(text), WORDS, typos=True) == command


def test_typos_are_forgiven_only_where_the_step_takes_no_free_text() -> None:
    assert command_of(read("ส่งราบงาน"), WORDS, typos=False) is None


@pytest.mark.parametrize("text", ["/@SomeBot", "/ @SomeBot"])
def test_command_of_a_bot_mention_without_a_command(text: str) -> None:
    assert command_of(read(text), WORDS, typos=True) is None


# Draft


FULL = Draft(
    mode=Mode.CORRECT,
    project_id=7,
    project_code="50140000-3629",
    offered=(Offer(7, "50140000-3629", "พัฒนาคุณภาพเครือข่ายโรงเรียน"), Offer(9, "X-1", "อื่น")),
    fiscal_year=2564,
    report_no=11,
    progress=FigureAnswer(Decimal("80.00"), Decimal("25.00"), "ตัวเลขเดิมผิด"),
    disbursed=FigureAnswer(Decimal("90000.50"), None, "คืนเงิน"),
    note="เบิกจ่ายได้ 1 เครือข่าย อีก 3เครือข่ายส่งเงินงบประมาณคืน",
    note_checked=True,
    on_plan=False,
    plan_reason='รอ "อนุมัติ"\nจากสำนักงานเขต',
    on_target=None,
    target_reason="",
    reported_on=date(2026, 11, 23),
    away_until=date(2026, 12, 5),
    delegate_id=3,
    correction_reason="แก้ตัวเลขผิด",
    trail=("project", "month", "progress"),
)


def test_default_draft_round_trip() -> None:
    assert Draft.from_json(Draft().to_json()) == Draft()


def test_full_draft_round_trip() -> None:
    back = Draft.from_json(FULL.to_json())
    assert back == FULL
    assert isinstance(back.mode, Mode)
    assert isinstance(back.trail, tuple)
    assert isinstance(back.progress.value, Decimal)
    assert isinstance(back.reported_on, date)


def test_json_keeps_thai_readable_and_decimals_exact() -> None:
    raw = FULL.to_json()
    assert "เบิกจ่ายได้ 1 เครือข่าย" in raw
    data = json.loads(raw)
    assert data["mode"] == "correct"
    assert data["disbursed"]["value"] == "90000.50"
    assert data["progress"]["pending"] == "25.00"
    assert data["trail"] == ["project", "month", "progress"]


def test_empty_json_is_a_fresh_draft() -> None:
    assert Draft.from_json("") == Draft()
    assert Draft.from_json('{"v": 2}') == Draft()


def test_unknown_keys_are_ignored() -> None:
    data = json.loads(FULL.to_json())
    data["added_in_a_later_version"] = {"x": 1}
    data["photos"] = ["a.jpg"]
    assert Draft.from_json(json.dumps(data)) == FULL


def test_missing_keys_take_their_defaults() -> None:
    draft = Draft.from_json(json.dumps({"v": 2, "project_code": "50140000-3629"}))
    assert draft == Draft(project_code="50140000-3629")
    assert draft.mode is Mode.REPORT


def test_a_draft_of_the_first_version_is_read() -> None:
    """A conversation in progress during the upgrade goes on: the flat figure fields of the
    first version are read into the typed ones, and the project is found again by its code."""
    first = {
        "mode": "report", "project_code": "50140000-3629", "fiscal_year": 2570, "report_no": 2,
        "progress": "80.00", "disbursed": "", "pending_progress": "", "pending_disbursed": "",
        "progress_drop": "ตัวเลขเดิมผิด", "disbursed_drop": "", "note": None,
        "note_checked": False, "on_plan": None, "plan_reason": "", "on_target": None,
        "target_reason": "", "correction_reason": "", "reported_on": "", "away_until": "",
        "delegate_id": 0, "trail": ["project", "month"],
    }  # fmt: skip
    draft = Draft.from_json(json.dumps(first))
    assert draft == Draft(
        project_code="50140000-3629",
        fiscal_year=2570,
        report_no=2,
        progress=FigureAnswer(Decimal("80.00"), None, "ตัวเลขเดิมผิด"),
        trail=("project", "month"),
    )


@pytest.mark.parametrize(
    "raw", ["[]", '{"v": 2, "progress": {"value": "NaN"}}', '{"v": 2, "reported_on": "x"}']
)
def test_a_broken_draft_is_an_error_not_a_wrong_draft(raw: str) -> None:
    with pytest.raises((ValueError, TypeError, KeyError)):
        Draft.from_json(raw)


def test_replace_changes_a_copy() -> None:
    changed = replace(FULL, progress=FigureAnswer(Decimal(85)), trail=(*FULL.trail, "disbursed"))
    assert changed.progress.value == Decimal(85)
    assert changed.trail[-1] == "disbursed"
    assert FULL.progress.value == Decimal("80.00")
    assert Draft.from_json(changed.to_json()) == changed


DECIMALS = st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2)
FIGURES = st.builds(FigureAnswer, value=DECIMALS, pending=DECIMALS, drop_reason=st.text())


@PROPERTY
@given(
    st.builds(
        Draft,
        mode=st.sampled_from(Mode),
        project_id=st.integers(min_value=0, max_value=2**63 - 1),
        project_code=st.text(),
        offered=st.lists(
            st.builds(Offer, st.integers(min_value=0), st.text(), st.text()), max_size=3
        ).map(tuple),
        fiscal_year=st.integers(min_value=0, max_value=3000),
        report_no=st.integers(min_value=0, max_value=12),
        progress=FIGURES,
        disbursed=FIGURES,
        note=st.none() | st.text(),
        note_checked=st.booleans(),
        on_plan=st.none() | st.booleans(),
        plan_reason=st.text(),
        on_target=st.none() | st.booleans(),
        target_reason=st.text(),
        reported_on=st.none() | st.dates(),
        away_until=st.none() | st.dates(),
        delegate_id=st.integers(min_value=0),
        correction_reason=st.text(),
        trail=st.lists(st.text(), max_size=5).map(tuple),
    )
)
def test_any_draft_round_trips(draft: Draft) -> None:
    assert Draft.from_json(draft.to_json()) == draft


def test_a_long_note_loses_only_its_ending() -> None:
    note = "ปรับปรุงผิวจราจรช่วงที่สองแล้วเสร็จ " * 20 + "ครับผม"
    typed = read(note)
    assert typed.bare == note.removesuffix("ครับผม").strip()
    assert typed.text == note.strip()


def test_a_reply_of_nothing_but_particles_is_read_as_a_few_endings() -> None:
    typed = read("ครับ" * 499)
    assert len(typed.forms) <= 10  # never a form per particle said
    assert command_of(typed, WORDS, typos=True) is None
