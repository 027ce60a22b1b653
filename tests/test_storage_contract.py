"""The storage contract: one suite run against every Storage implementation.

If the in-memory fake and SQLite ever disagree, a test here fails for one of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.models import (
    ChatIdentity,
    CoordinatorScope,
    Delegation,
    DeliveryStatus,
    EventMark,
    Invite,
    InviteResult,
    MonthlyReport,
    Nudge,
    Project,
    ProjectData,
    Reach,
    ReminderKey,
    ReportFigures,
    ReportValues,
    Role,
    SessionState,
    Submission,
)
from storage.contracts import Storage, Upsert
from storage.errors import AlreadyReported, NotFound, StorageError
from storage.sqlite import SqliteStorage
from tests.memory_storage import MemoryStorage

BANGKOK = ZoneInfo("Asia/Bangkok")
T0 = datetime(2024, 11, 5, 9, 30, 15, 123456, tzinfo=BANGKOK)
LAT_KRABANG = "สำนักงานเขตลาดกระบัง"
WORKS = f"{LAT_KRABANG}/ฝ่ายโยธา"
ADMIN_DIV = f"{LAT_KRABANG}/ฝ่ายปกครอง"
BANG_KAPI = "สำนักงานเขตบางกะปิ"

FULL_PROJECT = ProjectData(
    code="67-LKB-001",
    name="โครงการปรับปรุงถนนซอยลาดกระบัง 54",
    fiscal_year=2568,
    start_date=date(2024, 10, 1),
    end_date=date(2025, 9, 30),
    budget_received=Decimal("1234567.89"),
    budget_used=Decimal("0.05"),
    agency=WORKS,
    officer_name="นายสมชาย ใจดี",
    officer_phone="081-234-5678",
    coordinator_name="นางสาวสมหญิง รักงาน",
    coordinator_phone="02-326-9999",
    rationale="ถนนชำรุด น้ำท่วมขังในฤดูฝน",
    objectives="1. ลดน้ำท่วมขัง\n2. ความปลอดภัยในการสัญจร",
    target_quantity="ถนนยาว 850 เมตร",
    target_quality="ประชาชนพึงพอใจไม่น้อยกว่าร้อยละ 80",
    strategy="มิติที่ 1 เมืองปลอดภัย",
    sub_strategy="1.2 ลดอุบัติเหตุ",
    goal="ถนนได้มาตรฐาน",
    indicator="ร้อยละความสำเร็จของงาน",
)


def values(progress: str = "45.50", disbursed: str = "120000.25", note: str = "") -> ReportValues:
    """Report values with Thai text and 2-place amounts."""
    return ReportValues(
        reported_on=date(2024, 11, 30),
        progress=Decimal(progress),
        disbursed=Decimal(disbursed),
        note=note or "ดำเนินการขุดวางท่อแล้วครึ่งหนึ่ง",
        on_plan=False,
        plan_reason="ฝนตกหนัก ผู้รับจ้างหยุดงาน 5 วัน",
        on_target=True,
        target_reason="",
    )


def submission(
    code: str = FULL_PROJECT.code,
    fiscal_year: int = 2568,
    report_no: int = 2,
    *,
    report_values: ReportValues | None = None,
    sent_by: int | None = None,
    channel: str = "telegram",
    sent_at: datetime = T0,
    reason: str = "",
) -> Submission:
    """A monthly report to store."""
    return Submission(
        project_code=code,
        fiscal_year=fiscal_year,
        report_no=report_no,
        values=report_values or values(),
        sent_by=sent_by,
        channel=channel,
        sent_at=sent_at,
        reason=reason,
    )


def session(external_id: str, at: datetime, channel: str = "telegram") -> SessionState:
    """A half-finished conversation."""
    return SessionState(channel, external_id, "ask_progress", '{"project": "67-LKB-001"}', at)


async def add_project(
    repo: Storage, code: str, *, fiscal_year: int = 2568, agency: str = WORKS
) -> Project:
    """Store a small project."""
    project, _ = await repo.upsert_project(
        ProjectData(code=code, name=f"โครงการ {code}", fiscal_year=fiscal_year, agency=agency)
    )
    return project


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-memory", "postgres"])
async def repo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Each implementation of the contract, fresh and empty (PostgreSQL: a real server, see
    tests/pg_server.py, its tables emptied)."""
    repository: Storage
    if request.param == "memory":
        repository = MemoryStorage()
    elif request.param == "sqlite-file":
        repository = await SqliteStorage.open(tmp_path / "progress.db")
    elif request.param == "postgres":
        from storage.postgres import PostgresStorage, empty_every_table

        postgres = await PostgresStorage.open(request.getfixturevalue("postgres_url"))
        await empty_every_table(postgres)
        repository = postgres
    else:
        repository = await SqliteStorage.open(":memory:")
    try:
        yield repository
    finally:
        await repository.close()


