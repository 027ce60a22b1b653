"""`database copy`: everything from SQLite into PostgreSQL and back, checked, value for value.

A database with every kind of row (projects, people and roles, chat accounts, reports with
corrections, a conversation in progress, reminders, snoozes, stand-ins, invites, sign-in links,
nudges) goes to a real PostgreSQL server, then from there into a new SQLite file; what the bot
reads from each of the three is the same, and each table holds as many rows. A copy into a
database that holds rows is refused; ids go on after the copied ones.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.models import (
    ChatIdentity,
    Delegation,
    DeliveryStatus,
    EventMark,
    Invite,
    Nudge,
    ReminderKey,
    Role,
    SessionState,
    Submission,
)
from storage.copy import TABLES, copy_database
from storage.errors import StorageError
from storage.postgres import PostgresStorage, empty_every_table
from storage.sqlite import SqliteStorage
from tests.backends import Database
from tests.support import NOW, ROAD, SCHOOL, build_world, stored_report, values


@pytest.fixture
async def postgres(postgres_url: str) -> AsyncIterator[PostgresStorage]:
    repo = await PostgresStorage.open(postgres_url)
    await empty_every_table(repo)
    try:
        yield repo
    finally:
        await repo.close()


async def fill(repo: SqliteStorage) -> None:
    """One of every kind of row."""
    world = await build_world(repo)
    await stored_report(repo, ROAD.code, 1, "10", "5000")
    await stored_report(repo, ROAD.code, 2, "30", "100000")
    [report] = [r for r in await repo.reports_of_project(ROAD.code) if r.report_no == 2]
    correction = Submission(
        ROAD.code, 2570, 2, replace(values("35", "120000"), note="แก้ตัวเลข"), world.officer.id,
        "telegram", NOW, reason="พิมพ์ผิด",
    )  # fmt: skip
    await repo.correct_report(correction)
    assert report.id
    await repo.link_identity(ChatIdentity("telegram", "1001", world.officer.id))
    await repo.link_identity(ChatIdentity("line", "U-จ", world.single.id))
    await repo.save_session(
        SessionState("telegram", "1001", "ask_progress", '{"project": "ถนน"}', NOW),
        event=EventMark("telegram", "u-7", NOW),
    )
    key = ReminderKey(world.officer.id, ROAD.code, 2570, 2, "window")
    await repo.claim_reminder(key, "telegram", "1001", NOW)
    await repo.finish_reminder(key, DeliveryStatus.SENT, NOW)
    await repo.snooze(world.officer.id, ROAD.code, NOW.date(), NOW + timedelta(days=1))
    await repo.add_delegation(
        Delegation(world.officer.id, world.single.id, NOW.date(), NOW.date() + timedelta(days=3))
    )
    await repo.create_invite(Invite("hash-1", world.single.id, NOW, NOW + timedelta(days=7)))
    await repo.create_web_link("link-hash", world.coordinator.id, NOW + timedelta(minutes=10))
    await repo.create_web_session("session-hash", world.coordinator.id, NOW + timedelta(hours=9))
    await repo.add_nudge(
        Nudge(world.coordinator.id, world.single.id, SCHOOL.code, 2570, 2, NOW.date(), NOW, NOW)
    )
    await repo.set_notification(world.coordinator.id, "digest", False)


async def reads(repo: Any) -> list[Any]:
    """What the bot reads: enough to tell two databases apart."""
    reports = await repo.report_rows(fiscal_year=2570)
    revisions = [await repo.revisions(report.id) for _, report in reports]
    day = NOW.date()
    return [
        await repo.list_projects(), await repo.all_people(), reports, revisions,
        await repo.all_identities(), await repo.load_session("telegram", "1001"),
        await repo.reminder_records(), await repo.snoozes(), await repo.delegations_on(day),
        await repo.nudges_of_project(SCHOOL.code), await repo.disabled_notifications(),
        await repo.web_session_person("session-hash", NOW),
        await repo.event_handled("telegram", "u-7"),
        [await repo.reach_of(p.id, day) for p in await repo.all_people()],
    ]  # fmt: skip


async def test_sqlite_to_postgresql_and_back_keeps_every_row(
    tmp_path: Path, postgres: PostgresStorage
) -> None:
    sqlite = await SqliteStorage.open(tmp_path / "office.sqlite3")
    again = None
    try:
        await fill(sqlite)
        there = await copy_database(sqlite, postgres)
        assert there.rows["report_revisions"] == 3 and there.rows["sessions"] == 1
        assert set(there.rows) == set(TABLES)
        again = await SqliteStorage.open(tmp_path / "back.sqlite3")
        back = await copy_database(postgres, again)
        assert back.rows == there.rows
        original = await reads(sqlite)
        assert await reads(postgres) == original
        assert await reads(again) == original
        # New rows go on after the copied ids.
        newcomer = await postgres.add_person("ผู้มาใหม่", roles=frozenset({Role.OFFICER}))
        assert newcomer.id == max(p.id for p in await sqlite.all_people()) + 1
    finally:
        await sqlite.close()
        if again is not None:
            await again.close()


async def test_a_copy_into_a_database_with_rows_is_refused(
    tmp_path: Path, postgres: PostgresStorage
) -> None:
    sqlite = await SqliteStorage.open(tmp_path / "office.sqlite3")
    try:
        await fill(sqlite)
        await postgres.add_person("มีอยู่แล้ว", roles=frozenset())
        with pytest.raises(StorageError, match="ฐานข้อมูลปลายทางมีข้อมูลอยู่แล้ว"):
            await copy_database(sqlite, postgres)
        assert len(await postgres.all_people()) == 1, "nothing was written"
    finally:
        await sqlite.close()


def test_the_command_copies_the_demo_office_to_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PYTHAINLP_READ_ONLY": "1", "PROGRESS_BOT_DATABASE": str(tmp_path / "demo.db"),
               "PROGRESS_BOT_FIXED_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin"}  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=tmp_path,
            env=env, timeout=120, check=False,
        )  # fmt: skip

    import asyncio

    asyncio.run(Database(tmp_path / "unused.sqlite3", postgres_url).empty())
    assert cli("demo-data").returncode == 0
    done = cli("database", "copy", "--to", postgres_url)
    assert done.returncode == 0, done.stderr
    assert "ตรวจแล้วตรงกันทุกตาราง" in done.stdout and "report_revisions" in done.stdout
    again = cli("database", "copy", "--to", postgres_url)
    assert again.returncode == 1 and "มีข้อมูลอยู่แล้ว" in again.stderr
