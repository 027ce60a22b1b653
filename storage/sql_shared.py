"""What both SQL backends do alike: the reads whose SQL is the same in SQLite and PostgreSQL.

Both keep the same tables with the same representations (storage.pg_schema), both take SQL with
`?` placeholders (PostgreSQL's are numbered by storage.pg_base.sql), and both return rows as
sequences of the stored values, so one body serves both. What differs is behind `SqlBase`: how a
query runs, how people are read with their roles (group_concat or string_agg), and how a list
parameter is tested for membership (`among`). Writes stay in each backend's parts: their
transactions and their guards against other processes differ.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.models import (
    REMINDER_CHANNELS,
    ChatIdentity,
    CoordinatorScope,
    Delegation,
    DeliveryStatus,
    EventMark,
    Invite,
    MonthlyReport,
    Nudge,
    Person,
    Project,
    ProjectFile,
    Reach,
    ReminderKey,
    ReminderRecord,
    ReportFigures,
    SessionState,
    Snooze,
)
from storage.errors import NotFound
from storage.sql_base import SqlBase, Tx
from storage.sqlite_base import (
    _KEY_WHERE,
    _PROJECT_COLUMNS,
    _REPORT_COLUMNS,
    _REPORT_FROM,
    _REPORT_SELECT,
    _key,
    _monthly_report,
    _project_from_row,
    _report_from_row,
    _utc,
)

_at = datetime.fromisoformat


def under_agency(agency: str) -> str:
    """SQL for `domain.models.under_agency(p.agency, agency)`: whole path segments only; the
    agency given once per `?` (as text: both databases then compare it alike)."""
    a = "CAST(? AS TEXT)" if agency == "?" else agency
    return (
        f"({a} <> '' AND (p.agency = {a} "
        f"OR substr(p.agency, 1, length({a}) + 1) = {a} || '/' "
        f"OR substr(p.agency, 1, length({a}) + 2) = {a} || ' /'))"
    )


def project_filter(
    *, fiscal_year: int | None = None, agency: str | None = None, code: str | None = None
) -> tuple[str, list[Any]]:
    """A WHERE clause over projects `p`, and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if fiscal_year is not None:
        clauses.append("p.fiscal_year = ?")
        params.append(fiscal_year)
    if agency:
        # Whole path segments: "สำนักงานเขตลาดกระบัง" covers its divisions, not another district.
        clause = under_agency("?")
        clauses.append(clause)
        params.extend([agency.strip()] * clause.count("?"))
    if code is not None:
        clauses.append("p.code = ?")
        params.append(code)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


async def require_person(tx: Tx, person_id: int) -> None:
    """NotFound unless a person has this id."""
    if not await tx.rows("SELECT 1 FROM people WHERE id = ?", (person_id,)):
        raise NotFound(f"no person with id {person_id}")


async def mark(tx: Tx, event: EventMark | None) -> bool:
    """Record an event as handled inside the transaction; False if it already was."""
    if event is None:
        return True
    return (
        await tx.execute(
            "INSERT INTO handled_events (channel, event_id, handled_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (event.channel, event.event_id, _utc(event.at)),
        )
        > 0
    )


# Projects with their reports in one query: the project's columns first, then the report's
# (NULL for a project without reports), in the order of `_REPORT_COLUMNS`.
FILE_SELECT = (
    f"SELECT {_PROJECT_COLUMNS}, {_REPORT_COLUMNS} FROM projects p "
    "LEFT JOIN monthly_reports r ON r.project_id = p.id "
    "LEFT JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision "
    "WHERE {where} ORDER BY p.code, r.fiscal_year, r.report_no"
)
_PROJECT_WIDTH = _PROJECT_COLUMNS.count(",") + 1


def project_files(rows: Sequence[Any]) -> list[ProjectFile]:
    """Rows of `FILE_SELECT` gathered per project."""
    files: list[ProjectFile] = []
    project: Project | None = None
    reports: list[MonthlyReport] = []
    for row in rows:
        if project is None or project.id != row[0]:
            if project is not None:
                files.append(ProjectFile(project, tuple(reports)))
            project, reports = _project_from_row(row[:_PROJECT_WIDTH]), []
        if row[_PROJECT_WIDTH] is not None:
            reports.append(_monthly_report(row[_PROJECT_WIDTH:], project.code))
    if project is not None:
        files.append(ProjectFile(project, tuple(reports)))
    return files


