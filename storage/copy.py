"""Copy a whole database from one backend to the other (SQLite to PostgreSQL, or back), checked.

Both schemas hold the same tables with the same columns and the same representations
(storage.pg_schema), so every row is copied value for value, in an order that keeps the foreign
keys whole, a few thousand rows at a time. The target must be empty (a fresh file, or a database
with no rows): a copy never merges. Afterwards each table's rows are counted on both sides, and
the report revisions and conversations compared, before the copy is called done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.errors import StorageError
from storage.postgres import PostgresStorage
from storage.sqlite import SqliteStorage

# Parents before children: every table of the schema, in an order foreign keys accept.
TABLES = (
    "projects", "people", "person_roles", "project_officers", "coordinator_scopes",
    "chat_identities", "monthly_reports", "report_revisions", "sessions", "invites",
    "link_failures", "handled_events", "reminder_log", "snoozes", "delegations",
    "notification_settings", "channel_preferences", "blocked_accounts", "reminder_channels",
    "line_rich_menus", "line_menu_links", "web_links", "web_sessions", "nudges",
)  # fmt: skip
BATCH = 5000  # rows read and written at a time
# What is compared row by row after the counts (besides the counts of every table).
COMPARED = {
    "report_revisions": "SELECT * FROM report_revisions ORDER BY report_id, revision",
    "sessions": "SELECT * FROM sessions ORDER BY channel, external_id",
}
Backend = SqliteStorage | PostgresStorage
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class Copied:
    """What a copy carried: rows per table."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def copy_database(
    source: Backend, target: Backend, progress: Progress | None = None
) -> Copied:
    """Copy every row of `source` into the empty `target` (both opened, so both migrated to
    the same schema), then check the copy; a StorageError says what differs."""
    for table in TABLES:
        if await _count(target, table):
            raise StorageError(
                f"ฐานข้อมูลปลายทางมีข้อมูลอยู่แล้ว (ตาราง {table}): คัดลอกได้เฉพาะไปยังฐานข้อมูลที่ว่าง"
            )
    rows: dict[str, int] = {}
    for table in TABLES:
        columns = await _columns(source, table)
        done = 0
        async for batch in _read(source, table, columns):
            await _write(target, table, columns, batch)
            done += len(batch)
        rows[table] = done
        if progress is not None:
            progress(table, done)
    await _after(target)
    await check_copy(source, target)
    return Copied(rows)


async def check_copy(source: Backend, target: Backend) -> None:
    """The same rows in every table, and the same revisions and conversations, or a
    StorageError naming the first table that differs."""
    for table in TABLES:
        ours, theirs = await _count(source, table), await _count(target, table)
        if ours != theirs:
            raise StorageError(f"คัดลอกไม่ครบ: ตาราง {table} ต้นทาง {ours} แถว ปลายทาง {theirs} แถว")
    for table, query in COMPARED.items():
        if await _all(source, query) != await _all(target, query):
            raise StorageError(f"คัดลอกแล้วข้อมูลไม่ตรงกัน: ตาราง {table}")


async def _columns(store: Backend, table: str) -> list[str]:
    if isinstance(store, SqliteStorage):
        return [row[1] for row in await store._all(f"PRAGMA table_info({table})")]
    found = await store._all(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return [row[0] for row in found]


async def _count(store: Backend, table: str) -> int:
    row = await store._one(f"SELECT count(*) FROM {table}")  # a name of TABLES, never input
    return int(row[0]) if row else 0


async def _all(store: Backend, query: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await store._all(query)]


async def _read(
    store: Backend, table: str, columns: Sequence[str]
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The table's rows in batches, in a stable order (by every column: tables are small
    beside the reports, and the order makes the copy repeatable)."""
    names = ", ".join(columns)
    order = ", ".join(str(n) for n in range(1, len(columns) + 1))
    offset = 0
    while True:
        batch = await _all(
            store, f"SELECT {names} FROM {table} ORDER BY {order} LIMIT {BATCH} OFFSET {offset}"
        )
        if not batch:
            return
        yield batch
        offset += len(batch)


async def _write(
    store: Backend, table: str, columns: Sequence[str], batch: list[tuple[Any, ...]]
) -> None:
    if isinstance(store, PostgresStorage):
        async with store._transaction() as conn:
            await conn.copy_records_to_table(table, records=batch, columns=list(columns))
        return
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    async with store._transaction() as db:
        await db.executemany(statement, batch)


async def _after(store: Backend) -> None:
    """PostgreSQL: each identity column goes on after the largest id copied."""
    if not isinstance(store, PostgresStorage):
        return
    identities = await store._all(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND column_name = 'id' AND is_identity = 'YES'"
    )
    for (table,) in identities:
        await store._execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )
