"""The storage contracts, one small Protocol per role, in domain types.

A consumer asks for the roles it needs (the reminder service for `ReminderLog`, the importers for
`Registry` and `ReportStore`) and nothing else. Each backend implements every role; one contract
suite per role (tests/test_storage_contract.py) runs against each backend, so a fake can never
drift from the real thing. `Storage` is all of them, for the composition root that opens one.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.models import (
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
    Revision,
    Role,
    SessionState,
    Snooze,
    Submission,
)

Account = tuple[str, str]
"""A chat account: (channel, external id)."""


class Upsert(enum.StrEnum):
    """What an idempotent write did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Opening:
    """What a conversation turn starts from, read at once: whether its update was handled
    already, who is behind the account, where their conversation stands, the channel they want
    reminders on, and what they may report on and see that day."""

    handled: bool
    person: Person | None
    session: SessionState | None
    preferred_channel: str | None
    reach: Reach


class ReportStore(Protocol):
    """Monthly reports with every version they had."""

    async def submit_report(
        self,
        submission: Submission,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new monthly report (revision 1); raise AlreadyReported if that month has one.

        With `finish_session`, that conversation is cleared in the same transaction, so a crash
        never leaves a stored report with a conversation asking for it; `event` is marked
        handled in it too.
        """

    async def correct_report(
        self,
        submission: Submission,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new revision of an existing report (a reason is required); NotFound if none."""

    async def get_report(
        self, project_code: str, fiscal_year: int, report_no: int
    ) -> MonthlyReport | None:
        """The current version of one month's report."""

    async def reports_of_project(
        self, project_code: str, fiscal_year: int | None = None
    ) -> list[MonthlyReport]:
        """Current versions of a project's reports, by fiscal year and report number."""

    async def project_file(
        self, *, project_id: int | None = None, code: str | None = None
    ) -> ProjectFile | None:
        """One project (by id or by code) with all its reports; None if there is no such."""

    async def project_files(self, codes: Collection[str] | None = None) -> list[ProjectFile]:
        """The projects with these codes (every project: None), each with all its reports,
        by code; unknown codes are left out."""

    async def recent_reports(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[MonthlyReport]:
        """The latest `count` reports of each project among reports 1..`up_to` of the fiscal
        year, by project code and report number."""

    async def recent_figures(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[ReportFigures]:
        """The reports of `recent_reports`, in the same order, as the figures a summary reads
        (a month's summary of every project reads these, not whole reports)."""

    async def last_change_by(self, person_id: int) -> tuple[MonthlyReport, Revision] | None:
        """The report this person stored or corrected last (its current version), with that
        revision of theirs."""

    async def revisions(self, report_id: int) -> list[Revision]:
        """Every version of a report, oldest first."""

    async def first_sent(self, fiscal_year: int, report_no: int) -> dict[str, tuple[datetime, str]]:
        """When and on which channel each project's report of that month was first stored (its
        revision 1), by project code; projects without that report are absent."""

    async def report_rows(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
    ) -> Sequence[tuple[Project, MonthlyReport]]:
        """Every stored report with its project, by project code, fiscal year and report number."""

    def report_batches(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
        per_batch: int = 500,
    ) -> AsyncIterator[Sequence[tuple[Project, MonthlyReport]]]:
        """The rows of `report_rows`, in the same order, a batch at a time: each batch holds
        every report of at most `per_batch` projects (a project is never split), and no batch is
        empty. An export writing batch by batch holds one batch, never every report; between
        batches other reads and writes may run."""


class Registry(Protocol):
    """Projects, people, who is responsible for what, and who stands in for whom."""

    async def upsert_project(self, data: ProjectData) -> tuple[Project, Upsert]:
        """Create the project with this code, or update its fields; says which happened."""

    async def get_project(self, code: str) -> Project | None:
        """The project with this code, if any."""

    async def list_projects(
        self, *, fiscal_year: int | None = None, agency: str | None = None
    ) -> list[Project]:
        """Projects, by code, optionally of one fiscal year and under one agency path prefix."""

    async def projects_within(self, reach: Reach) -> list[Project]:
        """Every project a reach may see (`Reach.may_see`), by code."""

    async def add_person(
        self, name: str, *, phone: str = "", position: str = "", roles: frozenset[Role]
    ) -> Person:
        """Register a person, or return the one with that exact name with roles added."""

    async def get_person(self, person_id: int) -> Person | None:
        """The person with this id, if any."""

    async def reach_of(self, person_id: int, day: date) -> Reach:
        """What the person may report on and see on `day` (the same as a chat turn's
        `Opening.reach`): the one authorization policy of chat and web. Nothing for nobody."""

    async def find_person(self, name: str) -> Person | None:
        """The person with exactly this name, if any."""

    async def all_people(self) -> list[Person]:
        """Every person, by name (for matching a shared phone number)."""

    async def link_officer(self, person_id: int, project_code: str) -> bool:
        """Make the person a responsible officer of the project; False if already so."""

    async def projects_of_officer(self, person_id: int) -> list[Project]:
        """Projects the person is responsible for, by code."""

    async def officers_of_project(self, project_code: str) -> list[Person]:
        """Responsible officers of a project."""

    async def officer_links(self) -> list[tuple[str, int]]:
        """Every (project code, responsible officer id), by code."""

    async def officer_names(self, *, agency: str | None = None) -> list[tuple[str, str]]:
        """Every (project code, responsible officer's name), by code and name; optionally only
        projects under one agency path."""

    async def colleagues(self, person_id: int, *, limit: int, named: str = "") -> list[Person]:
        """Officers of projects under the same office (the first segment of the agency path)
        as the person's own projects, the person left out; by name, at most `limit`; with
        `named`, only those whose name holds that text."""

    async def add_coordinator_scope(self, scope: CoordinatorScope) -> bool:
        """Let a coordinator look after an agency or a project; False if already so."""

    async def coordinator_scopes(self, person_id: int) -> list[CoordinatorScope]:
        """What the coordinator looks after."""

    async def projects_of_coordinator(self, person_id: int) -> list[Project]:
        """Projects within any of the coordinator's scopes, by code."""

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""

    async def set_absence(
        self,
        delegation: Delegation,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> Person:
        """The person is away from `first_day`: stand-ins of theirs in force that day end the
        day before, later ones are cancelled, and this one is recorded, in one transaction
        (with the conversation finished and the event marked); returns the stand-in.
        NotFound if either person does not exist."""

    async def delegations_on(self, day: date) -> list[Delegation]:
        """Stand-ins in force on a day."""

    async def end_delegations(
        self, person_id: int, day: date, *, event: EventMark | None = None
    ) -> int:
        """The person is back: stand-ins in force on `day` end the day before, later ones are
        cancelled; returns how many were ended or cancelled."""


class Accounts(Protocol):
    """Chat accounts: whose they are, which channel a person wants, who blocked the bot."""

    async def link_identity(
        self, identity: ChatIdentity, *, event: EventMark | None = None
    ) -> None:
        """Attach a chat account to a person (re-linking an account moves it)."""

    async def find_person_by_identity(self, channel: str, external_id: str) -> Person | None:
        """The person behind a chat account, if linked."""

    async def identities_of(self, person_id: int) -> list[ChatIdentity]:
        """Every chat account of a person."""

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""

    async def set_preferred_channel(self, person_id: int, channel: str) -> bool:
        """Remember the channel a person wants messages on; False if it was that already."""

    async def preferred_channels(self) -> dict[int, str]:
        """Per person, the channel they want messages on (people without one are absent)."""

    async def set_reminder_channel(
        self, person_id: int, choice: str | None, *, event: EventMark | None = None
    ) -> None:
        """The channel a person chose for reminders ("line", "telegram" or "both"); None
        forgets the choice (reminders then go where the person last wrote from)."""

    async def reminder_channels(self) -> dict[int, str]:
        """Per person, the channel chosen for reminders (people without a choice are absent)."""

    async def rich_menus(self) -> dict[str, tuple[str, str]]:
        """Per role, the LINE rich menu made for it: (its id at LINE, its name)."""

    async def set_rich_menu(self, role: str, rich_menu_id: str, name: str) -> None:
        """Remember the LINE rich menu made for a role (replacing the one before)."""

    async def menu_links(self) -> dict[str, str]:
        """Per LINE account, the rich menu it was last linked to (by the bot)."""

    async def set_menu_links(self, links: dict[str, str | None]) -> None:
        """Remember the rich menus LINE accounts were linked to (None: the default again)."""

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

    async def blocked_accounts(self) -> set[Account]:
        """Every (channel, external id) that blocked the bot."""


class Conversations(Protocol):
    """Where each conversation stands, and which incoming updates were handled."""

    async def open_turn(self, channel: str, external_id: str, event_id: str, day: date) -> Opening:
        """Everything a turn starts from, in one read (see `Opening`); an empty `event_id`
        (an update without one) is never handled already."""

    async def load_session(self, channel: str, external_id: str) -> SessionState | None:
        """The half-finished conversation of this chat account, if any."""

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        """Remember where a conversation stands.

        Every write a conversation turn ends with takes the `event` that caused it, and marks it
        handled in the same transaction (see `event_handled`).
        """

    async def clear_session(
        self, channel: str, external_id: str, *, event: EventMark | None = None
    ) -> None:
        """Forget a finished or cancelled conversation."""

    async def sessions_older_than(self, moment: datetime) -> list[SessionState]:
        """Conversations idle since before `moment` (for reminders and clean-up)."""

    async def event_handled(self, channel: str, event_id: str) -> bool:
        """Whether an incoming update was handled already (its turn's writes committed)."""

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before` (channels redeliver only recent ones)."""


class ReminderLog(Protocol):
    """Reminders claimed before they are sent (so none goes twice), snoozes, and the kinds of
    message each person turned off."""

    async def claim_reminder(
        self, key: ReminderKey, channel: str, external_id: str, at: datetime
    ) -> bool:
        """Record a reminder as being sent (status SENDING); False if the key exists already."""

    async def reclaim_reminder(self, key: ReminderKey, at: datetime) -> bool:
        """Take a reminder marked RETRY back to SENDING for another attempt; False if it is not."""

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

    async def reminder_records(
        self, status: DeliveryStatus | None = None, *, subject: str | None = None
    ) -> list[ReminderRecord]:
        """Claimed reminders (of one status, about one subject, if given), by key."""

    async def mark_in_doubt(self, at: datetime, *, claimed_before: datetime | None = None) -> int:
        """Reminders left SENDING by a stopped process become UNKNOWN (never resent): those
        claimed, or taken back for another try, before `claimed_before` if given (with several
        processes, a live one may be sending the newer ones right now), else all; how many."""

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

    async def snoozes(self) -> list[Snooze]:
        """Every snooze (expired ones included), by person and project."""

    async def set_notification(
        self, person_id: int, kind: str, enabled: bool, *, event: EventMark | None = None
    ) -> None:
        """Turn one kind of message on or off for a person."""

    async def disabled_notifications(self) -> dict[int, set[str]]:
        """Per person, the kinds of message they turned off."""

    async def add_nudge(self, nudge: Nudge) -> bool:
        """Record a nudge; False (and nothing stored) if the person was nudged about the
        project for that day already."""

    async def nudges_between(self, start: datetime, end: datetime) -> list[Nudge]:
        """Nudges to send after `start` and no later than `end`, by when they go out."""

    async def nudges_of_project(self, project_code: str) -> list[Nudge]:
        """Every nudge about a project, the latest asked first."""


class WebAccess(Protocol):
    """Sign-in links for the web dashboard (single use, short-lived) and the sessions they open.
    Secrets are stored only as their hashes."""

    async def create_web_link(self, token_hash: str, person_id: int, expires_at: datetime) -> None:
        """Store a new sign-in link."""

    async def redeem_web_link(self, token_hash: str, at: datetime) -> int | None:
        """Use a link once: its person, or None if it is unknown, used or expired."""

    async def create_web_session(
        self, token_hash: str, person_id: int, expires_at: datetime
    ) -> None:
        """Store a new session."""

    async def web_session_person(self, token_hash: str, at: datetime) -> int | None:
        """The person of a live session, or None."""

    async def end_web_session(self, token_hash: str) -> None:
        """Sign out: the session opens nothing any more."""


class Invites(Protocol):
    """Single-use codes that link a chat account to a person, and failed tries to use one."""

    async def create_invite(self, invite: Invite) -> None:
        """Store a new invite (by the hash of its code)."""

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

    async def record_link_failure(
        self, channel: str, external_id: str, at: datetime, *, event: EventMark | None = None
    ) -> None:
        """Count a wrong invite code or phone number typed by a chat account."""

    async def link_failures_since(self, channel: str, external_id: str, since: datetime) -> int:
        """How many failed linking attempts a chat account made since `since`."""


class Records(ReportStore, Registry, Protocol):
    """Projects, people and their reports: what the documents, exports and importers read."""


class Processes(Protocol):
    """What keeps several bot processes on one database from stepping on each other."""

    def person_turn(self, channel: str, external_id: str) -> AbstractAsyncContextManager[None]:
        """Hold one chat account's turn against every other process sharing the database:
        while it is held, no other process serves that account's messages (they wait), so a
        person's messages are handled one at a time and in order wherever they land."""

    async def hold_poller(self, channel: str) -> bool:
        """Become the one process that polls `channel` for updates, until the storage is
        closed; False (and nothing held) while another process polls it."""

    async def still_poller(self, channel: str) -> bool:
        """Whether this process still holds `channel`'s poller lock (a lock held by a database
        connection goes with it): taken again if it was lost and nobody else took it; False
        when another process polls now."""

    def only_one(self, job: str, *, wait: bool = False) -> AbstractAsyncContextManager[bool]:
        """Run `job` in one process at a time: the block gets True if this process may run it
        now (held until the block ends), False while another process runs it (with `wait`:
        waits for that one to finish, then True)."""

    async def healthy(self) -> bool:
        """Whether the database answers now (for a load balancer's health check)."""


class Storage(
    ReportStore,
    Registry,
    Accounts,
    Conversations,
    ReminderLog,
    Invites,
    WebAccess,
    Processes,
    Protocol,
):
    """Every role at once: what a backend implements and the composition root opens."""

    async def close(self) -> None:
        """Release the underlying resources."""
