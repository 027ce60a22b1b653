"""The repository over SQLite (aiosqlite): WAL, foreign keys on, numbered migrations."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from storage.models import (
    AlreadyReported,
    ChatIdentity,
    CoordinatorScope,
    Delegation,
    DeliveryStatus,
    EventMark,
    Invite,
    InviteResult,
    MonthlyReport,
    NotFound,
    Person,
    Project,
    ProjectData,
    ReminderKey,
    ReminderRecord,
    ReportValues,
    Revision,
    Role,
    SessionState,
    Snooze,
    StorageError,
    Submission,
)
from storage.repository import Upsert

_PROJECT_FIELDS = tuple(f.name for f in dataclasses.fields(ProjectData))
_MONEY_FIELDS = {"budget_received", "budget_used"}
_DATE_FIELDS = {"start_date", "end_date"}
_COLUMN = {name: f"{name}_satang" if name in _MONEY_FIELDS else name for name in _PROJECT_FIELDS}
_PROJECT_COLUMNS = ", ".join(["p.id", *(f"p.{_COLUMN[n]}" for n in _PROJECT_FIELDS)])

_REPORT_SELECT = f"""
    SELECT r.id, r.fiscal_year, r.report_no, r.current_revision,
           v.reported_on, v.progress_centi, v.disbursed_satang, v.note, v.on_plan, v.plan_reason,
           v.on_target, v.target_reason, v.changed_by, v.channel, v.changed_at,
           {_PROJECT_COLUMNS}
    FROM monthly_reports r
    JOIN projects p ON p.id = r.project_id
    JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
