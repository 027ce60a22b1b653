"""Reminders on LINE within the monthly quota: multicast, most urgent first, at the edges.

The real reminder service, LINE channel and line-bot-sdk against tests/fake_line.py.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from bot.line_channel import LineApi, LineChannel, LineNotifier
from domain.fiscal import ReportMonth
from domain.messages import Outbound
from domain.models import ChatIdentity, DeliveryStatus, Project, ReminderKey, Role
from domain.payloads import ReportNow
from handlers.conversation import Conversation
from scheduler.calendar import ReminderKind
from scheduler.delivery import Notifier, ReminderService
from scheduler.messages import owner_reminder
from scheduler.planner import Planned, ReminderPlanner, Unreachable
from scheduler.quota import QUOTA_LOW, QUOTA_OUT, Allowance, retry_key, urgency
from storage.sqlite import SqliteStorage
from tests.fake_line import FakeLine
from tests.line_support import OFFICER, SECRET, SINGLE, TOKEN, line_config
from tests.support import ROAD, SCHOOL, World, build_world
from tests.test_reminders import NO_HOLIDAYS, Recorder, at

COORDINATOR_LINE = "U" + "3" * 32


@dataclass
class Rig:
    """A world, the fake platform, and the service wired as `progress-bot run` wires it."""

    world: World
    fake: FakeLine
    notifier: LineNotifier
    telegram: Recorder

    def service(self, now: datetime, planner: ReminderPlanner | None = None) -> ReminderService:
        notifiers: dict[str, Notifier] = {"telegram": self.telegram, "line": self.notifier}
        return ReminderService(
            self.world.repo,
            planner or ReminderPlanner(self.world.repo, NO_HOLIDAYS),
            notifiers,
            lambda: now,
            metered={"line": self.notifier},
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await repo.add_person(world.coordinator.name, roles=frozenset({Role.COORDINATOR}))
    await repo.link_identity(ChatIdentity("line", OFFICER, world.officer.id))
    await repo.link_identity(ChatIdentity("line", SINGLE, world.single.id))
    await repo.link_identity(ChatIdentity("telegram", "1003", world.coordinator.id))
    async with FakeLine(SECRET, TOKEN, clock=lambda: at(25).timestamp()) as fake:
        config = line_config(fake.base_url)
        api = LineApi(config)
        channel = LineChannel(api, Conversation(repo, lambda: at(25)), lambda: at(25))
        try:
            yield Rig(world, fake, LineNotifier(channel, config), Recorder())
        finally:
            await api.close()
            await repo.close()


class FixedPlan(ReminderPlanner):
    """A planner that answers a given plan (the notices still come from storage)."""

    def __init__(self, world: World, items: list[Planned]) -> None:
        super().__init__(world.repo, NO_HOLIDAYS)
        self.items = items

    async def plan(self, at: datetime) -> tuple[list[Planned], list[Unreachable]]:
        return list(self.items), []


def reminder(person: int, user: str, kind: ReminderKind, code: str = ROAD.code) -> Planned:
    month = ReportMonth(2570, 2)
    data = ROAD if code == ROAD.code else SCHOOL
    project = Project(**dataclasses.asdict(data), id=1 if data is ROAD else 2)
    message = owner_reminder(kind.value, project, month, at(30).date())
    key = ReminderKey(person, code, 2570, 2, kind.value)
    return Planned(key, ChatIdentity("line", user, person), message)


# Multicast and retry keys


async def test_the_same_reminder_to_several_officers_is_one_multicast(rig: Rig) -> None:
    first = await rig.service(at(25)).tick()
    assert (first.sent, first.held) == (3, 0)
    # The school reminder is the same text for both officers of the school: one request.
    assert rig.fake.calls("/v2/bot/message/multicast") == 1
    assert rig.fake.calls("/v2/bot/message/push") == 1
    multicast = [s for s in rig.fake.sent if s.kind == "multicast"]
    assert sorted({s.to for s in multicast}) == [OFFICER, SINGLE]
    assert SCHOOL.code in multicast[0].text
    assert all(s.retry_key for s in rig.fake.sent)
    assert rig.fake.used == 3, "a multicast counts once per recipient"
    # Buttons work on LINE too: "report now" is a postback.
    buttons = [b for s in multicast for b in s.buttons()]
    school = await rig.world.repo.get_project(SCHOOL.code)
    assert school is not None
    assert ("ส่งรายงานเลย", ReportNow(school.id, 2570, 2).encode()) in buttons
    again = await rig.service(at(25, 10)).tick()
    assert (again.sent, again.already) == (0, 3)
    assert rig.fake.used == 3


async def test_a_resent_push_with_the_same_retry_key_is_delivered_once(rig: Rig) -> None:
    api = rig.notifier._channel.api
    message = [{"type": "text", "text": "ทดสอบ"}]
    key = retry_key([ReminderKey(1, "X", 2570, 2, "window")])
    await api.push([OFFICER], message, key)
    await api.push([OFFICER], message, key)  # e.g. after a lost answer
    assert [s.message for s in rig.fake.messages_to(OFFICER)] == message
    # A 5xx is tried again at once, with the same key.
    rig.fake.fail_next("/v2/bot/message/push", 500)
    await api.push([SINGLE], message, retry_key([]))
    assert len(rig.fake.messages_to(SINGLE)) == 1
    assert rig.fake.calls("/v2/bot/message/push") == 4


def test_retry_keys_are_stable_uuids_that_ignore_order() -> None:
    a, b = ReminderKey(1, "P", 2570, 2, "window"), ReminderKey(2, "P", 2570, 2, "window")
    assert retry_key([a, b]) == retry_key([b, a]) != retry_key([a])
    assert len(retry_key([a])) == 36


# Within the quota, most useful first


def test_urgency_puts_deadline_and_overdue_before_early_reminders() -> None:
    kinds_in_order = [
        "quota-low:line", "overdue", "deadline", "missing", "snoozed:2026-11-24", "two_days",
        "digest", "window",
    ]  # fmt: skip
    items = [
        Planned(ReminderKey(1, "P", 2570, 2, k), ChatIdentity("line", "U", 1), Outbound("x"))
        for k in reversed(kinds_in_order)
    ]
    assert [i.key.kind for i in sorted(items, key=urgency)] == kinds_in_order


async def test_a_nearly_spent_quota_goes_to_the_most_urgent_and_coordinators_are_told(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    w = rig.world
    items = [
        reminder(w.officer.id, OFFICER, ReminderKind.WINDOW),
        reminder(w.single.id, SINGLE, ReminderKind.OVERDUE, SCHOOL.code),
        reminder(w.officer.id, OFFICER, ReminderKind.DEADLINE, SCHOOL.code),
    ]
    rig.fake.used = 300 - 12  # 12 left, 10 of them kept back: room for 2 reminders
    with caplog.at_level(logging.INFO):
        report = await rig.service(at(30), FixedPlan(w, items)).tick()
    assert (report.sent, report.held) == (3, 1)  # 2 reminders, and the notice on Telegram
    sent = {(s.to, s.text.splitlines()[0]) for s in rig.fake.sent if s.text}
    assert sent == {
        (SINGLE, "รายงานเดือน พ.ย. 2569 เลยกำหนดส่งแล้ว"),
        (OFFICER, "วันนี้เป็นวันสุดท้ายของการส่งรายงานเดือน พ.ย. 2569"),
    }
    assert "no line message quota left" in caplog.text and "1 reminders not sent" in caplog.text
    [(chat, notice)] = rig.telegram.pushed
    assert chat == "1003" and "หมดแล้ว" in notice and "1 รายการ" in notice
    records = {r.key.kind: r for r in await w.repo.reminder_records()}
    assert "window" not in records, "held, not claimed: a later tick may still send it"
    assert records[f"{QUOTA_OUT}:line"].status is DeliveryStatus.SENT
    # The next tick holds it again but tells the coordinator nothing new.
    again = await rig.service(at(30, 10), FixedPlan(w, items)).tick()
    assert (again.held, again.already, len(rig.telegram.pushed)) == (1, 3, 1)
    # Quota bought (or a new month): the held reminder goes out.
    rig.fake.quota = 1000
    later = await rig.service(at(30, 11), FixedPlan(w, items)).tick()
    assert (later.sent, later.held) == (1, 0)


async def test_a_spent_quota_sends_nothing_on_line_and_uses_telegram_where_it_can(
    rig: Rig,
) -> None:
    w = rig.world
    await w.repo.link_identity(ChatIdentity("telegram", "1001", w.officer.id))
    await w.repo.set_preferred_channel(w.officer.id, "line")
    rig.fake.used = 300
    report = await rig.service(at(25)).tick()
    assert rig.fake.calls("/v2/bot/message/push") == 0
    assert rig.fake.calls("/v2/bot/message/multicast") == 0
    assert (report.sent, report.rerouted, report.held) == (3, 2, 1)
    to_officer = [text for chat, text in rig.telegram.pushed if chat == "1001"]
    assert len(to_officer) == 2, "the officer on both channels got them on Telegram"
    notices = [text for chat, text in rig.telegram.pushed if chat == "1003"]
    assert len(notices) == 1 and "หมดแล้ว" in notices[0]


async def test_an_unreadable_quota_holds_line_reminders_and_says_so(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.fake.fail_next("/v2/bot/message/quota", 500)
    with caplog.at_level(logging.ERROR):
        report = await rig.service(at(25)).tick()
    assert (report.sent, report.held) == (0, 3)
    assert "cannot read the line message quota" in caplog.text
    assert rig.fake.sent == [] and rig.telegram.pushed == []
    later = await rig.service(at(25, 10)).tick()
    assert (later.sent, later.held) == (3, 0)


async def test_a_low_quota_is_told_to_coordinators_once(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.fake.used = 300 - 33  # 33 left: after 3 reminders, 30 (the warning level) remain
    with caplog.at_level(logging.WARNING):
        report = await rig.service(at(25)).tick()
    assert report.sent == 4  # 3 reminders on LINE, the notice on Telegram
    assert "line message quota running out: 30 of 300 left" in caplog.text
    [(chat, notice)] = rig.telegram.pushed
    assert chat == "1003" and "ใกล้หมด" in notice and "เหลือ 30 จาก 300" in notice
    records = {r.key.kind for r in await rig.world.repo.reminder_records()}
    assert f"{QUOTA_LOW}:line" in records
    await rig.service(at(25, 10)).tick()
    assert len(rig.telegram.pushed) == 1


async def test_a_coordinator_on_line_gets_the_notice_from_the_reserve(rig: Rig) -> None:
    w = rig.world
    await w.repo.link_identity(ChatIdentity("line", COORDINATOR_LINE, w.coordinator.id))
    await w.repo.set_preferred_channel(w.coordinator.id, "line")
    rig.fake.used = 300 - 11  # room for 1 reminder; the reserve of 10 is for answers...
    items = [
        reminder(w.single.id, SINGLE, ReminderKind.DEADLINE, SCHOOL.code),
        reminder(w.officer.id, OFFICER, ReminderKind.WINDOW),
    ]
    report = await rig.service(at(30), FixedPlan(w, items)).tick()
    assert (report.sent, report.held) == (2, 1)  # ...and for telling coordinators
    [notice] = rig.fake.messages_to(COORDINATOR_LINE)
    assert "หมดแล้ว" in notice.text
    assert rig.telegram.pushed == []


async def test_a_monthly_limit_answer_on_push_keeps_the_reminder_for_later(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    # The quota said there was room, but other pushes spent it meanwhile.
    rig.fake.fail_next("/v2/bot/message/push", 429)
    with caplog.at_level(logging.ERROR):
        report = await rig.service(at(25)).tick()
    assert (report.sent, report.retry) == (2, 1)
    assert "monthly message quota is spent" in caplog.text
    records = await rig.world.repo.reminder_records(DeliveryStatus.RETRY)
    assert [r.key.subject for r in records] == [ROAD.code]
    again = await rig.service(at(25, 10)).tick()
    assert (again.sent, again.already) == (1, 2)


# One person, two channels


async def test_a_person_on_both_channels_gets_each_reminder_once_where_they_prefer(
    rig: Rig,
) -> None:
    w = rig.world
    await w.repo.link_identity(ChatIdentity("telegram", "1001", w.officer.id))
    planner = ReminderPlanner(w.repo, NO_HOLIDAYS, channels=("telegram", "line"))
    items, _ = await planner.plan(at(25))
    officer = {(i.identity.channel, i.key.subject) for i in items if i.key.person_id == 1}
    assert officer == {("telegram", ROAD.code), ("telegram", SCHOOL.code)}, "no preference yet"
    await w.repo.set_preferred_channel(w.officer.id, "line")
    items, _ = await planner.plan(at(25))
    officer_items = [i for i in items if i.key.person_id == w.officer.id]
    assert {i.identity.channel for i in officer_items} == {"line"}
    assert all(i.fallbacks == (ChatIdentity("telegram", "1001", 1),) for i in officer_items)
    # A LINE account that blocked the bot is not written to; Telegram is.
    await w.repo.set_blocked("line", OFFICER, True, at(25))
    items, _ = await planner.plan(at(25))
    assert {i.identity.channel for i in items if i.key.person_id == w.officer.id} == {"telegram"}
    await w.repo.set_blocked("line", OFFICER, False, at(25))
    report = await rig.service(at(25)).tick()
    assert report.sent == 3
    assert rig.telegram.pushed == [], "each reminder once, on LINE"
    assert rig.fake.calls("/v2/bot/message/multicast") == 1
    assert rig.fake.calls("/v2/bot/message/push") == 1
    assert rig.fake.used == 3


async def test_allowance_reads_quota_and_consumption(rig: Rig) -> None:
    rig.fake.used = 42
    assert await rig.notifier.allowance() == Allowance(300, 42)
    rig.fake.quota = None
    assert (await rig.notifier.allowance()).left is None
