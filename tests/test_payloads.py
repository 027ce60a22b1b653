"""Button payloads: one codec, every kind fits both platforms' limits, and anything the bot did
not make is `Unknown`, never an exception."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fiscal import ReportMonth
from domain.messages import Outbound
from domain.models import ChatIdentity, Project, ProjectData, Role
from domain.payloads import (
    LARGEST_ID,
    LINE_LIMIT,
    TELEGRAM_LIMIT,
    ChooseChannel,
    Payload,
    PickPeriod,
    ReportNow,
    RunCommand,
    ShowMore,
    Snooze,
    StepAnswer,
    SwitchNotification,
    Unknown,
    decode,
)
from handlers.commands import COMMANDS
from handlers.conversation import Conversation
from handlers.flow import Step
from handlers.shortcuts import CHANNEL_CHOICES, NOTIFICATIONS
from scheduler.messages import owner_reminder, stand_in_notice
from storage.contracts import Storage
from storage.sqlite import SqliteStorage
from tests.support import NOW, Chat

PROPERTY = settings(derandomize=True, max_examples=500, deadline=None)

# The longest values each field really takes.
STEP_VALUES = ("yes", "no", "keep", "drop", "skip", "ok", "disbursed", "progress", "note")
LONGEST_STEP = max((s.value for s in Step), key=len)
LARGEST_MONTH = "2800-12"


def largest_of_every_kind() -> list[Payload]:
    """Each kind of payload with the largest values it can carry."""
    longest_command = max(COMMANDS, key=len)
    longest_switch = max(NOTIFICATIONS, key=len)
    return [
        StepAnswer(LONGEST_STEP, str(LARGEST_ID)),
        StepAnswer(LONGEST_STEP, LARGEST_MONTH),
        *(StepAnswer(LONGEST_STEP, value) for value in STEP_VALUES),
        RunCommand(longest_command, discard=True),
        ReportNow(LARGEST_ID, 2800, 12, discard=True),
        Snooze(LARGEST_ID),
        SwitchNotification(longest_switch, enabled=True),
        ChooseChannel(max(CHANNEL_CHOICES, key=len)),
        PickPeriod("summary", 2800, 12),
        ShowMore("history", LARGEST_ID, 2800),
    ]


@pytest.mark.parametrize("payload", largest_of_every_kind(), ids=repr)
def test_every_kind_fits_telegram_and_line(payload: Payload) -> None:
    encoded = payload.encode()
    assert len(encoded.encode()) <= TELEGRAM_LIMIT <= LINE_LIMIT
    assert decode(encoded) == payload


def test_every_kind_is_covered() -> None:
    assert {type(p) for p in largest_of_every_kind()} == set(Payload.kinds.values())


@pytest.mark.parametrize(
    "payload",
    [
        StepAnswer("project", "50140000-สำนักงานเขตลาดกระบัง"),  # free text: never carried
        StepAnswer("project", "x" * 25),
        StepAnswer("Project", "1"),
        RunCommand("report now"),
        ReportNow(-1, 2570, 2),
        ReportNow(LARGEST_ID + 1, 2570, 2),
    ],
    ids=repr,
)
def test_what_cannot_be_carried_is_refused_when_made(payload: Payload) -> None:
    with pytest.raises(ValueError, match="payload"):
        payload.encode()


@pytest.mark.parametrize(
    "raw",
    [
        "", ":", "a", "a:", "a:on_plan", "a:on_plan:yes:extra", "a:on_plan:ใช่", "x:1",
        "c:report", "c:report:2", "c:report:yes", "r:1:2570:2", "r:1:2570:2:0:0", "r:01:2570:2:0",
        "r:-1:2570:2:0", "r:99999999999999999999:2570:2:0", "s:", "s:1.5", "n:digest:",
        "cmd:report", "rem:go:50140000-4001:2570-2", "project:50140000-4001", "confirm:yes",
        "a:" + "x" * 400, "\x00", "a:on_plan:yes\n",
    ],
)  # fmt: skip
def test_payloads_the_bot_did_not_make_are_unknown(raw: str) -> None:
    assert isinstance(decode(raw), Unknown)


@PROPERTY
@given(st.text(max_size=400))
def test_decoding_never_raises(raw: str) -> None:
    decoded = decode(raw)
    if not isinstance(decoded, Unknown):
        assert decoded.encode() == raw, "what decodes is exactly what the bot would send"


@PROPERTY
@given(
    st.one_of(
        st.builds(
            ReportNow,
            st.integers(0, LARGEST_ID),
            st.integers(0, 9999),
            st.integers(0, 99),
            st.booleans(),
        ),
        st.builds(Snooze, st.integers(0, LARGEST_ID)),
        st.builds(
            StepAnswer,
            st.sampled_from([s.value for s in Step]),
            st.from_regex(r"[a-z0-9_-]{1,24}", fullmatch=True),
        ),
    )
)
def test_every_payload_made_decodes_to_itself(payload: Payload) -> None:
    assert decode(payload.encode()) == payload


# The buttons the bot really sends, for a project whose code is long and Thai.

LONG_CODE = (
    "สำนักงานเขตลาดกระบัง-ฝ่ายโยธา-โครงการปรับปรุงถนนและทางเท้าพร้อมระบบระบายน้ำ"
    "-ระยะที่สองและระยะที่สามของแผนพัฒนาเขต-2570-0001"
)
LONG = ProjectData(
    code=LONG_CODE,
    name="ปรับปรุงถนนและทางเท้าซอยลาดกระบัง 54 พร้อมระบบระบายน้ำ " * 3,
    fiscal_year=2570,
    start_date=date(2026, 10, 1),
    end_date=date(2027, 9, 30),
    budget_received=Decimal(1_000_000),
    agency="สำนักงานเขตลาดกระบัง / ฝ่ายโยธา",
)


@pytest.fixture
async def repo() -> AsyncIterator[Storage]:
    storage = await SqliteStorage.open(":memory:")
    try:
        yield storage
    finally:
        await storage.close()


def check_buttons(replies: list[Outbound]) -> int:
    """Every button fits, decodes, and carries no project code; returns how many there were."""
    count = 0
    for reply in replies:
        for choice in reply.choices:
            assert len(choice.payload.encode()) <= TELEGRAM_LIMIT, choice.payload
            assert not isinstance(decode(choice.payload), Unknown), choice.payload
            assert LONG_CODE not in choice.payload
            count += 1
    return count


async def test_a_long_thai_code_never_reaches_a_button(repo: Storage) -> None:
    assert len(LONG_CODE.encode()) > LINE_LIMIT
    second = dataclasses.replace(LONG, code=LONG_CODE + "-2")
    for data in (LONG, second):
        await repo.upsert_project(data)
    officer = await repo.add_person("นายทดสอบ รหัสยาว", roles=frozenset({Role.OFFICER}))
    colleague = await repo.add_person("นางเพื่อน ร่วมงาน", roles=frozenset({Role.OFFICER}))
    for person, data in ((officer, LONG), (officer, second), (colleague, second)):
        await repo.link_officer(person.id, data.code)
    await repo.link_identity(ChatIdentity("console", "long", officer.id))
    chat = Chat(Conversation(repo, lambda: NOW), "long")
    script = [
        "ส่งรายงาน", "1", "พ.ย.", "40", "50000", "ประชุม", "ไม่", "ฝนตกหนัก", "ใช่", "ยืนยัน",
        "แก้ไข", "1", "แก้ตัวเลข", "30", "40000", "-", "ใช่", "ใช่", "ยืนยัน",
        "ประวัติ", "1", "ไม่อยู่", "5 ธ.ค.", "1", "ยืนยัน", "การแจ้งเตือน", "ช่วยเหลือ",
    ]  # fmt: skip
    buttons = 0
    for text in script:
        buttons += check_buttons(await chat.say(text))
    assert buttons > 30
    project = await repo.get_project(LONG_CODE)
    assert project is not None
    assert len(await repo.reports_of_project(LONG_CODE)) == 1
    unsent = await repo.get_project(second.code)
    assert unsent is not None
    reminder = owner_reminder("window", unsent, ReportMonth(2570, 2), date(2026, 11, 30))
    notice = stand_in_notice(officer, date(2026, 11, 23), date(2026, 12, 5), [project])
    assert check_buttons([reminder, notice]) == 4
    # Pressing the reminder's "report now" opens that project, known by its id.
    pressed = await chat.send_payload(reminder.choices[0].payload)
    assert f"โครงการ {second.code}" in pressed[-1].text


def test_reminder_buttons_carry_the_project_id() -> None:
    project = Project(**dataclasses.asdict(LONG), id=LARGEST_ID)
    reminder = owner_reminder("overdue", project, ReportMonth(2800, 12), date(2027, 9, 30))
    decoded = [decode(c.payload) for c in reminder.choices]
    assert decoded == [
        ReportNow(LARGEST_ID, 2800, 12),
        Snooze(LARGEST_ID),
        RunCommand("away"),
    ]
    assert all(len(c.payload.encode()) <= TELEGRAM_LIMIT for c in reminder.choices)
