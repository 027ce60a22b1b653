"""What officers and coordinators do with reminders in chat: report now, snooze, stand-ins."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.line_messages import render_turn
from domain.fiscal import ReportMonth
from domain.models import ChatIdentity, Project, ReminderKey
from domain.payloads import ChooseChannel, SwitchNotification
from domain.thaidate import parse_day
from handlers import texts
from handlers.conversation import Conversation
from scheduler.messages import Owed, owner_reminders, report_payload, snooze_payload
from scheduler.planner import ReminderPlanner
from storage.sqlite import SqliteStorage
from tests.fake_line import FakeLine
from tests.support import NOW, ROAD, SCHOOL, Chat, World, build_world, project_of, stored_report
from tests.test_reminders import NO_HOLIDAYS, at

NOVEMBER = ReportMonth(2570, 2)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        yield await build_world(repo)
    finally:
        await repo.close()


def chat(world: World, user: str = "somchai") -> Chat:
    return Chat(Conversation(world.repo, lambda: NOW), user)


async def test_report_now_opens_that_project_and_month(world: World) -> None:
    c = chat(world)
    await c.send_payload(report_payload(await project_of(world, ROAD), NOVEMBER))
    assert "รายงานครั้งที่ 2 (พ.ย. 2569) โครงการ 50140000-4001" in c.last
    await c.say("40")
    assert "เบิกจ่ายสะสม" in c.last


async def test_report_now_after_it_was_sent_says_so(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 2, "40", "0")
    c = chat(world)
    await c.send_payload(report_payload(await project_of(world, ROAD), NOVEMBER))
    assert "ส่งไปแล้ว" in c.last


async def test_report_now_mid_draft_asks_first(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.send_payload(report_payload(await project_of(world, SCHOOL), NOVEMBER))
    assert c.last == texts.DISCARD_QUESTION
    await c.press(texts.BTN_DISCARD)
    assert "รายงานครั้งที่ 2 (พ.ย. 2569)" in c.last


async def test_someone_elses_project_cannot_be_opened(world: World) -> None:
    c = chat(world, "jai")
    await c.send_payload(report_payload(await project_of(world, ROAD), NOVEMBER))
    assert c.last == texts.NOT_YOUR_PROJECT


async def test_remind_me_tomorrow_once_a_day(world: World) -> None:
    c = chat(world, "jai")
    await c.send_payload(snooze_payload(await project_of(world, SCHOOL)))
    assert c.last == texts.SNOOZED.format(code=SCHOOL.code, time="09:00", month="พ.ย. 2569")
    (snooze,) = await world.repo.snoozes()
    until = snooze.until.astimezone(NOW.tzinfo)
    assert until.date() == date(2026, 11, 24) and until.hour == 9
    await c.send_payload(snooze_payload(await project_of(world, SCHOOL)))
    assert c.last == texts.SNOOZE_ONCE_A_DAY


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("30/11/2569", date(2026, 11, 30)),
        ("30/11", date(2026, 11, 30)),
        ("๓๐ พ.ย.", date(2026, 11, 30)),
        ("5 ธันวาคม 2569", date(2026, 12, 5)),
        ("1 ม.ค.", date(2027, 1, 1)),
        ("20/11", date(2026, 11, 20)),  # a few days ago (refused as past), not next year
        ("31/11/2569", None),
        ("พรุ่งนี้", None),
    ],
)
def test_parse_day(typed: str, day: date | None) -> None:
    assert parse_day(typed, NOW.date()) == day


async def test_away_names_a_stand_in_who_may_then_report(world: World) -> None:
    c = chat(world)
    await c.say("ไม่อยู่")
    assert c.last == texts.ASK_AWAY_UNTIL
    await c.say("1 ม.ค. 2568")
    assert "ผ่านไปแล้ว" in c.last
    await c.say("5 ธ.ค.")
    assert world.single.name in c.last_choices()
    await c.press(world.single.name)
    assert "ยืนยัน: ไม่อยู่ตั้งแต่วันนี้ถึง 5 ธ.ค. 2569" in c.last
    await c.press(texts.BTN_CONFIRM)
    assert world.single.name in c.last and "5 ธ.ค. 2569" in c.last
    (stand_in,) = await world.repo.delegations_on(NOW.date())
    assert (stand_in.person_id, stand_in.delegate_id) == (world.officer.id, world.single.id)

    colleague = chat(world, "jai")
    await colleague.send_payload(report_payload(await project_of(world, ROAD), NOVEMBER))
    assert "โครงการ 50140000-4001" in colleague.last, "the stand-in may report for ROAD"

    await c.say("กลับมาแล้ว")
    assert c.last == texts.BACK_AT_WORK
    assert await world.repo.delegations_on(NOW.date()) == []


async def test_coordinators_switch_their_messages(world: World) -> None:
    c = chat(world, "ratana")
    await c.say("การแจ้งเตือน")
    assert "สรุปภาพรวมประจำเดือน: เปิด" in c.last
    await c.press("ปิดสรุปภาพรวมประจำเดือน")
    assert "สรุปภาพรวมประจำเดือน: ปิด" in c.last
    assert await world.repo.disabled_notifications() == {world.coordinator.id: {"digest"}}
    officer = chat(world, "jai")
    await officer.say("/notify")
    assert officer.last == texts.NOTIFY_OFFICER
    await officer.send_payload(SwitchNotification("digest", False).encode())
    assert officer.last == texts.STALE_BUTTON


async def test_one_reminder_lists_every_project_owed_with_a_button_each(world: World) -> None:
    await world.repo.link_identity(ChatIdentity("telegram", "5001", world.officer.id))
    await world.repo.link_identity(ChatIdentity("telegram", "5002", world.single.id))
    items, _ = await ReminderPlanner(world.repo, NO_HOLIDAYS).plan(at(25))
    [mine] = [i for i in items if i.key.person_id == world.officer.id]
    assert {k.subject for k in mine.keys} == {ROAD.code, SCHOOL.code}
    labels = [choice.label for choice in mine.message.choices]
    assert labels == [
        f"ส่ง {ROAD.code}", f"ส่ง {SCHOOL.code}", "เตือนพรุ่งนี้ทุกโครงการ",
        "ไม่อยู่ ให้คนอื่นรายงานแทน",
    ]  # fmt: skip
    assert "ยังไม่ได้ส่งรายงานครั้งที่ 2 ของ 2 โครงการ" in mine.message.text
    c = Chat(Conversation(world.repo, lambda: at(25)), "somchai")
    await c.send_payload(mine.message.choices[1].payload)
    assert f"โครงการ {SCHOOL.code}" in c.last, "a project's button opens its report"
    await c.say("ยกเลิก")
    await c.send_payload(mine.message.choices[2].payload)
    assert c.last == texts.SNOOZED_ALL.format(count=2, time="09:00")
    assert {s.project_code for s in await world.repo.snoozes()} == {ROAD.code, SCHOOL.code}
    await c.send_payload(mine.message.choices[2].payload)
    assert c.last == texts.SNOOZE_ONCE_A_DAY
    # Snoozed, the officer's projects wait for tomorrow; the other officer's do not.
    items, _ = await ReminderPlanner(world.repo, NO_HOLIDAYS).plan(at(25, 10))
    assert {i.key.person_id for i in items} == {world.single.id}


def test_a_reminder_of_many_projects_stays_readable_and_fits_both_apps() -> None:
    month = ReportMonth(2570, 2)
    owed = [
        Owed(ReminderKey(1, f"โครงการ-{n:03d}", 2570, 2, "window"), project)
        for n in range(45)
        for project in [
            Project(**{**dataclasses.asdict(ROAD), "code": f"โครงการ-{n:03d}"}, id=n + 1)
        ]
    ]
    message = owner_reminders("window", month, date(2026, 11, 30), owed)
    assert "ของ 45 โครงการ" in message.text and "และอีก 5 โครงการ" in message.text
    assert len(message.choices) == 40 + 2
    assert FakeLine._invalid(render_turn([message], None)) is None, "within LINE's limits"
    assert all(len(c.payload.encode()) <= 64 for c in message.choices), "Telegram's 64 bytes"


async def test_a_person_chooses_where_reminders_go(world: World) -> None:
    await world.repo.link_identity(ChatIdentity("line", "U" + "1" * 32, world.officer.id))
    await world.repo.link_identity(ChatIdentity("telegram", "5001", world.officer.id))
    c = Chat(Conversation(world.repo, lambda: NOW), "U" + "1" * 32, channel="line")
    await c.say("ช่องทางแจ้งเตือนครับ")
    assert c.last.startswith(f"ตอนนี้{texts.CHANNEL_SET['auto']}")
    labels = [choice.label for choice in c.replies[-1].choices]
    assert labels == ["LINE", "Telegram", "ทั้งสองช่องทาง", "✓ ช่องทางที่ใช้ล่าสุด"]
    await c.press("ทั้งสองช่องทาง")
    assert c.last == f"ตั้งค่าแล้ว {texts.CHANNEL_SET['both']}"
    assert await world.repo.reminder_channels() == {world.officer.id: "both"}
    await c.say("/channel")
    assert "✓ ทั้งสองช่องทาง" in [choice.label for choice in c.replies[-1].choices]
    await c.press("ช่องทางที่ใช้ล่าสุด")
    assert await world.repo.reminder_channels() == {}
    # Someone linked on one app only has nothing to choose; a forged choice is refused.
    single = chat(world, "jai")
    await single.say("ช่องทางแจ้งเตือน")
    assert single.last == texts.CHANNEL_ONLY_ONE.format(name="console")
    await single.send_payload(ChooseChannel("telegram").encode())
    assert single.last == texts.CHANNEL_NOT_LINKED.format(name="Telegram")
    await single.send_payload(ChooseChannel("sms").encode())
    assert single.last == texts.STALE_BUTTON
    assert await world.repo.reminder_channels() == {}