def recent(
    columns: str, fiscal_year: int, up_to: int, count: int, agency: str | None
) -> tuple[str, list[Any]]:
    """The query of the latest `count` reports of each project among reports 1..`up_to` of the
    fiscal year (by project code and report number), selecting `columns`."""
    where, params = project_filter(agency=agency)
    # Per project, on the index: the report number `count` places back bounds the range.
    return (
        f"SELECT {columns} FROM projects p "
        "JOIN monthly_reports r ON r.project_id = p.id AND r.fiscal_year = ? "
        "AND r.report_no BETWEEN COALESCE((SELECT r2.report_no FROM monthly_reports r2 "
        "WHERE r2.project_id = p.id AND r2.fiscal_year = ? AND r2.report_no <= ? "
        "ORDER BY r2.report_no DESC LIMIT 1 OFFSET ?), 1) AND ? "
        "JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision "
        f"{where} ORDER BY p.code, r.report_no",
        [fiscal_year, fiscal_year, up_to, count - 1, up_to, *params],
    )


class SharedReports(SqlBase):
    """The reads of `ReportStore`."""

    async def get_report(
        self, project_code: str, fiscal_year: int, report_no: int
    ) -> MonthlyReport | None:
        """The current version of one month's report."""
        row = await self._one(
            _REPORT_SELECT + " WHERE p.code = ? AND r.fiscal_year = ? AND r.report_no = ?",
            (project_code, fiscal_year, report_no),
        )
        return None if row is None else _report_from_row(row)[1]

    async def reports_of_project(
        self, project_code: str, fiscal_year: int | None = None
    ) -> list[MonthlyReport]:
        """Current versions of a project's reports, by fiscal year and report number."""
        where = "WHERE p.code = ?" + ("" if fiscal_year is None else " AND r.fiscal_year = ?")
        params: list[Any] = [project_code] if fiscal_year is None else [project_code, fiscal_year]
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} {_REPORT_FROM} {where} ORDER BY r.fiscal_year, r.report_no",
            params,
        )
        return [_monthly_report(r, project_code) for r in rows]

    async def project_file(
        self, *, project_id: int | None = None, code: str | None = None
    ) -> ProjectFile | None:
        """One project (by id or by code) with all its reports; None if there is no such."""
        if (project_id is None) == (code is None):
            raise ValueError("give either project_id or code")
        where, key = ("p.id = ?", project_id) if project_id is not None else ("p.code = ?", code)
        files = project_files(await self._all(FILE_SELECT.format(where=where), (key,)))
        return files[0] if files else None

    async def project_files(self, codes: Collection[str] | None = None) -> list[ProjectFile]:
        """The projects with these codes (every project: None), each with all its reports."""
        if codes is None:
            return project_files(await self._all(FILE_SELECT.format(where="TRUE")))
        listed, param = self.among(codes)
        where = f"p.code IN {listed}"
        return project_files(await self._all(FILE_SELECT.format(where=where), (param,)))

    async def report_rows(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
    ) -> Sequence[tuple[Project, MonthlyReport]]:
        """Every stored report with its project, by project code, fiscal year and report number."""
        where, params = project_filter(agency=agency, code=project_code)
        if fiscal_year is not None:
            where += (" AND " if where else "WHERE ") + "r.fiscal_year = ?"
            params.append(fiscal_year)
        rows = await self._all(
            f"{_REPORT_SELECT} {where} ORDER BY p.code, r.fiscal_year, r.report_no", params
        )
        projects: dict[int, Project] = {}  # built once each, not once per report
        found: list[tuple[Project, MonthlyReport]] = []
        for row in rows:
            project = projects.get(row[15])
            if project is None:
                project = projects[row[15]] = _project_from_row(row[15:])
            found.append((project, _monthly_report(row, project.code)))
        return found

    async def report_batches(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
        per_batch: int = 500,
    ) -> AsyncIterator[Sequence[tuple[Project, MonthlyReport]]]:
        """The rows of `report_rows`, in the same order, the reports of at most `per_batch`
        projects at a time (see the contract)."""
        if per_batch < 1:
            raise ValueError("a batch holds at least one project")
        where, params = project_filter(agency=agency, code=project_code)
        year = "" if fiscal_year is None else " AND r.fiscal_year = ?"
        after: str | None = None
        while True:
            # A page of projects by code (after the last one of the page before), then their
            # reports: the project's columns come once, not on each of its reports. The two
            # reads see one state; nothing is held between pages.
            page, page_params = where, list(params)
            if after is not None:
                page += (" AND " if page else "WHERE ") + "p.code > ?"
                page_params.append(after)
            async with self._reads() as tx:
                projects = await tx.rows(
                    f"SELECT {_PROJECT_COLUMNS} FROM projects p {page} ORDER BY p.code LIMIT ?",
                    [*page_params, per_batch],
                )
                if not projects:
                    return
                listed, ids = self.among([row[0] for row in projects], "BIGINT")
                rows = await tx.rows(
                    f"SELECT {_REPORT_COLUMNS}, r.project_id FROM monthly_reports r "
                    "JOIN report_revisions v ON v.report_id = r.id "
                    "AND v.revision = r.current_revision "
                    f"WHERE r.project_id IN {listed}{year} "
                    "ORDER BY r.project_id, r.fiscal_year, r.report_no",
                    [ids] + ([] if fiscal_year is None else [fiscal_year]),
                )
            by_id: dict[int, list[Any]] = {}
            for row in rows:
                by_id.setdefault(row[15], []).append(row)
            batch: list[tuple[Project, MonthlyReport]] = []
            for project_row in projects:
                found = by_id.get(project_row[0])
                if found:
                    project = _project_from_row(project_row)
                    batch.extend((project, _monthly_report(r, project.code)) for r in found)
            if batch:
                yield batch
            if len(projects) < per_batch:
                return
            after = projects[-1][1]

    async def first_sent(self, fiscal_year: int, report_no: int) -> dict[str, tuple[datetime, str]]:
        """When and on which channel each project's report of that month was first stored."""
        rows = await self._all(
            "SELECT p.code, v.changed_at, v.channel FROM monthly_reports r "
            "JOIN projects p ON p.id = r.project_id "
            "JOIN report_revisions v ON v.report_id = r.id AND v.revision = 1 "
            "WHERE r.fiscal_year = ? AND r.report_no = ?",
            (fiscal_year, report_no),
        )
        return {code: (_at(at), channel) for code, at, channel in rows}

    async def recent_reports(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[MonthlyReport]:
        """The latest `count` reports of each project among reports 1..`up_to` of the fiscal
        year, by project code and report number."""
        if count < 1:
            return []
        rows = await self._all(
            *recent(f"{_REPORT_COLUMNS}, p.code", fiscal_year, up_to, count, agency)
        )
        return [_monthly_report(r, r[15]) for r in rows]

    async def recent_figures(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[ReportFigures]:
        """The reports of `recent_reports`, in the same order, as the figures a summary reads."""
        if count < 1:
            return []
        columns = "p.code, r.report_no, v.progress_centi, v.disbursed_satang, v.note"
        rows = await self._all(*recent(columns, fiscal_year, up_to, count, agency))
        # Only the columns the rules read, and two Decimals a row: about a third of what building
        # whole reports costs, at 30,000 reports for an all-agency summary.
        year = fiscal_year
        return [
            # Decimal(n).scaleb(-2) is `from_satang`, inline: two calls fewer a row.
            ReportFigures(code, year, no, Decimal(centi).scaleb(-2), Decimal(paid).scaleb(-2), note)
            for code, no, centi, paid, note in rows
        ]


class SharedRegistry(SqlBase):
    """The reads of `Registry`."""

    async def get_project(self, code: str) -> Project | None:
        """The project with this code, if any."""
        row = await self._one(
            f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE p.code = ?", (code,)
        )
        return None if row is None else _project_from_row(row)

    async def list_projects(
        self, *, fiscal_year: int | None = None, agency: str | None = None
    ) -> list[Project]:
        """Projects, by code, optionally of one fiscal year and under one agency path prefix."""
        where, params = project_filter(fiscal_year=fiscal_year, agency=agency)
        rows = await self._all(
            f"SELECT {_PROJECT_COLUMNS} FROM projects p {where} ORDER BY p.code", params
        )
        return [_project_from_row(r) for r in rows]

    async def projects_within(self, reach: Reach) -> list[Project]:
        """Every project a reach may see, by code."""
        if reach.everything:
            return await self.list_projects()
        listed, codes = self.among(reach.reports_on | reach.watched)
        clauses = [f"p.code IN {listed}"]
        params: list[Any] = [codes]
        for agency in reach.agencies:
            clause = under_agency("?")
            clauses.append(clause)
            params.extend([agency.strip()] * clause.count("?"))
        rows = await self._all(
            f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE {' OR '.join(clauses)} "
            "ORDER BY p.code",
            params,
        )
        return [_project_from_row(r) for r in rows]

    async def find_person(self, name: str) -> Person | None:
        """The person with exactly this name, if any."""
        found = await self._people("WHERE p.name = ?", (name.strip(),))
        return found[0] if found else None

    async def all_people(self) -> list[Person]:
        """Every person, by name (for matching a shared phone number)."""
        return await self._people("", ())

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
            f"SELECT {_PROJECT_COLUMNS} FROM projects p WHERE EXISTS ("
            "SELECT 1 FROM coordinator_scopes s WHERE s.person_id = ? "
            f"AND (s.project_id = p.id OR {under_agency('trim(s.agency)')})) ORDER BY p.code",
            (person_id,),
        )
        return [_project_from_row(r) for r in rows]

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
        where, params = project_filter(agency=agency)
        rows = await self._all(
            "SELECT p.code, h.name FROM project_officers o JOIN projects p ON p.id = o.project_id "
            f"JOIN people h ON h.id = o.person_id {where} ORDER BY p.code, h.name",
            params,
        )
        return [(r[0], r[1]) for r in rows]

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


class SharedAccounts(SqlBase):
    """The reads of `Accounts` and `Invites`."""

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

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""
        rows = await self._all(
            "SELECT channel, external_id, person_id FROM chat_identities "
            "ORDER BY person_id, channel, external_id"
        )
        return [ChatIdentity(r[0], r[1], r[2]) for r in rows]

    async def preferred_channels(self) -> dict[int, str]:
        """Per person, the channel they want messages on (people without one are absent)."""
        rows = await self._all("SELECT person_id, channel FROM channel_preferences")
        return {person_id: channel for person_id, channel in rows}

    async def reminder_channels(self) -> dict[int, str]:
        """Per person, the channel chosen for reminders (people without a choice are absent)."""
        rows = await self._all("SELECT person_id, choice FROM reminder_channels")
        return {person_id: choice for person_id, choice in rows}

    async def rich_menus(self) -> dict[str, tuple[str, str]]:
        """Per role, the LINE rich menu made for it: (its id at LINE, its name)."""
        rows = await self._all("SELECT role, rich_menu_id, name FROM line_rich_menus")
        return {role: (menu, name) for role, menu, name in rows}

    async def menu_links(self) -> dict[str, str]:
        """Per LINE account, the rich menu it was last linked to (by the bot)."""
        rows = await self._all("SELECT external_id, rich_menu_id FROM line_menu_links")
        return {external_id: menu for external_id, menu in rows}

    async def blocked_accounts(self) -> set[tuple[str, str]]:
        """Every (channel, external id) that blocked the bot."""
        rows = await self._all("SELECT channel, external_id FROM blocked_accounts")
        return {(channel, external_id) for channel, external_id in rows}

    async def link_failures_since(self, channel: str, external_id: str, since: datetime) -> int:
        """How many failed linking attempts a chat account made since `since`."""
        row = await self._one(
            "SELECT count(*) FROM link_failures "
            "WHERE channel = ? AND external_id = ? AND failed_at >= ?",
            (channel, external_id, _utc(since)),
        )
        return int(row[0]) if row else 0

    async def create_invite(self, invite: Invite) -> None:
        """Store a new invite (by the hash of its code)."""
        async with self._tx() as tx:
            await require_person(tx, invite.person_id)
            await tx.execute(
                "INSERT INTO invites (code_hash, person_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (invite.code_hash, invite.person_id, _utc(invite.created_at),
                 _utc(invite.expires_at)),
            )  # fmt: skip

    async def record_link_failure(
        self, channel: str, external_id: str, at: datetime, *, event: EventMark | None = None
    ) -> None:
        """Count a wrong invite code or phone number typed by a chat account."""
        async with self._tx() as tx:
            await mark(tx, event)
            await tx.execute(
                "INSERT INTO link_failures (channel, external_id, failed_at) VALUES (?, ?, ?)",
                (channel, external_id, _utc(at)),
            )

    async def set_blocked(
        self,
        channel: str,
        external_id: str,
        blocked: bool,
        at: datetime,
        *,
        event: EventMark | None = None,
    ) -> None:
        """Record that a chat account blocked the bot (or unblocked it)."""
        async with self._tx() as tx:
            await mark(tx, event)
            if blocked:
                await tx.execute(
                    "INSERT INTO blocked_accounts (channel, external_id, blocked_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (channel, external_id) DO NOTHING",
                    (channel, external_id, _utc(at)),
                )
            else:
                await tx.execute(
                    "DELETE FROM blocked_accounts WHERE channel = ? AND external_id = ?",
                    (channel, external_id),
                )

    async def set_preferred_channel(self, person_id: int, channel: str) -> bool:
        """Remember the channel a person wants messages on; False if it was that already."""
        async with self._tx() as tx:
            await require_person(tx, person_id)
            # One statement: the unique key decides between two processes setting it at once.
            changed = await tx.execute(
                "INSERT INTO channel_preferences (person_id, channel) VALUES (?, ?) "
                "ON CONFLICT (person_id) DO UPDATE SET channel = excluded.channel "
                "WHERE channel_preferences.channel <> excluded.channel",
                (person_id, channel),
            )
            return changed > 0

    async def set_reminder_channel(
        self, person_id: int, choice: str | None, *, event: EventMark | None = None
    ) -> None:
        """The channel a person chose for reminders ("line", "telegram" or "both"); None
        forgets the choice (reminders then go where the person last wrote from)."""
        if choice is not None and choice not in REMINDER_CHANNELS:
            raise ValueError(f"unknown reminder channel {choice!r}")
        async with self._tx() as tx:
            await require_person(tx, person_id)
            await mark(tx, event)
            if choice is None:
                await tx.execute("DELETE FROM reminder_channels WHERE person_id = ?", (person_id,))
            else:
                await tx.execute(
                    "INSERT INTO reminder_channels (person_id, choice) VALUES (?, ?) "
                    "ON CONFLICT (person_id) DO UPDATE SET choice = excluded.choice",
                    (person_id, choice),
                )

    async def set_rich_menu(self, role: str, rich_menu_id: str, name: str) -> None:
        """Remember the LINE rich menu made for a role (replacing the one before)."""
        async with self._tx() as tx:
            await tx.execute(
                "INSERT INTO line_rich_menus (role, rich_menu_id, name) VALUES (?, ?, ?) "
                "ON CONFLICT (role) DO UPDATE SET rich_menu_id = excluded.rich_menu_id, "
                "name = excluded.name",
                (role, rich_menu_id, name),
            )