class TestRegistry:
    """Projects, people, responsibilities and stand-ins: the `Registry` role."""

    async def test_upsert_creates_and_every_field_round_trips(self, repo: Storage) -> None:
        project, outcome = await repo.upsert_project(FULL_PROJECT)
        assert outcome is Upsert.CREATED
        assert project.id > 0
        stored = await repo.get_project(FULL_PROJECT.code)
        assert stored == project
        for field in dataclasses.fields(ProjectData):
            assert getattr(stored, field.name) == getattr(FULL_PROJECT, field.name), field.name
        assert stored is not None
        assert isinstance(stored.budget_received, Decimal)
        assert str(stored.budget_received) == "1234567.89"
        assert str(stored.budget_used) == "0.05"
        assert stored.start_date == date(2024, 10, 1)

    async def test_empty_budgets_and_dates_round_trip_as_none(self, repo: Storage) -> None:
        await repo.upsert_project(ProjectData(code="X-1", name="ทดสอบ", fiscal_year=2568))
        stored = await repo.get_project("X-1")
        assert stored is not None
        assert (stored.budget_received, stored.budget_used) == (None, None)
        assert (stored.start_date, stored.end_date) == (None, None)
        assert stored.agency == ""

    async def test_upsert_of_equal_data_is_unchanged(self, repo: Storage) -> None:
        created, _ = await repo.upsert_project(FULL_PROJECT)
        again, outcome = await repo.upsert_project(FULL_PROJECT)
        assert outcome is Upsert.UNCHANGED
        assert again == created
        # The same amount written with a trailing zero is the same amount.
        trailing = dataclasses.replace(FULL_PROJECT, budget_used=Decimal("0.050"))
        assert (await repo.upsert_project(trailing))[1] is Upsert.UNCHANGED
        # A stored Project handed back is data too.
        assert (await repo.upsert_project(created))[1] is Upsert.UNCHANGED

    async def test_upsert_of_changed_data_updates_in_place(self, repo: Storage) -> None:
        created, _ = await repo.upsert_project(FULL_PROJECT)
        changed = dataclasses.replace(
            FULL_PROJECT, name="ชื่อใหม่", budget_used=Decimal("500.10"), end_date=None
        )
        updated, outcome = await repo.upsert_project(changed)
        assert outcome is Upsert.UPDATED
        assert updated.id == created.id
        assert await repo.get_project(FULL_PROJECT.code) == updated
        assert updated.name == "ชื่อใหม่"
        assert updated.end_date is None
        assert updated.budget_used == Decimal("500.10")
        assert len(await repo.list_projects()) == 1

    async def test_unknown_project_is_none(self, repo: Storage) -> None:
        assert await repo.get_project("NOPE") is None

    async def test_list_projects_by_code_with_filters(self, repo: Storage) -> None:
        await add_project(repo, "C", agency=BANG_KAPI)
        await add_project(repo, "A", agency=WORKS)
        await add_project(repo, "B", agency=ADMIN_DIV, fiscal_year=2567)
        await add_project(repo, "D", agency=LAT_KRABANG)

        def codes(projects: list[Project]) -> list[str]:
            return [p.code for p in projects]

        assert codes(await repo.list_projects()) == ["A", "B", "C", "D"]
        assert codes(await repo.list_projects(fiscal_year=2568)) == ["A", "C", "D"]
        assert codes(await repo.list_projects(agency=LAT_KRABANG)) == ["A", "B", "D"]
        assert codes(await repo.list_projects(agency=f"  {WORKS} ")) == ["A"]
        assert codes(await repo.list_projects(agency=LAT_KRABANG, fiscal_year=2567)) == ["B"]
        assert codes(await repo.list_projects(agency="")) == ["A", "B", "C", "D"]
        assert await repo.list_projects(agency="ฝ่ายโยธา") == []
        assert await repo.list_projects(fiscal_year=2569) == []

    @pytest.mark.parametrize(
        "data",
        [
            dataclasses.replace(FULL_PROJECT, budget_received=Decimal("-1.00")),
            dataclasses.replace(FULL_PROJECT, fiscal_year=2025),
            dataclasses.replace(FULL_PROJECT, code="   "),
        ],
        ids=["negative-budget", "christian-era-year", "blank-code"],
    )
    async def test_invalid_project_is_refused(self, repo: Storage, data: ProjectData) -> None:
        with pytest.raises(StorageError):
            await repo.upsert_project(data)
        assert await repo.list_projects() == []

    async def test_money_with_more_than_two_places_is_refused(self, repo: Storage) -> None:
        data = dataclasses.replace(FULL_PROJECT, budget_used=Decimal("0.005"))
        with pytest.raises(ValueError, match="decimal places"):
            await repo.upsert_project(data)
        assert await repo.list_projects() == []

    async def test_add_and_find_person(self, repo: Storage) -> None:
        person = await repo.add_person(
            " นายสมชาย ใจดี ", phone="0812345678", position="นายช่างโยธา", roles=frozenset()
        )
        assert person.name == "นายสมชาย ใจดี"
        assert (person.phone, person.position, person.roles) == (
            "0812345678",
            "นายช่างโยธา",
            frozenset(),
        )
        assert await repo.get_person(person.id) == person
        assert await repo.find_person("นายสมชาย ใจดี") == person
        assert await repo.find_person("  นายสมชาย ใจดี") == person
        assert await repo.find_person("นายสมชาย") is None
        assert await repo.get_person(person.id + 100) is None

    async def test_same_name_adds_roles_and_keeps_known_details(self, repo: Storage) -> None:
        first = await repo.add_person(
            "นางสมศรี", phone="0811111111", position="นักวิเคราะห์", roles=frozenset({Role.OFFICER})
        )
        again = await repo.add_person("นางสมศรี ", roles=frozenset({Role.ADMIN}))
        assert again.id == first.id
        assert again.roles == {Role.OFFICER, Role.ADMIN}
        assert (again.phone, again.position) == ("0811111111", "นักวิเคราะห์")
        updated = await repo.add_person("นางสมศรี", phone="0822222222", roles=frozenset())
        assert (updated.phone, updated.position) == ("0822222222", "นักวิเคราะห์")
        assert updated.roles == {Role.OFFICER, Role.ADMIN}
        assert await repo.get_person(first.id) == updated

    async def test_blank_name_is_refused(self, repo: Storage) -> None:
        with pytest.raises(StorageError):
            await repo.add_person("   ", roles=frozenset())

    async def test_officers_and_projects_both_ways(self, repo: Storage) -> None:
        await add_project(repo, "P2")
        await add_project(repo, "P1")
        await add_project(repo, "P3")
        somchai = await repo.add_person("ข สมชาย", roles=frozenset())
        anan = await repo.add_person("ก อนันต์", roles=frozenset())
        assert await repo.link_officer(somchai.id, "P2") is True
        assert await repo.link_officer(somchai.id, "P1") is True
        assert await repo.link_officer(somchai.id, "P1") is False
        assert await repo.link_officer(anan.id, "P1") is True

        assert [p.code for p in await repo.projects_of_officer(somchai.id)] == ["P1", "P2"]
        assert await repo.projects_of_officer(somchai.id) == [
            await repo.get_project("P1"),
            await repo.get_project("P2"),
        ]
        officers = await repo.officers_of_project("P1")
        assert [p.name for p in officers] == ["ก อนันต์", "ข สมชาย"]
        assert all(Role.OFFICER in p.roles for p in officers)
        assert officers[1] == await repo.get_person(somchai.id)
        assert await repo.officers_of_project("P3") == []
        assert await repo.officers_of_project("NOPE") == []
        assert await repo.projects_of_officer(anan.id + 100) == []

    async def test_link_officer_needs_person_and_project(self, repo: Storage) -> None:
        await add_project(repo, "P1")
        person = await repo.add_person("สมชาย", roles=frozenset())
        with pytest.raises(NotFound):
            await repo.link_officer(person.id, "NOPE")
        with pytest.raises(NotFound):
            await repo.link_officer(person.id + 100, "P1")
        assert await repo.officers_of_project("P1") == []

    async def test_coordinator_scopes_by_agency_and_project(self, repo: Storage) -> None:
        await add_project(repo, "A-WORKS", agency=WORKS)
        await add_project(repo, "B-ADMIN", agency=ADMIN_DIV)
        await add_project(repo, "C-KAPI", agency=BANG_KAPI)
        await add_project(repo, "D-KAPI", agency=BANG_KAPI)
        somying = await repo.add_person("สมหญิง", roles=frozenset())
        by_agency = CoordinatorScope(somying.id, agency=LAT_KRABANG)
        by_project = CoordinatorScope(somying.id, project_code="C-KAPI")
        inside_agency = CoordinatorScope(somying.id, project_code="A-WORKS")

        assert await repo.add_coordinator_scope(by_agency) is True
        assert await repo.add_coordinator_scope(by_agency) is False
        assert await repo.add_coordinator_scope(by_project) is True
        assert await repo.add_coordinator_scope(by_project) is False
        assert await repo.add_coordinator_scope(inside_agency) is True

        assert await repo.coordinator_scopes(somying.id) == [by_agency, by_project, inside_agency]
        person = await repo.get_person(somying.id)
        assert person is not None
        assert person.roles == {Role.COORDINATOR}
        covered = await repo.projects_of_coordinator(somying.id)
        assert [p.code for p in covered] == ["A-WORKS", "B-ADMIN", "C-KAPI"]
        assert covered[0] == await repo.get_project("A-WORKS")

    async def test_agency_scope_is_a_prefix_not_a_substring(self, repo: Storage) -> None:
        await add_project(repo, "A-WORKS", agency=WORKS)
        person = await repo.add_person("สมหญิง", roles=frozenset({Role.COORDINATOR}))
        await repo.add_coordinator_scope(CoordinatorScope(person.id, agency="ฝ่ายโยธา"))
        assert await repo.projects_of_coordinator(person.id) == []
        assert await repo.coordinator_scopes(person.id + 100) == []
        assert await repo.projects_of_coordinator(person.id + 100) == []

    async def test_agency_matches_whole_path_segments(self, repo: Storage) -> None:
        await add_project(repo, "A-WORKS", agency=WORKS)
        await add_project(repo, "B-SPACED", agency=f"{LAT_KRABANG} / ฝ่ายการศึกษา")
        await add_project(repo, "C-PRAO", agency="สำนักงานเขตลาดพร้าว/ฝ่ายโยธา")
        person = await repo.add_person("สมหญิง", roles=frozenset({Role.COORDINATOR}))
        await repo.add_coordinator_scope(CoordinatorScope(person.id, agency="สำนักงานเขตลาด"))
        assert await repo.projects_of_coordinator(person.id) == []
        await repo.add_coordinator_scope(CoordinatorScope(person.id, agency=LAT_KRABANG))
        covered = await repo.projects_of_coordinator(person.id)
        assert [p.code for p in covered] == ["A-WORKS", "B-SPACED"]
        listed = await repo.list_projects(agency=LAT_KRABANG)
        assert [p.code for p in listed] == ["A-WORKS", "B-SPACED"]
        assert await repo.list_projects(agency="สำนักงานเขตลาด") == []

    @pytest.mark.parametrize(
        ("agency", "project_code", "error"),
        [
            (None, None, StorageError),
            ("สำนักงานเขตลาดกระบัง", "P1", StorageError),
            (None, "NOPE", NotFound),
        ],
        ids=["neither", "both", "unknown-project"],
    )
    async def test_invalid_coordinator_scope_is_refused(
        self,
        repo: Storage,
        agency: str | None,
        project_code: str | None,
        error: type[StorageError],
    ) -> None:
        await add_project(repo, "P1")
        person = await repo.add_person("สมหญิง", roles=frozenset())
        with pytest.raises(error):
            await repo.add_coordinator_scope(CoordinatorScope(person.id, agency, project_code))
        assert await repo.coordinator_scopes(person.id) == []
        assert await repo.get_person(person.id) == person

    async def test_scope_of_unknown_person_is_refused(self, repo: Storage) -> None:
        with pytest.raises(NotFound):
            await repo.add_coordinator_scope(CoordinatorScope(404, agency=LAT_KRABANG))

    async def test_all_people_by_name(self, repo: Storage) -> None:
        await repo.add_person("ข", roles=frozenset())
        await repo.add_person("ก", phone="0812345678", roles=frozenset({Role.OFFICER}))
        assert [p.name for p in await repo.all_people()] == ["ก", "ข"]

    async def test_delegations_in_force_and_ended(self, repo: Storage) -> None:
        away = await repo.add_person("นายไป", roles=frozenset({Role.OFFICER}))
        stand_in = await repo.add_person("นายแทน", roles=frozenset({Role.OFFICER}))
        first, last = date(2026, 11, 20), date(2026, 12, 5)
        stored = await repo.add_delegation(Delegation(away.id, stand_in.id, first, last))
        assert stored.id > 0
        assert await repo.delegations_on(date(2026, 11, 19)) == []
        assert await repo.delegations_on(date(2026, 11, 25)) == [stored]
        assert await repo.end_delegations(away.id, date(2026, 11, 26)) == 1
        assert await repo.delegations_on(date(2026, 11, 26)) == []
        assert len(await repo.delegations_on(date(2026, 11, 25))) == 1
        with pytest.raises(StorageError):
            await repo.add_delegation(Delegation(away.id, away.id, first, last))

    async def test_bulk_reads_for_planning(self, repo: Storage) -> None:
        await add_project(repo, "P1")
        await add_project(repo, "P2")
        a = await repo.add_person("ก", roles=frozenset({Role.OFFICER}))
        b = await repo.add_person("ข", roles=frozenset({Role.OFFICER}))
        await repo.link_officer(b.id, "P2")
        await repo.link_officer(a.id, "P2")
        await repo.link_officer(a.id, "P1")
        assert await repo.officer_links() == [("P1", a.id), ("P2", a.id), ("P2", b.id)]
        assert await repo.officer_names() == [("P1", "ก"), ("P2", "ก"), ("P2", "ข")]
        assert await repo.officer_names(agency="ไม่มีเขตนี้") == []
        await repo.link_identity(ChatIdentity("telegram", "9", b.id))
        await repo.link_identity(ChatIdentity("line", "U1", a.id))
        await repo.link_identity(ChatIdentity("console", "a", a.id))
        identities = await repo.all_identities()
        assert [(i.person_id, i.channel) for i in identities] == [
            (a.id, "console"), (a.id, "line"), (b.id, "telegram"),
        ]  # fmt: skip

    async def test_projects_within_a_reach(self, repo: Storage) -> None:
        for code, agency in (("A", WORKS), ("B", ADMIN_DIV), ("C", BANG_KAPI), ("D", LAT_KRABANG)):
            await add_project(repo, code, agency=agency)
        codes = [p.code for p in await repo.projects_within(Reach(own=frozenset({"C"})))]
        assert codes == ["C"]
        reach = Reach(own=frozenset({"C"}), agencies=(WORKS,), watched=frozenset({"B", "Z"}))
        assert [p.code for p in await repo.projects_within(reach)] == ["A", "B", "C"]
        wide = Reach(agencies=(f" {LAT_KRABANG} ",))
        assert [p.code for p in await repo.projects_within(wide)] == ["A", "B", "D"]
        assert len(await repo.projects_within(Reach(everything=True))) == 4
        assert await repo.projects_within(Reach()) == []

    async def test_colleagues_are_officers_of_the_same_office(self, repo: Storage) -> None:
        await add_project(repo, "A", agency=WORKS)
        await add_project(repo, "B", agency=ADMIN_DIV)
        await add_project(repo, "C", agency=BANG_KAPI)
        me = await repo.add_person("ฉัน", roles=frozenset())
        names = ("ง", "ข", "ก", "ค")
        people = [await repo.add_person(name, roles=frozenset()) for name in names]
        await repo.link_officer(me.id, "A")
        await repo.link_officer(people[0].id, "A")
        await repo.link_officer(people[1].id, "B")  # same office, another division
        await repo.link_officer(people[2].id, "B")
        await repo.link_officer(people[3].id, "C")  # another office
        found = await repo.colleagues(me.id, limit=10)
        assert [p.name for p in found] == ["ก", "ข", "ง"]
        assert [p.name for p in await repo.colleagues(me.id, limit=2)] == ["ก", "ข"]
        assert await repo.colleagues(people[3].id, limit=10) == []
        loner = await repo.add_person("ไม่มีโครงการ", roles=frozenset())
        assert await repo.colleagues(loner.id, limit=10) == []
        assert [p.name for p in await repo.colleagues(me.id, limit=10, named="ข")] == ["ข"]
        assert await repo.colleagues(me.id, limit=10, named="ค") == [], "another office"
        assert await repo.colleagues(me.id, limit=10, named="%") == [], "not a pattern"

    async def test_an_absence_replaces_stand_ins_and_closes_the_turn(self, repo: Storage) -> None:
        away = await repo.add_person("นายไป", roles=frozenset({Role.OFFICER}))
        first = await repo.add_person("นายแทนหนึ่ง", roles=frozenset({Role.OFFICER}))
        second = await repo.add_person("นายแทนสอง", roles=frozenset({Role.OFFICER}))
        await repo.add_delegation(
            Delegation(away.id, first.id, date(2026, 11, 10), date(2026, 11, 30))
        )
        await repo.save_session(session("7", T0))
        event = EventMark("telegram", "e-away", T0)
        stand_in = await repo.set_absence(
            Delegation(away.id, second.id, date(2026, 11, 20), date(2026, 12, 5)),
            finish_session=("telegram", "7"),
            event=event,
        )
        assert stand_in == second
        assert [d.delegate_id for d in await repo.delegations_on(date(2026, 11, 19))] == [first.id]
        assert [d.delegate_id for d in await repo.delegations_on(date(2026, 11, 20))] == [second.id]
        assert await repo.load_session("telegram", "7") is None
        assert await repo.event_handled("telegram", "e-away")
        with pytest.raises(NotFound):
            await repo.set_absence(Delegation(away.id, 999, date(2026, 12, 1), date(2026, 12, 2)))
        assert [d.delegate_id for d in await repo.delegations_on(date(2026, 12, 1))] == [second.id]


