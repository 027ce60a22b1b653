"""Projects, people and their roles, who is responsible for what, and who stands in for whom."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import aiosqlite

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
from storage.errors import StorageError
from storage.sql_shared import SharedRegistry, under_agency
from storage.sqlite_base import (
    _COLUMN,
    _PEOPLE_SELECT,
    _PROJECT_COLUMNS,
    _PROJECT_FIELDS,
    SqliteBase,
    _fields,
    _mark,
    _person,
    _project_from_row,
    _project_params,
)


class RegistryPart(SharedRegistry, SqliteBase):
    """Projects, people and their roles, who is responsible for what, and who stands in for whom."""

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

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""
        async with self._transaction() as db:
            await self._require_person(db, delegation.person_id)
            await self._require_person(db, delegation.delegate_id)
            new_id = await _insert_delegation(db, delegation)
        return dataclasses.replace(delegation, id=new_id)

    async def end_delegations(
        self, person_id: int, day: date, *, event: EventMark | None = None
    ) -> int:
        """The person is back: stand-ins in force on `day` end the day before, later ones are
        cancelled; returns how many were ended or cancelled."""
        async with self._transaction() as db:
            await _mark(db, event)
            return await _end_delegations(db, person_id, day)

    async def set_absence(
        self,
        delegation: Delegation,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> Person:
        """The person is away: their stand-ins from that day are replaced by this one, the
        conversation finished and the event marked in one transaction; returns the stand-in."""
        async with self._transaction() as db:
            await self._require_person(db, delegation.person_id)
            await self._require_person(db, delegation.delegate_id)
            await _end_delegations(db, delegation.person_id, delegation.first_day)
            await _insert_delegation(db, delegation)
            await self._finish(db, finish_session)
            await _mark(db, event)
            async with db.execute(
                _PEOPLE_SELECT.format(where="WHERE p.id = ?"), (delegation.delegate_id,)
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _person(row)

    async def colleagues(self, person_id: int, *, limit: int, named: str = "") -> list[Person]:
        """Officers of projects under the same offices as the person's own, by name; with
        `named`, only those whose name holds it."""
        async with self._reads() as tx:
            rows = await tx.rows(
                "SELECT DISTINCT p.agency FROM projects p "
                "JOIN project_officers o ON o.project_id = p.id WHERE o.person_id = ?",
                (person_id,),
            )
            offices = sorted({str(r[0]).split("/")[0].strip() for r in rows} - {""})
            if not offices:
                return []
            clause = under_agency("?")
            params: list[Any] = [office for office in offices for _ in range(clause.count("?"))]
            where = (
                "WHERE p.id IN (SELECT o.person_id FROM project_officers o "
                "JOIN projects p ON p.id = o.project_id "
                f"WHERE {' OR '.join([clause] * len(offices))}) AND p.id <> ? "
                "AND instr(p.name, ?) > 0"
            )
            query = _PEOPLE_SELECT.format(where=where) + " LIMIT ?"
            found = await tx.rows(query, [*params, person_id, named.strip(), limit])
            return [_person(r) for r in found]


async def _insert_delegation(db: aiosqlite.Connection, delegation: Delegation) -> int:
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
    return new_id


async def _end_delegations(db: aiosqlite.Connection, person_id: int, day: date) -> int:
    """Stand-ins of the person in force on `day` end the day before; later ones are cancelled."""
    async with db.execute(
        "DELETE FROM delegations WHERE person_id = ? AND first_day >= ?",
        (person_id, day.isoformat()),
    ) as cur:
        cancelled = cur.rowcount
    async with db.execute(
        "UPDATE delegations SET last_day = date(?, '-1 day') "
        "WHERE person_id = ? AND first_day < ? AND last_day >= ?",
        (day.isoformat(), person_id, day.isoformat(), day.isoformat()),
    ) as cur:
        return cancelled + cur.rowcount