"""


def to_satang(amount: Decimal) -> int:
    """Exact conversion of baht to integer satang (amounts are validated to 2 places before)."""
    satang = amount * 100
    if satang != satang.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimal places")
    return int(satang)


def from_satang(satang: int) -> Decimal:
    """Integer satang back to baht with 2 places."""
    return (Decimal(satang) / 100).quantize(Decimal("0.01"))


def _to_centi(percent: Decimal) -> int:
    return to_satang(percent)


def _project_from_row(row: Sequence[Any]) -> Project:
    values: dict[str, Any] = {}
    for name, raw in zip(_PROJECT_FIELDS, row[1:], strict=True):
        if name in _MONEY_FIELDS:
            values[name] = None if raw is None else from_satang(raw)
        elif name in _DATE_FIELDS:
            values[name] = None if raw is None else date.fromisoformat(raw)
        else:
            values[name] = raw
    return Project(id=row[0], **values)


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


def _values_from_row(row: Sequence[Any]) -> ReportValues:
    return ReportValues(
        reported_on=date.fromisoformat(row[0]),
        progress=from_satang(row[1]),
        disbursed=from_satang(row[2]),
        note=row[3],
        on_plan=bool(row[4]),
        plan_reason=row[5],
        on_target=bool(row[6]),
        target_reason=row[7],
    )


def _report_from_row(row: Sequence[Any]) -> tuple[Project, MonthlyReport]:
    project = _project_from_row(row[15:])
    report = MonthlyReport(
        id=row[0],
        project_code=project.code,
        fiscal_year=row[1],
        report_no=row[2],
        revision=row[3],
        values=_values_from_row(row[4:12]),
        sent_by=row[12],
        channel=row[13],
        sent_at=datetime.fromisoformat(row[14]),
    )
    return project, report


class SqliteRepository:
    """The real repository. Open it with `await SqliteRepository.open(path)`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # One connection serves the whole process; the lock keeps transactions from interleaving.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> SqliteRepository:
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

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        async with self._lock, self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    # Projects

    async def upsert_project(self, data: ProjectData) -> tuple[Project, Upsert]:
        """Create the project with this code, or update its fields; says which happened."""
        if isinstance(data, Project):
            data = ProjectData(**{n: getattr(data, n) for n in _PROJECT_FIELDS})
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE code = ?", (data.code,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                columns = ", ".join(_COLUMN[n] for n in _PROJECT_FIELDS)
                marks = ", ".join("?" for _ in _PROJECT_FIELDS)
                async with db.execute(
                    f"INSERT INTO projects ({columns}) VALUES ({marks})", _project_params(data)
                ) as cur:
                    new_id = cur.lastrowid
                assert new_id is not None
                return Project(id=new_id, **_fields(data)), Upsert.CREATED
            existing = _project_from_row(row)
            if _fields(existing) == _fields(data):
                return existing, Upsert.UNCHANGED
            assignments = ", ".join(f"{_COLUMN[n]} = ?" for n in _PROJECT_FIELDS)
            await db.execute(
                f"UPDATE projects SET {assignments} WHERE id = ?",
                [*_project_params(data), existing.id],
            )
            return Project(id=existing.id, **_fields(data)), Upsert.UPDATED

    async def get_project(self, code: str) -> Project | None:
        """The project with this code, if any."""
        row = await self._one(f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE code = ?", (code,))
        return None if row is None else _project_from_row(row)

    async def list_projects(
        self, *, fiscal_year: int | None = None, agency: str | None = None
    ) -> list[Project]:
        """Projects, by code, optionally of one fiscal year and under one agency path prefix."""
        where, params = _project_filter(fiscal_year=fiscal_year, agency=agency)
        rows = await self._all(
            f"SELECT {_PROJECT_COLUMNS} FROM projects p {where} ORDER BY p.code", params
        )
        return [_project_from_row(r) for r in rows]

    # People and roles

    async def add_person(
        self, name: str, *, phone: str = "", position: str = "", roles: frozenset[Role]
    ) -> Person:
        """Register a person, or return the one with that exact name with roles added."""
        name = name.strip()
        if not name:
            raise StorageError("a person needs a name")
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO people (name, phone, position) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET "
                "phone = CASE WHEN excluded.phone <> '' THEN excluded.phone ELSE phone END, "
                "position = CASE WHEN excluded.position <> '' THEN excluded.position "
                "ELSE position END",
                (name, phone, position),
            )
            async with db.execute("SELECT id FROM people WHERE name = ?", (name,)) as cur:
                row = await cur.fetchone()
            assert row is not None
            await db.executemany(
                "INSERT OR IGNORE INTO person_roles (person_id, role) VALUES (?, ?)",
                [(row[0], role.value) for role in roles],
            )
        person = await self.get_person(row[0])
        assert person is not None
        return person

    async def _people(self, where: str, params: Iterable[Any]) -> list[Person]:
        rows = await self._all(
            "SELECT p.id, p.name, p.phone, p.position, group_concat(r.role) FROM people p "
            f"LEFT JOIN person_roles r ON r.person_id = p.id {where} GROUP BY p.id ORDER BY p.name",
            params,
        )
        return [
            Person(
                id=r[0],
                name=r[1],
                phone=r[2],
                position=r[3],
                roles=frozenset(Role(x) for x in (r[4] or "").split(",") if x),
            )
            for r in rows
        ]

    async def get_person(self, person_id: int) -> Person | None:
        """The person with this id, if any."""
        found = await self._people("WHERE p.id = ?", (person_id,))
        return found[0] if found else None

    async def find_person(self, name: str) -> Person | None:
        """The person with exactly this name, if any."""
        found = await self._people("WHERE p.name = ?", (name.strip(),))
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

    async def link_officer(self, person_id: int, project_code: str) -> bool:
        """Make the person a responsible officer of the project; False if already so."""
        async with self._transaction() as db:
            await self._require_person(db, person_id)
            project_id = await self._project_id(db, project_code)
            await db.execute(
                "INSERT OR IGNORE INTO person_roles (person_id, role) VALUES (?, 'officer')",
                (person_id,),
            )
            async with db.execute(
                "INSERT OR IGNORE INTO project_officers (project_id, person_id) VALUES (?, ?)",
                (project_id, person_id),
            ) as cur:
                return cur.rowcount > 0

    async def add_coordinator_scope(self, scope: CoordinatorScope) -> bool:
        """Let a coordinator look after an agency or a project; False if already so."""
        if (scope.agency is None) == (scope.project_code is None):
            raise StorageError("a coordinator scope is either an agency or a project")
        async with self._transaction() as db:
            await self._require_person(db, scope.person_id)
            project_id = (
                None
                if scope.project_code is None
                else await self._project_id(db, scope.project_code)
            )
            await db.execute(
                "INSERT OR IGNORE INTO person_roles (person_id, role) VALUES (?, 'coordinator')",
                (scope.person_id,),
            )
            async with db.execute(
                "SELECT 1 FROM coordinator_scopes WHERE person_id = ? "
                "AND agency IS ? AND project_id IS ?",
                (scope.person_id, scope.agency, project_id),
            ) as cur:
                if await cur.fetchone() is not None:
                    return False
            await db.execute(
                "INSERT INTO coordinator_scopes (person_id, agency, project_id) VALUES (?, ?, ?)",
                (scope.person_id, scope.agency, project_id),
            )
            return True

    async def coordinator_scopes(self, person_id: int) -> list[CoordinatorScope]:
        """What the coordinator looks after."""
        rows = await self._all(
            "SELECT s.agency, p.code FROM coordinator_scopes s "
            "LEFT JOIN projects p ON p.id = s.project_id WHERE s.person_id = ? ORDER BY s.id",
            (person_id,),
        )
        return [CoordinatorScope(person_id, agency=r[0], project_code=r[1]) for r in rows]

    async def link_identity(self, identity: ChatIdentity) -> None:
        """Attach a chat account to a person (re-linking an account moves it)."""
        async with self._transaction() as db:
            await self._require_person(db, identity.person_id)
            await db.execute(
                "INSERT INTO chat_identities (channel, external_id, person_id) VALUES (?, ?, ?) "
                "ON CONFLICT (channel, external_id) DO UPDATE SET person_id = excluded.person_id",
                (identity.channel, identity.external_id, identity.person_id),
            )

    async def find_person_by_identity(self, channel: str, external_id: str) -> Person | None:
        """The person behind a chat account, if linked."""
        found = await self._people(
            "WHERE p.id = (SELECT person_id FROM chat_identities "
            "WHERE channel = ? AND external_id = ?)",
            (channel, external_id),
        )
        return found[0] if found else None

    async def identities_of(self, person_id: int) -> list[ChatIdentity]:
        """Every chat account of a person."""
        rows = await self._all(
            "SELECT channel, external_id FROM chat_identities WHERE person_id = ? "
            "ORDER BY channel, external_id",
            (person_id,),
        )
        return [ChatIdentity(r[0], r[1], person_id) for r in rows]

    async def projects_of_officer(self, person_id: int) -> list[Project]:
        """Projects the person is responsible for, by code."""
        rows = await self._all(
            f"SELECT {_PROJECT_COLUMNS} FROM projects p "
            "JOIN project_officers o ON o.project_id = p.id WHERE o.person_id = ? ORDER BY p.code",
            (person_id,),
        )
        return [_project_from_row(r) for r in rows]

    async def officers_of_project(self, project_code: str) -> list[Person]:
        """Responsible officers of a project."""
        return await self._people(
            "WHERE p.id IN (SELECT o.person_id FROM project_officers o "
            "JOIN projects j ON j.id = o.project_id WHERE j.code = ?)",
            (project_code,),
        )

    async def projects_of_coordinator(self, person_id: int) -> list[Project]:
        """Projects within any of the coordinator's scopes, by code."""
        rows = await self._all(
            f"SELECT DISTINCT {_PROJECT_COLUMNS} FROM projects p "
            "JOIN coordinator_scopes s ON s.person_id = ? "
            f"AND (s.project_id = p.id OR {_under_agency('trim(s.agency)')})"
            " ORDER BY p.code",
            (person_id,),
        )
        return [_project_from_row(r) for r in rows]

    # Monthly reports

    async def submit_report(
        self,
        submission: Submission,
        *,
        finish_session: tuple[str, str] | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new monthly report (revision 1); raise AlreadyReported if that month has one."""
        async with self._transaction() as db:
            project_id = await self._project_id(db, submission.project_code)
            async with db.execute(
                "INSERT INTO monthly_reports (project_id, fiscal_year, report_no) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (project_id, submission.fiscal_year, submission.report_no),
            ) as cur:
                if cur.rowcount == 0:
                    raise AlreadyReported(
                        f"{submission.project_code} already has report "
                        f"{submission.report_no} of {submission.fiscal_year}"
                    )
                report_id = cur.lastrowid
            assert report_id is not None
            await self._insert_revision(db, report_id, 1, submission)
            await self._finish(db, finish_session)
            await _mark(db, event)
        return _report(report_id, 1, submission)

    async def correct_report(
        self,
        submission: Submission,
        *,
        finish_session: tuple[str, str] | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new revision of an existing report (the reason is required)."""
        if not submission.reason.strip():
            raise StorageError("a correction needs a reason")
        async with self._transaction() as db:
            project_id = await self._project_id(db, submission.project_code)
            async with db.execute(
                "SELECT id, current_revision FROM monthly_reports "
                "WHERE project_id = ? AND fiscal_year = ? AND report_no = ?",
                (project_id, submission.fiscal_year, submission.report_no),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                raise NotFound("no report to correct for that month")
            report_id, revision = int(row[0]), int(row[1]) + 1
            await self._insert_revision(db, report_id, revision, submission)
            await db.execute(
                "UPDATE monthly_reports SET current_revision = ? WHERE id = ?",
                (revision, report_id),
            )
            await self._finish(db, finish_session)
            await _mark(db, event)
        return _report(report_id, revision, submission)

    @staticmethod
    async def _insert_revision(
        db: aiosqlite.Connection, report_id: int, revision: int, s: Submission
    ) -> None:
        v = s.values
        await db.execute(
            "INSERT INTO report_revisions (report_id, revision, reported_on, progress_centi, "
            "disbursed_satang, note, on_plan, plan_reason, on_target, target_reason, changed_by, "
            "channel, changed_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                report_id,
                revision,
                v.reported_on.isoformat(),
                _to_centi(v.progress),
                to_satang(v.disbursed),
                v.note,
                int(v.on_plan),
                v.plan_reason,
                int(v.on_target),
                v.target_reason,
                s.sent_by,
                s.channel,
                s.sent_at.isoformat(),
                s.reason,
            ),
        )

    @staticmethod
    async def _finish(db: aiosqlite.Connection, session: tuple[str, str] | None) -> None:
        if session is not None:
            await db.execute("DELETE FROM sessions WHERE channel = ? AND external_id = ?", session)

    async def get_report(
        self, project_code: str, fiscal_year: int, report_no: int
    ) -> MonthlyReport | None:
        """The current version of one month's report."""
        rows = await self._all(
            _REPORT_SELECT + " WHERE p.code = ? AND r.fiscal_year = ? AND r.report_no = ?",
            (project_code, fiscal_year, report_no),
        )
        return _report_from_row(rows[0])[1] if rows else None

    async def reports_of_project(
        self, project_code: str, fiscal_year: int | None = None
    ) -> list[MonthlyReport]:
        """Current versions of a project's reports, by fiscal year and report number."""
        rows = await self.report_rows(project_code=project_code, fiscal_year=fiscal_year)
        return [report for _, report in rows]

    async def revisions(self, report_id: int) -> list[Revision]:
        """Every version of a report, oldest first."""
        rows = await self._all(
            "SELECT reported_on, progress_centi, disbursed_satang, note, on_plan, plan_reason, "
            "on_target, target_reason, revision, changed_by, channel, changed_at, reason "
            "FROM report_revisions WHERE report_id = ? ORDER BY revision",
            (report_id,),
        )
        return [
            Revision(
                report_id=report_id,
                revision=r[8],
                values=_values_from_row(r[:8]),
                changed_by=r[9],
                channel=r[10],
                changed_at=datetime.fromisoformat(r[11]),
                reason=r[12],
            )
            for r in rows
        ]

    async def report_rows(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
    ) -> Sequence[tuple[Project, MonthlyReport]]:
        """Every stored report with its project, by project code, fiscal year and report number."""
        where, params = _project_filter(agency=agency, code=project_code)
        if fiscal_year is not None:
            where += (" AND " if where else "WHERE ") + "r.fiscal_year = ?"
            params.append(fiscal_year)
        rows = await self._all(
            f"{_REPORT_SELECT} {where} ORDER BY p.code, r.fiscal_year, r.report_no", params
        )
        return [_report_from_row(r) for r in rows]

    # Conversations

    async def load_session(self, channel: str, external_id: str) -> SessionState | None:
        """The half-finished conversation of this chat account, if any."""
        row = await self._one(
            "SELECT state, data, updated_at FROM sessions WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        )
        if row is None:
            return None
        return SessionState(channel, external_id, row[0], row[1], datetime.fromisoformat(row[2]))

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        """Remember where a conversation stands (marking the event that moved it)."""
        async with self._transaction() as db:
            await _mark(db, event)
            await db.execute(
                "INSERT INTO sessions (channel, external_id, state, data, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, external_id) DO UPDATE SET "
                "state = excluded.state, data = excluded.data, updated_at = excluded.updated_at",
                (
                    session.channel,
                    session.external_id,
                    session.state,
                    session.data,
                    session.updated_at.isoformat(),
                ),
            )

    async def clear_session(
        self, channel: str, external_id: str, *, event: EventMark | None = None
    ) -> None:
        """Forget a finished or cancelled conversation."""
        async with self._transaction() as db:
            await self._finish(db, (channel, external_id))
            await _mark(db, event)

    async def sessions_older_than(self, moment: datetime) -> list[SessionState]:
        """Conversations idle since before `moment`."""
        rows = await self._all(
            "SELECT channel, external_id, state, data, updated_at FROM sessions "
            "ORDER BY channel, external_id"
        )
        found = [SessionState(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]
        # Sorted as moments, not as ISO text: texts with different UTC offsets do not sort in time.
        found.sort(key=lambda s: s.updated_at)
        return [s for s in found if s.updated_at < moment]

    # Incoming events, handled once

    async def event_handled(self, channel: str, event_id: str) -> bool:
        """Whether an incoming update was handled already (its turn's writes committed)."""
        row = await self._one(
            "SELECT 1 FROM handled_events WHERE channel = ? AND event_id = ?", (channel, event_id)
        )
        return row is not None

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""
        async with self._transaction() as db:
            return await _mark(db, event)

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before` (channels redeliver only recent ones)."""
        async with (
            self._transaction() as db,
            db.execute("DELETE FROM handled_events WHERE handled_at < ?", (_utc(before),)) as cur,
        ):
            return cur.rowcount

    # Linking chat accounts

    async def create_invite(self, invite: Invite) -> None:
        """Store a new invite (by the hash of its code)."""
        async with self._transaction() as db:
            await self._require_person(db, invite.person_id)
            await db.execute(
                "INSERT INTO invites (code_hash, person_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (invite.code_hash, invite.person_id, _utc(invite.created_at),
                 _utc(invite.expires_at)),
            )  # fmt: skip

    async def redeem_invite(
        self, code_hash: str, channel: str, external_id: str, now: datetime
    ) -> tuple[InviteResult, Person | None]:
        """Use an invite: link the chat account to its person, once, before it expires."""
        async with self._transaction() as db:
            async with db.execute(
                "SELECT person_id, expires_at, used_at FROM invites WHERE code_hash = ?",
                (code_hash,),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return InviteResult.UNKNOWN, None
            if row[2] is not None:
                return InviteResult.USED, None
            if row[1] <= _utc(now):
                return InviteResult.EXPIRED, None
            await db.execute(
                "UPDATE invites SET used_at = ?, used_channel = ?, used_external_id = ? "
                "WHERE code_hash = ?",
                (_utc(now), channel, external_id, code_hash),
            )
            await db.execute(
                "INSERT INTO chat_identities (channel, external_id, person_id) VALUES (?, ?, ?) "
                "ON CONFLICT (channel, external_id) DO UPDATE SET person_id = excluded.person_id",
                (channel, external_id, row[0]),
            )
            person_id = int(row[0])
        return InviteResult.LINKED, await self.get_person(person_id)

    async def record_link_failure(self, channel: str, external_id: str, at: datetime) -> None:
        """Count a wrong invite code or phone number typed by a chat account."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO link_failures (channel, external_id, failed_at) VALUES (?, ?, ?)",
                (channel, external_id, _utc(at)),
            )

    async def link_failures_since(self, channel: str, external_id: str, since: datetime) -> int:
        """How many failed linking attempts a chat account made since `since`."""
        row = await self._one(
            "SELECT count(*) FROM link_failures "
            "WHERE channel = ? AND external_id = ? AND failed_at >= ?",
            (channel, external_id, _utc(since)),
        )
        return int(row[0])

    async def all_people(self) -> list[Person]:
        """Every person, by name (for matching a shared phone number)."""
        return await self._people("", ())

    # Reminders

    async def claim_reminder(
        self, key: ReminderKey, channel: str, external_id: str, at: datetime
    ) -> bool:
        """Record a reminder as being sent (status SENDING); False if the key exists already."""
        async with (
            self._transaction() as db,
            db.execute(
                "INSERT OR IGNORE INTO reminder_log (person_id, subject, fiscal_year, report_no, "
                "kind, channel, external_id, status, claimed_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?)",
                (*_key(key), channel, external_id, _utc(at), _utc(at)),
            ) as cur,
        ):
            return cur.rowcount > 0

    async def reclaim_reminder(self, key: ReminderKey, at: datetime) -> bool:
        """Take a reminder marked RETRY back to SENDING for another attempt; False if it is not."""
        async with (
            self._transaction() as db,
            db.execute(
                "UPDATE reminder_log SET status = 'sending', attempts = attempts + 1, "
                f"updated_at = ? WHERE {_KEY_WHERE} AND status = 'retry'",
                (_utc(at), *_key(key)),
            ) as cur,
        ):
            return cur.rowcount > 0

    async def finish_reminder(
        self, key: ReminderKey, status: DeliveryStatus, at: datetime, error: str = ""
    ) -> None:
        """Record what became of a claimed reminder."""
        async with self._transaction() as db:
            await db.execute(
                f"UPDATE reminder_log SET status = ?, updated_at = ?, error = ? WHERE {_KEY_WHERE}",
                (status.value, _utc(at), error[:500], *_key(key)),
            )

    async def reminder_records(self, status: DeliveryStatus | None = None) -> list[ReminderRecord]:
        """Claimed reminders (of one status if given), by key."""
        where = "WHERE status = ?" if status is not None else ""
        rows = await self._all(
            "SELECT person_id, subject, fiscal_year, report_no, kind, channel, external_id, "
            f"status, attempts, claimed_at, updated_at, error FROM reminder_log {where} "
            "ORDER BY person_id, subject, fiscal_year, report_no, kind",
            () if status is None else (status.value,),
        )
        return [
            ReminderRecord(
                ReminderKey(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], DeliveryStatus(r[7]), r[8],
                datetime.fromisoformat(r[9]), datetime.fromisoformat(r[10]), r[11],
            )
            for r in rows
        ]  # fmt: skip

    async def mark_in_doubt(self, at: datetime) -> int:
        """At start-up: reminders left SENDING by a stopped process become UNKNOWN (not resent)."""
        async with (
            self._transaction() as db,
            db.execute(
                "UPDATE reminder_log SET status = 'unknown', updated_at = ? "
                "WHERE status = 'sending'",
                (_utc(at),),
            ) as cur,
        ):
            return cur.rowcount

    async def snooze(self, person_id: int, project_code: str, on: date, until: datetime) -> bool:
        """Hold reminders about a project until `until`; False if already snoozed on `on`."""
        async with self._transaction() as db:
            async with db.execute(
                "SELECT snoozed_on FROM snoozes WHERE person_id = ? AND project_code = ?",
                (person_id, project_code),
            ) as cur:
                row = await cur.fetchone()
            if row is not None and row[0] == on.isoformat():
                return False
            await db.execute(
                "INSERT INTO snoozes (person_id, project_code, snoozed_on, until) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (person_id, project_code) DO UPDATE SET "
                "snoozed_on = excluded.snoozed_on, until = excluded.until",
                (person_id, project_code, on.isoformat(), _utc(until)),
            )
            return True

    async def snoozes(self) -> list[Snooze]:
        """Every snooze (expired ones included), by person and project."""
        rows = await self._all(
            "SELECT person_id, project_code, snoozed_on, until FROM snoozes "
            "ORDER BY person_id, project_code"
        )
        return [
            Snooze(r[0], r[1], date.fromisoformat(r[2]), datetime.fromisoformat(r[3])) for r in rows
        ]

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""
        async with self._transaction() as db:
            await self._require_person(db, delegation.person_id)
            await self._require_person(db, delegation.delegate_id)
            async with db.execute(
                "INSERT INTO delegations (person_id, delegate_id, first_day, last_day, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    delegation.person_id,
                    delegation.delegate_id,
                    delegation.first_day.isoformat(),
                    delegation.last_day.isoformat(),
                    delegation.first_day.isoformat(),
                ),
            ) as cur:
                new_id = cur.lastrowid
        assert new_id is not None
        return dataclasses.replace(delegation, id=new_id)  # fmt: skip

    async def delegations_on(self, day: date) -> list[Delegation]:
        """Stand-ins in force on a day."""
        rows = await self._all(
            "SELECT person_id, delegate_id, first_day, last_day, id FROM delegations "
            "WHERE first_day <= ? AND last_day >= ? ORDER BY person_id, id",
            (day.isoformat(), day.isoformat()),
        )
        return [
            Delegation(r[0], r[1], date.fromisoformat(r[2]), date.fromisoformat(r[3]), r[4])
            for r in rows
        ]

    async def end_delegations(self, person_id: int, day: date) -> int:
        """The person is back: stand-ins in force on `day` end the day before."""
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM delegations WHERE person_id = ? AND first_day >= ?",
                (person_id, day.isoformat()),
            )
            async with db.execute(
                "UPDATE delegations SET last_day = date(?, '-1 day') "
                "WHERE person_id = ? AND first_day < ? AND last_day >= ?",
                (day.isoformat(), person_id, day.isoformat(), day.isoformat()),
            ) as cur:
                return cur.rowcount

    async def set_notification(self, person_id: int, kind: str, enabled: bool) -> None:
        """Turn one kind of message on or off for a person."""
        async with self._transaction() as db:
            await self._require_person(db, person_id)
            await db.execute(
                "INSERT INTO notification_settings (person_id, kind, enabled) VALUES (?, ?, ?) "
                "ON CONFLICT (person_id, kind) DO UPDATE SET enabled = excluded.enabled",
                (person_id, kind, int(enabled)),
            )

    async def disabled_notifications(self) -> dict[int, set[str]]:
        """Per person, the kinds of message they turned off."""
        off: dict[int, set[str]] = {}
        for person_id, kind in await self._all(
            "SELECT person_id, kind FROM notification_settings WHERE enabled = 0"
        ):
            off.setdefault(person_id, set()).add(kind)
        return off

    async def officer_links(self) -> list[tuple[str, int]]:
        """Every (project code, responsible officer id), by code."""
        rows = await self._all(
            "SELECT p.code, o.person_id FROM project_officers o "
            "JOIN projects p ON p.id = o.project_id ORDER BY p.code, o.person_id"
        )
        return [(r[0], r[1]) for r in rows]

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""
        rows = await self._all(
            "SELECT channel, external_id, person_id FROM chat_identities "
            "ORDER BY person_id, channel, external_id"
        )
        return [ChatIdentity(r[0], r[1], r[2]) for r in rows]


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


def _under_agency(agency: str) -> str:
    """SQL for `storage.models.under_agency(p.agency, agency)`: whole path segments only."""
    return (
        f"({agency} <> '' AND (p.agency = {agency} "
        f"OR substr(p.agency, 1, length({agency}) + 1) = {agency} || '/' "
        f"OR substr(p.agency, 1, length({agency}) + 2) = {agency} || ' /'))"
    )


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


def _project_filter(
    *, fiscal_year: int | None = None, agency: str | None = None, code: str | None = None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if fiscal_year is not None:
        clauses.append("p.fiscal_year = ?")
        params.append(fiscal_year)
    if agency:
        # Whole path segments: "สำนักงานเขตลาดกระบัง" covers its divisions, not another district.
        clause = _under_agency("?")
        clauses.append(clause)
        params.extend([agency.strip()] * clause.count("?"))
    if code is not None:
        clauses.append("p.code = ?")
        params.append(code)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


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