class TestAccounts:
    """Chat accounts: the `Accounts` role."""

    async def test_chat_identities_link_find_and_move(self, repo: Storage) -> None:
        somchai = await repo.add_person("สมชาย", roles=frozenset({Role.OFFICER}))
        somying = await repo.add_person("สมหญิง", roles=frozenset({Role.COORDINATOR}))
        await repo.link_identity(ChatIdentity("telegram", "1001", somchai.id))
        await repo.link_identity(ChatIdentity("line", "Uabc", somchai.id))
        assert await repo.find_person_by_identity("telegram", "1001") == somchai
        assert await repo.identities_of(somchai.id) == [
            ChatIdentity("line", "Uabc", somchai.id),
            ChatIdentity("telegram", "1001", somchai.id),
        ]
        assert await repo.find_person_by_identity("telegram", "9999") is None
        assert await repo.find_person_by_identity("line", "1001") is None

        await repo.link_identity(ChatIdentity("telegram", "1001", somying.id))
        assert await repo.find_person_by_identity("telegram", "1001") == somying
        assert await repo.identities_of(somchai.id) == [ChatIdentity("line", "Uabc", somchai.id)]
        assert await repo.identities_of(somying.id) == [
            ChatIdentity("telegram", "1001", somying.id)
        ]

    async def test_identity_of_unknown_person_is_refused(self, repo: Storage) -> None:
        with pytest.raises(NotFound):
            await repo.link_identity(ChatIdentity("telegram", "1", 12345))
        assert await repo.find_person_by_identity("telegram", "1") is None

    async def test_preferred_channel_is_remembered_and_changes(self, repo: Storage) -> None:
        a = await repo.add_person("ก", roles=frozenset({Role.OFFICER}))
        b = await repo.add_person("ข", roles=frozenset({Role.OFFICER}))
        assert await repo.preferred_channels() == {}
        assert await repo.set_preferred_channel(a.id, "line") is True
        assert await repo.set_preferred_channel(a.id, "line") is False
        assert await repo.set_preferred_channel(b.id, "telegram") is True
        assert await repo.set_preferred_channel(a.id, "telegram") is True
        assert await repo.preferred_channels() == {a.id: "telegram", b.id: "telegram"}

    async def test_preferred_channel_of_unknown_person_is_refused(self, repo: Storage) -> None:
        with pytest.raises(NotFound):
            await repo.set_preferred_channel(999, "line")

    async def test_a_web_link_opens_once_before_it_expires_and_sessions_end(
        self, repo: Storage
    ) -> None:
        person = await repo.add_person("ก", roles=frozenset({Role.COORDINATOR}))
        await repo.create_web_link("h1", person.id, T0 + timedelta(minutes=10))
        assert await repo.redeem_web_link("h1", T0 + timedelta(minutes=11)) is None, "expired"
        await repo.create_web_link("h2", person.id, T0 + timedelta(minutes=10))
        assert await repo.redeem_web_link("h2", T0) == person.id
        assert await repo.redeem_web_link("h2", T0) is None, "used once only"
        assert await repo.redeem_web_link("unknown", T0) is None
        await repo.create_web_session("s1", person.id, T0 + timedelta(hours=9))
        assert await repo.web_session_person("s1", T0) == person.id
        assert await repo.web_session_person("s1", T0 + timedelta(hours=9)) is None, "expired"
        await repo.end_web_session("s1")
        assert await repo.web_session_person("s1", T0) is None, "signed out"
        with pytest.raises(NotFound):
            await repo.create_web_link("h3", 999, T0)

    async def test_rich_menus_and_the_menu_of_each_line_account_are_kept(
        self, repo: Storage
    ) -> None:
        assert await repo.rich_menus() == {} and await repo.menu_links() == {}
        await repo.set_rich_menu("officer", "richmenu-1", "progress-bot officer 1")
        await repo.set_rich_menu("coordinator", "richmenu-2", "progress-bot coordinator 1")
        await repo.set_rich_menu("officer", "richmenu-3", "progress-bot officer 2")
        assert await repo.rich_menus() == {
            "officer": ("richmenu-3", "progress-bot officer 2"),
            "coordinator": ("richmenu-2", "progress-bot coordinator 1"),
        }
        await repo.set_menu_links({"U1": "richmenu-2", "U2": "richmenu-2"})
        await repo.set_menu_links({"U1": None, "U3": "richmenu-2", "U2": "richmenu-4"})
        assert await repo.menu_links() == {"U2": "richmenu-4", "U3": "richmenu-2"}

    async def test_the_reminder_channel_chosen_is_kept_and_can_be_forgotten(
        self, repo: Storage
    ) -> None:
        a = await repo.add_person("ก", roles=frozenset({Role.OFFICER}))
        b = await repo.add_person("ข", roles=frozenset({Role.OFFICER}))
        assert await repo.reminder_channels() == {}
        await repo.set_reminder_channel(a.id, "both")
        await repo.set_reminder_channel(b.id, "line")
        await repo.set_reminder_channel(b.id, "telegram")
        assert await repo.reminder_channels() == {a.id: "both", b.id: "telegram"}
        await repo.set_reminder_channel(a.id, None)
        assert await repo.reminder_channels() == {b.id: "telegram"}
        with pytest.raises(ValueError, match="unknown reminder channel"):
            await repo.set_reminder_channel(b.id, "sms")
        with pytest.raises(NotFound):
            await repo.set_reminder_channel(999, "line")
        assert await repo.reminder_channels() == {b.id: "telegram"}

    async def test_blocked_accounts_block_and_unblock(self, repo: Storage) -> None:
        assert await repo.blocked_accounts() == set()
        await repo.set_blocked("line", "U1", True, T0)
        await repo.set_blocked("line", "U1", True, T0 + timedelta(hours=1))  # twice: no error
        await repo.set_blocked("line", "U2", True, T0)
        await repo.set_blocked("line", "U2", False, T0)
        await repo.set_blocked("line", "U3", False, T0)  # never blocked: nothing to undo
        assert await repo.blocked_accounts() == {("line", "U1")}


