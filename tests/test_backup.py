"""Online backup while reports are being written, the check of the copy, and restoring it."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from domain.fiscal import ReportMonth
from domain.models import Submission
from storage.backup import BackupResult, backup_database, check_database, restore_database
from storage.errors import StorageError
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, ROAD, build_world, values
from tests.test_cli import run


def submission(code: str, no: int) -> Submission:
    month = ReportMonth(2570, no)
    at = datetime(month.year, month.month, 25, 10, tzinfo=BANGKOK)
    return Submission(code, 2570, no, values(str(no * 5), str(no * 1000), on=month.last_day),
                      None, "telegram", at)  # fmt: skip


async def test_a_backup_taken_while_reports_are_written_is_a_consistent_snapshot(
    tmp_path: Path,
) -> None:
    repo = await SqliteStorage.open(tmp_path / "live.sqlite3")
    await build_world(repo)
    codes = [p.code for p in await repo.list_projects()]
    stop = asyncio.Event()

    async def write() -> int:
        written = 0
        for no in range(1, 13):
            for code in codes:
                await repo.submit_report(submission(code, no))
                written += 1
                await asyncio.sleep(0)
        stop.set()
        return written

    writer = asyncio.create_task(write())
    copies: list[BackupResult] = []
    while not stop.is_set():
        target = tmp_path / f"copy-{len(copies)}.sqlite3"
        copies.append(await asyncio.to_thread(backup_database, tmp_path / "live.sqlite3", target))
    written = await writer
    final = await asyncio.to_thread(backup_database, tmp_path / "live.sqlite3", tmp_path / "f.db")
    await repo.close()

    assert copies, "at least one backup ran during the writes"
    assert final.rows["monthly_reports"] == written
    for copy in [*copies, final]:
        version, rows = check_database(copy.path)
        assert rows == copy.rows and version == copy.schema_version
        # Every report in the copy has its revision: no write is caught half-done.
        assert rows["monthly_reports"] == rows["report_revisions"]
        assert not copy.path.with_name(f".{copy.path.name}.partial").exists()


async def test_a_restored_backup_holds_the_same_reports(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    repo = await SqliteStorage.open(source)
    await build_world(repo)
    await repo.submit_report(submission(ROAD.code, 1))
    before = await repo.reports_of_project(ROAD.code)
    backup_database(source, tmp_path / "backup.sqlite3")
    await repo.submit_report(submission(ROAD.code, 2))  # after the backup: not in it
    await repo.close()

    restore_database(tmp_path / "backup.sqlite3", source)
    assert (tmp_path / "live.sqlite3.before-restore").is_file(), "the replaced one is kept"
    restored = await SqliteStorage.open(source)
    try:
        assert await restored.reports_of_project(ROAD.code) == before
        assert [r.revision for r in await restored.revisions(before[0].id)] == [1]
    finally:
        await restored.close()
    kept = await SqliteStorage.open(tmp_path / "live.sqlite3.before-restore")
    try:
        assert len(await kept.reports_of_project(ROAD.code)) == 2
    finally:
        await kept.close()


def test_bad_files_are_refused_and_leave_nothing_behind(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StorageError):
        check_database(junk)
    with pytest.raises(StorageError):
        backup_database(junk, tmp_path / "out.sqlite3")
    assert not (tmp_path / "out.sqlite3").exists()
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StorageError, match="ไม่ใช่ฐานข้อมูลของ progress-bot"):
        restore_database(other, tmp_path / "db.sqlite3")
    assert not (tmp_path / "db.sqlite3").exists()
    with pytest.raises(StorageError, match="ไม่พบไฟล์ฐานข้อมูลที่"):
        backup_database(tmp_path / "missing.sqlite3", tmp_path / "x.sqlite3")
    with pytest.raises(StorageError, match="คนละไฟล์กับตัวฐานข้อมูล"):
        backup_database(junk, junk)


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "demo-data").returncode == 0
    taken = run(tmp_path, "backup", "--out", "b.sqlite3")
    assert taken.returncode == 0, taken.stderr
    assert "ตรวจสอบแล้วไม่เสียหาย" in taken.stdout and "รายงานประจำเดือน 12" in taken.stdout
    assert not list(tmp_path.glob(".b.sqlite3*")), "no partial copy nor its journal left behind"
    restored = run(tmp_path, "restore", "--from", "b.sqlite3")
    assert restored.returncode == 0, restored.stderr
    assert "before-restore" in restored.stdout
    assert not list(tmp_path.glob(".bot.sqlite3*")), "no partial copy nor its journal left behind"
    missing = run(tmp_path, "backup", "--out", str(tmp_path / "no" / "such" / "dir.sqlite3"))
    assert missing.returncode == 1 and "ผิดพลาด: เขียนไฟล์สำรองไม่ได้" in missing.stderr
