"""One turn of a conversation: who is talking, what they may reach, the draft, and the reads the
turn has made, each made at most once (a step's question and its answer share them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol

from domain.checks import Neighbours
from domain.fiscal import ReportMonth
from domain.messages import Outbound
from domain.models import EventMark, Person, Project, ProjectFile, Reach
from domain.months import Period
from handlers.documents import DashboardLinks, Documents
from handlers.draft import LOOKING, Draft
from handlers.flow import Answer, Result, Step
from storage.contracts import Accounts, Conversations, Registry, ReminderLog, ReportStore


class TurnStore(ReportStore, Registry, Conversations, ReminderLog, Accounts, Protocol):
    """What the steps and commands of a turn read and write."""


@dataclass(slots=True)
class Context:
    """What a step needs: the storage, who is talking, the day, and the draft so far."""

    store: TurnStore
    person: Person
    reach: Reach
    now: datetime
    channel: str
    user_id: str
    draft: Draft
    step: Step = Step.IDLE
    event: EventMark | None = None
    """The update being handled; the write that ends the turn marks it handled with it."""
    documents: Documents | None = None
    dashboard: DashboardLinks | None = None
    argument: str = ""
    """What was typed after a command word ("ส่งออก 2564": "2564")."""
    period: Period | None = None
    """The fiscal year or month a button asked a summary or export for."""
    marked: bool = False
    """The event was marked by a write of this turn."""
    dirty: bool = False
    """The draft changed in a way that must be saved even if the turn decides nothing else."""
    _files: dict[int, ProjectFile | None] = field(default_factory=dict, repr=False)
    _reportable: list[ProjectFile] | None = field(default=None, repr=False)
    _visible: list[Project] | None = field(default=None, repr=False)
    _colleagues: list[Person] | None = field(default=None, repr=False)

    @property
    def today(self) -> date:
        """The calendar day in the configured time zone."""
        return self.now.date()

    @property
    def account(self) -> tuple[str, str]:
        """The chat account of this conversation."""
        return (self.channel, self.user_id)

    @property
    def month(self) -> ReportMonth:
        """The draft's month."""
        return ReportMonth(self.draft.fiscal_year, self.draft.report_no)

    def may_use(self, project: Project, *, looking: bool) -> bool:
        """Whether the person may report on the project (or, only looking, see it)."""
        return self.reach.may_see(project) if looking else self.reach.may_report(project)

    async def reportable(self) -> list[ProjectFile]:
        """The projects this person may report on, each with its reports, by code."""
        if self._reportable is None:
            codes = None if self.reach.everything else self.reach.reports_on
            self._reportable = await self.store.project_files(codes)
            for found in self._reportable:
                self._files[found.project.id] = found
        return self._reportable

    async def visible(self) -> list[Project]:
        """The projects this person may look at: their own and a coordinator's whole scope."""
        if self._visible is None:
            self._visible = await self.store.projects_within(self.reach)
        return self._visible

    async def colleagues(self, limit: int) -> list[Person]:
        """Colleagues of the same office who may stand in for this person (the first `limit`
        by name)."""
        if self._colleagues is None:
            self._colleagues = await self.store.colleagues(self.person.id, limit=limit)
        return self._colleagues

    async def file_of(self, project_id: int, *, looking: bool | None = None) -> ProjectFile | None:
        """A project with its reports, if this person may use it: to look at it (`looking`),
        to report on it, or as the draft's mode says (None)."""
        if project_id not in self._files:
            self._files[project_id] = await self.store.project_file(project_id=project_id)
        return self._allowed(self._files[project_id], looking)

    async def file_by_code(self, code: str) -> ProjectFile | None:
        """A project (named by its code) with its reports, if this person may use it."""
        known = next((f for f in self._files.values() if f and f.project.code == code), None)
        if known is None:
            known = await self.store.project_file(code=code)
            if known is not None:
                self._files[known.project.id] = known
        return self._allowed(known, None)

    async def file(self) -> ProjectFile | None:
        """The draft's project with its reports, if this person may still use it."""
        if self.draft.project_id:
            return await self.file_of(self.draft.project_id)
        if self.draft.project_code:  # a draft of the first version knows only the code
            found = await self.file_by_code(self.draft.project_code)
            if found is not None:
                self.draft = replace(self.draft, project_id=found.project.id)
            return found
        return None

    async def neighbours(self) -> Neighbours:
        """The reports around the draft's month."""
        found = await self.file()
        reports = list(found.reports) if found else []
        return Neighbours.around(reports, self.draft.fiscal_year, self.draft.report_no)

    def forget_reads(self) -> None:
        """Drop what this turn read (after a write that changed it)."""
        self._files.clear()
        self._reportable = None

    def _allowed(self, found: ProjectFile | None, looking: bool | None) -> ProjectFile | None:
        if found is None:
            return None
        looking = self.draft.mode in LOOKING if looking is None else looking
        return found if self.may_use(found.project, looking=looking) else None


Ask = Callable[[Context], Awaitable[Outbound]]
"""A step's question, built from the turn."""
Accept = Callable[[Context, Answer], Awaitable[Result]]
"""What a step makes of an answer."""
