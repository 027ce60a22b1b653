"""PostgreSQL: projects, people and their roles, who is responsible for what, and who stands in
for whom (see storage/sqlite_registry.py for SQLite's)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from domain.models import (
    CoordinatorScope,
    Delegation,
    EventMark,
    Person,
    Project,
    ProjectData,
    Role,
)
from storage.contracts import Account, Upsert
from storage.errors import NotFound, StorageError
from storage.pg_base import (
    PEOPLE_SELECT,
    Conn,
    PgBase,
    execute,
    mark,
    project_id,
    require_person,
    rows,
    sql,
)
from storage.pg_base import finish_session as _finish_session  # `finish_session` is a keyword
from storage.sql_shared import SharedRegistry, under_agency
from storage.sqlite_base import (
    _COLUMN,
    _PROJECT_COLUMNS,
    _PROJECT_FIELDS,
    _fields,
    _person,
    _project_from_row,
    _project_params,
)

_INSERT_PROJECT = (
    f"INSERT INTO projects ({', '.join(_COLUMN[n] for n in _PROJECT_FIELDS)}) "
    f"VALUES ({', '.join('?' for _ in _PROJECT_FIELDS)}) "
    "ON CONFLICT (code) DO NOTHING RETURNING id"
)
_UPDATE_PROJECT = (
    f"UPDATE projects SET {', '.join(f'{_COLUMN[n]} = ?' for n in _PROJECT_FIELDS)} WHERE id = ?"
)


class PgRegistryPart(SharedRegistry, PgBase):
    """Projects, people and their roles, who is responsible for what, and who stands in for whom."""

    async def upsert_project(self, data: ProjectData) -> tuple[Project, Upsert]:
        """Create the project with this code, or update its fields; says which happened."""
        if isinstance(data, Project):
            data = ProjectData(**{n: getattr(data, n) for n in _PROJECT_FIELDS})
        params = _project_params(data)
        async with self._transaction() as conn:
            # Concurrency: the insert waits for another process inserting the same code and then
            # does nothing (the unique code); the row found is locked until we commit, so two
            # processes never both say CREATED, nor compare against a row changing under them.
            while True:
                new_id = await conn.fetchval(sql(_INSERT_PROJECT), *params)
                if new_id is not None:
                    return Project(id=int(new_id), **_fields(data)), Upsert.CREATED
                found = await rows(
                    conn,
                    f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE p.code = ? FOR UPDATE",
                    (data.code,),
                )
                if found:  # else it went between the two statements: insert it again
                    break
            existing = _project_from_row(found[0])
            if _fields(existing) == _fields(data):
                return existing, Upsert.UNCHANGED
            await execute(conn, _UPDATE_PROJECT, [*params, existing.id])
            return Project(id=existing.id, **_fields(data)), Upsert.UPDATED

    async def add_person(
        self, name: str, *, phone: str = "", position: str = "", roles: frozenset[Role]
    ) -> Person:
        """Register a person, or return the one with that exact name with roles added."""
        name = name.strip()
        if not name:
            raise StorageError("a person needs a name")
        async with self._transaction() as conn:
            # Concurrency: the unique name decides; a second process adding the same name waits
            # for the first and then updates (and locks) the same row, so one person results.
            person_id = await conn.fetchval(
                sql(
                    "INSERT INTO people (name, phone, position) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET "
                    "phone = CASE WHEN excluded.phone <> '' THEN excluded.phone "
                    "ELSE people.phone END, "
                    "position = CASE WHEN excluded.position <> '' THEN excluded.position "
                    "ELSE people.position END "
                    "RETURNING id"
                ),
                name,
                phone,
                position,
            )
            await execute(
                conn,
                "INSERT INTO person_roles (person_id, role) SELECT ?, unnest(?::text[]) "
                "ON CONFLICT DO NOTHING",
                (person_id, sorted(role.value for role in roles)),
            )
            found = await rows(conn, PEOPLE_SELECT.format(where="WHERE p.id = ?"), (person_id,))
        return _person(found[0])

    async def link_officer(self, person_id: int, project_code: str) -> bool:
        """Make the person a responsible officer of the project; False if already so."""
        async with self._transaction() as conn:
            await require_person(conn, person_id)
            project = await project_id(conn, project_code)
            await execute(
                conn,
                "INSERT INTO person_roles (person_id, role) VALUES (?, 'officer') "
                "ON CONFLICT DO NOTHING",
                (person_id,),
            )
            added = await execute(
                conn,
                "INSERT INTO project_officers (project_id, person_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (project, person_id),
            )
            return added > 0

    async def add_coordinator_scope(self, scope: CoordinatorScope) -> bool:
        """Let a coordinator look after an agency or a project; False if already so."""
        if (scope.agency is None) == (scope.project_code is None):
            raise StorageError("a coordinator scope is either an agency or a project")
        async with self._transaction() as conn:
            await require_person(conn, scope.person_id)
            project = (
                None if scope.project_code is None else await project_id(conn, scope.project_code)
            )
            await execute(
                conn,
                "INSERT INTO person_roles (person_id, role) VALUES (?, 'coordinator') "
                "ON CONFLICT DO NOTHING",
                (scope.person_id,),
            )
            # Concurrency: the unique (person, agency, project), nulls not distinct, decides
            # instead of SQLite's look-then-insert.
            added = await execute(
                conn,
                "INSERT INTO coordinator_scopes (person_id, agency, project_id) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (scope.person_id, scope.agency, project),
            )
            return added > 0

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""
        async with self._transaction() as conn:
            await require_person(conn, delegation.person_id)
            await require_person(conn, delegation.delegate_id)
            new_id = await _insert_delegation(conn, delegation)
        return dataclasses.replace(delegation, id=new_id)

    async def end_delegations(
        self, person_id: int, day: date, *, event: EventMark | None = None
    ) -> int:
        """The person is back: stand-ins in force on `day` end the day before, later ones are
        cancelled; returns how many were ended or cancelled."""
        async with self._transaction() as conn:
            await mark(conn, event)
            await _lock_absences(conn, person_id)
            return await _end_delegations(conn, person_id, day)

    async def set_absence(
        self,
        delegation: Delegation,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> Person:
        """The person is away: their stand-ins from that day are replaced by this one, the
        conversation finished and the event marked in one transaction; returns the stand-in."""
        async with self._transaction() as conn:
            if not await _lock_absences(conn, delegation.person_id):
                raise NotFound(f"no person with id {delegation.person_id}")
            await require_person(conn, delegation.delegate_id)
            await _end_delegations(conn, delegation.person_id, delegation.first_day)
            await _insert_delegation(conn, delegation)
            await _finish_session(conn, finish_session)
            await mark(conn, event)
            found = await rows(
                conn, PEOPLE_SELECT.format(where="WHERE p.id = ?"), (delegation.delegate_id,)
            )
        return _person(found[0])

    async def colleagues(self, person_id: int, *, limit: int, named: str = "") -> list[Person]:
        """Officers of projects under the same offices as the person's own, by name; with
        `named`, only those whose name holds it."""
        async with self._snapshot() as conn:
            agencies = await rows(
                conn,
                "SELECT DISTINCT p.agency FROM projects p "
                "JOIN project_officers o ON o.project_id = p.id WHERE o.person_id = ?",
                (person_id,),
            )
            offices = sorted({str(r[0]).split("/")[0].strip() for r in agencies} - {""})
            if not offices:
                return []
            clause = under_agency("?")
            params: list[Any] = [office for office in offices for _ in range(clause.count("?"))]
            where = (
                "WHERE p.id IN (SELECT o.person_id FROM project_officers o "
                "JOIN projects p ON p.id = o.project_id "
                f"WHERE {' OR '.join([clause] * len(offices))}) AND p.id <> ? "
                "AND strpos(p.name, ?::text) > 0"
            )
            query = PEOPLE_SELECT.format(where=where) + " LIMIT ?"
            found = await rows(conn, query, [*params, person_id, named.strip(), limit])
        return [_person(r) for r in found]


async def _lock_absences(conn: Conn, person_id: int) -> bool:
    """Lock the person's row, so that changes to their stand-ins run one at a time; False if
    there is no such person.

    Concurrency: SQLite's single writer made "end the stand-ins, then record one" atomic; here
    two processes could both end the old ones and both insert. FOR NO KEY UPDATE serializes
    them without blocking the foreign-key checks (KEY SHARE) of other transactions."""
    found = await conn.fetchval("SELECT 1 FROM people WHERE id = $1 FOR NO KEY UPDATE", person_id)
    return found is not None


async def _insert_delegation(conn: Conn, delegation: Delegation) -> int:
    new_id = await conn.fetchval(
        "INSERT INTO delegations (person_id, delegate_id, first_day, last_day, created_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        delegation.person_id,
        delegation.delegate_id,
        delegation.first_day.isoformat(),
        delegation.last_day.isoformat(),
        delegation.first_day.isoformat(),
    )
    return int(new_id)


async def _end_delegations(conn: Conn, person_id: int, day: date) -> int:
    """Stand-ins of the person in force on `day` end the day before; later ones are cancelled."""
    cancelled = await execute(
        conn,
        "DELETE FROM delegations WHERE person_id = ? AND first_day >= ?",
        (person_id, day.isoformat()),
    )
    ended = await execute(
        conn,
        "UPDATE delegations SET last_day = ? "
        "WHERE person_id = ? AND first_day < ? AND last_day >= ?",
        ((day - timedelta(days=1)).isoformat(), person_id, day.isoformat(), day.isoformat()),
    )
    return cancelled + ended
