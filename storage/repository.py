"""The storage contract: everything the product asks of its data, in domain types.

Two implementations honour it, checked by one contract suite (tests/test_storage_contract.py):
`storage.sqlite.SqliteRepository` (the real one) and `storage.memory.MemoryRepository` (a fake).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
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
    Person,
    Project,
    ProjectData,
    ReminderKey,
    ReminderRecord,
    Revision,
    Role,
    SessionState,
    Snooze,
    Submission,
)


class Upsert(enum.StrEnum):
    """What an idempotent write did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Repository(Protocol):
    """Async access to projects, people, monthly reports with their history, and conversations."""

    async def close(self) -> None:
        """Release the underlying resources."""

    # Projects
    async def upsert_project(self, data: ProjectData) -> tuple[Project, Upsert]:
        """Create the project with this code, or update its fields; says which happened."""

    async def get_project(self, code: str) -> Project | None:
        """The project with this code, if any."""

    async def list_projects(
        self, *, fiscal_year: int | None = None, agency: str | None = None
    ) -> list[Project]:
        """Projects, by code, optionally of one fiscal year and under one agency path prefix."""

    # People and roles
    async def add_person(
        self, name: str, *, phone: str = "", position: str = "", roles: frozenset[Role]
    ) -> Person:
        """Register a person, or return the one with that exact name with roles added."""

    async def get_person(self, person_id: int) -> Person | None:
        """The person with this id, if any."""

    async def find_person(self, name: str) -> Person | None:
        """The person with exactly this name, if any."""

    async def link_officer(self, person_id: int, project_code: str) -> bool:
        """Make the person a responsible officer of the project; False if already so."""

    async def add_coordinator_scope(self, scope: CoordinatorScope) -> bool:
        """Let a coordinator look after an agency or a project; False if already so."""

    async def coordinator_scopes(self, person_id: int) -> list[CoordinatorScope]:
        """What the coordinator looks after."""

    async def link_identity(self, identity: ChatIdentity) -> None:
        """Attach a chat account to a person (re-linking an account moves it)."""

    async def find_person_by_identity(self, channel: str, external_id: str) -> Person | None:
        """The person behind a chat account, if linked."""

    async def identities_of(self, person_id: int) -> list[ChatIdentity]:
        """Every chat account of a person."""

    async def projects_of_officer(self, person_id: int) -> list[Project]:
        """Projects the person is responsible for, by code."""

    async def officers_of_project(self, project_code: str) -> list[Person]:
        """Responsible officers of a project."""

    async def projects_of_coordinator(self, person_id: int) -> list[Project]:
        """Projects within any of the coordinator's scopes, by code."""

    # Monthly reports
    async def submit_report(
        self,
        submission: Submission,
        *,
        finish_session: tuple[str, str] | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new monthly report (revision 1); raise AlreadyReported if that month has one.

        With `finish_session=(channel, external_id)`, that conversation is cleared in the same
        transaction, so a crash never leaves a stored report with a conversation asking for it.
        """

    async def correct_report(
        self,
        submission: Submission,
        *,
        finish_session: tuple[str, str] | None = None,
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

    async def recent_reports(
        self, fiscal_year: int, up_to: int, *, count: int, agency: str | None = None
    ) -> Sequence[MonthlyReport]:
        """The latest `count` reports of each project among reports 1..`up_to` of the fiscal
        year, by project code and report number."""

    async def last_change_by(self, person_id: int) -> tuple[MonthlyReport, Revision] | None:
        """The report this person stored or corrected last (its current version), with that
        revision of theirs."""

    async def revisions(self, report_id: int) -> list[Revision]:
        """Every version of a report, oldest first."""

    async def report_rows(
        self,
        *,
        fiscal_year: int | None = None,
        project_code: str | None = None,
        agency: str | None = None,
    ) -> Sequence[tuple[Project, MonthlyReport]]:
        """Every stored report with its project, by project code, fiscal year and report number."""

    # Conversations
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

    # Incoming events, handled once

    async def event_handled(self, channel: str, event_id: str) -> bool:
        """Whether an incoming update was handled already (its turn's writes committed)."""

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before` (channels redeliver only recent ones)."""

    # Linking chat accounts

    async def create_invite(self, invite: Invite) -> None:
        """Store a new invite (by the hash of its code)."""

    async def redeem_invite(
        self, code_hash: str, channel: str, external_id: str, now: datetime
    ) -> tuple[InviteResult, Person | None]:
        """Use an invite: link the chat account to its person, once, before it expires."""

    async def record_link_failure(self, channel: str, external_id: str, at: datetime) -> None:
        """Count a wrong invite code or phone number typed by a chat account."""

    async def link_failures_since(self, channel: str, external_id: str, since: datetime) -> int:
        """How many failed linking attempts a chat account made since `since`."""

    async def all_people(self) -> list[Person]:
        """Every person, by name (for matching a shared phone number)."""

    # Reminders: claimed before they are sent, so that none is ever sent twice

    async def claim_reminder(
        self, key: ReminderKey, channel: str, external_id: str, at: datetime
    ) -> bool:
        """Record a reminder as being sent (status SENDING); False if the key exists already."""

    async def reclaim_reminder(self, key: ReminderKey, at: datetime) -> bool:
        """Take a reminder marked RETRY back to SENDING for another attempt; False if it is not."""

    async def finish_reminder(
        self, key: ReminderKey, status: DeliveryStatus, at: datetime, error: str = ""
    ) -> None:
        """Record what became of a claimed reminder."""

    async def reminder_records(self, status: DeliveryStatus | None = None) -> list[ReminderRecord]:
        """Claimed reminders (of one status if given), by key."""

    async def mark_in_doubt(self, at: datetime) -> int:
        """At start-up: reminders left SENDING by a stopped process become UNKNOWN (not resent)."""

    async def snooze(self, person_id: int, project_code: str, on: date, until: datetime) -> bool:
        """Hold reminders about a project until `until`; False if already snoozed on `on`."""

    async def snoozes(self) -> list[Snooze]:
        """Every snooze (expired ones included), by person and project."""

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        """Record that someone reports in a person's place for a while."""

    async def delegations_on(self, day: date) -> list[Delegation]:
        """Stand-ins in force on a day."""

    async def end_delegations(self, person_id: int, day: date) -> int:
        """The person is back: stand-ins in force on `day` end the day before, later ones are
        cancelled; returns how many were ended or cancelled."""

    async def set_notification(self, person_id: int, kind: str, enabled: bool) -> None:
        """Turn one kind of message on or off for a person."""

    async def disabled_notifications(self) -> dict[int, set[str]]:
        """Per person, the kinds of message they turned off."""

    async def officer_links(self) -> list[tuple[str, int]]:
        """Every (project code, responsible officer id), by code."""

    async def officer_names(self, *, agency: str | None = None) -> list[tuple[str, str]]:
        """Every (project code, responsible officer's name), by code and name; optionally only
        projects under one agency path."""

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""

    # Where to write to a person

    async def set_preferred_channel(self, person_id: int, channel: str) -> bool:
        """Remember the channel a person wants messages on; False if it was that already."""

    async def preferred_channels(self) -> dict[int, str]:
        """Per person, the channel they want messages on (people without one are absent)."""

    async def set_blocked(
        self, channel: str, external_id: str, blocked: bool, at: datetime
    ) -> None:
        """Record that a chat account blocked the bot (or unblocked it)."""

    async def blocked_accounts(self) -> set[tuple[str, str]]:
        """Every (channel, external id) that blocked the bot."""
