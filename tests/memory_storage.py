"""An in-memory storage honouring every role of the same contract as SqliteStorage, for fast
tests (it lives with the tests: the product never runs on it).

Every method mutates state without awaiting in between, so each call is atomic under asyncio.
Values are kept in the form SQLite would give back (money and percent to 2 places, datetimes
through ISO text), and the schema's CHECK and foreign-key rules are enforced as StorageError.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.models import (
    MONEY_STEP,
    REMINDER_CHANNELS,
    ChatIdentity,
    CoordinatorScope,
    Delegation,
    DeliveryStatus,
    EventMark,
    Invite,
    InviteResult,
    MonthlyReport,
    Nudge,
    Person,
    Project,
    ProjectData,
    ProjectFile,
    Reach,
    ReminderKey,
    ReminderRecord,
    ReportFigures,
    ReportValues,
    Revision,
    Role,
    SessionState,
    Snooze,
    Submission,
    under_agency,
)
from storage.contracts import Opening, Upsert
from storage.errors import AlreadyReported, NotFound, StorageError

_PROJECT_FIELDS = tuple(f.name for f in dataclasses.fields(ProjectData))
_Month = tuple[str, int, int]


def _two_places(amount: Decimal) -> Decimal:
    """The amount with exactly 2 places; ValueError if it has more (as SQLite does)."""
    exact = amount.quantize(MONEY_STEP)
    if exact != amount:
        raise ValueError(f"{amount} has more than 2 decimal places")
    return exact


def _as_stored(moment: datetime) -> datetime:
    """The datetime as it comes back from ISO text."""
    return datetime.fromisoformat(moment.isoformat())


def _stored_project(data: ProjectData, project_id: int) -> Project:
    fields = {n: getattr(data, n) for n in _PROJECT_FIELDS}
    for name in ("budget_received", "budget_used"):
        if fields[name] is not None:
            fields[name] = _two_places(fields[name])
    project = Project(id=project_id, **fields)
    if not project.code.strip():
        raise StorageError("a project needs a code")
    if not 2400 <= project.fiscal_year <= 2800:
        raise StorageError(f"fiscal year {project.fiscal_year} is not a Buddhist year")
    if any(b is not None and b < 0 for b in (project.budget_received, project.budget_used)):
        raise StorageError("a budget cannot be negative")
    return project


def _stored_values(v: ReportValues) -> ReportValues:
    values = dataclasses.replace(
        v, progress=_two_places(v.progress), disbursed=_two_places(v.disbursed)
    )
    if not 0 <= values.progress <= 100:
        raise StorageError(f"progress {values.progress} is not within 0..100")
    if values.disbursed < 0:
        raise StorageError("the disbursed amount cannot be negative")
    return values


class MemoryStorage:
    """A fast fake of the storage, keeping everything in dictionaries."""

    def __init__(self) -> None:
        self._projects: dict[str, Project] = {}
        self._people: dict[int, Person] = {}
        self._officers: set[tuple[str, int]] = set()
        self._scopes: list[CoordinatorScope] = []
        self._identities: dict[tuple[str, str], int] = {}
        self._report_ids: dict[_Month, int] = {}
        self._history: dict[int, tuple[_Month, list[Revision]]] = {}
        self._sessions: dict[tuple[str, str], SessionState] = {}
        self._events: dict[tuple[str, str], datetime] = {}
        self._invites: dict[str, tuple[Invite, datetime | None]] = {}
        self._link_failures: list[tuple[str, str, datetime]] = []
        self._reminders: dict[ReminderKey, ReminderRecord] = {}
        self._snoozes: dict[tuple[int, str], Snooze] = {}
        self._delegations: list[Delegation] = []
        self._settings: dict[tuple[int, str], bool] = {}
        self._preferred: dict[int, str] = {}
        self._reminder_channels: dict[int, str] = {}
        self._rich_menus: dict[str, tuple[str, str]] = {}
        self._web_links: dict[str, list[Any]] = {}  # hash -> [person, expires, used]
        self._web_sessions: dict[str, tuple[int, datetime]] = {}
        self._nudges: list[Nudge] = []
        self._menu_links: dict[str, str] = {}
        self._blocked: set[tuple[str, str]] = set()
        self._last_project_id = 0
        self._last_person_id = 0
        self._last_delegation_id = 0

    async def close(self) -> None:
        """Nothing to release."""

    # Projects

    async def upsert_project(self, data: ProjectData) -> tuple[Project, Upsert]:
        """Create the project with this code, or update its fields; says which happened."""
        existing = self._projects.get(data.code)
        if existing is None:
            project = _stored_project(data, self._last_project_id + 1)
            self._last_project_id = project.id
            self._projects[project.code] = project
            return project, Upsert.CREATED
        if all(getattr(existing, n) == getattr(data, n) for n in _PROJECT_FIELDS):
            return existing, Upsert.UNCHANGED
        project = _stored_project(data, existing.id)
        self._projects[project.code] = project
        return project, Upsert.UPDATED

    async def get_project(self, code: str) -> Project | None:
        """The project with this code, if any."""
        return self._projects.get(code)

    async def list_projects(
        self, *, fiscal_year: int | None = None, agency: str | None = None
    ) -> list[Project]:
        """Projects, by code, optionally of one fiscal year and under one agency path prefix."""
        return [
            p
            for p in sorted(self._projects.values(), key=lambda p: p.code)
            if (fiscal_year is None or p.fiscal_year == fiscal_year)
            and (not agency or under_agency(p.agency, agency))
        ]

    # People and roles

    async def add_person(
        self, name: str, *, phone: str = "", position: str = "", roles: frozenset[Role]
    ) -> Person:
        """Register a person, or return the one with that exact name with roles added."""
        name = name.strip()
        if not name:
            raise StorageError("a person needs a name")
        existing = self._by_name(name)
        if existing is None:
            self._last_person_id += 1
            person = Person(self._last_person_id, name, phone, position, frozenset(roles))
        else:
            person = dataclasses.replace(
                existing,
                phone=phone or existing.phone,
                position=position or existing.position,
                roles=existing.roles | roles,
            )
        self._people[person.id] = person
        return person

    def _by_name(self, name: str) -> Person | None:
        return next((p for p in self._people.values() if p.name == name), None)

    def _require_person(self, person_id: int) -> Person:
        person = self._people.get(person_id)
        if person is None:
            raise NotFound(f"no person with id {person_id}")
        return person

    def _require_project(self, code: str) -> Project:
        project = self._projects.get(code)
        if project is None:
            raise NotFound(f"no project with code {code!r}")
        return project

    def _grant(self, person: Person, role: Role) -> None:
        self._people[person.id] = dataclasses.replace(person, roles=person.roles | {role})

    def _people_where(self, wanted: set[int]) -> list[Person]:
        return sorted((p for p in self._people.values() if p.id in wanted), key=lambda p: p.name)

    async def get_person(self, person_id: int) -> Person | None:
        """The person with this id, if any."""
        return self._people.get(person_id)

    async def reach_of(self, person_id: int, day: date) -> Reach:
        """What the person may report on and see on `day`; nothing for nobody."""
        person = self._people.get(person_id)
        if person is None:
            return Reach()
        own = frozenset(code for code, officer in self._officers if officer == person.id)
        away = {d.person_id for d in await self.delegations_on(day) if d.delegate_id == person.id}
        standing_in = frozenset(code for code, officer in self._officers if officer in away)
        scopes = self._scopes_of(person.id) if Role.COORDINATOR in person.roles else []
        return Reach(
            own=own,
            standing_in=standing_in - own,
            everything=Role.ADMIN in person.roles,
            agencies=tuple(s.agency for s in scopes if s.agency is not None),
            watched=frozenset(s.project_code for s in scopes if s.project_code is not None),
        )

    async def find_person(self, name: str) -> Person | None:
        """The person with exactly this name, if any."""
        return self._by_name(name.strip())

    async def link_officer(self, person_id: int, project_code: str) -> bool:
        """Make the person a responsible officer of the project; False if already so."""
        person = self._require_person(person_id)
        self._require_project(project_code)
        self._grant(person, Role.OFFICER)
        if (project_code, person_id) in self._officers:
            return False
        self._officers.add((project_code, person_id))
        return True

    async def add_coordinator_scope(self, scope: CoordinatorScope) -> bool:
        """Let a coordinator look after an agency or a project; False if already so."""
        if (scope.agency is None) == (scope.project_code is None):
            raise StorageError("a coordinator scope is either an agency or a project")
        person = self._require_person(scope.person_id)
        if scope.project_code is not None:
            self._require_project(scope.project_code)
        self._grant(person, Role.COORDINATOR)
        if scope in self._scopes:
            return False
        self._scopes.append(scope)
        return True

    async def coordinator_scopes(self, person_id: int) -> list[CoordinatorScope]:
        """What the coordinator looks after."""
        return self._scopes_of(person_id)

    def _scopes_of(self, person_id: int) -> list[CoordinatorScope]:
        return [s for s in self._scopes if s.person_id == person_id]

    async def projects_within(self, reach: Reach) -> list[Project]:
        """Every project a reach may see, by code."""
        return [p for p in await self.list_projects() if reach.may_see(p)]

    async def colleagues(self, person_id: int, *, limit: int, named: str = "") -> list[Person]:
        """Officers of projects under the same offices as the person's own, by name."""
        offices = {
            p.agency.split("/")[0].strip() for p in await self.projects_of_officer(person_id)
        }
        offices.discard("")
        found = {
            officer
            for code, officer in self._officers
            if officer != person_id
            and any(under_agency(self._projects[code].agency, office) for office in offices)
            and named.strip() in self._people[officer].name
        }
        return self._people_where(found)[:limit]

    async def link_identity(
        self, identity: ChatIdentity, *, event: EventMark | None = None
    ) -> None:
        """Attach a chat account to a person (re-linking an account moves it)."""
        self._require_person(identity.person_id)
        self._mark(event)
        self._identities[identity.channel, identity.external_id] = identity.person_id

    async def find_person_by_identity(self, channel: str, external_id: str) -> Person | None:
        """The person behind a chat account, if linked."""
        person_id = self._identities.get((channel, external_id))
        return None if person_id is None else self._people.get(person_id)

    async def identities_of(self, person_id: int) -> list[ChatIdentity]:
        """Every chat account of a person."""
        return [
            ChatIdentity(channel, external_id, person_id)
            for (channel, external_id), owner in sorted(self._identities.items())
            if owner == person_id
        ]

    async def projects_of_officer(self, person_id: int) -> list[Project]:
        """Projects the person is responsible for, by code."""
        codes = {code for code, officer in self._officers if officer == person_id}
        return [self._projects[code] for code in sorted(codes)]

    async def officers_of_project(self, project_code: str) -> list[Person]:
        """Responsible officers of a project."""
        return self._people_where({pid for code, pid in self._officers if code == project_code})

    async def projects_of_coordinator(self, person_id: int) -> list[Project]:
        """Projects within any of the coordinator's scopes, by code."""
        scopes = [s for s in self._scopes if s.person_id == person_id]
        return [
            p
            for p in sorted(self._projects.values(), key=lambda p: p.code)
            if any(
                s.project_code == p.code
                or (s.agency is not None and under_agency(p.agency, s.agency))
                for s in scopes
            )
        ]

    # Monthly reports

    def _new_revision(self, report_id: int, number: int, s: Submission) -> Revision:
        if not 1 <= s.report_no <= 12:
            raise StorageError(f"report number must be 1..12, not {s.report_no}")
        values = _stored_values(s.values)
        if s.sent_by is not None and s.sent_by not in self._people:
            raise StorageError(f"no person with id {s.sent_by}")
        return Revision(
            report_id, number, values, s.sent_by, s.channel, _as_stored(s.sent_at), s.reason
        )

    def _current(self, report_id: int) -> MonthlyReport:
        (code, fiscal_year, report_no), history = self._history[report_id]
        last = history[-1]
        return MonthlyReport(
            id=report_id,
            project_code=code,
            fiscal_year=fiscal_year,
            report_no=report_no,
            values=last.values,
            sent_by=last.changed_by,
            channel=last.channel,
            sent_at=last.changed_at,
            revision=last.revision,
        )

    async def submit_report(
        self,
        submission: Submission,
        *,
        finish_session: tuple[str, str] | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new monthly report (revision 1); raise AlreadyReported if that month has one."""
        self._require_project(submission.project_code)
        month = (submission.project_code, submission.fiscal_year, submission.report_no)
        if month in self._report_ids:
            raise AlreadyReported(
                f"{submission.project_code} already has report "
                f"{submission.report_no} of {submission.fiscal_year}"
            )
        report_id = len(self._history) + 1  # reports are never deleted
        revision = self._new_revision(report_id, 1, submission)
        self._report_ids[month] = report_id
        self._history[report_id] = (month, [revision])
        if finish_session is not None:
            self._sessions.pop(finish_session, None)
        self._mark(event)
        return self._current(report_id)

    async def correct_report(
        self,
        submission: Submission,
        *,
        finish_session: tuple[str, str] | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new revision of an existing report (reason required); NotFound if none."""
        if not submission.reason.strip():
            raise StorageError("a correction needs a reason")
        self._require_project(submission.project_code)
        month = (submission.project_code, submission.fiscal_year, submission.report_no)
        report_id = self._report_ids.get(month)
        if report_id is None:
            raise NotFound("no report to correct for that month")
        _, history = self._history[report_id]
        history.append(self._new_revision(report_id, len(history) + 1, submission))
        if finish_session is not None:
            self._sessions.pop(finish_session, None)
        self._mark(event)
        return self._current(report_id)

    async def get_report(
        self, project_code: str, fiscal_year: int, report_no: int
    ) -> MonthlyReport | None:
        """The current version of one month's report."""
        report_id = self._report_ids.get((project_code, fiscal_year, report_no))
        return None if report_id is None else self._current(report_id)

    async def reports_of_project(
        self, project_code: str, fiscal_year: int | None = None
    ) -> list[MonthlyReport]:
        """Current versions of a project's reports, by fiscal year and report number."""
        rows = await self.report_rows(project_code=project_code, fiscal_year=fiscal_year)
        return [report for _, report in rows]

    async def project_file(
        self, *, project_id: int | None = None, code: str | None = None
    ) -> ProjectFile | None:
        """One project (by id or by code) with all its reports; None if there is no such."""
        if (project_id is None) == (code is None):
            raise ValueError("give either project_id or code")
        if code is None:
            code = next((p.code for p in self._projects.values() if p.id == project_id), None)
        project = self._projects.get(code) if code is not None else None
        if project is None:
            return None
        return ProjectFile(project, tuple(await self.reports_of_project(project.code)))

    async def project_files(self, codes: Collection[str] | None = None) -> list[ProjectFile]:
        """The projects with these codes (every project: None), each with all its reports."""
        wanted = sorted(self._projects if codes is None else set(codes) & set(self._projects))
        return [
            ProjectFile(self._projects[c], tuple(await self.reports_of_project(c))) for c in wanted
        ]

    async def recent_reports(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[MonthlyReport]:
        """The latest `count` reports of each project among reports 1..`up_to` of the fiscal
        year, by project code and report number."""
        if count < 1:
            return []
        by_code: dict[str, list[MonthlyReport]] = {}
        for project, report in await self.report_rows(fiscal_year=fiscal_year, agency=agency):
            if report.report_no <= up_to:
                by_code.setdefault(project.code, []).append(report)
        return [r for code in sorted(by_code) for r in by_code[code][-count:]]

    async def recent_figures(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[ReportFigures]:
        """The reports of `recent_reports`, in the same order, as the figures a summary reads."""
        found = await self.recent_reports(fiscal_year, up_to, count=count, agency=agency)
        return [
            ReportFigures(
                r.project_code, r.fiscal_year, r.report_no, r.progress, r.disbursed, r.note
            )
            for r in found
        ]

    async def last_change_by(self, person_id: int) -> tuple[MonthlyReport, Revision] | None:
        """The report this person stored or corrected last (its current version), with that
        revision of theirs."""
        theirs = [
            revision
            for _, history in self._history.values()
            for revision in history
            if revision.changed_by == person_id
        ]
        if not theirs:
            return None
        last = max(theirs, key=lambda r: (r.changed_at, r.report_id, r.revision))
        return self._current(last.report_id), last

    async def revisions(self, report_id: int) -> list[Revision]:
        """Every version of a report, oldest first."""
        return list(self._history[report_id][1]) if report_id in self._history else []

    async def first_sent(self, fiscal_year: int, report_no: int) -> dict[str, tuple[datetime, str]]:
        """When and on which channel each project's report of that month was first stored."""
        found = {}
        for (code, year, number), report_id in self._report_ids.items():
            if (year, number) == (fiscal_year, report_no):
                first = self._history[report_id][1][0]
                found[code] = (first.changed_at, first.channel)
        return found

    async def report_rows(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
    ) -> Sequence[tuple[Project, MonthlyReport]]:
        """Every stored report with its project, by project code, fiscal year and report number."""
        return [
            (self._projects[code], self._current(report_id))
            for (code, year, _), report_id in sorted(self._report_ids.items())
            if (fiscal_year is None or year == fiscal_year)
            and (project_code is None or code == project_code)
            and (not agency or under_agency(self._projects[code].agency, agency))
        ]

    async def report_batches(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
        per_batch: int = 500,
    ) -> AsyncIterator[Sequence[tuple[Project, MonthlyReport]]]:
        """The rows of `report_rows`, in the same order, the reports of at most `per_batch`
        projects at a time."""
        if per_batch < 1:
            raise ValueError("a batch holds at least one project")
        rows = await self.report_rows(
            fiscal_year=fiscal_year, project_code=project_code, agency=agency
        )
        batch: list[tuple[Project, MonthlyReport]] = []
        projects: set[str] = set()
        for project, report in rows:
            if project.code not in projects and len(projects) == per_batch:
                yield batch
                batch, projects = [], set()
            projects.add(project.code)
            batch.append((project, report))
        if batch:
            yield batch

    # Conversations

    async def open_turn(self, channel: str, external_id: str, event_id: str, day: date) -> Opening:
        """Everything a turn starts from, at once."""
        handled = bool(event_id) and (channel, event_id) in self._events
        session = self._sessions.get((channel, external_id))
        person = await self.find_person_by_identity(channel, external_id)
        if person is None:
            return Opening(handled, None, session, None, Reach())
        reach = await self.reach_of(person.id, day)
        return Opening(handled, person, session, self._preferred.get(person.id), reach)

    async def load_session(self, channel: str, external_id: str) -> SessionState | None:
        """The half-finished conversation of this chat account, if any."""
        return self._sessions.get((channel, external_id))

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        """Remember where a conversation stands (marking the event that moved it)."""
        stored = dataclasses.replace(session, updated_at=_as_stored(session.updated_at))
        self._sessions[session.channel, session.external_id] = stored
        self._mark(event)

    async def clear_session(
        self, channel: str, external_id: str, *, event: EventMark | None = None
    ) -> None:
        """Forget a finished or cancelled conversation."""
        self._sessions.pop((channel, external_id), None)
        self._mark(event)

    async def sessions_older_than(self, moment: datetime) -> list[SessionState]:
        """Conversations idle since before `moment` (for reminders and clean-up)."""
        ordered = sorted(self._sessions.values(), key=lambda s: (s.channel, s.external_id))
        ordered.sort(key=lambda s: s.updated_at)
        return [s for s in ordered if s.updated_at < moment]

    # Incoming events, handled once

    def _mark(self, event: EventMark | None) -> bool:
        if event is None:
            return True
        key = (event.channel, event.event_id)
        if key in self._events:
            return False
        self._events[key] = event.at
        return True

    async def event_handled(self, channel: str, event_id: str) -> bool:
        """Whether an incoming update was handled already."""
        return (channel, event_id) in self._events

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""
        return self._mark(event)

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before`."""
        old = [key for key, at in self._events.items() if at < before]
        for key in old:
            del self._events[key]
        return len(old)

    # Linking chat accounts

    async def create_invite(self, invite: Invite) -> None:
        """Store a new invite (by the hash of its code)."""
        self._require_person(invite.person_id)
        if invite.code_hash in self._invites:
            raise StorageError("an invite with that code exists")
        self._invites[invite.code_hash] = (invite, None)

    async def redeem_invite(
        self,
        code_hash: str,
        channel: str,
        external_id: str,
        now: datetime,
        *,
        event: EventMark | None = None,
    ) -> tuple[InviteResult, Person | None]:
        """Use an invite: link the chat account to its person, once, before it expires."""
        self._mark(event)
        found = self._invites.get(code_hash)
        if found is None:
            return InviteResult.UNKNOWN, None
        invite, used_at = found
        if used_at is not None:
            return InviteResult.USED, None
        if invite.expires_at <= now:
            return InviteResult.EXPIRED, None
        self._invites[code_hash] = (invite, now)
        self._identities[channel, external_id] = invite.person_id
        return InviteResult.LINKED, self._people.get(invite.person_id)

    async def record_link_failure(
        self, channel: str, external_id: str, at: datetime, *, event: EventMark | None = None
    ) -> None:
        """Count a wrong invite code or phone number typed by a chat account."""
        self._mark(event)
        self._link_failures.append((channel, external_id, at))

    async def link_failures_since(self, channel: str, external_id: str, since: datetime) -> int:
        """How many failed linking attempts a chat account made since `since`."""
        return sum(
            1
            for c, e, at in self._link_failures
            if (c, e) == (channel, external_id) and at >= since
        )

    async def all_people(self) -> list[Person]:
        """Every person, by name."""
        return sorted(self._people.values(), key=lambda p: p.name)

    # Reminders

    async def claim_reminder(
        self, key: ReminderKey, channel: str, external_id: str, at: datetime
    ) -> bool:
        """Record a reminder as being sent (status SENDING); False if the key exists already."""
        if key in self._reminders:
            return False
        self._require_person(key.person_id)
        at = _as_stored(at)
        self._reminders[key] = ReminderRecord(
            key, channel, external_id, DeliveryStatus.SENDING, 1, at, at
        )
        return True

    async def reclaim_reminder(self, key: ReminderKey, at: datetime) -> bool:
        """Take a reminder marked RETRY back to SENDING for another attempt; False if it is not."""
        record = self._reminders.get(key)
        if record is None or record.status is not DeliveryStatus.RETRY:
            return False
        self._reminders[key] = dataclasses.replace(
            record,
            status=DeliveryStatus.SENDING,
            attempts=record.attempts + 1,
            updated_at=_as_stored(at),
        )
        return True

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
        record = self._reminders.get(key)
        if record is not None:
            self._reminders[key] = dataclasses.replace(
                record,
                status=status,
                updated_at=_as_stored(at),
                error=error[:500],
                retry_key=record.retry_key if retry_key is None else retry_key,
            )

    async def reminder_records(
        self, status: DeliveryStatus | None = None, *, subject: str | None = None
    ) -> list[ReminderRecord]:
        """Claimed reminders (of one status, about one subject, if given), by key."""
        return [
            r
            for _, r in sorted(self._reminders.items())
            if (status is None or r.status is status)
            and (subject is None or r.key.subject == subject)
        ]

    async def mark_in_doubt(self, at: datetime, *, claimed_before: datetime | None = None) -> int:
        """Reminders left SENDING (since before `claimed_before`, if given) become UNKNOWN."""
        doubtful = [
            r
            for r in await self.reminder_records(DeliveryStatus.SENDING)
            if claimed_before is None or r.updated_at < claimed_before
        ]
        for record in doubtful:
            await self.finish_reminder(record.key, DeliveryStatus.UNKNOWN, at)
        return len(doubtful)

    async def snooze(
        self,
        person_id: int,
        project_code: str,
        on: date,
        until: datetime,
        *,
        event: EventMark | None = None,
    ) -> bool:
        """Hold reminders about a project until `until`; False if already snoozed on `on`."""
        self._require_person(person_id)
        self._mark(event)
        existing = self._snoozes.get((person_id, project_code))
        if existing is not None and existing.snoozed_on == on:
            return False
        self._snoozes[person_id, project_code] = Snooze(person_id, project_code, on, until)
        return True

    async def snoozes(self) -> list[Snooze]:
        """Every snooze, by person and project."""
        return [s for _, s in sorted(self._snoozes.items())]

    @contextlib.asynccontextmanager
    async def person_turn(self, channel: str, external_id: str) -> AsyncIterator[None]:
        """One process: the conversation's own lock is enough."""
        yield

    async def hold_poller(self, channel: str) -> bool:
        """This process is the only one."""
        return True

    @contextlib.asynccontextmanager
    async def only_one(self, job: str, *, wait: bool = False) -> AsyncIterator[bool]:
        """This process is the only one."""
        yield True

    async def still_poller(self, channel: str) -> bool:
        """This process is the only one."""
        return True

    async def healthy(self) -> bool:
        """Always: memory does not fail."""
        return True

    async def add_nudge(self, nudge: Nudge) -> bool:
        """Record a nudge; False if the person was nudged about the project that day already."""
        self._require_person(nudge.by_person)
        self._require_person(nudge.person_id)
        self._require_project(nudge.project_code)
        if any(
            (n.person_id, n.project_code, n.day) == (nudge.person_id, nudge.project_code, nudge.day)
            for n in self._nudges
        ):
            return False
        stored = dataclasses.replace(
            nudge, asked_at=_as_stored(nudge.asked_at), send_after=_as_stored(nudge.send_after)
        )
        self._nudges.append(stored)
        return True

    async def nudges_between(self, start: datetime, end: datetime) -> list[Nudge]:
        """Nudges to send after `start` and no later than `end`, by when they go out."""
        found = [n for n in self._nudges if start < n.send_after <= end]
        return sorted(found, key=lambda n: n.send_after)

    async def nudges_of_project(self, project_code: str) -> list[Nudge]:
        """Every nudge about a project, the latest asked first."""
        found = [n for n in reversed(self._nudges) if n.project_code == project_code]
        return sorted(found, key=lambda n: n.asked_at, reverse=True)

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""
        self._require_person(delegation.person_id)
        self._require_person(delegation.delegate_id)
        if delegation.person_id == delegation.delegate_id:
            raise StorageError("a person cannot stand in for themselves")
        if delegation.first_day > delegation.last_day:
            raise StorageError("a stand-in period ends before it starts")
        self._last_delegation_id += 1
        stored = dataclasses.replace(delegation, id=self._last_delegation_id)
        self._delegations.append(stored)
        return stored

    async def set_absence(
        self,
        delegation: Delegation,
        *,
        finish_session: tuple[str, str] | None = None,
        event: EventMark | None = None,
    ) -> Person:
        """The person is away: their stand-ins from that day are replaced by this one, the
        conversation finished and the event marked at once; returns the stand-in."""
        self._require_person(delegation.person_id)
        delegate = self._require_person(delegation.delegate_id)
        kept = list(self._delegations)
        self._end_delegations(delegation.person_id, delegation.first_day)
        try:
            await self.add_delegation(delegation)
        except StorageError:
            self._delegations = kept
            raise
        if finish_session is not None:
            self._sessions.pop(finish_session, None)
        self._mark(event)
        return delegate

    async def delegations_on(self, day: date) -> list[Delegation]:
        """Stand-ins in force on a day."""
        active = [d for d in self._delegations if d.first_day <= day <= d.last_day]
        return sorted(active, key=lambda d: (d.person_id, d.id))

    async def end_delegations(
        self, person_id: int, day: date, *, event: EventMark | None = None
    ) -> int:
        """The person is back: stand-ins in force on `day` end the day before, later ones are
        cancelled; returns how many were ended or cancelled."""
        self._mark(event)
        return self._end_delegations(person_id, day)

    def _end_delegations(self, person_id: int, day: date) -> int:
        ended = 0
        kept: list[Delegation] = []
        for d in self._delegations:
            if d.person_id == person_id and d.first_day >= day:
                ended += 1  # not begun yet: cancelled
                continue
            if d.person_id == person_id and d.first_day < day <= d.last_day:
                d = dataclasses.replace(d, last_day=day - timedelta(days=1))
                ended += 1
            kept.append(d)
        self._delegations = kept
        return ended

    async def set_notification(
        self, person_id: int, kind: str, enabled: bool, *, event: EventMark | None = None
    ) -> None:
        """Turn one kind of message on or off for a person."""
        self._require_person(person_id)
        self._mark(event)
        self._settings[person_id, kind] = enabled

    async def set_preferred_channel(self, person_id: int, channel: str) -> bool:
        """Remember the channel a person wants messages on; False if it was that already."""
        self._require_person(person_id)
        changed = self._preferred.get(person_id) != channel
        self._preferred[person_id] = channel
        return changed

    async def preferred_channels(self) -> dict[int, str]:
        """Per person, the channel they want messages on (people without one are absent)."""
        return dict(self._preferred)

    async def set_reminder_channel(
        self, person_id: int, choice: str | None, *, event: EventMark | None = None
    ) -> None:
        """The channel a person chose for reminders ("line", "telegram" or "both"); None
        forgets the choice."""
        if choice is not None and choice not in REMINDER_CHANNELS:
            raise ValueError(f"unknown reminder channel {choice!r}")
        self._require_person(person_id)
        self._mark(event)
        if choice is None:
            self._reminder_channels.pop(person_id, None)
        else:
            self._reminder_channels[person_id] = choice

    async def reminder_channels(self) -> dict[int, str]:
        """Per person, the channel chosen for reminders (people without a choice are absent)."""
        return dict(self._reminder_channels)

    async def create_web_link(self, token_hash: str, person_id: int, expires_at: datetime) -> None:
        """Store a new sign-in link."""
        self._require_person(person_id)
        self._web_links[token_hash] = [person_id, _as_stored(expires_at), None]

    async def redeem_web_link(self, token_hash: str, at: datetime) -> int | None:
        """Use a link once: its person, or None if it is unknown, used or expired."""
        link = self._web_links.get(token_hash)
        if link is None or link[2] is not None or link[1] <= at:
            return None
        link[2] = _as_stored(at)
        return int(link[0])

    async def create_web_session(
        self, token_hash: str, person_id: int, expires_at: datetime
    ) -> None:
        """Store a new session."""
        self._web_sessions[token_hash] = (person_id, _as_stored(expires_at))

    async def web_session_person(self, token_hash: str, at: datetime) -> int | None:
        """The person of a live session, or None."""
        session = self._web_sessions.get(token_hash)
        return session[0] if session is not None and session[1] > at else None

    async def end_web_session(self, token_hash: str) -> None:
        """Sign out: the session opens nothing any more."""
        self._web_sessions.pop(token_hash, None)

    async def rich_menus(self) -> dict[str, tuple[str, str]]:
        """Per role, the LINE rich menu made for it: (its id at LINE, its name)."""
        return dict(self._rich_menus)

    async def set_rich_menu(self, role: str, rich_menu_id: str, name: str) -> None:
        """Remember the LINE rich menu made for a role (replacing the one before)."""
        self._rich_menus[role] = (rich_menu_id, name)

    async def menu_links(self) -> dict[str, str]:
        """Per LINE account, the rich menu it was last linked to (by the bot)."""
        return dict(self._menu_links)

    async def set_menu_links(self, links: dict[str, str | None]) -> None:
        """Remember the rich menus LINE accounts were linked to (None: the default again)."""
        for external_id, role in links.items():
            if role is None:
                self._menu_links.pop(external_id, None)
            else:
                self._menu_links[external_id] = role

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
        self._mark(event)
        if blocked:
            self._blocked.add((channel, external_id))
        else:
            self._blocked.discard((channel, external_id))

    async def blocked_accounts(self) -> set[tuple[str, str]]:
        """Every (channel, external id) that blocked the bot."""
        return set(self._blocked)

    async def disabled_notifications(self) -> dict[int, set[str]]:
        """Per person, the kinds of message they turned off."""
        off: dict[int, set[str]] = {}
        for (person_id, kind), enabled in self._settings.items():
            if not enabled:
                off.setdefault(person_id, set()).add(kind)
        return off

    async def officer_links(self) -> list[tuple[str, int]]:
        """Every (project code, responsible officer id), by code."""
        return sorted(self._officers)

    async def officer_names(self, *, agency: str | None = None) -> list[tuple[str, str]]:
        """Every (project code, responsible officer's name), by code and name; optionally only
        projects under one agency path."""
        return sorted(
            (code, self._people[person_id].name)
            for code, person_id in self._officers
            if not agency or under_agency(self._projects[code].agency, agency)
        )

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""
        return sorted(
            (ChatIdentity(c, e, p) for (c, e), p in self._identities.items()),
            key=lambda i: (i.person_id, i.channel, i.external_id),
        )
