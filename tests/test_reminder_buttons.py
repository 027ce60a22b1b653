"""What officers and coordinators do with reminders in chat: report now, snooze, stand-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from domain.fiscal import ReportMonth
from domain.payloads import SwitchNotification
from domain.thaidate import parse_day
from handlers import texts
from handlers.conversation import Conversation
from scheduler.messages import report_payload, snooze_payload
from storage.sqlite import SqliteStorage
from tests.support import NOW, ROAD, SCHOOL, Chat, World, build_world, project_of, stored_report

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
