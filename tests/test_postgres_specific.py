"""What only PostgreSQL has: its migrations (one process at a time), report revisions kept
append-only by triggers and by the bot's own role, and a server that cannot be reached."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from domain.models import Role, Submission
from storage.errors import DatabaseTooNew, DatabaseUnusable, StorageError
from storage.pg_schema import PG_SCHEMA_VERSION, app_role_grants
from storage.postgres import PostgresStorage, redacted
from tests.support import NOW, ROAD, build_world, stored_report, values


@pytest.fixture
async def fresh_url(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server (dropped afterwards)."""
    name = f"fresh_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_processes_starting_together_migrate_once(fresh_url: str) -> None:
    first, second = await asyncio.gather(
        PostgresStorage.open(fresh_url), PostgresStorage.open(fresh_url)
    )
    try:
        for repo in (first, second):
            assert await repo._all("SELECT version FROM schema_version") == [(PG_SCHEMA_VERSION,)]
        await first.add_person("คนแรก", roles=frozenset())
        assert [p.name for p in await second.all_people()] == ["คนแรก"]
    finally:
        await first.close()
        await second.close()
    again = await PostgresStorage.open(fresh_url)  # opening again changes nothing
    try:
        assert len(await again.all_people()) == 1
    finally:
        await again.close()


async def test_a_database_of_a_newer_program_is_refused(fresh_url: str) -> None:
    repo = await PostgresStorage.open(fresh_url)
    await repo._execute("UPDATE schema_version SET version = ?", (PG_SCHEMA_VERSION + 1,))
    await repo.close()
    with pytest.raises(DatabaseTooNew, match="ใหม่กว่าที่โปรแกรมนี้รู้จัก"):
        await PostgresStorage.open(fresh_url)


async def test_report_revisions_cannot_be_changed_or_removed(fresh_url: str) -> None:
    repo = await PostgresStorage.open(fresh_url)
    try:
        await build_world(repo)
        await stored_report(repo, ROAD.code, 2, "30", "100000")
        for statement in (
            "UPDATE report_revisions SET note = 'แก้ย้อนหลัง'",
            "DELETE FROM report_revisions",
            "TRUNCATE report_revisions CASCADE",
            "DELETE FROM monthly_reports",
        ):
            with pytest.raises(StorageError, match="append-only"):
                await repo._execute(statement)
        assert [r.revision for _, r in await repo.report_rows(fiscal_year=2570)] == [1]
    finally:
        await repo.close()


