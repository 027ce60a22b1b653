"""Typed text made safe, commands recognised, and the half-finished report kept as JSON."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.conversation import clean_text, command_of
from handlers.draft import Draft, Mode

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
    assert command_of(text) == command


@pytest.mark.parametrize("text", ["/@SomeBot", "/ @SomeBot"])
def test_command_of_a_bot_mention_without_a_command(text: str) -> None:
    assert command_of(text) is None


# Draft


FULL = Draft(
    mode=Mode.CORRECT,
    project_code="50140000-3629",
    fiscal_year=2564,
    report_no=11,
    progress="80.00",
    disbursed="90000.50",
    note="เบิกจ่ายได้ 1 เครือข่าย อีก 3เครือข่ายส่งเงินงบประมาณคืน",
    note_checked=True,
    on_plan=False,
    plan_reason='รอ "อนุมัติ"\nจากสำนักงานเขต',
    on_target=None,
    target_reason="",
    pending_progress="25.00",
    progress_drop="ตัวเลขเดิมผิด",
    disbursed_drop="คืนเงิน",
    reported_on="2026-11-23",
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


def test_json_keeps_thai_readable_and_decimals_exact() -> None:
    raw = FULL.to_json()
    assert "เบิกจ่ายได้ 1 เครือข่าย" in raw
    data = json.loads(raw)
    assert data["mode"] == "correct"
    assert data["disbursed"] == "90000.50"
    assert data["trail"] == ["project", "month", "progress"]


def test_empty_json_is_a_fresh_draft() -> None:
    assert Draft.from_json("") == Draft()
    assert Draft.from_json("{}") == Draft()


def test_unknown_keys_are_ignored() -> None:
    data = json.loads(FULL.to_json())
    data["added_in_a_later_version"] = {"x": 1}
    data["photos"] = ["a.jpg"]
    assert Draft.from_json(json.dumps(data)) == FULL


def test_missing_keys_take_their_defaults() -> None:
    draft = Draft.from_json(json.dumps({"project_code": "50140000-3629", "trail": ["project"]}))
    assert draft == Draft(project_code="50140000-3629", trail=("project",))
    assert draft.mode is Mode.REPORT


def test_but_changes_a_copy() -> None:
    changed = FULL.but(progress="85", trail=(*FULL.trail, "disbursed"))
    assert changed.progress == "85"
    assert changed.trail[-1] == "disbursed"
    assert FULL.progress == "80.00"
    assert Draft.from_json(changed.to_json()) == changed


@PROPERTY
@given(
    st.builds(
        Draft,
        mode=st.sampled_from(Mode),
        project_code=st.text(),
        fiscal_year=st.integers(min_value=0, max_value=3000),
        report_no=st.integers(min_value=0, max_value=12),
        progress=st.text(),
        disbursed=st.text(),
        note=st.none() | st.text(),
        note_checked=st.booleans(),
        on_plan=st.none() | st.booleans(),
        plan_reason=st.text(),
        on_target=st.none() | st.booleans(),
        target_reason=st.text(),
        pending_progress=st.text(),
        pending_disbursed=st.text(),
        progress_drop=st.text(),
        disbursed_drop=st.text(),
        reported_on=st.text(),
        correction_reason=st.text(),
        trail=st.lists(st.text(), max_size=5).map(tuple),
    )
)
def test_any_draft_round_trips(draft: Draft) -> None:
    assert Draft.from_json(draft.to_json()) == draft
