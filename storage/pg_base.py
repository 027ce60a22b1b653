"""The PostgreSQL repository's foundation: the connection pool, transactions, SQL placeholders.

Rows are read as tuples of the values SQLite would hold (storage.pg_schema keeps the same
representations), so the row codecs of `storage.sqlite_base` serve both backends. SQL is written
with `?` placeholders, as for SQLite, and numbered for PostgreSQL by `sql()`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.models import EventMark, Person
from storage.errors import NotFound, StorageError
from storage.sql_base import SqlBase, Tx
from storage.sqlite_base import _person, _utc

# Every statement writes roles with string_agg where SQLite has group_concat.
PEOPLE_SELECT = (
    "SELECT p.id, p.name, p.phone, p.position, string_agg(r.role, ',' ORDER BY r.role) "
    "FROM people p LEFT JOIN person_roles r ON r.person_id = p.id {where} "
    "GROUP BY p.id ORDER BY p.name"
)
_PLACEHOLDER = re.compile(r"\?")
if TYPE_CHECKING:
    # A connection of the pool (inside a transaction); generic only in the type stubs.
    Conn: TypeAlias = PoolConnectionProxy[asyncpg.Record]
else:
    Conn = PoolConnectionProxy


@functools.lru_cache(maxsize=1024)
def sql(statement: str) -> str:
    """A statement with SQLite's `?` placeholders numbered as PostgreSQL's $1, $2, ... (the
    statements hold no `?` inside a string literal)."""
    count = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(count)}", statement)


def rowcount(status: str) -> int:
    """The rows a statement changed, from its status ("INSERT 0 1", "UPDATE 3", "DELETE 0")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _PgTx:
    """A transaction of a pooled asyncpg connection, as storage.sql_base.Tx."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        return rowcount(await self._conn.execute(sql(statement), *params))

    async def rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return [tuple(row) for row in await self._conn.fetch(sql(statement), *params)]


class PgBase(SqlBase):
    """A pool of connections to one PostgreSQL database, and what every part uses.

    Unlike SQLite's single connection, several processes (and several connections of one) write
    at once: a write that must see the rows it depends on unchanged runs in a transaction that
    locks them (SELECT ... FOR UPDATE) or relies on a unique key (INSERT ... ON CONFLICT).
    """

    def __init__(self, pool: asyncpg.Pool, turns: asyncpg.Pool | None = None) -> None:
        self._pool = pool
        # Connections that hold locks for a while (a person's turn, the poller's), kept apart
        # from the queries' pool so that holding them can never starve a query.
        self._turns = turns or pool
        self._pollers: dict[str, PoolConnectionProxy[asyncpg.Record]] = {}

    def among(self, values: Collection[Any], kind: str = "TEXT") -> tuple[str, Any]:
        """Membership in a list: one array parameter of that kind."""
        return f"(SELECT unnest(CAST(? AS {kind}[])))", sorted(values)

    async def close(self) -> None:
        """Let go of the poller's locks and close every connection."""
        for held in self._pollers.values():
            await self._turns.release(held)
        self._pollers.clear()
        if self._turns is not self._pool:
            await self._turns.close()
        await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        """One transaction on a connection of the pool; a schema rule's refusal (a CHECK, a
        foreign or unique key, an append-only trigger) is a StorageError."""
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    yield conn
            except asyncpg.IntegrityConstraintViolationError as error:
                raise StorageError(str(error)) from error

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Conn]:
        """A read-only transaction on a connection of the pool whose reads all see one state
        of the database."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn

    @asynccontextmanager
    async def _reads(self) -> AsyncIterator[Tx]:
        async with self._snapshot() as conn:
            yield _PgTx(conn)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Tx]:
        async with self._transaction() as conn:
            yield _PgTx(conn)

    async def _all(self, statement: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query, as tuples."""
        try:
            rows = await self._pool.fetch(sql(statement), *params)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise StorageError(str(error)) from error
        return [tuple(row) for row in rows]

    async def _one(self, statement: str, params: Iterable[Any] = ()) -> tuple[Any, ...] | None:
        rows = await self._all(statement, params)
        return rows[0] if rows else None

    async def _execute(self, statement: str, params: Iterable[Any] = ()) -> int:
        """One write in a transaction of its own; the rows it changed."""
        try:
            return rowcount(await self._pool.execute(sql(statement), *params))
        except asyncpg.IntegrityConstraintViolationError as error:
            raise StorageError(str(error)) from error

    async def _people(self, where: str, params: Iterable[Any]) -> list[Person]:
        return [_person(r) for r in await self._all(PEOPLE_SELECT.format(where=where), params)]

    async def get_person(self, person_id: int) -> Person | None:
        """The person with this id, if any."""
        found = await self._people("WHERE p.id = ?", (person_id,))
        return found[0] if found else None


async def rows(conn: Conn, statement: str, params: Sequence[Any] = ()) -> list[Any]:
    """Every row of a query on a connection (inside a transaction), as tuples."""
    return [tuple(row) for row in await conn.fetch(sql(statement), *params)]


async def execute(conn: Conn, statement: str, params: Sequence[Any] = ()) -> int:
    """One statement on a connection (inside a transaction); the rows it changed."""
    return rowcount(await conn.execute(sql(statement), *params))


async def project_id(conn: Conn, code: str) -> int:
    """The id of the project with this code, or NotFound."""
    found = await conn.fetchval("SELECT id FROM projects WHERE code = $1", code)
    if found is None:
        raise NotFound(f"no project with code {code!r}")
    return int(found)


async def require_person(conn: Conn, person_id: int) -> None:
    """NotFound unless a person has this id."""
    if await conn.fetchval("SELECT 1 FROM people WHERE id = $1", person_id) is None:
        raise NotFound(f"no person with id {person_id}")


async def mark(conn: Conn, event: EventMark | None) -> bool:
    """Record an event as handled inside the caller's transaction; False if it already was."""
    if event is None:
        return True
    status = await conn.execute(
        "INSERT INTO handled_events (channel, event_id, handled_at) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        event.channel,
        event.event_id,
        _utc(event.at),
    )
    return rowcount(status) > 0


async def finish_session(conn: Conn, session: tuple[str, str] | None) -> None:
    """End a conversation inside the caller's transaction."""
    if session is not None:
        await conn.execute("DELETE FROM sessions WHERE channel = $1 AND external_id = $2", *session)
