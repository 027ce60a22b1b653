"""The storage over SQLite (aiosqlite): WAL, foreign keys on, numbered migrations.

The class is assembled from parts, one per storage role (storage.contracts): sqlite_reports,
sqlite_registry, sqlite_accounts, sqlite_conversations and sqlite_reminders.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from storage.errors import DatabaseTooNew
from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from storage.sqlite_accounts import AccountsPart
from storage.sqlite_base import from_satang, to_satang
from storage.sqlite_conversations import ConversationsPart
from storage.sqlite_faults import damaged, database_fault
from storage.sqlite_processes import ProcessesPart
from storage.sqlite_registry import RegistryPart
from storage.sqlite_reminders import RemindersPart
from storage.sqlite_reports import ReportsPart
from storage.sqlite_web import WebPart

__all__ = ["SqliteStorage", "from_satang", "migrate", "to_satang"]


class SqliteStorage(
    ReportsPart,
    RegistryPart,
    AccountsPart,
    ConversationsPart,
    RemindersPart,
    WebPart,
    ProcessesPart,
):
    """Every storage role over one SQLite file. Open it with `await SqliteStorage.open(path)`."""

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStorage:
        """Open (creating if needed) the database at `path` (":memory:" for a throwaway one).

        A file that cannot be used (damaged, not a database, read-only, in a missing folder) is
        refused here with a DatabaseUnusable naming it and what is wrong, before any work starts.
        """
        where = Path(path)
        in_memory = str(path) == ":memory:"
        if not in_memory:
            # Opened once with the standard driver first: a file SQLite cannot open fails here.
            # (aiosqlite 0.22, on a failed connect, leaves its worker thread to report to an
            # event loop that may have closed meanwhile, which prints a stray traceback.)
            try:
                await asyncio.to_thread(_open_and_close, str(path))
            except sqlite3.Error as error:
                raise database_fault(where, error) from error
        db = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA busy_timeout = 5000")
            if not in_memory:
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA synchronous = NORMAL")
                if not await _sound(db):
                    raise damaged(where)
            await migrate(db, where)
            if not in_memory:
                await _check_writable(db)
        except sqlite3.Error as error:
            await db.close()
            raise database_fault(where, error) from error
        except BaseException:
            await db.close()
            raise
        return cls(db, None if in_memory else where)


def _open_and_close(path: str) -> None:
    sqlite3.connect(path).close()


async def _sound(db: aiosqlite.Connection) -> bool:
    """Whether every page of the file reads as SQLite's (a quick_check: no index is compared)."""
    async with db.execute("PRAGMA quick_check(1)") as cur:
        row = await cur.fetchone()
    return row is not None and row[0] == "ok"


async def _check_writable(db: aiosqlite.Connection) -> None:
    """A write, rolled back: a read-only file or folder raises SQLITE_READONLY here, at start-up,
    rather than at the first report an officer sends (SQLite opens such a file for reading)."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute(f"PRAGMA user_version = {int(row[0]) if row else 0}")
    finally:
        await db.execute("ROLLBACK")


async def migrate(db: aiosqlite.Connection, path: Path) -> int:
    """Apply the migrations the database at `path` has not seen yet; returns the resulting version.

    A driver error becomes a DatabaseUnusable naming the file and what is wrong with it, and the
    migration it interrupted is rolled back.
    """
    try:
        async with db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise DatabaseTooNew(
                f"ฐานข้อมูล {path} มีโครงสร้างรุ่น {version} ใหม่กว่าที่โปรแกรมนี้รู้จัก "
                f"({SCHEMA_VERSION}): ถูกเขียนโดย progress-bot รุ่นที่ใหม่กว่า"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own; the version bump is inside the script so that a
            # crash between the two cannot leave the schema applied but unrecorded.
            await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    except sqlite3.Error as error:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise database_fault(path, error) from error
    return max(version, SCHEMA_VERSION)
