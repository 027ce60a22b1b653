"""Domain types: plain frozen values the rest of the product works with, never database rows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

PERCENT_STEP = Decimal("0.01")
MONEY_STEP = Decimal("0.01")


class Role(enum.StrEnum):
    """What a person does in the reporting process."""

    OFFICER = "officer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class ProjectData:
    """Every section-1 field of the official form, as entered by a coordinator or an import."""

    code: str
    name: str
    fiscal_year: int
    start_date: date | None = None
    end_date: date | None = None
    budget_received: Decimal | None = None
    budget_used: Decimal | None = None
    agency: str = ""
    officer_name: str = ""
    officer_phone: str = ""
    coordinator_name: str = ""
    coordinator_phone: str = ""
    rationale: str = ""
    objectives: str = ""
    target_quantity: str = ""
    target_quality: str = ""
    strategy: str = ""
    sub_strategy: str = ""
    goal: str = ""
    indicator: str = ""


@dataclass(frozen=True, slots=True)
class Project(ProjectData):
    """A stored project."""

    id: int = 0


@dataclass(frozen=True, slots=True)
class Person:
    """An officer, coordinator or admin."""

    id: int
    name: str
    phone: str = ""
    position: str = ""
    roles: frozenset[Role] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class ChatIdentity:
    """One account of a person on one chat channel."""

    channel: str
    external_id: str
    person_id: int


@dataclass(frozen=True, slots=True)
class CoordinatorScope:
    """What a coordinator looks after: every project under the agency path, or one project."""

    person_id: int
    agency: str | None = None
    project_code: str | None = None


@dataclass(frozen=True, slots=True)
class ReportValues:
    """What an officer states in one monthly report."""

    reported_on: date
    progress: Decimal
    disbursed: Decimal
    note: str
    on_plan: bool
    plan_reason: str
    on_target: bool
    target_reason: str


@dataclass(frozen=True, slots=True)
class Submission:
    """A monthly report to be stored, with who sent it, how and when."""

    project_code: str
    fiscal_year: int
    report_no: int
    values: ReportValues
    sent_by: int | None
    channel: str
    sent_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    """The current version of one project's report for one month."""

    id: int
    project_code: str
    fiscal_year: int
    report_no: int
    values: ReportValues
    sent_by: int | None
    channel: str
    sent_at: datetime
    revision: int

    @property
    def progress(self) -> Decimal:
        """Cumulative progress stated in the current version."""
        return self.values.progress

    @property
    def disbursed(self) -> Decimal:
        """Cumulative disbursement stated in the current version."""
        return self.values.disbursed

    @property
    def note(self) -> str:
        """The officer's note in the current version."""
        return self.values.note


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What a month's summary reads of a report (its current version): which month, and the
    figures and note the rules look at. Bulk reads build these instead of whole reports."""

    project_code: str
    fiscal_year: int
    report_no: int
    progress: Decimal
    disbursed: Decimal
    note: str


@dataclass(frozen=True, slots=True)
class Revision:
    """One version of a monthly report, kept forever: revision 1 is what was first sent."""

    report_id: int
    revision: int
    values: ReportValues
    changed_by: int | None
    channel: str
    changed_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class SessionState:
    """Where a half-finished conversation stands, so that a restart resumes it."""

    channel: str
    external_id: str
    state: str
    data: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    """A single-use code that links a chat account to a person; only its hash is stored."""

    code_hash: str
    person_id: int
    created_at: datetime
    expires_at: datetime


class InviteResult(enum.StrEnum):
    """What redeeming an invite code did."""

    LINKED = "linked"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True, slots=True)
class EventMark:
    """An incoming update (channel, its id) handled at `at`: marked in the same transaction as
    the state change it caused, so a redelivered update is recognised and changes nothing."""

    channel: str
    event_id: str
    at: datetime


class DeliveryStatus(enum.StrEnum):
    """Where a reminder stands: claimed and being sent, sent, to be retried, failed for good, or
    in doubt (the process stopped between claiming and knowing whether the channel got it)."""

    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, order=True)
class ReminderKey:
    """What makes a reminder unique: to whom, about what (a project code, or "*" for a
    coordinator's message about their agency), for which month, of which kind."""

    person_id: int
    subject: str
    fiscal_year: int
    report_no: int
    kind: str


REMINDER_CHANNELS = ("line", "telegram", "both")  # what a person may choose reminders on


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    """A claimed reminder and what became of it."""

    key: ReminderKey
    channel: str
    external_id: str
    status: DeliveryStatus
    attempts: int
    claimed_at: datetime
    updated_at: datetime
    error: str = ""
    retry_key: str = ""
    """The key of the request it went in, where the channel takes one (LINE): a resend goes
    under the same key, and LINE refuses it if the first went through."""


@dataclass(frozen=True, slots=True)
class Delegation:
    """While `person_id` is away (first_day to last_day), `delegate_id` reports in their place."""

    person_id: int
    delegate_id: int
    first_day: date
    last_day: date
    id: int = 0


@dataclass(frozen=True, slots=True)
class Snooze:
    """ "Remind me tomorrow": no reminder about the project until `until`; once a day."""

    person_id: int
    project_code: str
    snoozed_on: date
    until: datetime


@dataclass(frozen=True, slots=True)
class Nudge:
    """A coordinator's request, from the dashboard, that an officer be reminded now of a
    project's missing report: sent by the reminder service at `send_after` (the first moment
    outside quiet hours), at most once per person and project on the local `day` it goes out."""

    by_person: int  # who asked
    person_id: int  # whom to remind (the officer; a stand-in gets it while they are away)
    project_code: str
    fiscal_year: int
    report_no: int
    day: date
    asked_at: datetime
    send_after: datetime


def under_agency(path: str, agency: str) -> bool:
    """Whether an agency path ("office / division / section") lies under `agency`, segment-wise.

    "สำนักงานเขตลาดกระบัง" covers "สำนักงานเขตลาดกระบัง / ฝ่ายโยธา" but not "สำนักงานเขตลาดพร้าว".
    """
    agency = agency.strip()
    return bool(agency) and (
        path == agency or path.startswith(agency + "/") or path.startswith(agency + " /")
    )


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A project with the current version of each of its reports, by fiscal year and number."""

    project: Project
    reports: tuple[MonthlyReport, ...] = ()

    def report(self, fiscal_year: int, report_no: int) -> MonthlyReport | None:
        """The report of one month, if sent."""
        return next(
            (r for r in self.reports if (r.fiscal_year, r.report_no) == (fiscal_year, report_no)),
            None,
        )


@dataclass(frozen=True, slots=True)
class Reach:
    """What a person may report on and look at, on one day.

    An officer reports on their own projects and on those of colleagues they stand in for; an
    admin on every project. A coordinator also sees every project under their agency paths and
    the single projects they were given.
    """

    own: frozenset[str] = frozenset()  # project codes
    standing_in: frozenset[str] = frozenset()  # project codes of colleagues away that day
    everything: bool = False
    agencies: tuple[str, ...] = ()
    watched: frozenset[str] = frozenset()  # project codes

    @property
    def reports_on(self) -> frozenset[str]:
        """Codes of the projects the person may report on (all, for an admin: see everything)."""
        return self.own | self.standing_in

    def may_report(self, project: Project) -> bool:
        """Whether the person may send or correct this project's reports."""
        return self.everything or project.code in self.own or project.code in self.standing_in

    def may_see(self, project: Project) -> bool:
        """Whether the person may look at this project's reports, form and chart."""
        return self.may_report(project) or self.coordinates(project)

    def coordinates(self, project: Project) -> bool:
        """Whether the person oversees this project: an admin, or a coordinator given it or
        its agency. They may remind its officers (nudges from the dashboard)."""
        return (
            self.everything
            or project.code in self.watched
            or any(under_agency(project.agency, agency) for agency in self.agencies)
        )