class TestReportStore:
    """Monthly reports and their revisions: the `ReportStore` role."""

    async def test_submit_then_read_back_exactly(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        officer = await repo.add_person("สมชาย", roles=frozenset({Role.OFFICER}))
        sent = submission(sent_by=officer.id, reason="ส่งครั้งแรก")
        report = await repo.submit_report(sent)
        assert (report.project_code, report.fiscal_year, report.report_no) == (
            FULL_PROJECT.code,
            2568,
            2,
        )
        assert report.revision == 1
        assert (report.values, report.sent_by, report.channel) == (
            sent.values,
            officer.id,
            "telegram",
        )
        assert report.sent_at == T0

        stored = await repo.get_report(FULL_PROJECT.code, 2568, 2)
        assert stored == report
        assert stored is not None
        assert stored.sent_at.utcoffset() == timedelta(hours=7)
        assert str(stored.values.progress) == "45.50"
        assert str(stored.values.disbursed) == "120000.25"
        assert stored.values.note == "ดำเนินการขุดวางท่อแล้วครึ่งหนึ่ง"
        assert await repo.reports_of_project(FULL_PROJECT.code) == [report]
        [first] = await repo.revisions(report.id)
        assert (first.report_id, first.revision, first.values) == (report.id, 1, sent.values)
        assert (first.changed_by, first.channel, first.changed_at) == (officer.id, "telegram", T0)
        assert first.reason == "ส่งครั้งแรก"

    async def test_missing_reports_are_none_or_empty(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        assert await repo.get_report(FULL_PROJECT.code, 2568, 1) is None
        assert await repo.get_report("NOPE", 2568, 1) is None
        assert await repo.reports_of_project(FULL_PROJECT.code) == []
        assert await repo.revisions(999) == []
        assert await repo.report_rows() == []

    async def test_report_rows_order_and_filters(self, repo: Storage) -> None:
        await add_project(repo, "B", agency=BANG_KAPI)
        await add_project(repo, "A", agency=WORKS)
        for code, year, number in [
            ("B", 2568, 3),
            ("A", 2568, 2),
            ("A", 2567, 12),
            ("B", 2568, 1),
            ("A", 2568, 1),
        ]:
            await repo.submit_report(submission(code, year, number))

        def keys(rows: Sequence[tuple[Project, MonthlyReport]]) -> list[tuple[str, int, int]]:
            return [(r.project_code, r.fiscal_year, r.report_no) for _, r in rows]

        every = [("A", 2567, 12), ("A", 2568, 1), ("A", 2568, 2), ("B", 2568, 1), ("B", 2568, 3)]
        assert keys(await repo.report_rows()) == every
        assert keys(await repo.report_rows(fiscal_year=2568)) == every[1:]
        assert keys(await repo.report_rows(project_code="B")) == every[3:]
        assert keys(await repo.report_rows(agency=LAT_KRABANG)) == every[:3]
        assert keys(await repo.report_rows(agency=LAT_KRABANG, fiscal_year=2567)) == every[:1]
        assert await repo.report_rows(agency=BANG_KAPI, project_code="A") == []
        for project, report in await repo.report_rows():
            assert project == await repo.get_project(report.project_code)
            assert report == await repo.get_report(
                report.project_code, report.fiscal_year, report.report_no
            )
        by_project = await repo.reports_of_project("A")
        assert [(r.fiscal_year, r.report_no) for r in by_project] == [
            (2567, 12),
            (2568, 1),
            (2568, 2),
        ]
        by_year = await repo.reports_of_project("A", fiscal_year=2568)
        assert [(r.fiscal_year, r.report_no) for r in by_year] == [(2568, 1), (2568, 2)]

    async def test_report_batches_are_report_rows_a_few_projects_at_a_time(
        self, repo: Storage
    ) -> None:
        for code, agency in [("D", BANG_KAPI), ("C", WORKS), ("B", BANG_KAPI), ("A", WORKS)]:
            await add_project(repo, code, agency=agency)
        await add_project(repo, "AB", agency=WORKS)  # without reports
        for code, year, number in [
            ("B", 2568, 3),
            ("A", 2568, 2),
            ("A", 2567, 12),
            ("D", 2568, 1),
            ("B", 2568, 1),
            ("C", 2567, 5),
            ("A", 2568, 1),
        ]:
            await repo.submit_report(submission(code, year, number))

        async def batches(
            per_batch: int, filters: dict[str, Any]
        ) -> list[list[tuple[str, int, int]]]:
            found = []
            async for batch in repo.report_batches(per_batch=per_batch, **filters):
                found.append([(r.project_code, r.fiscal_year, r.report_no) for _, r in batch])
            return found

        def joined(found: list[list[tuple[str, int, int]]]) -> list[tuple[str, int, int]]:
            return [key for batch in found for key in batch]

        every_filter: list[dict[str, Any]] = [
            {},
            {"fiscal_year": 2568},
            {"project_code": "B"},
            {"agency": LAT_KRABANG},
            {"agency": BANG_KAPI, "fiscal_year": 2568},
            {"agency": BANG_KAPI, "project_code": "A"},
        ]
        for filters in every_filter:
            rows = await repo.report_rows(**filters)
            expected = [(r.project_code, r.fiscal_year, r.report_no) for _, r in rows]
            for per_batch in (1, 2, 500):
                found = await batches(per_batch, filters)
                assert joined(found) == expected
                assert all(batch for batch in found)  # never an empty batch
                codes = [[key[0] for key in batch] for batch in found]
                assert all(len(set(batch)) <= per_batch for batch in codes)
                flat = [code for batch in codes for code in dict.fromkeys(batch)]
                assert len(flat) == len(set(flat))  # a project's reports stay together
        async for batch in repo.report_batches():
            for project, report in batch:
                assert project == await repo.get_project(report.project_code)
                assert report == await repo.get_report(
                    report.project_code, report.fiscal_year, report.report_no
                )
        with pytest.raises(ValueError, match="at least one project"):
            await anext(repo.report_batches(per_batch=0))

    async def test_the_last_change_of_a_person(self, repo: Storage) -> None:
        await add_project(repo, "A")
        await add_project(repo, "B")
        person = await repo.add_person("ก", roles=frozenset({Role.OFFICER}))
        assert await repo.last_change_by(person.id) is None
        early = submission("A", 2568, 1)
        await repo.submit_report(dataclasses.replace(early, sent_by=person.id))
        later = dataclasses.replace(
            submission("B", 2568, 1), sent_by=person.id, sent_at=early.sent_at + timedelta(hours=1)
        )
        await repo.submit_report(later)
        await repo.submit_report(submission("A", 2568, 2))  # by nobody in particular
        found = await repo.last_change_by(person.id)
        assert found is not None
        report, revision = found
        assert (report.project_code, report.report_no, revision.revision) == ("B", 1, 1)
        fix = dataclasses.replace(
            early, sent_by=person.id, sent_at=early.sent_at + timedelta(hours=2), reason="แก้ไข"
        )
        await repo.correct_report(fix)
        found = await repo.last_change_by(person.id)
        assert found is not None
        assert (found[0].project_code, found[0].revision, found[1].revision) == ("A", 2, 2)

    async def test_recent_reports_are_the_latest_few_up_to_a_month(self, repo: Storage) -> None:
        await add_project(repo, "B", agency=BANG_KAPI)
        await add_project(repo, "A", agency=WORKS)
        for code, year, number in [
            ("A", 2568, 4), ("A", 2568, 1), ("A", 2568, 2), ("A", 2568, 3), ("A", 2567, 12),
            ("B", 2568, 3), ("B", 2568, 1), ("B", 2569, 1),
        ]:  # fmt: skip
            await repo.submit_report(submission(code, year, number))

        def keys(reports: Sequence[MonthlyReport]) -> list[tuple[str, int]]:
            assert all(r.fiscal_year == 2568 for r in reports)
            return [(r.project_code, r.report_no) for r in reports]

        recent = await repo.recent_reports(2568, 3, count=2)
        assert keys(recent) == [("A", 2), ("A", 3), ("B", 1), ("B", 3)]
        assert keys(await repo.recent_reports(2568, 12, count=1)) == [("A", 4), ("B", 3)]
        assert keys(await repo.recent_reports(2568, 2, count=5, agency=BANG_KAPI)) == [("B", 1)]
        assert keys(await repo.recent_reports(2568, 1, count=3, agency=LAT_KRABANG)) == [("A", 1)]
        assert await repo.recent_reports(2570, 12, count=3) == []
        latest = await repo.get_report("A", 2568, 3)
        assert recent[1] == latest

    async def test_recent_figures_are_those_of_the_recent_reports(self, repo: Storage) -> None:
        await add_project(repo, "B", agency=BANG_KAPI)
        await add_project(repo, "A", agency=WORKS)
        for code, year, number in [
            ("A", 2568, 4), ("A", 2568, 1), ("A", 2568, 3), ("A", 2567, 12),
            ("B", 2568, 3), ("B", 2568, 1), ("B", 2569, 1),
        ]:  # fmt: skip
            await repo.submit_report(submission(code, year, number))
        corrected = dataclasses.replace(
            submission("A", 2568, 3), reason="แก้ไข",
            values=dataclasses.replace(submission().values, progress=Decimal("42.5"),
                                       disbursed=Decimal("1234.56"), note="เบิกจ่ายแล้ว"),
        )  # fmt: skip
        await repo.correct_report(corrected)

        for up_to, count, agency in [
            (3, 2, None),
            (12, 1, None),
            (2, 5, BANG_KAPI),
            (12, 3, WORKS),
        ]:
            whole = await repo.recent_reports(2568, up_to, count=count, agency=agency)
            figures = await repo.recent_figures(2568, up_to, count=count, agency=agency)
            assert figures == [
                ReportFigures(r.project_code, 2568, r.report_no, r.progress, r.disbursed, r.note)
                for r in whole
            ]
        (a3, *_) = await repo.recent_figures(2568, 3, count=1, agency=WORKS)
        assert (a3.report_no, a3.progress, a3.disbursed, a3.note) == (
            3, Decimal("42.5"), Decimal("1234.56"), "เบิกจ่ายแล้ว"
        )  # fmt: skip
        assert str(a3.progress) == "42.50"  # two places, as whole reports have them
        assert await repo.recent_figures(2568, 3, count=0) == []
        assert await repo.recent_figures(2570, 12, count=3) == []

    async def test_submit_for_unknown_project_is_refused(self, repo: Storage) -> None:
        with pytest.raises(NotFound):
            await repo.submit_report(submission("NOPE"))
        assert await repo.report_rows() == []

    async def test_second_submit_of_a_month_is_refused(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        first = await repo.submit_report(submission())
        late = submission(report_values=values("80.00", note="ส่งซ้ำ"), sent_at=T0 + timedelta(1))
        with pytest.raises(AlreadyReported):
            await repo.submit_report(late)
        assert await repo.get_report(FULL_PROJECT.code, 2568, 2) == first
        assert len(await repo.revisions(first.id)) == 1
        assert len(await repo.report_rows()) == 1

    async def test_correction_appends_a_revision_and_keeps_the_first(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        officer = await repo.add_person("สมชาย", roles=frozenset({Role.OFFICER}))
        coordinator = await repo.add_person("สมหญิง", roles=frozenset({Role.COORDINATOR}))
        sent = submission(sent_by=officer.id)
        original = await repo.submit_report(sent)
        fix = submission(
            report_values=values("50.00", "130000.00", note="แก้ไขตัวเลข"),
            sent_by=coordinator.id,
            channel="line",
            sent_at=T0 + timedelta(days=2, hours=3),
            reason="พิมพ์ตัวเลขผิด",
        )
        corrected = await repo.correct_report(fix)
        assert corrected.id == original.id
        assert corrected.revision == 2
        # When it first came, and how, whatever the corrections since.
        assert await repo.first_sent(2568, 2) == {FULL_PROJECT.code: (T0, "telegram")}
        assert await repo.first_sent(2568, 3) == {}
        assert (corrected.values, corrected.sent_by, corrected.channel) == (
            fix.values,
            coordinator.id,
            "line",
        )
        assert corrected.sent_at == fix.sent_at
        assert await repo.get_report(FULL_PROJECT.code, 2568, 2) == corrected
        assert await repo.reports_of_project(FULL_PROJECT.code) == [corrected]

        first, second = await repo.revisions(original.id)
        assert (first.revision, first.values, first.changed_by) == (1, sent.values, officer.id)
        assert (first.channel, first.changed_at, first.reason) == ("telegram", T0, "")
        assert (second.revision, second.values, second.reason) == (2, fix.values, "พิมพ์ตัวเลขผิด")
        assert (second.changed_by, second.channel, second.changed_at) == (
            coordinator.id,
            "line",
            fix.sent_at,
        )

        third = await repo.correct_report(dataclasses.replace(fix, reason="อีกครั้ง"))
        assert third.revision == 3
        assert [r.revision for r in await repo.revisions(original.id)] == [1, 2, 3]

    @pytest.mark.parametrize("reason", ["", "   "])
    async def test_correction_needs_a_reason(self, repo: Storage, reason: str) -> None:
        await repo.upsert_project(FULL_PROJECT)
        original = await repo.submit_report(submission())
        with pytest.raises(StorageError):
            await repo.correct_report(submission(report_values=values("99.00"), reason=reason))
        assert await repo.get_report(FULL_PROJECT.code, 2568, 2) == original
        assert len(await repo.revisions(original.id)) == 1

    async def test_correcting_a_missing_report_is_not_found(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        await repo.save_session(session("1001", T0))
        with pytest.raises(NotFound):
            await repo.correct_report(submission(reason="แก้"), finish_session=("telegram", "1001"))
        with pytest.raises(NotFound):
            await repo.correct_report(submission("NOPE", reason="แก้"))
        assert await repo.report_rows() == []
        assert await repo.load_session("telegram", "1001") is not None

    async def test_submit_finishes_only_its_own_session(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        await repo.save_session(session("1001", T0))
        await repo.save_session(session("1002", T0))
        await repo.save_session(session("1001", T0, channel="line"))
        await repo.submit_report(submission(), finish_session=("telegram", "1001"))
        assert await repo.load_session("telegram", "1001") is None
        assert await repo.load_session("telegram", "1002") == session("1002", T0)
        assert await repo.load_session("line", "1001") == session("1001", T0, channel="line")

    async def test_correction_finishes_its_session(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        await repo.submit_report(submission())
        await repo.save_session(session("1001", T0))
        await repo.save_session(session("1002", T0))
        await repo.correct_report(submission(reason="แก้"), finish_session=("telegram", "1001"))
        assert await repo.load_session("telegram", "1001") is None
        assert await repo.load_session("telegram", "1002") is not None

    async def test_failed_submit_keeps_the_session(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        await repo.submit_report(submission())
        await repo.save_session(session("1001", T0))
        with pytest.raises(AlreadyReported):
            await repo.submit_report(submission(), finish_session=("telegram", "1001"))
        with pytest.raises(NotFound):
            await repo.submit_report(submission("NOPE"), finish_session=("telegram", "1001"))
        assert await repo.load_session("telegram", "1001") == session("1001", T0)

    @pytest.mark.parametrize(
        "bad",
        [
            submission(report_no=13),
            submission(report_no=0),
            submission(report_values=values(progress="100.01")),
            submission(report_values=values(disbursed="-0.01")),
            submission(sent_by=404),
        ],
        ids=["month-13", "month-0", "progress-over-100", "negative-disbursed", "unknown-sender"],
    )
    async def test_invalid_report_is_refused(self, repo: Storage, bad: Submission) -> None:
        await repo.upsert_project(FULL_PROJECT)
        await repo.save_session(session("1001", T0))
        with pytest.raises(StorageError):
            await repo.submit_report(bad, finish_session=("telegram", "1001"))
        assert await repo.report_rows() == []
        assert await repo.load_session("telegram", "1001") is not None
        # The failed attempt left no trace: the month can still be reported.
        assert (await repo.submit_report(submission())).revision == 1

    async def test_invalid_correction_keeps_the_report(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        original = await repo.submit_report(submission())
        bad = submission(report_values=values(progress="101.00"), reason="แก้")
        with pytest.raises(StorageError):
            await repo.correct_report(bad)
        assert await repo.get_report(FULL_PROJECT.code, 2568, 2) == original
        assert len(await repo.revisions(original.id)) == 1

    async def test_percent_with_more_than_two_places_is_refused(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        with pytest.raises(ValueError, match="decimal places"):
            await repo.submit_report(submission(report_values=values(progress="12.345")))
        assert await repo.report_rows() == []

    async def test_racing_submits_of_one_month_have_one_winner(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        attempts = [submission(report_values=values(note=f"ครั้งที่ {i}")) for i in range(10)]
        results = await asyncio.gather(
            *(repo.submit_report(a) for a in attempts), return_exceptions=True
        )
        winners = [r for r in results if isinstance(r, MonthlyReport)]
        assert len(winners) == 1
        assert sum(isinstance(r, AlreadyReported) for r in results) == 9
        assert await repo.get_report(FULL_PROJECT.code, 2568, 2) == winners[0]
        assert len(await repo.revisions(winners[0].id)) == 1

    async def test_a_project_file_holds_every_report(self, repo: Storage) -> None:
        project, _ = await repo.upsert_project(FULL_PROJECT)
        other = await add_project(repo, "Z-OTHER")
        await repo.submit_report(submission(report_no=3))
        await repo.submit_report(submission(report_no=1))
        await repo.submit_report(submission(fiscal_year=2567, report_no=12))
        by_id = await repo.project_file(project_id=project.id)
        by_code = await repo.project_file(code=FULL_PROJECT.code)
        assert by_id is not None and by_id == by_code
        assert by_id.project == project
        assert [(r.fiscal_year, r.report_no) for r in by_id.reports] == [
            (2567, 12), (2568, 1), (2568, 3),
        ]  # fmt: skip
        assert by_id.report(2568, 3) == await repo.get_report(FULL_PROJECT.code, 2568, 3)
        assert by_id.report(2568, 2) is None
        empty = await repo.project_file(code="Z-OTHER")
        assert empty is not None and (empty.project, empty.reports) == (other, ())
        assert await repo.project_file(code="NOPE") is None
        assert await repo.project_file(project_id=other.id + 100) is None
        with pytest.raises(ValueError, match="either"):
            await repo.project_file()

    async def test_project_files_in_bulk(self, repo: Storage) -> None:
        await repo.upsert_project(FULL_PROJECT)
        await add_project(repo, "A-FIRST")
        await repo.submit_report(submission(report_no=2))
        files = await repo.project_files([FULL_PROJECT.code, "A-FIRST", "NOPE"])
        assert [(f.project.code, len(f.reports)) for f in files] == [
            ("67-LKB-001", 1), ("A-FIRST", 0),
        ]  # fmt: skip
        assert [f.project.code for f in await repo.project_files()] == ["67-LKB-001", "A-FIRST"]
        assert await repo.project_files([]) == []


class TestConversations:
    """Sessions and handled updates: the `Conversations` role."""

    async def test_session_save_load_overwrite_clear(self, repo: Storage) -> None:
        assert await repo.load_session("telegram", "1001") is None
        first = session("1001", T0)
        await repo.save_session(first)
        loaded = await repo.load_session("telegram", "1001")
        assert loaded == first
        assert loaded is not None
        assert loaded.updated_at.utcoffset() == timedelta(hours=7)

        later = SessionState(
            "telegram", "1001", "ask_note", '{"progress": "45.50"}', T0 + timedelta(1)
        )
        await repo.save_session(later)
        assert await repo.load_session("telegram", "1001") == later
        assert await repo.load_session("line", "1001") is None

        await repo.clear_session("telegram", "1001")
        assert await repo.load_session("telegram", "1001") is None
        await repo.clear_session("telegram", "1001")  # clearing nothing is fine

    async def test_sessions_older_than_oldest_first(self, repo: Storage) -> None:
        noon = datetime(2024, 11, 5, 12, 0, tzinfo=BANGKOK)
        await repo.save_session(session("late", noon + timedelta(hours=1)))
        await repo.save_session(session("exact", noon))
        await repo.save_session(session("oldest", noon - timedelta(days=2)))
        # 04:30 UTC is 11:30 in Bangkok, after 10:00 in Bangkok, although its ISO text sorts first.
        await repo.save_session(session("utc", datetime(2024, 11, 5, 4, 30, tzinfo=UTC)))
        await repo.save_session(session("morning", datetime(2024, 11, 5, 10, 0, tzinfo=BANGKOK)))
        await repo.save_session(session("oldest", noon - timedelta(days=2), channel="line"))

        idle = await repo.sessions_older_than(noon)
        assert [(s.external_id, s.channel) for s in idle] == [
            ("oldest", "line"),
            ("oldest", "telegram"),
            ("morning", "telegram"),
            ("utc", "telegram"),
        ]
        assert idle[1] == session("oldest", noon - timedelta(days=2))
        assert await repo.sessions_older_than(noon - timedelta(days=3)) == []

    async def test_events_are_marked_with_the_write_they_caused(self, repo: Storage) -> None:
        first = EventMark("telegram", "501", T0)
        assert not await repo.event_handled("telegram", "501")
        await repo.save_session(session("1001", T0), event=first)
        assert await repo.event_handled("telegram", "501")
        assert not await repo.event_handled("line", "501"), "ids are per channel"
        assert await repo.mark_event(first) is False
        assert await repo.mark_event(EventMark("telegram", "502", T0)) is True
        await repo.clear_session("telegram", "1001", event=EventMark("telegram", "503", T0))
        assert await repo.event_handled("telegram", "503")

    async def test_a_failed_submit_does_not_mark_its_event(self, repo: Storage) -> None:
        await add_project(repo, "P1")
        await repo.submit_report(submission("P1"), event=EventMark("telegram", "1", T0))
        with pytest.raises(AlreadyReported):
            await repo.submit_report(submission("P1"), event=EventMark("telegram", "2", T0))
        assert await repo.event_handled("telegram", "1")
        assert not await repo.event_handled("telegram", "2")

    async def test_old_events_are_pruned(self, repo: Storage) -> None:
        await repo.mark_event(EventMark("telegram", "old", T0 - timedelta(days=8)))
        await repo.mark_event(EventMark("telegram", "new", T0))
        assert await repo.prune_events(T0 - timedelta(days=7)) == 1
        assert not await repo.event_handled("telegram", "old")
        assert await repo.event_handled("telegram", "new")

    async def test_a_turn_opens_with_one_read(self, repo: Storage) -> None:
        await add_project(repo, "OWN", agency=WORKS)
        await add_project(repo, "THEIRS", agency=WORKS)
        await add_project(repo, "WATCHED", agency=BANG_KAPI)
        me = await repo.add_person("ฉัน", roles=frozenset())
        colleague = await repo.add_person("เพื่อน", roles=frozenset())
        await repo.link_officer(me.id, "OWN")
        await repo.link_officer(colleague.id, "THEIRS")
        await repo.link_identity(ChatIdentity("line", "U1", me.id))
        unknown = await repo.open_turn("line", "U-nobody", "", T0.date())
        assert (unknown.person, unknown.session, unknown.handled) == (None, None, False)
        assert unknown.reach == Reach()

        opening = await repo.open_turn("line", "U1", "ev-1", T0.date())
        assert opening.person is not None and opening.person.id == me.id
        assert not opening.handled and opening.session is None
        assert opening.preferred_channel is None
        assert opening.reach == Reach(own=frozenset({"OWN"}))

        await repo.save_session(
            session("U1", T0, channel="line"), event=EventMark("line", "ev-1", T0)
        )
        await repo.set_preferred_channel(me.id, "line")
        await repo.add_delegation(
            Delegation(colleague.id, me.id, T0.date(), T0.date() + timedelta(days=3))
        )
        await repo.add_coordinator_scope(CoordinatorScope(me.id, agency=LAT_KRABANG))
        await repo.add_coordinator_scope(CoordinatorScope(me.id, project_code="WATCHED"))
        again = await repo.open_turn("line", "U1", "ev-1", T0.date())
        assert again.handled
        assert again.session == session("U1", T0, channel="line")
        assert again.preferred_channel == "line"
        assert again.reach == Reach(
            own=frozenset({"OWN"}),
            standing_in=frozenset({"THEIRS"}),
            agencies=(LAT_KRABANG,),
            watched=frozenset({"WATCHED"}),
        )
        # The web asks the same question by person (one policy for chat and web).
        assert await repo.reach_of(me.id, T0.date()) == again.reach
        assert await repo.reach_of(9999, T0.date()) == Reach()
        after = await repo.open_turn("line", "U1", "ev-2", T0.date() + timedelta(days=4))
        assert not after.handled and after.reach.standing_in == frozenset()
        assert await repo.reach_of(me.id, T0.date() + timedelta(days=4)) == after.reach
        await repo.add_person("ฉัน", roles=frozenset({Role.ADMIN}))
        assert (await repo.open_turn("line", "U1", "", T0.date())).reach.everything

    async def test_every_write_a_turn_ends_with_marks_its_event(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        await repo.create_invite(Invite("h9", person.id, T0, T0 + timedelta(days=7)))

        def event(n: int) -> EventMark:
            return EventMark("line", f"w-{n}", T0)

        await repo.set_blocked("line", "U1", True, T0, event=event(1))
        await repo.snooze(person.id, "P1", T0.date(), T0 + timedelta(days=1), event=event(2))
        await repo.set_notification(person.id, "digest", False, event=event(3))
        await repo.redeem_invite("h9", "line", "U2", T0, event=event(4))
        await repo.record_link_failure("line", "U3", T0, event=event(5))
        await repo.link_identity(ChatIdentity("line", "U4", person.id), event=event(6))
        await repo.end_delegations(person.id, T0.date(), event=event(7))
        for n in range(1, 8):
            assert await repo.event_handled("line", f"w-{n}"), n


class TestReminderLog:
    """Reminders, snoozes and notification switches: the `ReminderLog` role."""

    async def test_a_reminder_is_claimed_once_and_its_fate_recorded(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        key = ReminderKey(person.id, "P1", 2570, 2, "deadline")
        assert await repo.claim_reminder(key, "telegram", "42", T0)
        assert not await repo.claim_reminder(key, "telegram", "42", T0), "never twice"
        (record,) = await repo.reminder_records()
        assert record.status is DeliveryStatus.SENDING and record.attempts == 1
        assert record.retry_key == "", "no request key given"
        assert (record.channel, record.external_id, record.claimed_at) == ("telegram", "42", T0)
        await repo.finish_reminder(key, DeliveryStatus.RETRY, T0, "network down")
        assert await repo.reclaim_reminder(key, T0 + timedelta(hours=1))
        assert not await repo.reclaim_reminder(key, T0 + timedelta(hours=1)), "now SENDING"
        await repo.finish_reminder(key, DeliveryStatus.SENT, T0 + timedelta(hours=1))
        (record,) = await repo.reminder_records(DeliveryStatus.SENT)
        assert record.attempts == 2
        assert record.error == "", "the error of the last attempt"
        assert await repo.reminder_records(DeliveryStatus.RETRY) == []

    async def test_a_reminder_keeps_the_key_of_the_request_it_went_in(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        key = ReminderKey(person.id, "P1", 2570, 2, "deadline")
        request = "5b7a2c1e-0000-5000-8000-000000000001"
        assert await repo.claim_reminder(key, "line", "U1", T0)
        await repo.finish_reminder(key, DeliveryStatus.RETRY, T0, "HTTP 500", request)
        assert await repo.reclaim_reminder(key, T0 + timedelta(minutes=5))
        await repo.finish_reminder(key, DeliveryStatus.SENT, T0 + timedelta(minutes=5))
        (record,) = await repo.reminder_records()
        assert record.retry_key == request, "kept when the next outcome names none"

    async def test_reminders_left_sending_become_unknown(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        sending = ReminderKey(person.id, "P1", 2570, 2, "window")
        sent = ReminderKey(person.id, "P2", 2570, 2, "window")
        await repo.claim_reminder(sending, "telegram", "42", T0)
        await repo.claim_reminder(sent, "telegram", "42", T0)
        await repo.finish_reminder(sent, DeliveryStatus.SENT, T0)
        assert await repo.mark_in_doubt(T0 + timedelta(minutes=5)) == 1
        statuses = {r.key: r.status for r in await repo.reminder_records()}
        assert statuses == {sending: DeliveryStatus.UNKNOWN, sent: DeliveryStatus.SENT}
        assert [r.key for r in await repo.reminder_records(subject="P2")] == [sent]
        # With several processes, only claims older than a moment are in doubt.
        older = ReminderKey(person.id, "P3", 2570, 2, "window")
        newer = ReminderKey(person.id, "P4", 2570, 2, "window")
        await repo.claim_reminder(older, "telegram", "42", T0)
        await repo.claim_reminder(newer, "telegram", "42", T0 + timedelta(minutes=20))
        later = T0 + timedelta(minutes=25)
        assert await repo.mark_in_doubt(later, claimed_before=later - timedelta(minutes=10)) == 1
        left = {r.key for r in await repo.reminder_records(DeliveryStatus.SENDING)}
        assert left == {newer}
        # A retry taken back now is as fresh as a new claim, however old its first claim.
        await repo.finish_reminder(newer, DeliveryStatus.RETRY, later, "timeout")
        assert await repo.reclaim_reminder(newer, later + timedelta(minutes=30))
        again = later + timedelta(minutes=31)
        assert await repo.mark_in_doubt(again, claimed_before=again - timedelta(minutes=10)) == 0
        unknown = await repo.reminder_records(DeliveryStatus.UNKNOWN, subject="P2")
        assert unknown == []

    async def test_snooze_once_a_day(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        day = T0.date()
        assert await repo.snooze(person.id, "P1", day, T0 + timedelta(days=1))
        assert not await repo.snooze(person.id, "P1", day, T0 + timedelta(days=2))
        assert await repo.snooze(person.id, "P2", day, T0 + timedelta(days=1))
        (first, second) = await repo.snoozes()
        assert (first.project_code, first.until) == ("P1", T0 + timedelta(days=1))
        assert await repo.snooze(person.id, "P1", day + timedelta(days=1), T0 + timedelta(days=2))
        assert (await repo.snoozes())[0].until == T0 + timedelta(days=2)
        assert second.project_code == "P2"

    async def test_nudges_once_per_person_project_and_day(self, repo: Storage) -> None:
        await add_project(repo, "P1")
        await add_project(repo, "P2")
        officer = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        boss = await repo.add_person("น.ส.รัตนา", roles=frozenset({Role.COORDINATOR}))
        day = T0.date()

        def nudge(code: str, on: date, after: datetime) -> Nudge:
            return Nudge(boss.id, officer.id, code, 2570, 2, on, T0, after)

        morning = T0 + timedelta(hours=12)
        assert await repo.add_nudge(nudge("P1", day, T0))
        assert not await repo.add_nudge(nudge("P1", day, morning)), "once a day"
        assert await repo.add_nudge(nudge("P2", day, morning))
        assert await repo.add_nudge(nudge("P1", day + timedelta(days=1), morning))
        due = await repo.nudges_between(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
        assert due == [nudge("P1", day, T0)]
        later = await repo.nudges_between(T0, morning)
        assert [(n.project_code, n.day) for n in later] == [
            ("P2", day), ("P1", day + timedelta(days=1)),
        ]  # fmt: skip
        assert [n.day for n in await repo.nudges_of_project("P1")] == [
            day + timedelta(days=1), day,
        ]  # fmt: skip
        with pytest.raises(StorageError):
            await repo.add_nudge(nudge("NO-SUCH", day, T0))

    async def test_notification_settings(self, repo: Storage) -> None:
        person = await repo.add_person("น.ส.รัตนา", roles=frozenset({Role.COORDINATOR}))
        assert await repo.disabled_notifications() == {}
        await repo.set_notification(person.id, "digest", False)
        await repo.set_notification(person.id, "missing", False)
        await repo.set_notification(person.id, "missing", True)
        assert await repo.disabled_notifications() == {person.id: {"digest"}}


class TestInvites:
    """Invite codes and failed tries: the `Invites` role."""

    async def test_an_invite_links_once_before_it_expires(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        await repo.create_invite(Invite("h1", person.id, T0, T0 + timedelta(days=7)))
        result, linked = await repo.redeem_invite("h1", "telegram", "42", T0 + timedelta(days=1))
        assert result is InviteResult.LINKED
        assert linked is not None and linked.id == person.id
        assert await repo.find_person_by_identity("telegram", "42") == person
        again = await repo.redeem_invite("h1", "telegram", "43", T0 + timedelta(days=1))
        assert again == (InviteResult.USED, None)
        assert await repo.find_person_by_identity("telegram", "43") is None

    async def test_expired_and_unknown_invites_link_nothing(self, repo: Storage) -> None:
        person = await repo.add_person("นายวิชัย", roles=frozenset({Role.OFFICER}))
        await repo.create_invite(Invite("h2", person.id, T0, T0 + timedelta(days=7)))
        # The expiry is compared as an instant, whatever the offset of the times given.
        late = (T0 + timedelta(days=7, seconds=1)).astimezone(UTC)
        assert await repo.redeem_invite("h2", "line", "U1", late) == (InviteResult.EXPIRED, None)
        assert await repo.redeem_invite("nope", "line", "U1", T0) == (InviteResult.UNKNOWN, None)
        assert await repo.find_person_by_identity("line", "U1") is None

    async def test_link_failures_are_counted_per_account_and_time(self, repo: Storage) -> None:
        for minutes in (0, 10, 70):
            await repo.record_link_failure("telegram", "9", T0 + timedelta(minutes=minutes))
        await repo.record_link_failure("telegram", "8", T0)
        since = (T0 + timedelta(minutes=5)).astimezone(UTC)
        assert await repo.link_failures_since("telegram", "9", since) == 2
        assert await repo.link_failures_since("telegram", "9", T0) == 3
        assert await repo.link_failures_since("line", "9", T0) == 0


async def another_process(request: pytest.FixtureRequest, tmp_path: Path) -> Storage | None:
    """A second storage on the same database, as another process would open it (None where a
    database is one process's alone: the in-memory ones)."""
    kind = request.node.callspec.params["repo"]
    if kind == "sqlite-file":
        return await SqliteStorage.open(tmp_path / "progress.db")
    if kind == "postgres":
        from storage.postgres import PostgresStorage

        return await PostgresStorage.open(request.getfixturevalue("postgres_url"))
    return None


class TestProcesses:
    """Several processes on one database: the `Processes` role."""

    async def test_one_process_polls_a_channel(
        self, repo: Storage, request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        assert await repo.hold_poller("telegram")
        assert await repo.hold_poller("telegram"), "held already by this process"
        assert await repo.still_poller("telegram")
        other = await another_process(request, tmp_path)
        if other is None:
            return
        try:
            assert not await other.hold_poller("telegram"), "a second poller does not start"
            assert await other.hold_poller("line"), "another channel is another lock"
        finally:
            await other.close()
        third = await another_process(request, tmp_path)
        assert third is not None
        try:
            assert not await third.hold_poller("telegram")
            await repo.close()  # the poller stops: its lock goes with it
            assert await third.hold_poller("telegram")
        finally:
            await third.close()

    async def test_a_job_runs_in_one_process_at_a_time(
        self, repo: Storage, request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        async with repo.only_one("reminders") as mine:
            assert mine
        if request.node.callspec.params["repo"] != "postgres":
            return  # one process serves a SQLite database
        other = await another_process(request, tmp_path)
        assert other is not None
        order: list[str] = []

        async def after_it() -> None:
            async with other.only_one("reminders", wait=True) as mine:
                order.append(f"waited: {mine}")

        try:
            async with repo.only_one("reminders") as mine:
                async with other.only_one("reminders") as theirs:
                    assert mine and not theirs, "skipped while another process runs it"
                async with other.only_one("digest") as theirs:
                    assert theirs, "another job is another lock"
                waiting = asyncio.create_task(after_it())
                await waiting_on_a_lock(other)
                order.append("first done")
            await waiting
            assert order == ["first done", "waited: True"]
        finally:
            await other.close()

    async def test_a_database_that_answers_is_healthy(self, repo: Storage) -> None:
        assert await repo.healthy()

    async def test_a_persons_turn_waits_for_the_same_person_in_another_process(
        self, repo: Storage, request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        async with repo.person_turn("telegram", "42"):
            pass  # every backend takes and gives back a turn
        if request.node.callspec.params["repo"] != "postgres":
            return  # one process serves a SQLite database: its conversation's lock suffices
        other = await another_process(request, tmp_path)
        assert other is not None
        order: list[str] = []

        async def turn(store: Storage, user: str, name: str) -> None:
            async with store.person_turn("telegram", user):
                order.append(name)

        try:
            async with repo.person_turn("telegram", "42"):
                waiting = asyncio.create_task(turn(other, "42", "same person"))
                await turn(other, "43", "someone else")  # not held up
                await waiting_on_a_lock(other)
                assert order == ["someone else"] and not waiting.done()
                order.append("first turn ends")
            await waiting
            assert order == ["someone else", "first turn ends", "same person"]
        finally:
            await other.close()


async def waiting_on_a_lock(store: Storage) -> None:
    """Return once some connection of the server waits for an advisory lock (bounded)."""
    pg: Any = store
    for _ in range(2000):
        waiting = await pg._pool.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        if waiting:
            return
        await asyncio.sleep(0)
    raise AssertionError("no turn ever waited for the lock")
