"""What only the SQLite repository has: pragmas, migrations, triggers, real concurrency.

These tests reach into `repo._db` (the raw connection) on purpose: they check the database itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

import storage.sqlite
from domain.models import MonthlyReport, ProjectData, ReportValues, Role, SessionState, Submission
from storage.errors import AlreadyReported, DatabaseUnusable, StorageError
from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from storage.sqlite import SqliteStorage

BANGKOK = ZoneInfo("Asia/Bangkok")
T0 = datetime(2024, 11, 5, 9, 30, tzinfo=BANGKOK)


def submission(code: str, report_no: int, note: str = "", fiscal_year: int = 2568) -> Submission:
    """A monthly report for one project and month."""
    values = ReportValues(
        reported_on=date(2024, 11, 30),
        progress=Decimal("10.00") + report_no,
        disbursed=Decimal("1000.50"),
        note=note,
        on_plan=True,
        plan_reason="",
        on_target=True,
        target_reason="",
    )
    return Submission(code, fiscal_year, report_no, values, None, "telegram", T0)


async def scalar(db: aiosqlite.Connection, sql: str) -> Any:
    """The first column of the first row."""
    async with db.execute(sql) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    """A repository over a fresh database file."""
    repository = await SqliteStorage.open(tmp_path / "progress.db")
    try:
        yield repository
    finally:
        await repository.close()


async def test_file_database_is_in_wal_mode(repo: SqliteStorage) -> None:
    assert await scalar(repo._db, "PRAGMA journal_mode") == "wal"


async def test_foreign_keys_are_enforced(repo: SqliteStorage) -> None:
    assert await scalar(repo._db, "PRAGMA foreign_keys") == 1
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await repo._db.execute("INSERT INTO project_officers (project_id, person_id) VALUES (7, 9)")


@pytest.mark.parametrize("where", ["file", "memory"])
async def test_open_migrates_to_the_current_schema(tmp_path: Path, where: str) -> None:
    path = tmp_path / "progress.db" if where == "file" else ":memory:"
    repo = await SqliteStorage.open(path)
    try:
        assert await scalar(repo._db, "PRAGMA user_version") == SCHEMA_VERSION
        assert await scalar(repo._db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'") > 0
    finally:
        await repo.close()


async def test_reopening_keeps_data_and_does_not_migrate_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "progress.db"
    repo = await SqliteStorage.open(path)
    project, _ = await repo.upsert_project(ProjectData("P1", "โครงการทดสอบ", 2568))
    person = await repo.add_person("สมชาย", roles=frozenset({Role.OFFICER}))
    report = await repo.submit_report(submission("P1", 2))
    await repo.save_session(SessionState("line", "U1", "ask_note", "{}", T0))
    schema = await repo._db.execute_fetchall("SELECT name, sql FROM sqlite_master ORDER BY name")
    await repo.close()

    # Any migration that ran now would fail, so a successful open proves none ran.
    monkeypatch.setattr(storage.sqlite, "MIGRATIONS", ("NOT SQL AT ALL;",) * SCHEMA_VERSION)
    with pytest.raises(DatabaseUnusable, match="syntax error"):
        await SqliteStorage.open(tmp_path / "fresh.db")
    reopened = await SqliteStorage.open(path)
    try:
        assert await scalar(reopened._db, "PRAGMA user_version") == SCHEMA_VERSION
        after = await reopened._db.execute_fetchall(
            "SELECT name, sql FROM sqlite_master ORDER BY name"
        )
        assert list(after) == list(schema)
        assert await reopened.get_project("P1") == project
        assert await reopened.get_person(person.id) == person
        assert await reopened.get_report("P1", 2568, 2) == report
        assert await reopened.load_session("line", "U1") is not None
    finally:
        await reopened.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "from-the-future.db"
    async with aiosqlite.connect(path) as db:
        await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        await db.commit()
    with pytest.raises(StorageError, match="ใหม่กว่าที่โปรแกรมนี้รู้จัก"):
        await SqliteStorage.open(path)
    async with aiosqlite.connect(path) as db:
        assert await scalar(db, "PRAGMA user_version") == SCHEMA_VERSION + 1
        assert await scalar(db, "SELECT count(*) FROM sqlite_master") == 0


async def test_report_history_cannot_be_rewritten(repo: SqliteStorage) -> None:
    await repo.upsert_project(ProjectData("P1", "โครงการทดสอบ", 2568))
    report = await repo.submit_report(submission("P1", 2, note="ครั้งแรก"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await repo._db.execute("UPDATE report_revisions SET note = 'แก้ลับหลัง'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await repo._db.execute("DELETE FROM report_revisions")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        await repo._db.execute("DELETE FROM monthly_reports")
    [first] = await repo.revisions(report.id)
    assert first.values.note == "ครั้งแรก"
    assert await repo.get_report("P1", 2568, 2) == report


async def test_amounts_are_stored_as_integers(repo: SqliteStorage) -> None:
    data = ProjectData("P1", "โครงการทดสอบ", 2568, budget_received=Decimal("1234567.89"))
    await repo.upsert_project(data)
    await repo.submit_report(submission("P1", 2))
    assert await scalar(repo._db, "SELECT budget_received_satang FROM projects") == 123456789
    assert await scalar(repo._db, "SELECT progress_centi FROM report_revisions") == 1200
    assert await scalar(repo._db, "SELECT disbursed_satang FROM report_revisions") == 100050


async def test_a_refused_write_rolls_back_and_hides_the_driver(repo: SqliteStorage) -> None:
    await repo.upsert_project(ProjectData("P1", "โครงการทดสอบ", 2568))
    await repo.submit_report(submission("P1", 2))
    with pytest.raises(AlreadyReported):
        await repo.submit_report(submission("P1", 2))
    assert not repo._db.in_transaction
    with pytest.raises(StorageError) as refused:
        await repo.submit_report(submission("P1", 13))
    assert isinstance(refused.value.__cause__, sqlite3.IntegrityError)
    assert not repo._db.in_transaction
    assert await scalar(repo._db, "SELECT count(*) FROM monthly_reports") == 1


async def test_concurrent_submits_store_exactly_the_right_rows(tmp_path: Path) -> None:
    path = tmp_path / "progress.db"
    repo = await SqliteStorage.open(path)
    codes = [f"P{n}" for n in range(1, 6)]
    for code in codes:
        await repo.upsert_project(ProjectData(code, f"โครงการ {code}", 2568))
    distinct = [submission(code, month) for code in codes for month in range(1, 11)]
    racing = [submission("P1", 12, note=f"ผู้ส่งคนที่ {n}") for n in range(10)]
    # Interleave the racers with the others so that they really meet in the event loop.
    attempts = distinct[:25] + racing[:5] + distinct[25:] + racing[5:]
    results = await asyncio.gather(
        *(repo.submit_report(a) for a in attempts), return_exceptions=True
    )
    await repo.close()

    stored = [r for r in results if isinstance(r, MonthlyReport)]
    refused = [r for r in results if isinstance(r, AlreadyReported)]
    assert len(stored) == 51
    assert len(refused) == 9
    assert len({r.id for r in stored}) == 51
    [winner] = [r for r in stored if r.report_no == 12]

    reopened = await SqliteStorage.open(path)
    try:
        rows = await reopened.report_rows()
        expected = sorted([(s.project_code, s.report_no) for s in distinct] + [("P1", 12)])
        assert [(r.project_code, r.report_no) for _, r in rows] == expected
        assert await reopened.get_report("P1", 2568, 12) == winner
        assert [r.revision for r in await reopened.revisions(winner.id)] == [1]
        assert await scalar(reopened._db, "SELECT count(*) FROM report_revisions") == 51
        by_month = {(r.project_code, r.report_no): r for _, r in rows}
        for sent in distinct:
            assert by_month[sent.project_code, sent.report_no].values == sent.values
    finally:
        await reopened.close()


async def test_sent_at_keeps_the_bangkok_offset(repo: SqliteStorage) -> None:
    await repo.upsert_project(ProjectData("P1", "โครงการทดสอบ", 2568))
    await repo.submit_report(submission("P1", 2))
    stored = await scalar(repo._db, "SELECT changed_at FROM report_revisions")
    assert stored == "2024-11-05T09:30:00+07:00"
    report = await repo.get_report("P1", 2568, 2)
    assert report is not None
    assert report.sent_at == T0
    assert report.sent_at.utcoffset() == timedelta(hours=7)


async def test_a_version_1_database_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    db = await aiosqlite.connect(str(path), isolation_level=None)
    await db.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version = 1;\nCOMMIT;")
    await db.executescript(
        "INSERT INTO projects (code, name, fiscal_year) VALUES ('P1', 'โครงการเดิม', 2569);"
        "INSERT INTO people (name) VALUES ('นายเดิม');"
        "INSERT INTO chat_identities VALUES ('console', 'old', 1);"
        "INSERT INTO monthly_reports (project_id, fiscal_year, report_no) VALUES (1, 2569, 1);"
        "INSERT INTO report_revisions (report_id, revision, reported_on, progress_centi, "
        "disbursed_satang, on_plan, on_target, channel, changed_at) "
        "VALUES (1, 1, '2025-10-31', 1250, 5000000, 1, 1, 'console', '2025-10-31T16:00:00+07:00');"
    )
    await db.close()

    repo = await SqliteStorage.open(path)
    try:
        async with repo._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == SCHEMA_VERSION
        report = await repo.get_report("P1", 2569, 1)
        assert report is not None
        assert report.values.progress == Decimal("12.50")
        assert report.values.disbursed == Decimal("50000.00")
        person = await repo.find_person_by_identity("console", "old")
        assert person is not None and person.name == "นายเดิม"
        assert not await repo.event_handled("telegram", "1"), "the new tables exist and work"
    finally:
        await repo.close()
