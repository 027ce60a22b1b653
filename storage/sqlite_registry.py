"""Projects, people and their roles, chat accounts and how they get linked."""

from __future__ import annotations

from datetime import datetime

from domain.models import (
    ChatIdentity,
    CoordinatorScope,
    Invite,
    InviteResult,
    Person,
    Project,
    ProjectData,
    Role,
)
from storage.errors import StorageError
from storage.repository import Upsert
from storage.sqlite_base import (
    _COLUMN,
    _PROJECT_COLUMNS,
    _PROJECT_FIELDS,
    SqliteBase,
    _fields,
    _project_filter,
    _project_from_row,
    _project_params,
    _under_agency,
    _utc,
)


class RegistryPart(SqliteBase):
    """Projects, people and their roles, chat accounts and how they get linked."""

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

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""
        rows = await self._all(
            "SELECT channel, external_id, person_id FROM chat_identities "
            "ORDER BY person_id, channel, external_id"
        )
        return [ChatIdentity(r[0], r[1], r[2]) for r in rows]