class SharedWeb(SqlBase):
    """The reads of `WebAccess`, and its writes that are one statement."""

    async def create_web_session(
        self, token_hash: str, person_id: int, expires_at: datetime
    ) -> None:
        """Store a new session."""
        async with self._tx() as tx:
            await tx.execute(
                "INSERT INTO web_sessions (token_hash, person_id, expires_at) VALUES (?, ?, ?)",
                (token_hash, person_id, _utc(expires_at)),
            )

    async def end_web_session(self, token_hash: str) -> None:
        """Sign out: the session opens nothing any more."""
        async with self._tx() as tx:
            await tx.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))

    async def web_session_person(self, token_hash: str, at: datetime) -> int | None:
        """The person of a live session, or None."""
        row = await self._one(
            "SELECT person_id FROM web_sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash, _utc(at)),
        )
        return None if row is None else int(row[0])


class SharedConversations(SqlBase):
    """The reads of `Conversations`."""

    async def load_session(self, channel: str, external_id: str) -> SessionState | None:
        """The half-finished conversation of this chat account, if any."""
        row = await self._one(
            "SELECT state, data, updated_at FROM sessions WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        )
        if row is None:
            return None
        return SessionState(channel, external_id, row[0], row[1], _at(row[2]))

    async def sessions_older_than(self, moment: datetime) -> list[SessionState]:
        """Conversations idle since before `moment`."""
        rows = await self._all(
            "SELECT channel, external_id, state, data, updated_at FROM sessions "
            "ORDER BY channel, external_id"
        )
        found = [SessionState(r[0], r[1], r[2], r[3], _at(r[4])) for r in rows]
        # Sorted as moments, not as ISO text: texts with different UTC offsets do not sort in time.
        found.sort(key=lambda s: s.updated_at)
        return [s for s in found if s.updated_at < moment]

    async def event_handled(self, channel: str, event_id: str) -> bool:
        """Whether an incoming update was handled already (its turn's writes committed)."""
        row = await self._one(
            "SELECT 1 FROM handled_events WHERE channel = ? AND event_id = ?", (channel, event_id)
        )
        return row is not None


class SharedReminders(SqlBase):
    """The reads of `ReminderLog`, and its writes whose SQL is the same on both backends."""

    async def finish_reminder(
        self,
        key: ReminderKey,
        status: DeliveryStatus,
        at: datetime,
        error: str = "",
        retry_key: str | None = None,
    ) -> None:
        """Record what became of a claimed reminder, and the retry key of the request it went
        in (kept as it was when None): a resend goes under the same key."""
        async with self._tx() as tx:
            await tx.execute(
                "UPDATE reminder_log SET status = ?, updated_at = ?, error = ?, "
                f"retry_key = coalesce(CAST(? AS TEXT), retry_key) WHERE {_KEY_WHERE}",
                (status.value, _utc(at), error[:500], retry_key, *_key(key)),
            )

    async def mark_in_doubt(self, at: datetime, *, claimed_before: datetime | None = None) -> int:
        """Reminders left SENDING (since before `claimed_before`, if given) become UNKNOWN."""
        stale = "" if claimed_before is None else " AND updated_at < ?"
        since = () if claimed_before is None else (_utc(claimed_before),)
        async with self._tx() as tx:
            return await tx.execute(
                "UPDATE reminder_log SET status = 'unknown', updated_at = ? "
                f"WHERE status = 'sending'{stale}",
                (_utc(at), *since),
            )

    async def set_notification(
        self, person_id: int, kind: str, enabled: bool, *, event: EventMark | None = None
    ) -> None:
        """Turn one kind of message on or off for a person."""
        async with self._tx() as tx:
            await require_person(tx, person_id)
            await mark(tx, event)
            await tx.execute(
                "INSERT INTO notification_settings (person_id, kind, enabled) VALUES (?, ?, ?) "
                "ON CONFLICT (person_id, kind) DO UPDATE SET enabled = excluded.enabled",
                (person_id, kind, int(enabled)),
            )

    async def reminder_records(
        self, status: DeliveryStatus | None = None, *, subject: str | None = None
    ) -> list[ReminderRecord]:
        """Claimed reminders (of one status, about one subject, if given), by key."""
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        rows = await self._all(
            "SELECT person_id, subject, fiscal_year, report_no, kind, channel, external_id, "
            "status, attempts, claimed_at, updated_at, error, retry_key FROM reminder_log "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY person_id, subject, fiscal_year, report_no, kind",
            params,
        )
        return [
            ReminderRecord(
                ReminderKey(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], DeliveryStatus(r[7]), r[8],
                _at(r[9]), _at(r[10]), r[11], r[12],
            )
            for r in rows
        ]  # fmt: skip

    async def snoozes(self) -> list[Snooze]:
        """Every snooze (expired ones included), by person and project."""
        rows = await self._all(
            "SELECT person_id, project_code, snoozed_on, until FROM snoozes "
            "ORDER BY person_id, project_code"
        )
        return [Snooze(r[0], r[1], date.fromisoformat(r[2]), _at(r[3])) for r in rows]

    async def disabled_notifications(self) -> dict[int, set[str]]:
        """Per person, the kinds of message they turned off."""
        off: dict[int, set[str]] = {}
        for person_id, kind in await self._all(
            "SELECT person_id, kind FROM notification_settings WHERE enabled = 0"
        ):
            off.setdefault(person_id, set()).add(kind)
        return off

    async def nudges_between(self, start: datetime, end: datetime) -> list[Nudge]:
        """Nudges to send after `start` and no later than `end`, by when they go out."""
        return await self._nudges(
            "n.send_after > ? AND n.send_after <= ? ORDER BY n.send_after, n.id",
            (_utc(start), _utc(end)),
        )

    async def nudges_of_project(self, project_code: str) -> list[Nudge]:
        """Every nudge about a project, the latest asked first."""
        return await self._nudges("p.code = ? ORDER BY n.asked_at DESC, n.id DESC", (project_code,))

    async def _nudges(self, where: str, params: tuple[object, ...]) -> list[Nudge]:
        rows = await self._all(
            "SELECT n.by_person, n.person_id, p.code, n.fiscal_year, n.report_no, n.day, "
            "n.asked_at, n.send_after FROM nudges n JOIN projects p ON p.id = n.project_id "
            f"WHERE {where}",
            params,
        )
        return [
            Nudge(by, person, code, year, number, date.fromisoformat(day), _at(asked), _at(send))
            for by, person, code, year, number, day, asked, send in rows
        ]
