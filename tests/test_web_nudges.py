"""Nudges from the dashboard, over HTTP: a coordinator picks missing projects on the board,
confirms, and their officers are reminded at once through the reminder service (in the
morning if it is quiet hours), once per person and project a day, with a record on the
project's page. Only a coordinator of the project (or an admin) can nudge, and every form
needs its token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from markupsafe import escape

from bot.config import WebConfig
from bot.web_dashboard import FORM_EXPIRED, NOTHING_TO_NUDGE, NUDGES_OFF, UNREACHABLE, Dashboard
from domain.messages import Outbound
from domain.models import ChatIdentity, Delegation, DeliveryStatus, Project
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.delivery import DeliveryFailed, ReminderService, TickReport
from scheduler.planner import ReminderPlanner
from storage.sqlite import SqliteStorage
from tests.support import NOW, ROAD, SCHOOL, World, build_world, stored_report
from tests.test_linking import Clock

Client = TestClient[web.Request, web.Application]
CALENDAR = ReportingCalendar(CalendarSettings(), holidays=lambda day: False)


@dataclass
class Recorder:
    """The chat channel: what the reminder service pushed, to whom."""

    pushed: list[tuple[str, str]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)  # chats that blocked the bot

    async def push(self, identity: ChatIdentity, message: Outbound) -> None:
        if identity.external_id in self.blocked:
            raise DeliveryFailed("Forbidden: bot was blocked by the user", permanent=True)
        self.pushed.append((identity.external_id, message.text))


@dataclass
class Desk:
    dashboard: Dashboard
    client: Client
    world: World
    clock: Clock
    channel: Recorder
    ticks: list[TickReport]
    ticked: asyncio.Event

    async def sign_in(self, person_id: int) -> str:
        person = await self.world.repo.get_person(person_id)
        assert person is not None
        url = await self.dashboard.link_for(person)
        response = await self.client.get(f"/signin/{url.rsplit('/', 1)[-1]}")
        assert response.status == 200
        return await response.text()


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await stored_report(repo, ROAD.code, 2, "30", "100000")  # SCHOOL's November is missing
    await repo.link_identity(ChatIdentity("telegram", "1001", world.officer.id))
    await repo.link_identity(ChatIdentity("telegram", "1002", world.single.id))
    clock = Clock(NOW)
    channel = Recorder()
    planner = ReminderPlanner(repo, CALENDAR)
    service = ReminderService(repo, planner, {"telegram": channel}, clock)
    dashboard = Dashboard(repo, clock, WebConfig(port=0), calendar=CALENDAR)
    ticks: list[TickReport] = []
    ticked = asyncio.Event()

    async def send_now() -> None:
        ticks.append(await service.tick())
        ticked.set()

    dashboard.send_nudges_with(send_now)
    try:
        async with TestClient(TestServer(dashboard.app())) as client:
            yield Desk(dashboard, client, world, clock, channel, ticks, ticked)
    finally:
        await repo.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def pickable(html: str) -> set[str]:
    """Project ids the board offers to nudge."""
    return set(re.findall(r'name="p" value="(\d+)" form="nudge"', html))


async def project(desk: Desk, code: str) -> Project:
    found = await desk.world.repo.get_project(code)
    assert found is not None
    return found


def form(csrf: str, *ids: int, fy: int = 2570, month: int = 2) -> list[tuple[str, str]]:
    return [("csrf", csrf), ("fy", str(fy)), ("month", str(month))] + [("p", str(i)) for i in ids]


async def test_a_coordinator_nudges_with_a_confirmation_once_a_day_and_a_record(
    desk: Desk,
) -> None:
    school = await project(desk, SCHOOL.code)
    board = await desk.sign_in(desk.world.coordinator.id)
    assert pickable(board) == {str(school.id)}, "only the missing project, not the reported"
    csrf = csrf_of(board)

    confirm = await desk.client.post("/nudge", data=form(csrf, school.id))
    page = await confirm.text()
    assert confirm.status == 200 and "ยืนยันส่งเตือน" in page
    assert desk.world.officer.name in page and desk.world.single.name in page
    ticked = re.findall(r'name="o" value="([\d-]+)" checked', page)
    assert len(ticked) == 2, "each officer of the project, ticked"
    assert desk.channel.pushed == [] and desk.ticks == [], "nothing is sent before confirming"

    done = await desk.client.post("/nudge/send", data=confirmed(csrf, school.id, ticked))
    result = await done.text()
    assert done.status == 200 and result.count("ส่งทันที") == 2
    await asyncio.wait_for(desk.ticked.wait(), timeout=10)
    assert sorted(chat for chat, _ in desk.channel.pushed) == ["1001", "1002"]
    for _, text in desk.channel.pushed:
        assert "ผู้ประสานงานขอให้ส่งรายงานเดือน พ.ย. 2569" in text
        assert desk.world.coordinator.name in text and SCHOOL.code in text

    again = await (
        await desk.client.post("/nudge/send", data=confirmed(csrf, school.id, ticked))
    ).text()
    assert again.count("เตือนไปแล้ววันนี้") == 2, "once per person and project a day"

    page = await (await desk.client.get(f"/project/{SCHOOL.code}")).text()
    record = page[page.index('id="nudges"') :]
    assert record.count("ส่งแล้ว") == 2 and desk.world.coordinator.name in record
    assert desk.world.officer.name in record and desk.world.single.name in record
    statuses = {r.status for r in await desk.world.repo.reminder_records(subject=SCHOOL.code)}
    assert statuses == {DeliveryStatus.SENT}


def confirmed(csrf: str, project_id: int, ticked: list[str]) -> list[tuple[str, str]]:
    """The confirmation form as sent with these officers ticked."""
    return [*form(csrf, project_id), ("officers", "ticked"), *(("o", o) for o in ticked)]


async def test_an_officer_left_unticked_on_the_confirmation_is_not_nudged(desk: Desk) -> None:
    school = await project(desk, SCHOOL.code)
    csrf = csrf_of(await desk.sign_in(desk.world.coordinator.id))
    only = [f"{school.id}-{desk.world.single.id}"]
    done = await desk.client.post("/nudge/send", data=confirmed(csrf, school.id, only))
    text = await done.text()
    assert text.count("ส่งทันที") == 1 and desk.world.single.name in text
    assert desk.world.officer.name not in text.split('id="outcomes"')[1]
    nobody = await desk.client.post("/nudge/send", data=confirmed(csrf, school.id, []))
    assert nobody.status == 403, "everyone unticked: nothing to send"
    nudged = [n.person_id for n in await desk.world.repo.nudges_of_project(SCHOOL.code)]
    assert nudged == [desk.world.single.id]


async def test_the_record_tells_each_officers_outcome_apart(desk: Desk) -> None:
    desk.channel.blocked.add("1001")  # the first officer blocked the bot since
    school = await project(desk, SCHOOL.code)
    csrf = csrf_of(await desk.sign_in(desk.world.coordinator.id))
    await desk.client.post("/nudge/send", data=form(csrf, school.id))
    await asyncio.wait_for(desk.ticked.wait(), timeout=10)
    page = await (await desk.client.get(f"/project/{SCHOOL.code}")).text()
    cell = "<td>([^<]*)</td>"
    row = f"<tr>{cell}{cell}{cell}{cell}{cell}</tr>"
    outcomes = {to: status for _, _, to, _, status in re.findall(row, page)}
    assert outcomes == {desk.world.officer.name: "ส่งไม่สำเร็จ", desk.world.single.name: "ส่งแล้ว"}


async def test_a_nudge_in_quiet_hours_waits_for_the_morning(desk: Desk) -> None:
    desk.clock.now = NOW.replace(hour=21)
    school = await project(desk, SCHOOL.code)
    board = await desk.sign_in(desk.world.coordinator.id)
    done = await desk.client.post("/nudge/send", data=form(csrf_of(board), school.id))
    text = await done.text()
    assert "จะส่ง 24 พ.ย. 2569 08:00 น." in text and "ส่งทันที" not in text
    assert desk.ticks == [], "nothing is sent in quiet hours"
    page = await (await desk.client.get(f"/project/{SCHOOL.code}")).text()
    assert "จะส่ง 24 พ.ย. 2569 08:00 น." in page[page.index('id="nudges"') :]


async def test_an_officer_without_a_chat_account_is_named_not_nudged(desk: Desk) -> None:
    repo = desk.world.repo
    newcomer = await repo.add_person("นายมาใหม่ ยังไม่เชื่อม", roles=frozenset())
    await repo.link_officer(newcomer.id, SCHOOL.code)
    school = await project(desk, SCHOOL.code)
    board = await desk.sign_in(desk.world.coordinator.id)
    done = await desk.client.post("/nudge/send", data=form(csrf_of(board), school.id))
    text = await done.text()
    assert str(escape(UNREACHABLE)) in text and text.count("ส่งทันที") == 2
    # Later that day: the second officer blocked the bot, and the newcomer is away with the
    # first officer standing in, who can be written to.
    await repo.set_blocked("telegram", "1002", True, NOW)
    today = NOW.date()
    await repo.add_delegation(Delegation(newcomer.id, desk.world.officer.id, today, today))
    again = await desk.client.post("/nudge/send", data=form(csrf_of(board), school.id))
    outcomes = dict(re.findall(r"<tr><td>([^<]*)</td><td><a [^>]*>[^<]*</a></td><td>([^<]*)</td>",
                               await again.text()))  # fmt: skip
    assert outcomes == {
        desk.world.officer.name: "เตือนไปแล้ววันนี้ จึงไม่ส่งซ้ำ",
        desk.world.single.name: UNREACHABLE,
        newcomer.name: "ส่งทันที",
    }


async def test_nudges_need_the_form_token_a_coordinator_and_a_missing_report(
    desk: Desk,
) -> None:
    school = await project(desk, SCHOOL.code)
    road = await project(desk, ROAD.code)
    board = await desk.sign_in(desk.world.coordinator.id)
    csrf = csrf_of(board)
    for path in ("/nudge", "/nudge/send"):
        forged = await desk.client.post(path, data=form("0" * 64, school.id))
        assert forged.status == 403 and str(escape(FORM_EXPIRED)) in await forged.text()
        missing = await desk.client.post(path, data=[("p", str(school.id))])
        assert missing.status == 403
    reported = await desk.client.post("/nudge", data=form(csrf, road.id))
    assert reported.status == 403 and str(escape(NOTHING_TO_NUDGE)) in await reported.text()
    future = await desk.client.post("/nudge", data=form(csrf, school.id, month=5))
    assert future.status == 403, "a month that has not begun"
    many = await desk.client.post("/nudge", data=form(csrf, *range(1, 300)))
    assert many.status == 403
    nonsense = await desk.client.post("/nudge", data=[*form(csrf, school.id), ("p", "x")])
    assert nonsense.status == 200, "a stray value is ignored, the rest goes on"

    officer = await desk.sign_in(desk.world.single.id)
    assert pickable(officer) == set(), "an officer nudges nobody, not even colleagues"
    own = await desk.client.post("/nudge/send", data=form(csrf_of(officer), school.id))
    assert own.status == 403
    assert desk.ticks == [] and await desk.world.repo.nudges_of_project(SCHOOL.code) == []


async def test_without_reminders_running_nudges_are_off(desk: Desk) -> None:
    off = Dashboard(desk.world.repo, desk.clock, WebConfig(port=0), calendar=CALENDAR)
    async with TestClient(TestServer(off.app())) as client:
        person = await desk.world.repo.get_person(desk.world.coordinator.id)
        assert person is not None
        url = await off.link_for(person)
        board = await (await client.get(f"/signin/{url.rsplit('/', 1)[-1]}")).text()
        assert pickable(board) == set()
        school = await project(desk, SCHOOL.code)
        refused = await client.post("/nudge", data=form(csrf_of(board), school.id))
        assert refused.status == 409 and str(escape(NUDGES_OFF)) in await refused.text()


async def test_the_board_offers_no_nudge_for_a_month_long_past(desk: Desk) -> None:
    await desk.sign_in(desk.world.coordinator.id)
    desk.clock.now = NOW + timedelta(days=800)
    board = await desk.sign_in(desk.world.coordinator.id)
    old = await (await desk.client.get("/board", params={"fy": "2570", "month": "2"})).text()
    assert pickable(old) == set() and "ออกจากระบบ" in board
