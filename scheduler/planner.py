"""Who should be reminded of what at an instant: a pure question over the stored data.

A tick asks the calendar which reminder of which month is due, then for each project still
missing that month's report, each responsible officer (or the colleague standing in while they
are away) gets one message, unless they snoozed it. After the deadline, coordinators get the
list of what is missing in their agency and a digest, unless they turned those off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from domain.fiscal import ReportMonth
from domain.messages import Outbound
from domain.models import (
    ChatIdentity,
    Delegation,
    MonthlyReport,
    Person,
    Project,
    ReminderKey,
    Role,
)
from domain.months import why_not
from scheduler.calendar import ReminderKind, ReportingCalendar
from scheduler.messages import (
    DIGEST,
    MISSING,
    SNOOZED,
    STAND_IN,
    ProjectMonth,
    digest,
    missing_list,
    owner_reminder,
    stand_in_notice,
)
from storage.contracts import Accounts, Records, ReminderLog

PUSH_CHANNELS = ("telegram", "line")  # the console cannot be written to unasked


class PlanningReads(Records, Accounts, ReminderLog, Protocol):
    """What planning reads: projects, people, reports, chat accounts, snoozes and switches."""


@dataclass(frozen=True, slots=True)
class Planned:
    """One message to send: its unique key, where it goes, and what it says.

    `fallbacks` are the person's other accounts, in order, for when `identity`'s channel cannot
    send it (its monthly quota is spent).
    """

    key: ReminderKey
    identity: ChatIdentity
    message: Outbound
    fallbacks: tuple[ChatIdentity, ...] = ()


@dataclass(frozen=True, slots=True)
class Unreachable:
    """Someone who should be reminded but has no chat account the bot can write to."""

    key: ReminderKey
    person: Person


@dataclass
class _World:
    """Everything the plan needs, read once per tick."""

    projects: dict[str, Project]
    officers: dict[str, list[Person]]
    people: dict[int, Person]
    identities: dict[int, list[ChatIdentity]]
    reports: dict[tuple[str, int, int], MonthlyReport]
    preferred: dict[int, str]


class ReminderPlanner:
    """Answers "what is due at this instant", without sending anything."""

    def __init__(
        self,
        repo: PlanningReads,
        calendar: ReportingCalendar,
        channels: Sequence[str] = PUSH_CHANNELS,
    ) -> None:
        self._repo = repo
        self._calendar = calendar
        self._channels = tuple(channels)

    async def plan(self, at: datetime) -> tuple[list[Planned], list[Unreachable]]:
        """The messages due at `at` (claimed or not), and who could not be reached."""
        due = self._calendar.due_at(at)
        snoozes = {(s.person_id, s.project_code): s for s in await self._repo.snoozes()}
        snoozed_today = [s for s in snoozes.values() if s.until <= at < s.until + timedelta(days=1)]
        today = at.astimezone(self._calendar.settings.timezone).date()
        delegations = await self._repo.delegations_on(today)
        told: tuple[list[Planned], list[Unreachable]] = ([], [])
        if delegations and not self._calendar.in_quiet_hours(at):
            told = await self._stand_in_notices(delegations)
        if not due and not snoozed_today:
            return told
        world = await self._read(at)
        stand_ins = {d.person_id: d for d in delegations}
        off = await self._repo.disabled_notifications()
        planned, unreachable = told

        seen: set[ReminderKey] = set()

        def deliver(key: ReminderKey, person: Person, message: Outbound) -> None:
            if key in seen:  # e.g. a stand-in who is also an officer of the same project
                return
            seen.add(key)
            accounts = self._reachable(world, person.id)
            if not accounts:
                unreachable.append(Unreachable(key, person))
            else:
                planned.append(Planned(key, accounts[0], message, accounts[1:]))

        for month, kind, _ in due:
            deadline = self._calendar.deadline(month)
            for project in world.projects.values():
                if not self._owed(world, project, month, today):
                    continue
                for officer in world.officers.get(project.code, []):
                    stand_in = stand_ins.get(officer.id)
                    recipient = world.people.get(stand_in.delegate_id) if stand_in else None
                    person = recipient or officer
                    snooze = snoozes.get((officer.id, project.code))
                    if snooze is not None and at < snooze.until:
                        continue
                    message = owner_reminder(
                        kind.value, project, month, deadline,
                        instead_of=officer if recipient else None,
                        away_until=stand_in.last_day if stand_in and recipient else None,
                    )  # fmt: skip
                    key = ReminderKey(person.id, project.code, *_month(month), kind.value)
                    deliver(key, person, message)
            if kind is ReminderKind.OVERDUE:
                for coordinator, rows in await self._coordinated(world, month):
                    for name, build in ((MISSING, missing_list), (DIGEST, None)):
                        if name in off.get(coordinator.id, set()):
                            continue
                        message = (
                            missing_list(month, deadline, rows) if build else digest(month, rows)
                        )
                        key = ReminderKey(coordinator.id, "*", *_month(month), name)
                        deliver(key, coordinator, message)

        for snooze in snoozed_today:
            # "Remind me tomorrow": once, at the time asked, if the report is still missing.
            snoozed_project = world.projects.get(snooze.project_code)
            snoozer = world.people.get(snooze.person_id)
            if snoozed_project is None or snoozer is None:
                continue
            asked_in = ReportMonth.containing(snooze.snoozed_on)
            owed = [
                m
                for m in (asked_in.previous() or asked_in, asked_in)
                if self._owed(world, snoozed_project, m, today)
            ]
            if not owed:
                continue
            again = f"{SNOOZED}:{snooze.snoozed_on.isoformat()}"
            deadline = self._calendar.deadline(owed[0])
            message = owner_reminder(again, snoozed_project, owed[0], deadline)
            key = ReminderKey(snoozer.id, snoozed_project.code, *_month(owed[0]), again)
            deliver(key, snoozer, message)
        return planned, unreachable

    def _owed(self, world: _World, project: Project, month: ReportMonth, today: date) -> bool:
        """The project runs in that month and has not reported it."""
        if (project.code, *_month(month)) in world.reports:
            return False
        return why_not(project, month, set(), max(today, month.last_day)) is None

    def _reachable(self, world: _World, person_id: int) -> tuple[ChatIdentity, ...]:
        """The person's accounts the bot can write to, the one to use first.

        First the channel the person prefers (the one they last wrote from), then the running
        channels in their fixed order; accounts that blocked the bot are left out.
        """
        accounts = {i.channel: i for i in world.identities.get(person_id, [])}
        preferred = world.preferred.get(person_id)
        order = ([preferred] if preferred in self._channels else []) + list(self._channels)
        return tuple(accounts[c] for c in dict.fromkeys(order) if c in accounts)

    async def notice(self, at: datetime, kind: str, message: Outbound) -> list[Planned]:
        """One message to every coordinator and admin, once per month (by its `kind`)."""
        people = await self._repo.all_people()
        preferred = await self._repo.preferred_channels()
        world = _World({}, {}, {p.id: p for p in people}, await self._accounts(), {}, preferred)
        month = ReportMonth.containing(at.astimezone(self._calendar.settings.timezone).date())
        planned = []
        for person in people:
            if not person.roles & {Role.COORDINATOR, Role.ADMIN}:
                continue
            accounts = self._reachable(world, person.id)
            if accounts:
                key = ReminderKey(person.id, "*", *_month(month), kind)
                planned.append(Planned(key, accounts[0], message, accounts[1:]))
        return planned

    async def _stand_in_notices(
        self, delegations: list[Delegation]
    ) -> tuple[list[Planned], list[Unreachable]]:
        """Each colleague standing in hears of it once (keyed by the delegation), with the
        projects they now report on; planned at every tick outside quiet hours while the
        delegation lasts, sent by the first (the claim keeps it to one)."""
        people = {p.id: p for p in await self._repo.all_people()}
        world = _World(
            {}, {}, people, await self._accounts(), {}, await self._repo.preferred_channels()
        )
        planned: list[Planned] = []
        unreachable: list[Unreachable] = []
        for delegation in delegations:
            away, colleague = people.get(delegation.person_id), people.get(delegation.delegate_id)
            if away is None or colleague is None:
                continue
            projects = await self._repo.projects_of_officer(away.id)
            message = stand_in_notice(away, delegation.first_day, delegation.last_day, projects)
            month = ReportMonth.containing(delegation.first_day)
            key = ReminderKey(colleague.id, "*", *_month(month), f"{STAND_IN}:{delegation.id}")
            accounts = self._reachable(world, colleague.id)
            if accounts:
                planned.append(Planned(key, accounts[0], message, accounts[1:]))
            else:
                unreachable.append(Unreachable(key, colleague))
        return planned, unreachable

    async def _accounts(self) -> dict[int, list[ChatIdentity]]:
        """Every chat account the bot may write to (not blocked), by person."""
        blocked = await self._repo.blocked_accounts()
        identities: dict[int, list[ChatIdentity]] = defaultdict(list)
        for identity in await self._repo.all_identities():
            if (identity.channel, identity.external_id) not in blocked:
                identities[identity.person_id].append(identity)
        return identities

    async def _read(self, at: datetime) -> _World:
        projects = {p.code: p for p in await self._repo.list_projects()}
        people = {p.id: p for p in await self._repo.all_people()}
        officers: dict[str, list[Person]] = defaultdict(list)
        for code, person_id in await self._repo.officer_links():
            officers[code].append(people[person_id])
        identities = await self._accounts()
        month = self._calendar.month_of(at)
        reports: dict[tuple[str, int, int], MonthlyReport] = {}
        for fiscal_year in {month.fiscal_year - 1, month.fiscal_year}:
            for project, report in await self._repo.report_rows(fiscal_year=fiscal_year):
                reports[project.code, report.fiscal_year, report.report_no] = report
        preferred = await self._repo.preferred_channels()
        return _World(projects, officers, people, identities, reports, preferred)

    async def _coordinated(
        self, world: _World, month: ReportMonth
    ) -> list[tuple[Person, list[ProjectMonth]]]:
        """Each coordinator with the month's rows of the projects they look after."""
        result = []
        for person in world.people.values():
            if Role.COORDINATOR not in person.roles:
                continue
            projects = await self._repo.projects_of_coordinator(person.id)
            rows = [
                _row(world, p, month)
                for p in projects
                if why_not(p, month, set(), month.last_day) is None
            ]
            if rows:
                result.append((person, rows))
        return result


def _month(month: ReportMonth) -> tuple[int, int]:
    return month.fiscal_year, month.report_no


def _row(world: _World, project: Project, month: ReportMonth) -> ProjectMonth:
    def report(m: ReportMonth | None) -> MonthlyReport | None:
        return None if m is None else world.reports.get((project.code, *_month(m)))

    previous = month.previous()
    before = previous.previous() if previous else None
    return ProjectMonth(
        project,
        tuple(world.officers.get(project.code, [])),
        report(month),
        report(previous),
        report(before),
    )
