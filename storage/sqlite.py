"""The storage over SQLite (aiosqlite): WAL, foreign keys on, numbered migrations.

The class is assembled from parts, one per storage role (storage.contracts): sqlite_reports,
sqlite_registry, sqlite_accounts, sqlite_conversations and sqlite_reminders.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage.errors import StorageError
from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from storage.sqlite_accounts import AccountsPart
from storage.sqlite_base import from_satang, to_satang
from storage.sqlite_conversations import ConversationsPart
from storage.sqlite_registry import RegistryPart
from storage.sqlite_reminders import RemindersPart
from storage.sqlite_reports import ReportsPart

__all__ = ["SqliteStorage", "from_satang", "migrate", "to_satang"]


class SqliteStorage(ReportsPart, RegistryPart, AccountsPart, ConversationsPart, RemindersPart):
    """Every storage role over one SQLite file. Open it with `await SqliteStorage.open(path)`."""

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStorage:
        """Open (creating if needed) the database at `path` (":memory:" for a throwaway one)."""
        db = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA busy_timeout = 5000")
            if str(path) != ":memory:":
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA synchronous = NORMAL")
            await migrate(db)
        except BaseException:
            await db.close()
            raise
        return cls(db)


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply the migrations the database has not seen yet; returns the resulting version."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"database schema {version} is newer than this program knows ({SCHEMA_VERSION})"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits on its own; the version bump is inside the script so that a crash
        # between the two cannot leave the schema applied but unrecorded.
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return max(version, SCHEMA_VERSION)
