"""A turn reads what it needs once: every typed answer, at every step, costs at most three
storage calls (the opening read, one read of what the step needs, and the write that ends the
turn), whatever the answer and however many projects the person has. On SQLite each of those
calls of a report's steps is one trip to the database thread, the report's write included."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiosqlite
import pytest

from domain.messages import Inbound
from handlers import texts
from handlers.conversation import Conversation
from handlers.flow import Step
from handlers.table import STEPS
from storage.sqlite import SqliteStorage
from tests.support import NOW, ROAD, Counting, World, build_world, stored_report

MOST_CALLS = 3

# (what it shows, user, October of ROAD sent already?, messages before, the typed answer)
SCRIPTS = [
    ("project", "somchai", False, ["ส่งรายงาน"], "1"),
    ("project by code", "somchai", False, ["ส่งรายงาน"], ROAD.code),
    ("project refused", "somchai", False, ["ส่งรายงาน"], "ไม่มีโครงการนี้"),
    ("month", "somchai", False, ["ส่งรายงาน", "1"], "พ.ย."),
    ("month refused", "somchai", False, ["ส่งรายงาน", "1"], "มกราคม 2570"),
    ("progress", "somchai", True, ["ส่งรายงาน", "1"], "40"),
    ("progress refused", "somchai", True, ["ส่งรายงาน", "1"], "150"),
    ("progress lower", "somchai", True, ["ส่งรายงาน", "1"], "20"),
    ("progress_drop", "somchai", True, ["ส่งรายงาน", "1", "20", texts.BTN_DROP], "ประเมินเกิน"),
    ("disbursed", "somchai", True, ["ส่งรายงาน", "1", "40"], "120000"),
    ("disbursed lower", "somchai", True, ["ส่งรายงาน", "1", "40"], "90000"),
    ("disbursed_drop", "somchai", True, ["ส่งรายงาน", "1", "40", "90000", texts.BTN_DROP],
     "คืนเงินบางส่วน"),
    ("note", "somchai", True, ["ส่งรายงาน", "1", "40", "120000"], "ประชุมผู้รับจ้าง"),
    ("note_check", "jai", False, ["ส่งรายงาน", "10", "0", "เบิกจ่ายได้แล้ว"], "ใช่"),
    ("on_plan", "jai", False, ["ส่งรายงาน", "10", "0", "-"], "ไม่"),
    ("plan_reason", "jai", False, ["ส่งรายงาน", "10", "0", "-", "ไม่"], "ฝนตกหนักหลายวัน"),
    ("on_target", "jai", False, ["ส่งรายงาน", "10", "0", "-", "ใช่"], "ไม่"),
    ("target_reason", "jai", False, ["ส่งรายงาน", "10", "0", "-", "ใช่", "ไม่"], "ผู้รับจ้างล่าช้า"),
    ("confirm", "jai", False, ["ส่งรายงาน", "10", "0", "-", "ใช่", "ใช่"], "ยืนยัน"),
    ("confirm refused", "jai", False, ["ส่งรายงาน", "10", "0", "-", "ใช่", "ใช่"], "อะไรนะ"),
    ("correction_reason", "somchai", True, ["แก้ไข", "1"], "พิมพ์ยอดผิด"),
    ("correction confirm", "somchai", True,
     ["แก้ไข", "1", "พิมพ์ยอดผิด", texts.BTN_KEEP.split(":")[0], "120000", "-", "ใช่", "ใช่"],
     "ยืนยัน"),
    ("away_until", "somchai", False, ["ไม่อยู่"], "5 ธ.ค."),
    ("away_delegate", "somchai", False, ["ไม่อยู่", "5 ธ.ค."], "1"),
    ("away_confirm", "somchai", False, ["ไม่อยู่", "5 ธ.ค.", "1"], "ยืนยัน"),
    ("a coordinator's project", "ratana", False, ["ประวัติ"], "1"),
    ("idle", "jai", False, [], "สวัสดี"),
]  # fmt: skip


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        yield await build_world(repo)
    finally:
        await repo.close()


async def calls_for_last(world: World, user: str, before: list[str], answer: str) -> Counting:
    """Type `before`, then count the storage calls of `answer` alone."""
    counting = Counting(world.repo)
    conversation = Conversation(counting.as_storage(), lambda: NOW)
    for n, text in enumerate(before):
        await conversation.handle(Inbound.typed("console", user, text, f"{user}-{n}"))
    counting.calls.clear()
    replies = await conversation.handle(Inbound.typed("console", user, answer, f"{user}-last"))
    assert replies and all(r.text for r in replies)
    return counting


@pytest.mark.parametrize(
    ("shows", "user", "october", "before", "answer"), SCRIPTS, ids=[s[0] for s in SCRIPTS]
)
async def test_a_typed_answer_costs_at_most_three_calls(
    world: World, shows: str, user: str, october: bool, before: list[str], answer: str
) -> None:
    if october:
        await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    counting = await calls_for_last(world, user, before, answer)
    assert sum(counting.calls.values()) <= MOST_CALLS, dict(counting.calls)
    assert counting.calls["open_turn"] == 1, "the turn opens with one read"


REPORTING = [s for s in SCRIPTS if not s[0].startswith("away")]


@pytest.mark.parametrize(
    ("shows", "user", "october", "before", "answer"), REPORTING, ids=[s[0] for s in REPORTING]
)
async def test_a_report_answer_costs_at_most_three_trips_to_the_database(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    shows: str,
    user: str,
    october: bool,
    before: list[str],
    answer: str,
) -> None:
    """Under load each trip waits its turn in the event loop while the connection is held: a
    turn's statements go together (storage.sqlite_base `_in_thread`)."""
    if october:
        await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    conversation = Conversation(world.repo, lambda: NOW)
    for n, text in enumerate(before):
        await conversation.handle(Inbound.typed("console", user, text, f"{user}-{n}"))
    trips: list[str] = []
    execute: Callable[..., Any] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    replies = await conversation.handle(Inbound.typed("console", user, answer, f"{user}-last"))
    assert replies and all(r.text for r in replies)
    assert len(trips) <= MOST_CALLS, trips


async def test_the_scripts_reach_every_step() -> None:
    """The table above is not vacuous: its answers are typed at every step of the dialogue."""
    reached: set[Step] = set()
    for _, user, october, before, _ in SCRIPTS:
        repo = await SqliteStorage.open(":memory:")
        try:
            await build_world(repo)
            if october:
                await stored_report(repo, ROAD.code, 1, "30", "100000")
            conversation = Conversation(repo, lambda: NOW)
            for text in before:
                await conversation.handle(Inbound.typed("console", user, text))
            session = await repo.load_session("console", user)
            reached.add(Step(session.state) if session else Step.IDLE)
        finally:
            await repo.close()
    assert reached == {Step.IDLE, *STEPS}
