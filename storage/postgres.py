"""The storage over PostgreSQL (asyncpg): the same roles as SQLite's, for an office that runs
PostgreSQL and several bot processes on one database.

The class is assembled from parts, one per storage role (storage.contracts), like SqliteStorage:
pg_reports, pg_registry, pg_accounts, pg_conversations, pg_reminders and pg_web. Opening it
applies the migrations the database has not seen (storage.pg_schema), one process at a time
(an advisory lock).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.errors import DatabaseTooNew, DatabaseUnusable
from storage.pg_accounts import PgAccountsPart
from storage.pg_conversations import PgConversationsPart
from storage.pg_processes import PgProcessesPart
from storage.pg_registry import PgRegistryPart
from storage.pg_reminders import PgRemindersPart
from storage.pg_reports import PgReportsPart
from storage.pg_schema import OLDEST_SERVER, PG_MIGRATIONS, PG_SCHEMA_VERSION
from storage.pg_web import PgWebPart

MIGRATION_LOCK = 0x70726F67  # the advisory lock held while migrating ("prog")
# A process holds at most CONNECTIONS by default (`database.connections`): three processes stay
# under PostgreSQL's default max_connections (100) with room for psql and backups. A third are
# for queries, the rest hold a person's turn (more turns at once wait) or the poller's lock.
CONNECTIONS = 30


class PostgresStorage(
    PgReportsPart,
    PgRegistryPart,
    PgAccountsPart,
    PgConversationsPart,
    PgRemindersPart,
    PgWebPart,
    PgProcessesPart,
):
    """Every storage role over one PostgreSQL database. Open it with
    `await PostgresStorage.open("postgresql://user@host:5432/db")`."""

    @classmethod
    async def open(cls, url: str, *, connections: int = CONNECTIONS) -> PostgresStorage:
        """Connect, and bring the schema up to date; a server that cannot be reached or a
        database that cannot be used is a DatabaseUnusable saying why (without the password)."""
        where = redacted(url)
        try:
            queries = max(2, connections // 3)
            pool = await asyncpg.create_pool(url, min_size=1, max_size=queries)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise DatabaseUnusable(f"เชื่อมต่อฐานข้อมูล {where} ไม่ได้: {error}") from error
        try:
            async with pool.acquire() as conn:
                major = conn.get_server_version().major
            if major < OLDEST_SERVER:
                raise DatabaseUnusable(
                    f"ฐานข้อมูล {where} เป็น PostgreSQL รุ่น {major}: ต้องใช้รุ่น {OLDEST_SERVER} ขึ้นไป"
                )
            await migrate(pool, where)
            turns = await asyncpg.create_pool(url, min_size=0, max_size=connections - queries)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, turns)


def redacted(url: str) -> str:
    """The address without its password (in `user:password@` or in `?password=`)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.split(':', 1)[0]}@{host}"
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not pair.lower().startswith("password=")
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


async def migrate(pool: asyncpg.Pool, where: str) -> int:
    """Apply the migrations the database has not seen, each in its transaction, under an
    advisory lock (a second process starting waits, then finds nothing to do)."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            version = 0
            if await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
                found = await conn.fetchval("SELECT max(version) FROM schema_version")
                version = int(found or 0)
            if version > PG_SCHEMA_VERSION:
                raise DatabaseTooNew(
                    f"ฐานข้อมูล {where} เป็นโครงสร้างรุ่น {version} ใหม่กว่าที่โปรแกรมนี้รู้จัก "
                    f"({PG_SCHEMA_VERSION}): ถูกเขียนโดย progress-bot รุ่นใหม่กว่า"
                )
            for number in sorted(n for n in PG_MIGRATIONS if n > version):
                try:
                    async with conn.transaction():
                        await conn.execute(
                            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                        )
                        await conn.execute(PG_MIGRATIONS[number])
                        await conn.execute("DELETE FROM schema_version")
                        await conn.execute("INSERT INTO schema_version VALUES ($1)", number)
                except asyncpg.InsufficientPrivilegeError as error:
                    # The bot's own role (storage.pg_schema.app_role_grants) changes no schema.
                    raise DatabaseUnusable(
                        f"ฐานข้อมูล {where} ต้องปรับโครงสร้างเป็นรุ่น {number} แต่บทบาทนี้ไม่มีสิทธิ์: "
                        "เปิดด้วยบทบาทเจ้าของฐานข้อมูลหนึ่งครั้งก่อน (เช่น progress-bot projects list)"
                    ) from error
                except asyncpg.PostgresError as error:  # rolled back: nothing half-made
                    raise DatabaseUnusable(
                        f"ปรับโครงสร้างฐานข้อมูล {where} เป็นรุ่น {number} ไม่สำเร็จ: {error}"
                    ) from error
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return max(version, PG_SCHEMA_VERSION)


async def empty_every_table(storage: PostgresStorage) -> None:
    """For tests: remove every row (the append-only triggers held off for it), ids from 1."""
    async with storage._pool.acquire() as conn, conn.transaction():
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_version'"
        )
        names = ", ".join(f'"{t["tablename"]}"' for t in tables)
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