async def test_the_bots_own_role_cannot_rewrite_history_but_can_do_its_work(
    fresh_url: str,
) -> None:
    owner = await PostgresStorage.open(fresh_url)  # the schema's owner migrates it
    role = f"app_{secrets.token_hex(4)}"
    try:
        await owner._execute(f'CREATE ROLE "{role}" LOGIN')
        command = [sys.executable, "-m", "bot", "database", "grants", "--role", role]
        printed = (await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, check=True,
            env={"PYTHAINLP_READ_ONLY": "1"},
        )).stdout  # fmt: skip
        assert printed.splitlines()[1:] == app_role_grants(role).strip().splitlines()
        async with owner._transaction() as conn:
            await conn.execute(printed)  # as the owner runs what the command printed
        world = await build_world(owner)
    finally:
        await owner.close()
    as_app = fresh_url.replace("progress@", f"{role}@", 1)
    repo = await PostgresStorage.open(as_app)
    try:
        await stored_report(repo, ROAD.code, 2, "30", "100000")
        correction = Submission(
            ROAD.code, 2570, 2, replace(values("35", "120000"), note="แก้ไข"),
            world.officer.id, "telegram", NOW, reason="พิมพ์ผิด",
        )  # fmt: skip
        await repo.correct_report(correction)
        await repo.add_person("เจ้าหน้าที่ใหม่", roles=frozenset({Role.OFFICER}))
        app = await asyncpg.connect(as_app)
        try:
            for statement in (
                "UPDATE report_revisions SET note = 'x'",
                "DELETE FROM report_revisions",
                "DELETE FROM monthly_reports",
                "TRUNCATE report_revisions",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await app.execute(statement)
        finally:
            await app.close()
    finally:
        await repo.close()


async def test_a_server_that_cannot_be_reached_is_a_plain_message_without_the_password() -> None:
    url = "postgresql://bot:very-secret@127.0.0.1:9/progress"  # port 9: nothing listens
    with pytest.raises(DatabaseUnusable) as refused:
        await PostgresStorage.open(url)
    assert "เชื่อมต่อฐานข้อมูล postgresql://bot@127.0.0.1:9/progress ไม่ได้" in str(refused.value)
    assert "very-secret" not in str(refused.value)
    assert redacted("postgresql://u:p@h/db") == "postgresql://u@h/db"
    assert redacted("postgresql://h/db") == "postgresql://h/db"
    shown = redacted("postgresql://bot@db/x?password=s3cret&sslmode=require")
    assert shown == "postgresql://bot@db/x?sslmode=require"


async def test_health_is_false_once_the_server_is_gone() -> None:
    from tests import pg_server

    try:
        server = pg_server.start()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    try:
        repo = await PostgresStorage.open(server.url)
        assert await repo.healthy()
        server.stop()
        assert not await repo.healthy(), "a load balancer takes this process out"
        await repo.close()
    finally:
        server.stop()


async def test_the_command_line_works_on_postgresql(fresh_url: str, tmp_path: Path) -> None:
    """The everyday commands with `PROGRESS_BOT_DATABASE_URL`: the demo office, lists, an
    export, the reminders preview; SQLite's file backup says to use pg_dump."""

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PYTHAINLP_READ_ONLY": "1", "PROGRESS_BOT_DATABASE_URL": fresh_url,
               "PROGRESS_BOT_FIXED_NOW": NOW.isoformat(), "PATH": "/usr/bin:/bin"}  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=tmp_path,
            env=env, timeout=120, check=False,
        )  # fmt: skip

    def run_all() -> list[subprocess.CompletedProcess[str]]:
        return [
            cli("demo-data"), cli("projects", "list"), cli("people", "list"),
            cli("export", "--format", "csv", "--out", "-"),
            cli("reminders", "preview", "--at", "25/11/2569 09:00"),
            cli("backup", "--out", "b.sqlite3"),
        ]  # fmt: skip

    demo, projects, people, export, preview, backup = await asyncio.to_thread(run_all)
    for done in (demo, projects, people, export, preview):
        assert done.returncode == 0, done.stderr
    assert "demo-officer" in people.stdout or "console" in people.stdout
    assert len(projects.stdout.splitlines()) >= 4
    assert export.stdout.startswith("\ufeff") and "รหัสโครงการ" in export.stdout
    assert backup.returncode == 1 and "pg_dump" in backup.stderr
    repo = await PostgresStorage.open(fresh_url)
    try:
        assert len(await repo.list_projects()) == len(projects.stdout.splitlines())
    finally:
        await repo.close()


async def test_a_small_pool_serves_more_turns_than_it_has_connections(fresh_url: str) -> None:
    """`database.connections = 4`: two for queries, two for turns; twenty people at once wait
    their turn, each turn's queries still served (no turn holds the connection a query needs)."""
    repo = await PostgresStorage.open(fresh_url, connections=4)
    served: list[int] = []

    async def turn(n: int) -> None:
        async with repo.person_turn("telegram", str(n)):
            await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset())
            served.append(n)

    try:
        await asyncio.wait_for(asyncio.gather(*(turn(n) for n in range(20))), timeout=60)
        assert sorted(served) == list(range(20)) and len(await repo.all_people()) == 20
    finally:
        await repo.close()


async def test_a_poller_that_lost_its_connection_knows_and_takes_the_lock_again(
    fresh_url: str,
) -> None:
    first = await PostgresStorage.open(fresh_url)
    second = await PostgresStorage.open(fresh_url)
    try:
        assert await first.hold_poller("telegram") and await first.still_poller("telegram")
        pid = await first._pollers["telegram"].fetchval("SELECT pg_backend_pid()")
        await second._execute("SELECT pg_terminate_backend(?)", (pid,))  # a network cut
        assert await second.hold_poller("telegram"), "the lock went with the connection"
        assert not await first.still_poller("telegram"), "another process polls now"
        await second.close()
        assert await first.still_poller("telegram"), "free again: taken again"
    finally:
        await first.close()
        await second.close()
