"""Test helpers: a small world of projects and people, and a chat driver over the conversation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from domain.messages import Inbound, Outbound
from domain.models import (
    ChatIdentity,
    CoordinatorScope,
    Person,
    Project,
    ProjectData,
    ReportValues,
    Role,
    Submission,
)
from handlers.conversation import Conversation
from storage.contracts import Storage

BANGKOK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BANGKOK)  # report 2 of fiscal year 2570

ROAD = ProjectData(
    code="50140000-4001",
    name="ปรับปรุงถนนซอยลาดกระบัง 14",
    fiscal_year=2570,
    start_date=date(2026, 10, 1),
    end_date=date(2027, 9, 30),
    budget_received=Decimal("1200000"),
    agency="สำนักงานเขตลาดกระบัง / ฝ่ายโยธา",
)
SCHOOL = ProjectData(
    code="50140000-4002",
    name="พัฒนาคุณภาพเครือข่ายโรงเรียน",
    fiscal_year=2570,
    start_date=date(2026, 11, 1),
    end_date=date(2027, 9, 30),
    budget_received=Decimal("360000"),
    agency="สำนักงานเขตลาดกระบัง / ฝ่ายการศึกษา",
)
OTHER = ProjectData(
    code="50150000-1001",
    name="โครงการของเขตอื่น",
    fiscal_year=2570,
    start_date=date(2026, 10, 1),
    end_date=date(2027, 9, 30),
    agency="สำนักงานเขตบางเขน / ฝ่ายโยธา",
)


@dataclass
class Chat:
    """One person typing to the bot, keeping every reply for inspection."""

    conversation: Conversation
    user_id: str
    channel: str = "console"
    replies: list[Outbound] = field(default_factory=list)

    async def say(self, text: str) -> list[Outbound]:
        """Type a message."""
        return await self._send(Inbound.typed(self.channel, self.user_id, text))

    async def press(self, label: str) -> list[Outbound]:
        """Press the button with this label in the last reply that had buttons."""
        with_buttons = [reply for reply in self.replies if reply.choices]
        choices = with_buttons[-1].choices if with_buttons else ()
        for choice in choices:
            if choice.label == label or choice.label.startswith(label):
                return await self._send(Inbound.pressed(self.channel, self.user_id, choice.payload))
        raise AssertionError(f"no button {label!r} in {[c.label for c in choices]}")

    async def send_payload(self, payload: str) -> list[Outbound]:
        """Press a button by its raw payload (e.g. one from an old message)."""
        return await self._send(Inbound.pressed(self.channel, self.user_id, payload))

    async def _send(self, inbound: Inbound) -> list[Outbound]:
        got = await self.conversation.handle(inbound)
        assert got, "every message gets an answer"
        self.replies.extend(got)
        return got

    @property
    def last(self) -> str:
        """Text of the last reply."""
        return self.replies[-1].text

    def last_choices(self) -> list[str]:
        """Labels of the buttons on the last reply."""
        return [c.label for c in self.replies[-1].choices]


class Counting:
    """Stands in front of a storage object and counts every method called through it (reads
    and writes alike), by name; but `person_turn`, the turn's lock, which touches no data (no
    database at all on SQLite)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            if name != "person_turn":
                self.calls[name] += 1
            return target(*args, **kwargs)

        return counted

    def as_storage(self) -> Storage:
        """This counter where a Storage is asked for (it answers every call of one)."""
        return cast(Storage, self)


@dataclass
class World:
    """A repository holding a few projects, an officer, a coordinator, and who is who."""

    repo: Storage
    officer: Person
    coordinator: Person
    single: Person


async def build_world(repo: Storage) -> World:
    """Projects ROAD and SCHOOL for one officer, SCHOOL alone for another, a coordinator."""
    for data in (ROAD, SCHOOL, OTHER):
        await repo.upsert_project(data)
    officer = await repo.add_person(
        "นายสมชาย ใจดี", phone="0812345678", position="นายช่างโยธา", roles=frozenset({Role.OFFICER})
    )
    await repo.link_officer(officer.id, ROAD.code)
    await repo.link_officer(officer.id, SCHOOL.code)
    await repo.link_identity(ChatIdentity("console", "somchai", officer.id))
    single = await repo.add_person("นางสาวใจงาม ตั้งใจ", roles=frozenset({Role.OFFICER}))
    await repo.link_officer(single.id, SCHOOL.code)
    await repo.link_identity(ChatIdentity("console", "jai", single.id))
    coordinator = await repo.add_person("น.ส.รัตนา ปิยะวรสกุล", roles=frozenset())
    await repo.add_coordinator_scope(CoordinatorScope(coordinator.id, agency="สำนักงานเขตลาดกระบัง"))
    await repo.link_identity(ChatIdentity("console", "ratana", coordinator.id))
    return World(repo, officer, coordinator, single)


async def project_of(world: World, data: ProjectData) -> Project:
    """The stored project (with its id) of one of the projects above."""
    project = await world.repo.get_project(data.code)
    assert project is not None
    return project


def values(
    progress: str, disbursed: str, *, on: date = date(2026, 10, 30), note: str = ""
) -> ReportValues:
    """Report values with both answers "yes"."""
    return ReportValues(on, Decimal(progress), Decimal(disbursed), note, True, "", True, "")


async def stored_report(
    repo: Storage,
    code: str,
    report_no: int,
    progress: str,
    disbursed: str,
    fiscal_year: int = 2570,
) -> None:
    """Put an earlier month's report in storage, as if sent last month."""
    await repo.submit_report(
        Submission(code, fiscal_year, report_no, values(progress, disbursed), None, "import",
                   NOW.replace(month=10, day=30))
    )  # fmt: skip
