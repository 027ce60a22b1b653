"""Who should be reminded of what at an instant: a pure question over the stored data.

A tick asks the calendar which reminder of which month is due, then for each project still
missing that month's report, each responsible officer (or the colleague standing in while they
are away) gets one message, unless they snoozed it. After the deadline, coordinators get the
list of what is missing in their agency and a digest, unless they turned those off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
    NUDGE,
    SNOOZED,
    STAND_IN,
    Owed,
    ProjectMonth,
    digest,
    missing_list,
    owner_reminders,
    stand_in_notice,
)
from storage.contracts import Accounts, Records, ReminderLog

PUSH_CHANNELS = ("telegram", "line")  # the console cannot be written to unasked
NUDGE_LIFETIME = timedelta(days=1)  # a nudge not sent within a day of its moment is dropped


class PlanningReads(Records, Accounts, ReminderLog, Protocol):
    """What planning reads: projects, people, reports, chat accounts, snoozes and switches."""


Composer = Callable[[Sequence[ReminderKey]], Outbound]


@dataclass(frozen=True, slots=True)
class Planned:
    """One message to send: the unique keys of what it carries (one per project, or one for
    a coordinator's message), where it goes, and what it says.

    `fallbacks` are the person's other accounts, in order, for when `identity`'s channel cannot
    send it (its monthly quota is spent). A message about several projects (`more` keys) can
    be made again for some of them (`compose`), when the others were sent already.
    """

    key: ReminderKey
    identity: ChatIdentity
    message: Outbound
    fallbacks: tuple[ChatIdentity, ...] = ()
    more: tuple[ReminderKey, ...] = ()
    compose: Composer | None = None

    @property
    def keys(self) -> tuple[ReminderKey, ...]:
        """Every key the message carries."""
        return (self.key, *self.more)

    def only(self, keys: Sequence[ReminderKey]) -> Planned:
        """The same message carrying only `keys` (a non-empty part of its own), made again."""
        if list(keys) == list(self.keys):
            return self
        if self.compose is None or not keys or not set(keys) <= set(self.keys):
            raise ValueError("a message can only be made again for some of its own keys")
        return replace(self, key=keys[0], more=tuple(keys[1:]), message=self.compose(keys))


def base_kind(kind: str) -> str:
    """The kind of reminder without its copy's channel or its day: "deadline@line" and
    "snoozed:2026-11-24" are "deadline" and "snoozed"."""
    return kind.split("@", 1)[0].split(":", 1)[0]


def on_channel(key: ReminderKey, channel: str) -> ReminderKey:
    """The key of the copy of a reminder sent on a second channel (a person who chose both)."""
    return replace(key, kind=f"{key.kind}@{channel}")


Route = tuple[ChatIdentity, tuple[ChatIdentity, ...]]  # an account, and those to fall back on


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
    chosen: dict[int, str] = field(default_factory=dict)  # the channel chosen for reminders


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
        quiet = self._calendar.in_quiet_hours(at)
        if delegations and not quiet:
            told = await self._stand_in_notices(delegations)
        # Nudges from the dashboard, due since they were asked for (the next morning if asked in
        # quiet hours), for a day; one that could not go in that time (no quota) is dropped.
        nudges = [] if quiet else await self._repo.nudges_between(at - NUDGE_LIFETIME, at)
        if not due and not snoozed_today and not nudges:
            return told
        world = await self._read(at)
        stand_ins = {d.person_id: d for d in delegations}
        off = await self._repo.disabled_notifications()
        planned, unreachable = told

        seen: set[ReminderKey] = set()

        def deliver(keys: Sequence[ReminderKey], person: Person, compose: Composer) -> None:
            keys = [key for key in keys if key not in seen]  # e.g. a stand-in who is an officer
            if not keys:
                return
            seen.update(keys)
            routes = self._routes(world, person.id)
            if not routes:
                unreachable.extend(Unreachable(key, person) for key in keys)
            planned.extend(_on_routes(routes, keys, compose))

        # Every project a person owes at one reminder moment goes in one message.
        owed: dict[tuple[int, ReportMonth, str], list[Owed]] = defaultdict(list)
        deadlines: dict[ReportMonth, date] = {}
        for month, kind, _ in due:
            deadlines[month] = self._calendar.deadline(month)
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
                    key = ReminderKey(person.id, project.code, *_month(month), kind.value)
                    found = owed[person.id, month, kind.value]
                    if any(o.key == key for o in found):
                        continue  # a stand-in who is an officer of the project too
                    found.append(
                        Owed(
                            key, project,
                            instead_of=officer if recipient else None,
                            away_until=stand_in.last_day if stand_in and recipient else None,
                        )
                    )  # fmt: skip
        for snooze in snoozed_today:
            # "Remind me tomorrow": once, at the time asked, if the report is still missing.
            snoozed_project = world.projects.get(snooze.project_code)
            snoozer = world.people.get(snooze.person_id)
            if snoozed_project is None or snoozer is None:
                continue
            asked_in = ReportMonth.containing(snooze.snoozed_on)
            months = [
                m
                for m in (asked_in.previous() or asked_in, asked_in)
                if self._owed(world, snoozed_project, m, today)
            ]
            if not months:
                continue
            again = f"{SNOOZED}:{snooze.snoozed_on.isoformat()}"
            deadlines[months[0]] = self._calendar.deadline(months[0])
            key = ReminderKey(snoozer.id, snoozed_project.code, *_month(months[0]), again)
            owed[snoozer.id, months[0], again].append(Owed(key, snoozed_project))
        for nudge in nudges:
            # A coordinator's "remind them now", if the report is still missing; sent to the
            # colleague standing in while the officer is away, like the reminders.
            nudged = world.projects.get(nudge.project_code)
            absent = world.people.get(nudge.person_id)
            month = ReportMonth(nudge.fiscal_year, nudge.report_no)
            if nudged is None or absent is None or not self._owed(world, nudged, month, today):
                continue
            stand_in = stand_ins.get(absent.id)
            recipient = world.people.get(stand_in.delegate_id) if stand_in else None
            kind_name = f"{NUDGE}:{nudge.day.isoformat()}"
            deadlines.setdefault(month, self._calendar.deadline(month))
            key = ReminderKey((recipient or absent).id, nudged.code, *_month(month), kind_name)
            asker = world.people.get(nudge.by_person)
            found = owed[key.person_id, month, kind_name]
            if any(o.key == key for o in found):
                continue  # two absent officers of the project, one stand-in
            found.append(
                Owed(
                    key, nudged,
                    instead_of=absent if recipient else None,
                    away_until=stand_in.last_day if stand_in and recipient else None,
                    asked_by=asker.name if asker else "",
                )
            )  # fmt: skip
        for (person_id, month, kind_name), items in owed.items():
            deliver(
                [item.key for item in items],
                world.people[person_id],
                _composer(kind_name, month, deadlines[month], items),
            )

        for month, kind, _ in due:
            if kind is not ReminderKind.OVERDUE:
                continue
            deadline = deadlines[month]
            for coordinator, rows in await self._coordinated(world, month):
                for name, build in ((MISSING, missing_list), (DIGEST, None)):
                    if name in off.get(coordinator.id, set()):
                        continue
                    message = missing_list(month, deadline, rows) if build else digest(month, rows)
                    key = ReminderKey(coordinator.id, "*", *_month(month), name)
                    deliver([key], coordinator, _fixed(message))
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

    def _routes(self, world: _World, person_id: int) -> list[Route]:
        """Where the person's reminders go: the channel they chose ("ช่องทางแจ้งเตือน"), only
        it, or both; without a choice (or without an account on the chosen channel), the
        account they last wrote from, the others to fall back on."""
        accounts = self._reachable(world, person_id)
        by_channel = {account.channel: account for account in accounts}
        choice = world.chosen.get(person_id)
        if choice == "both" and len(by_channel) > 1:
            return [(account, ()) for account in accounts]
        if choice in by_channel:
            return [(by_channel[choice], ())]
        return [(accounts[0], accounts[1:])] if accounts else []

    async def notice(self, at: datetime, kind: str, message: Outbound) -> list[Planned]:
        """One message to every coordinator and admin, once per month (by its `kind`)."""
        people = await self._repo.all_people()
        preferred = await self._repo.preferred_channels()
        world = _World(
            {}, {}, {p.id: p for p in people}, await self._accounts(), {}, preferred,
            await self._repo.reminder_channels(),
        )  # fmt: skip
        month = ReportMonth.containing(at.astimezone(self._calendar.settings.timezone).date())
        planned = []
        for person in people:
            if not person.roles & {Role.COORDINATOR, Role.ADMIN}:
                continue
            key = ReminderKey(person.id, "*", *_month(month), kind)
            planned += _on_routes(self._routes(world, person.id), [key], _fixed(message))
        return planned

    async def _stand_in_notices(
        self, delegations: list[Delegation]
    ) -> tuple[list[Planned], list[Unreachable]]:
        """Each colleague standing in hears of it once (keyed by the delegation), with the
        projects they now report on; planned at every tick outside quiet hours while the
        delegation lasts, sent by the first (the claim keeps it to one)."""
        people = {p.id: p for p in await self._repo.all_people()}
        world = _World(
            {}, {}, people, await self._accounts(), {}, await self._repo.preferred_channels(),
            await self._repo.reminder_channels(),
        )  # fmt: skip
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
            routes = self._routes(world, colleague.id)
            planned += _on_routes(routes, [key], _fixed(message))
            if not routes:
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
        chosen = await self._repo.reminder_channels()
        return _World(projects, officers, people, identities, reports, preferred, chosen)

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


def _on_routes(
    routes: Sequence[Route], keys: Sequence[ReminderKey], compose: Composer
) -> list[Planned]:
    """The message on each of the person's routes: a person who chose both channels gets a
    copy on the second, keyed apart (so each copy is sent once)."""
    planned = []
    for n, (identity, fallbacks) in enumerate(routes):
        own = list(keys) if n == 0 else [on_channel(k, identity.channel) for k in keys]
        more = tuple(own[1:])
        planned.append(Planned(own[0], identity, compose(own), fallbacks, more, compose))
    return planned


def _composer(kind: str, month: ReportMonth, deadline: date, owed: list[Owed]) -> Composer:
    """Makes the reminder for any of these projects (by their keys, or their copies' keys)."""

    def compose(keys: Sequence[ReminderKey]) -> Outbound:
        wanted = {(k.person_id, k.subject, k.fiscal_year, k.report_no) for k in keys}
        chosen = [
            o for o in owed
            if (o.key.person_id, o.key.subject, o.key.fiscal_year, o.key.report_no) in wanted
        ]  # fmt: skip
        return owner_reminders(kind, month, deadline, chosen)

    return compose


def _fixed(message: Outbound) -> Composer:
    """A message about one thing: the same whatever is asked."""

    def compose(_: Sequence[ReminderKey]) -> Outbound:
        return message

    return compose


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
