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
    Reach,
    Role,
)
from storage.contracts import Account, Upsert
from storage.errors import StorageError
from storage.sqlite_base import (
    _COLUMN,
    _PEOPLE_SELECT,
    _PROJECT_COLUMNS,
    _PROJECT_FIELDS,
    SqliteBase,
    _fields,
    _json_list,
    _mark,
    _person,
    _project_filter,
    _project_from_row,
    _project_params,
    _rows,
    _under_agency,
)


class RegistryPart(SqliteBase):
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

    async def find_person(self, name: str) -> Person | None:
        """The person with exactly this name, if any."""
        found = await self._people("WHERE p.name = ?", (name.strip(),))
        return found[0] if found else None

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

    async def all_people(self) -> list[Person]:
        """Every person, by name (for matching a shared phone number)."""
        return await self._people("", ())

    async def officer_links(self) -> list[tuple[str, int]]:
        """Every (project code, responsible officer id), by code."""
        rows = await self._all(
            "SELECT p.code, o.person_id FROM project_officers o "
            "JOIN projects p ON p.id = o.project_id ORDER BY p.code, o.person_id"
        )
        return [(r[0], r[1]) for r in rows]

    async def officer_names(self, *, agency: str | None = None) -> list[tuple[str, str]]:
        """Every (project code, responsible officer's name), by code and name; optionally only
        projects under one agency path."""
        where, params = _project_filter(agency=agency)
        rows = await self._all(
            "SELECT p.code, h.name FROM project_officers o JOIN projects p ON p.id = o.project_id "
            f"JOIN people h ON h.id = o.person_id {where} ORDER BY p.code, h.name",
            params,
        )
        return [(r[0], r[1]) for r in rows]

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""
        async with self._transaction() as db:
            await self._require_person(db, delegation.person_id)
            await self._require_person(db, delegation.delegate_id)
            new_id = await _insert_delegation(db, delegation)
        return dataclasses.replace(delegation, id=new_id)

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

    async def projects_within(self, reach: Reach) -> list[Project]:
        """Every project a reach may see, by code."""
        if reach.everything:
            return await self.list_projects()
        clauses = ["p.code IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [_json_list(reach.reports_on | reach.watched)]
        for agency in reach.agencies:
            clause = _under_agency("?")
            clauses.append(clause)
            params.extend([agency.strip()] * clause.count("?"))
        rows = await self._all(
            f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE {' OR '.join(clauses)} "
            "ORDER BY p.code",
            params,
        )
        return [_project_from_row(r) for r in rows]

    async def colleagues(self, person_id: int, *, limit: int, named: str = "") -> list[Person]:
        """Officers of projects under the same offices as the person's own, by name; with
        `named`, only those whose name holds it."""
        async with self._reading() as db:
            rows = await _rows(
                db,
                "SELECT DISTINCT p.agency FROM projects p "
                "JOIN project_officers o ON o.project_id = p.id WHERE o.person_id = ?",
                (person_id,),
            )
            offices = sorted({str(r[0]).split("/")[0].strip() for r in rows} - {""})
            if not offices:
                return []
            clause = _under_agency("?")
            params: list[Any] = [office for office in offices for _ in range(clause.count("?"))]
            where = (
                "WHERE p.id IN (SELECT o.person_id FROM project_officers o "
                "JOIN projects p ON p.id = o.project_id "
                f"WHERE {' OR '.join([clause] * len(offices))}) AND p.id <> ? "
                "AND instr(p.name, ?) > 0"
            )
            query = _PEOPLE_SELECT.format(where=where) + " LIMIT ?"
            found = await _rows(db, query, [*params, person_id, named.strip(), limit])
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
