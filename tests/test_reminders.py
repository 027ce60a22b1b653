"""Reminders: who is reminded of what at fixed instants, sent exactly once, even across a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from bot.preview import preview
from domain.messages import Outbound
from domain.models import ChatIdentity, Delegation, DeliveryStatus, Nudge, ReminderKey
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.delivery import DeliveryFailed, ReminderService
from scheduler.planner import ReminderPlanner
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, ROAD, SCHOOL, World, build_world, stored_report

NO_HOLIDAYS = ReportingCalendar(CalendarSettings(), holidays=lambda day: False)


def at(day: int, hour: int = 9, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=BANGKOK)


@dataclass
class Recorder:
    """A channel that records what it is asked to push, optionally failing."""

    pushed: list[tuple[str, str]] = field(default_factory=list)
    fail_with: Exception | BaseException | None = None
    fail_after: int = 10**9

    async def push(self, identity: ChatIdentity, message: Outbound) -> None:
        if len(self.pushed) >= self.fail_after and self.fail_with is not None:
            raise self.fail_with
        self.pushed.append((identity.external_id, message.text))


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", "1001", world.officer.id))
    await repo.link_identity(ChatIdentity("telegram", "1002", world.single.id))
    await repo.link_identity(ChatIdentity("telegram", "1003", world.coordinator.id))
    try:
        yield world
    finally:
        await repo.close()


def service(world: World, notifier: Recorder, now: datetime) -> ReminderService:
    planner = ReminderPlanner(world.repo, NO_HOLIDAYS)
    return ReminderService(world.repo, planner, {"telegram": notifier}, lambda: now)


async def planned(world: World, now: datetime) -> list[tuple[str, str, str]]:
    items, _ = await ReminderPlanner(world.repo, NO_HOLIDAYS).plan(now)
    return sorted((i.identity.external_id, k.subject, k.kind) for i in items for k in i.keys)


async def test_the_window_opening_reminds_every_owner_once(world: World) -> None:
    # 30 Nov 2026 is a Monday: the window opens on Wed 25 Nov.
    assert await planned(world, at(24)) == [], "October's overdue went stale by now"
    due = await planned(world, at(25))
    assert due == [
        ("1001", ROAD.code, "window"),
        ("1001", SCHOOL.code, "window"),
        ("1002", SCHOOL.code, "window"),
    ]
    recorder = Recorder()
    first = await service(world, recorder, at(25)).tick()
    again = await service(world, recorder, at(25, 10)).tick()
    assert (first.sent, again.sent, again.already) == (3, 0, 3)
    texts = dict(recorder.pushed)
    assert len(recorder.pushed) == 2, "one message a person: 1001's two projects in one"
    assert "ถึงเวลารายงานความก้าวหน้าประจำเดือน พ.ย. 2569 แล้ว" in texts["1001"]
    assert "กำหนดส่ง: ภายใน 30 พ.ย. 2569" in texts["1001"]
    assert ROAD.code in texts["1001"] and SCHOOL.code in texts["1001"]
    assert ROAD.code not in texts["1002"]


async def test_a_sent_report_stops_its_reminders(world: World) -> None:
    await stored_report(world.repo, SCHOOL.code, 2, "10", "0")
    assert await planned(world, at(26)) == [("1001", ROAD.code, "two_days")]


async def test_nothing_goes_out_in_quiet_hours(world: World) -> None:
    assert await planned(world, at(25, 21)) == []
    assert await planned(world, at(26, 7)) == []


async def test_after_the_deadline_coordinators_hear_what_is_missing(world: World) -> None:
    await stored_report(world.repo, SCHOOL.code, 2, "10", "0")
    # November's deadline is Mon 30 Nov; overdue on Tue 1 Dec.
    due = await planned(world, at(1, month=12))
    assert ("1001", ROAD.code, "overdue") in due
    assert ("1003", "*", "missing") in due and ("1003", "*", "digest") in due
    await world.repo.set_notification(world.coordinator.id, "digest", False)
    due = await planned(world, at(1, month=12))
    assert ("1003", "*", "digest") not in due and ("1003", "*", "missing") in due
    recorder = Recorder()
    await service(world, recorder, at(1, month=12)).tick()
    missing = next(text for chat, text in recorder.pushed if chat == "1003")
    assert "ยังไม่ส่ง 1 จาก 2 โครงการ" in missing
    assert ROAD.code in missing and world.officer.name in missing


async def test_a_stand_in_gets_the_reminders_of_an_absent_officer(world: World) -> None:
    stand_in = await world.repo.add_delegation(
        Delegation(world.officer.id, world.single.id, date(2026, 11, 20), date(2026, 12, 5))
    )
    told = ("1002", "*", f"stand_in:{stand_in.id}")
    due = await planned(world, at(25))
    assert due == [
        told,
        ("1002", ROAD.code, "window"),
        ("1002", SCHOOL.code, "window"),
    ], "the stand-in gets ROAD, and SCHOOL once (it is theirs too)"


async def test_a_stand_in_is_told_once_outside_quiet_hours(world: World) -> None:
    stand_in = await world.repo.add_delegation(
        Delegation(world.officer.id, world.single.id, date(2026, 11, 20), date(2026, 12, 5))
    )
    told = ("1002", "*", f"stand_in:{stand_in.id}")
    assert await planned(world, at(20, 21)) == [], "appointed in the evening: quiet hours"
    assert await planned(world, at(21, 8)) == [told], "the next morning, with nothing else due"
    recorder = Recorder()
    first = await service(world, recorder, at(21, 8)).tick()
    again = await service(world, recorder, at(21, 9)).tick()
    assert (first.sent, again.sent, again.already) == (1, 0, 1)
    [(chat, text)] = recorder.pushed
    assert chat == "1002" and world.officer.name in text
    assert "20 พ.ย. 2569 ถึง 5 ธ.ค. 2569" in text
    assert ROAD.code in text and SCHOOL.code in text
    assert told not in await planned(world, at(6, month=12)), "over: not planned again"


async def test_a_snooze_holds_reminders_and_reminds_once_the_next_morning(world: World) -> None:
    await world.repo.snooze(world.single.id, SCHOOL.code, date(2026, 11, 25), at(26))
    assert ("1002", SCHOOL.code, "two_days") not in await planned(world, at(25, 10))
    due = await planned(world, at(26))
    assert ("1002", SCHOOL.code, "snoozed:2026-11-25") in due
    assert ("1002", SCHOOL.code, "two_days") in due


async def test_a_transient_failure_is_retried_and_a_permanent_one_is_not(world: World) -> None:
    flaky = Recorder(fail_with=DeliveryFailed("network down", permanent=False), fail_after=0)
    report = await service(world, flaky, at(25)).tick()
    assert report.retry == 3
    working = Recorder()
    report = await service(world, working, at(25, 10)).tick()
    assert report.sent == 3, "each retried once the channel works"
    assert all(r.attempts == 2 for r in await world.repo.reminder_records(DeliveryStatus.SENT))
    blocked = Recorder(fail_with=DeliveryFailed("blocked", permanent=True), fail_after=0)
    await service(world, blocked, at(26)).tick()
    failed = await world.repo.reminder_records(DeliveryStatus.FAILED)
    assert len(failed) == 3
    await service(world, working, at(26, 10)).tick()
    assert len(working.pushed) == 2, "a permanent failure is not retried"


class Crash(BaseException):
    """The process dies in the middle of a fan-out."""


async def test_a_crash_in_the_middle_of_a_fan_out_sends_nothing_twice(world: World) -> None:
    dying = Recorder(fail_with=Crash(), fail_after=1)
    with pytest.raises(Crash):
        await service(world, dying, at(25)).tick()
    assert len(dying.pushed) == 1
    restarted = Recorder()
    fresh = service(world, restarted, at(25, 10))
    in_doubt = await fresh.recover()
    await fresh.tick()
    everything = dying.pushed + restarted.pushed
    assert len(everything) == len(set(everything)), "no message twice"
    assert len(everything) + in_doubt == 3, "every reminder either went out or is in doubt"
    statuses = [r.status for r in await world.repo.reminder_records()]
    assert statuses.count(DeliveryStatus.SENT) == len(everything)


async def test_the_preview_names_every_kind_of_message(world: World) -> None:
    await world.repo.add_delegation(
        Delegation(world.officer.id, world.single.id, date(2026, 11, 20), date(2026, 12, 5))
    )
    await world.repo.snooze(world.single.id, SCHOOL.code, date(2026, 11, 25), at(26))
    text = await preview(world.repo, NO_HOLIDAYS, at(26))
    assert "แจ้งผู้รายงานแทน" in text and "เตือนซ้ำตามที่ขอ" in text
    assert "อีก 2 วันทำการ" in text and "stand_in" not in text


async def test_a_message_of_several_projects_is_still_once_per_project_across_a_crash(
    world: World,
) -> None:
    # ROAD's reminder went out alone earlier: the officer's message now carries SCHOOL only.
    road = ReminderKey(world.officer.id, ROAD.code, 2570, 2, "window")
    assert await world.repo.claim_reminder(road, "telegram", "1001", at(25))
    await world.repo.finish_reminder(road, DeliveryStatus.SENT, at(25))
    recorder = Recorder()
    await service(world, recorder, at(25)).tick()
    to_officer = [text for chat, text in recorder.pushed if chat == "1001"]
    assert len(to_officer) == 1 and SCHOOL.code in to_officer[0]
    assert ROAD.code not in to_officer[0], "a project already reminded is left out"
    # At the next moment the process dies while sending the officer's two-project message.
    crashing = Recorder(fail_with=Crash(), fail_after=0)
    with pytest.raises(Crash):
        await service(world, crashing, at(26)).tick()
    after = Recorder()
    restarted = service(world, after, at(26, 10))
    assert await restarted.recover() == 3, "the claims of both messages are in doubt"
    report = await restarted.tick()
    assert after.pushed == [] and report.already == 3, "in doubt is never sent again"
    doubtful = {
        r.key.subject
        for r in await world.repo.reminder_records(DeliveryStatus.UNKNOWN)
        if r.key.person_id == world.officer.id
    }
    assert doubtful == {ROAD.code, SCHOOL.code}


def nudge(world: World, code: str, asked: datetime, send_after: datetime | None = None) -> Nudge:
    """The coordinator's nudge of the second officer about `code`'s November report."""
    moment = send_after or asked
    return Nudge(world.coordinator.id, world.single.id, code, 2570, 2, moment.date(), asked, moment)


async def test_a_nudge_goes_out_once_at_once_and_says_who_asked(world: World) -> None:
    assert await world.repo.add_nudge(nudge(world, SCHOOL.code, at(23, 10)))
    assert await planned(world, at(23, 10)) == [("1002", SCHOOL.code, "nudge:2026-11-23")]
    recorder = Recorder()
    assert (await service(world, recorder, at(23, 10)).tick()).sent == 1
    [(chat, text)] = recorder.pushed
    assert chat == "1002" and "ผู้ประสานงานขอให้ส่งรายงานเดือน พ.ย. 2569" in text
    assert f"(ขอโดย {world.coordinator.name})" in text and SCHOOL.code in text
    assert (await service(world, recorder, at(23, 11)).tick()).sent == 0
    assert await planned(world, at(24, 11)) == [], "a day later it is no longer planned"


async def test_a_nudge_asked_in_quiet_hours_goes_in_the_morning(world: World) -> None:
    await world.repo.add_nudge(nudge(world, SCHOOL.code, at(23, 21), send_after=at(24, 8)))
    assert await planned(world, at(23, 21)) == []
    assert await planned(world, at(24, 7)) == []
    assert await planned(world, at(24, 8)) == [("1002", SCHOOL.code, "nudge:2026-11-24")]


async def test_a_nudge_whose_report_came_meanwhile_is_not_sent(world: World) -> None:
    await world.repo.add_nudge(nudge(world, SCHOOL.code, at(23, 21), send_after=at(24, 8)))
    await stored_report(world.repo, SCHOOL.code, 2, "10", "0")
    assert await planned(world, at(24, 8)) == []


async def test_a_nudge_of_an_absent_officer_goes_to_the_stand_in(world: World) -> None:
    await world.repo.add_delegation(
        Delegation(world.single.id, world.officer.id, date(2026, 11, 20), date(2026, 12, 5))
    )
    await world.repo.add_nudge(nudge(world, SCHOOL.code, at(23, 10)))
    due = await planned(world, at(23, 10))
    assert ("1001", SCHOOL.code, "nudge:2026-11-23") in due
    assert not [d for d in due if d[0] == "1002"]


async def test_claims_another_process_is_sending_are_not_put_in_doubt(world: World) -> None:
    """A process starting (or ticking) beside a live one leaves that one's fresh claims alone;
    a claim left ten minutes or more ago by a process that died is in doubt (never resent)."""
    fresh = ReminderKey(world.officer.id, ROAD.code, 2570, 2, "window")
    stale = ReminderKey(world.single.id, SCHOOL.code, 2570, 2, "window")
    await world.repo.claim_reminder(stale, "telegram", "1002", at(25, 9))
    await world.repo.claim_reminder(fresh, "telegram", "1001", at(25, 10) - timedelta(minutes=1))
    assert await service(world, Recorder(), at(25, 10)).recover() == 1
    statuses = {r.key: r.status for r in await world.repo.reminder_records()}
    assert statuses == {stale: DeliveryStatus.UNKNOWN, fresh: DeliveryStatus.SENDING}
