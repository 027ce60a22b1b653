"""The SQLite repository's foundation: the connection, transactions, and row <-> domain codecs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from domain.models import (
    EventMark,
    MonthlyReport,
    Person,
    Project,
    ProjectData,
    ReminderKey,
    ReportValues,
    Role,
    Submission,
)
from storage.errors import NotFound, StorageError
from storage.sql_base import SqlBase, Tx

_PROJECT_FIELDS = tuple(f.name for f in dataclasses.fields(ProjectData))
_MONEY_FIELDS = {"budget_received", "budget_used"}
_DATE_FIELDS = {"start_date", "end_date"}
_COLUMN = {name: f"{name}_satang" if name in _MONEY_FIELDS else name for name in _PROJECT_FIELDS}
_PROJECT_COLUMNS = ", ".join(["p.id", *(f"p.{_COLUMN[n]}" for n in _PROJECT_FIELDS)])

_REPORT_COLUMNS = """
    r.id, r.fiscal_year, r.report_no, r.current_revision,
    v.reported_on, v.progress_centi, v.disbursed_satang, v.note, v.on_plan, v.plan_reason,
    v.on_target, v.target_reason, v.changed_by, v.channel, v.changed_at"""
_REPORT_FROM = """
    FROM monthly_reports r
    JOIN projects p ON p.id = r.project_id
    JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision"""
_REPORT_SELECT = f"SELECT {_REPORT_COLUMNS}, {_PROJECT_COLUMNS} {_REPORT_FROM}"


def to_satang(amount: Decimal) -> int:
    """Exact conversion of baht to integer satang (amounts are validated to 2 places before)."""
    satang = amount * 100
    if satang != satang.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimal places")
    return int(satang)


def from_satang(satang: int) -> Decimal:
    """Integer satang back to baht with 2 places."""
    return Decimal(satang).scaleb(-2)  # exact, always 2 places (0 is 0.00)


def _to_centi(percent: Decimal) -> int:
    return to_satang(percent)


# The row of `_PROJECT_COLUMNS` is the id, then the fields in order: text and numbers as stored,
# but for the two dates and the two amounts, which come right after code, name and fiscal year.
_CONVERTED = ("start_date", "end_date", "budget_received", "budget_used")
if _PROJECT_FIELDS[3:7] != _CONVERTED or {*_CONVERTED} != _DATE_FIELDS | _MONEY_FIELDS:
    raise RuntimeError("_project_from_row expects the dates and amounts after the fiscal year")


def _project_from_row(row: Sequence[Any]) -> Project:
    # Positional, in field order (the ProjectData fields, then id): the hot path of bulk reads
    # (10,000 projects for an all-agency summary), so unrolled rather than a loop of converters.
    project_id, code, name, fiscal_year, start, end, received, used, *rest = row
    values = [
        code,
        name,
        fiscal_year,
        None if start is None else _date(start),
        None if end is None else _date(end),
        None if received is None else Decimal(received).scaleb(-2),  # as from_satang
        None if used is None else Decimal(used).scaleb(-2),
        *rest,
        project_id,
    ]
    return Project(*values)


def _project_params(data: ProjectData) -> list[Any]:
    params: list[Any] = []
    for name in _PROJECT_FIELDS:
        value = getattr(data, name)
        if value is not None and name in _MONEY_FIELDS:
            value = to_satang(value)
        elif value is not None and name in _DATE_FIELDS:
            value = value.isoformat()
        params.append(value)
    return params


_date = date.fromisoformat


def _values_from_row(row: Sequence[Any], at: int = 0) -> ReportValues:
    """The 8 report value columns starting at column `at` (no slice: bulk reads make many)."""
    return ReportValues(
        reported_on=date.fromisoformat(row[at]),
        progress=from_satang(row[at + 1]),
        disbursed=from_satang(row[at + 2]),
        note=row[at + 3],
        on_plan=bool(row[at + 4]),
        plan_reason=row[at + 5],
        on_target=bool(row[at + 6]),
        target_reason=row[at + 7],
    )


_PEOPLE_SELECT = (
    "SELECT p.id, p.name, p.phone, p.position, group_concat(r.role) FROM people p "
    "LEFT JOIN person_roles r ON r.person_id = p.id {where} GROUP BY p.id ORDER BY p.name"
)


def _person(row: Sequence[Any]) -> Person:
    """A person from a row of `_PEOPLE_SELECT`."""
    return Person(
        id=row[0],
        name=row[1],
        phone=row[2],
        position=row[3],
        roles=frozenset(Role(x) for x in (row[4] or "").split(",") if x),
    )


_T = TypeVar("_T")
Statement = tuple[str, Sequence[Any]]


def _mark_statement(event: EventMark) -> Statement:
    return (
        "INSERT OR IGNORE INTO handled_events (channel, event_id, handled_at) VALUES (?, ?, ?)",
        (event.channel, event.event_id, _utc(event.at)),
    )


def _in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T]) -> _T:
    """Run `work` as one transaction on the connection itself (in aiosqlite's thread)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT (a full disk) may leave it open
            conn.execute("ROLLBACK")
        raise
    return done


def _project_id_of(conn: sqlite3.Connection, code: str) -> int:
    row = conn.execute("SELECT id FROM projects WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise NotFound(f"no project with code {code!r}")
    return int(row[0])


def _finish_statement(session: tuple[str, str]) -> Statement:
    return ("DELETE FROM sessions WHERE channel = ? AND external_id = ?", session)


async def _rows(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
    """Every row of a query, in one trip to aiosqlite's thread (execute, fetch and close)."""
    return list(await db.execute_fetchall(sql, tuple(params)))


def _json_list(values: Iterable[Any]) -> str:
    """A list as one JSON parameter, read back in SQL with json_each (any length)."""
    return json.dumps(sorted(values), ensure_ascii=False)


def _report_from_row(row: Sequence[Any]) -> tuple[Project, MonthlyReport]:
    project = _project_from_row(row[15:])
    return project, _monthly_report(row, project.code)


def _monthly_report(row: Sequence[Any], code: str) -> MonthlyReport:
    """A report from the first 15 columns of `_REPORT_SELECT` (report and current revision)."""
    return MonthlyReport(
        id=row[0],
        project_code=code,
        fiscal_year=row[1],
        report_no=row[2],
        revision=row[3],
        values=_values_from_row(row, 4),
        sent_by=row[12],
        channel=row[13],
        sent_at=datetime.fromisoformat(row[14]),
    )


class _SqliteTx:
    """A transaction of the aiosqlite connection, as storage.sql_base.Tx."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._db.execute(sql, tuple(params)) as cur:
            return cur.rowcount

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await _rows(self._db, sql, params)


class SqliteBase(SqlBase):
    """One aiosqlite connection for the process, and what every part of the repository uses."""

    def among(self, values: Collection[Any], kind: str = "TEXT") -> tuple[str, Any]:
        """Membership in a list: one JSON parameter read back with json_each (any length, any
        kind)."""
        return "(SELECT value FROM json_each(?))", _json_list(values)

    def __init__(self, db: aiosqlite.Connection, path: Path | None = None) -> None:
        self._db = db
        self._path = path  # the file (None: in memory)
        self._pollers: dict[str, int] = {}  # channel -> descriptor of its lock file (processes)
        # One connection serves the whole process; the lock keeps transactions from interleaving.
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except sqlite3.IntegrityError as error:
                # A schema rule (CHECK, foreign key) refused the data: callers see a StorageError,
                # never a driver exception.
                await self._db.execute("ROLLBACK")
                raise StorageError(str(error)) from error
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Tx]:
        async with self._transaction() as db:
            yield _SqliteTx(db)

    async def _in_thread(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `work` on the connection in aiosqlite's thread, in one trip however many
        statements it runs. Each trip to that thread costs a hand-over between threads (about
        a tenth of a millisecond, most of a turn's storage time); aiosqlite has no public call
        for a batch, so this uses the one its own methods are built on."""
        run: Callable[..., Awaitable[Any]] = self._db._execute
        async with self._lock:
            return cast(_T, await run(work, self._db._conn))

    async def _transact(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work` as one transaction, in one trip to the database thread."""
        try:
            return await self._in_thread(lambda conn: _in_transaction(conn, work))
        except sqlite3.IntegrityError as error:
            # A schema rule (CHECK, foreign key) refused the data: callers see a StorageError,
            # never a driver exception.
            raise StorageError(str(error)) from error

    async def _write(self, *statements: Statement) -> list[int]:
        """Several writes as one transaction, in one trip; the rows each changed."""
        return await self._transact(
            lambda conn: [conn.execute(sql, params).rowcount for sql, params in statements]
        )

    @asynccontextmanager
    async def _reads(self) -> AsyncIterator[Tx]:
        """Several reads in a row: no write of this process comes between them (it holds the
        one connection); each read is one trip to the database thread (`_rows`)."""
        async with self._lock:
            yield _SqliteTx(self._db)

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        async with self._lock:
            return await _rows(self._db, sql, params)

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _people(self, where: str, params: Iterable[Any]) -> list[Person]:
        return [_person(r) for r in await self._all(_PEOPLE_SELECT.format(where=where), params)]

    async def get_person(self, person_id: int) -> Person | None:
        """The person with this id, if any."""
        found = await self._people("WHERE p.id = ?", (person_id,))
        return found[0] if found else None

    async def _project_id(self, db: aiosqlite.Connection, code: str) -> int:
        async with db.execute("SELECT id FROM projects WHERE code = ?", (code,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"no project with code {code!r}")
        return int(row[0])

    async def _require_person(self, db: aiosqlite.Connection, person_id: int) -> None:
        async with db.execute("SELECT 1 FROM people WHERE id = ?", (person_id,)) as cur:
            if await cur.fetchone() is None:
                raise NotFound(f"no person with id {person_id}")

    @staticmethod
    async def _finish(db: aiosqlite.Connection, session: tuple[str, str] | None) -> None:
        if session is not None:
            await db.execute("DELETE FROM sessions WHERE channel = ? AND external_id = ?", session)


_KEY_WHERE = "person_id = ? AND subject = ? AND fiscal_year = ? AND report_no = ? AND kind = ?"


def _key(key: ReminderKey) -> tuple[int, str, int, int, str]:
    return (key.person_id, key.subject, key.fiscal_year, key.report_no, key.kind)


def _utc(moment: datetime) -> str:
    """UTC ISO text: comparing such texts compares the instants."""
    return moment.astimezone(UTC).isoformat()


async def _mark(db: aiosqlite.Connection, event: EventMark | None) -> bool:
    """Record an event as handled inside the caller's transaction; False if it already was."""
    if event is None:
        return True
    async with db.execute(
        "INSERT OR IGNORE INTO handled_events (channel, event_id, handled_at) VALUES (?, ?, ?)",
        (event.channel, event.event_id, _utc(event.at)),
    ) as cur:
        return cur.rowcount > 0


def _fields(data: ProjectData) -> dict[str, Any]:
    return {n: getattr(data, n) for n in _PROJECT_FIELDS}


def _report(report_id: int, revision: int, s: Submission) -> MonthlyReport:
    return MonthlyReport(
        id=report_id,
        project_code=s.project_code,
        fiscal_year=s.fiscal_year,
        report_no=s.report_no,
        values=s.values,
        sent_by=s.sent_by,
        channel=s.channel,
        sent_at=s.sent_at,
        revision=revision,
    )
