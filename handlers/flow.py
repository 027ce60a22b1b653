"""The report dialogue as a state table: each step knows its question and what it accepts.

A step's `ask` builds the question (with its buttons) from the draft; its `accept` reads an answer
and returns where to go next (`Go`) or why the answer cannot be taken (`Stay`, the step unchanged).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.checks import Finding, Neighbours, check_disbursed, check_note, check_progress
from domain.fiscal import ReportMonth
from domain.limits import NOTE_LIMIT, REASON_LIMIT, REASON_MIN
from domain.messages import Choice, Outbound
from domain.models import EventMark, MonthlyReport, Person, Project, ReportValues, Role
from domain.months import month_name, parse_month, reportable_months, why_not
from domain.numbers import baht, percent
from domain.parsing import ParseError, parse_baht, parse_percent
from handlers import texts
from handlers.documents import Documents
from handlers.draft import Draft, Mode
from handlers.views import history, short_title
from storage.contracts import Storage


class Step(enum.StrEnum):
    """Where a conversation stands."""

    IDLE = "idle"
    PROJECT = "project"
    MONTH = "month"
    CORRECTION_REASON = "correction_reason"
    PROGRESS = "progress"
    PROGRESS_DROP = "progress_drop"
    DISBURSED = "disbursed"
    DISBURSED_DROP = "disbursed_drop"
    NOTE = "note"
    NOTE_CHECK = "note_check"
    ON_PLAN = "on_plan"
    PLAN_REASON = "plan_reason"
    ON_TARGET = "on_target"
    TARGET_REASON = "target_reason"
    CONFIRM = "confirm"
    AWAY_UNTIL = "away_until"
    AWAY_DELEGATE = "away_delegate"
    AWAY_CONFIRM = "away_confirm"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the person answered: typed text, or the value of a button of this step."""

    text: str
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Go:
    """Move to `step` with `draft`, saying `say` before the next question."""

    step: Step
    draft: Draft
    say: tuple[Outbound, ...] = ()
    remember: bool = True  # push the current step on the trail, so "back" returns to it


@dataclass(frozen=True, slots=True)
class Stay:
    """The answer was not taken: explain, and ask the same step again (maybe with a new draft)."""

    message: str
    draft: Draft | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """The dialogue is over: the report is stored, or there is nothing left to do."""

    say: tuple[Outbound, ...] = ()
    clear: bool = True


Result = Go | Stay | Finish


@dataclass(slots=True)
class Context:
    """What a step needs: the storage, who is talking, the day, and the draft so far."""

    repo: Storage
    person: Person
    now: datetime
    channel: str
    user_id: str
    draft: Draft
    step: Step = Step.IDLE
    event: EventMark | None = None
    """The update being handled; each write of the turn marks it handled in one transaction."""
    documents: Documents | None = None
    marked: bool = False
    _projects: list[Project] | None = field(default=None, repr=False)

    @property
    def today(self) -> date:
        """The calendar day in the configured time zone."""
        return self.now.date()

    async def projects(self) -> list[Project]:
        """Projects this person may report on: their own, and those of colleagues they stand in
        for today."""
        if self._projects is None:
            if Role.ADMIN in self.person.roles:
                self._projects = await self.repo.list_projects()
            else:
                found = {p.code: p for p in await self.repo.projects_of_officer(self.person.id)}
                for stand_in in await self.repo.delegations_on(self.today):
                    if stand_in.delegate_id == self.person.id:
                        for project in await self.repo.projects_of_officer(stand_in.person_id):
                            found.setdefault(project.code, project)
                self._projects = sorted(found.values(), key=lambda p: p.code)
        return self._projects

    async def viewable(self) -> list[Project]:
        """Projects this person may look at: their own, and a coordinator's whole scope."""
        found = {p.code: p for p in await self.projects()}
        if Role.COORDINATOR in self.person.roles:
            for project in await self.repo.projects_of_coordinator(self.person.id):
                found.setdefault(project.code, project)
        return sorted(found.values(), key=lambda p: p.code)

    async def project(self) -> Project | None:
        """The project of the draft, if this person may still report on it (or, when only
        looking, still see it)."""
        pool = await self.viewable() if self.draft.mode in LOOKING else await self.projects()
        return next((p for p in pool if p.code == self.draft.project_code), None)

    async def reports(self) -> list[MonthlyReport]:
        """Every stored report of the draft's project."""
        return await self.repo.reports_of_project(self.draft.project_code)

    async def neighbours(self) -> Neighbours:
        """The reports around the draft's month."""
        return Neighbours.around(await self.reports(), self.draft.fiscal_year, self.draft.report_no)

    @property
    def month(self) -> ReportMonth:
        """The draft's month."""
        return ReportMonth(self.draft.fiscal_year, self.draft.report_no)


# Modes that only look at a project: any the person may see, not only those they report on.
LOOKING = {Mode.HISTORY, Mode.FORM, Mode.CHART}

Ask = Callable[[Context], Awaitable[Outbound]]
Accept = Callable[[Context, Answer], Awaitable[Result]]


YES_WORDS = {"ใช่", "เป็น", "ตาม", "yes", "y", "ok", "ตกลง", "ถูกต้อง"}
NO_WORDS = {"ไม่", "ไม่ใช่", "ไม่เป็น", "no", "n"}


def yes_no(answer: Answer, yes_label: str, no_label: str) -> bool | None:
    """Read a yes/no answer from a button or typed text; None if it is neither."""
    if answer.choice in {"yes", "no"}:
        return answer.choice == "yes"
    typed = answer.text.strip().lower()
    if typed in {no_label, *NO_WORDS}:
        return False
    if typed in {yes_label, *YES_WORDS}:
        return True
    return None


def button(step: Step, value: str, label: str) -> Choice:
    """A button of `step`; its payload names the step, so a stale press is recognised."""
    return Choice(label, f"{step.value}:{value}")


# Project


async def project_options(ctx: Context) -> list[Project]:
    """Projects to offer: for a new report, those with a month open now; to correct, those with
    reports; to look at (history, form, chart), everything the person may see."""
    if ctx.draft.mode in LOOKING:
        return await ctx.viewable()
    projects = await ctx.projects()
    offered = []
    for project in projects:
        reports = await ctx.repo.reports_of_project(project.code)
        reported = {ReportMonth(r.fiscal_year, r.report_no) for r in reports}
        if ctx.draft.mode is Mode.CORRECT:
            if reports:
                offered.append(project)
        elif reportable_months(project, reported, ctx.today):
            offered.append(project)
    return offered


async def ask_project(ctx: Context) -> Outbound:
    """List the person's projects as buttons."""
    projects = await project_options(ctx)
    choices = tuple(button(Step.PROJECT, p.code, short_title(p)) for p in projects)
    lines = [texts.CHOOSE_PROJECT]
    lines += [f"{i}) {short_title(p, 80)}" for i, p in enumerate(projects, start=1)]
    return Outbound("\n".join(lines), choices)


async def accept_project(ctx: Context, answer: Answer) -> Result:
    """Take the chosen project, then go to the month (or straight on when there is one choice)."""
    projects = await project_options(ctx)
    wanted = (answer.choice or answer.text).strip()
    project = next((p for p in projects if p.code == wanted), None)
    if project is None:
        return Stay(texts.NOT_YOUR_PROJECT if answer.choice else texts.CHOOSE_PROJECT_HINT)
    return await after_project(ctx, ctx.draft.but(project_code=project.code))


async def after_project(ctx: Context, draft: Draft) -> Result:
    """Where to go once the project is known, depending on what the person is doing."""
    ctx.draft = draft
    if draft.mode in LOOKING:
        project = await ctx.project()
        if project is None:
            return Stay(texts.NOT_YOUR_PROJECT)
        reports = await ctx.reports()
        if draft.mode is Mode.HISTORY:
            return Finish((Outbound(history(project, reports)),))
        if ctx.documents is None:
            return Finish((Outbound(texts.DOCUMENTS_OFF),))
        year = max((r.fiscal_year for r in reports), default=project.fiscal_year)
        of_year = [r for r in reports if r.fiscal_year == year]
        if draft.mode is Mode.FORM:
            return Finish(tuple(await ctx.documents.project_form(project, year, of_year)))
        return Finish(tuple(await ctx.documents.project_chart(project, year, of_year)))
    reports = await ctx.reports()
    if draft.mode is Mode.CORRECT:
        if not reports:
            return Stay(texts.NOTHING_TO_CORRECT)
        return Go(Step.MONTH, draft)
    project = await ctx.project()
    assert project is not None
    reported = {ReportMonth(r.fiscal_year, r.report_no) for r in reports}
    options = reportable_months(project, reported, ctx.today)
    if not options:
        current = ReportMonth.containing(ctx.today)
        reason = why_not(project, current, reported, ctx.today) or texts.NOTHING_TO_CORRECT
        return Stay(reason)
    if len(options) == 1:
        month = options[0].month
        chosen = draft.but(fiscal_year=month.fiscal_year, report_no=month.report_no)
        return Go(Step.PROGRESS, chosen)
    return Go(Step.MONTH, draft)


# Month


async def _month_choices(ctx: Context) -> list[tuple[ReportMonth, str]]:
    reports = await ctx.reports()
    if ctx.draft.mode is Mode.CORRECT:
        latest = sorted(reports, key=lambda r: (r.fiscal_year, r.report_no), reverse=True)[:12]
        return [
            (
                ReportMonth(r.fiscal_year, r.report_no),
                f"{month_name(ReportMonth(r.fiscal_year, r.report_no))} "
                f"(ครั้งที่ {r.report_no}, {percent(r.values.progress)} %)",
            )
            for r in latest
        ]
    project = await ctx.project()
    if project is None:
        return []
    reported = {ReportMonth(r.fiscal_year, r.report_no) for r in reports}
    return [(o.month, o.label) for o in reportable_months(project, reported, ctx.today)]


def _month_key(month: ReportMonth) -> str:
    return f"{month.fiscal_year}-{month.report_no}"


async def ask_month(ctx: Context) -> Outbound:
    """Offer the months: overdue first, then this month; or the sent ones when correcting."""
    options = await _month_choices(ctx)
    head = texts.CHOOSE_REPORTED_MONTH if ctx.draft.mode is Mode.CORRECT else texts.CHOOSE_MONTH
    lines = [head] + [f"{i}) {label}" for i, (_, label) in enumerate(options, start=1)]
    choices = tuple(button(Step.MONTH, _month_key(m), label) for m, label in options)
    return Outbound("\n".join(lines), choices)


async def accept_month(ctx: Context, answer: Answer) -> Result:
    """Take a month from a button or typed text; refuse one that cannot be reported, saying why."""
    options = [m for m, _ in await _month_choices(ctx)]
    if answer.choice is not None:
        month = next((m for m in options if _month_key(m) == answer.choice), None)
    else:
        month = parse_month(answer.text, ctx.today)
    if month is None:
        return Stay(texts.CHOOSE_MONTH_HINT)
    if ctx.draft.mode is Mode.CORRECT:
        # The buttons show the latest twelve; any sent month may be typed.
        options = [ReportMonth(r.fiscal_year, r.report_no) for r in await ctx.reports()]
    if month not in options:
        project = await ctx.project()
        reported = {ReportMonth(r.fiscal_year, r.report_no) for r in await ctx.reports()}
        if ctx.draft.mode is Mode.CORRECT or project is None:
            return Stay(f"เดือน {month_name(month)} ยังไม่มีรายงานให้แก้ไข กรุณาเลือกจากปุ่ม")
        return Stay(why_not(project, month, reported, ctx.today) or texts.CHOOSE_MONTH_HINT)
    draft = ctx.draft.but(fiscal_year=month.fiscal_year, report_no=month.report_no)
    if ctx.draft.mode is Mode.CORRECT:
        current = next(
            r
            for r in await ctx.reports()
            if (r.fiscal_year, r.report_no) == (month.fiscal_year, month.report_no)
        )
        draft = prefill(draft, current.values)
        return Go(Step.CORRECTION_REASON, draft)
    return Go(Step.PROGRESS, draft)


def prefill(draft: Draft, values: ReportValues) -> Draft:
    """Start a correction from the stored values, so that each can be kept with one tap."""
    return draft.but(
        progress=str(values.progress),
        disbursed=str(values.disbursed),
        note=values.note,
        on_plan=values.on_plan,
        plan_reason=values.plan_reason,
        on_target=values.on_target,
        target_reason=values.target_reason,
    )


async def ask_correction_reason(ctx: Context) -> Outbound:
    """Ask why the sent report is being corrected."""
    text = texts.ASK_CORRECTION_REASON.format(
        report_no=ctx.draft.report_no, month=month_name(ctx.month)
    )
    return Outbound(text)


def read_reason(text: str) -> str | Stay:
    """A reason of sensible length, or why not."""
    reason = text.strip()
    if len(reason) < REASON_MIN:
        return Stay(texts.REASON_TOO_SHORT.format(minimum=REASON_MIN))
    if len(reason) > REASON_LIMIT:
        return Stay(texts.REASON_TOO_LONG.format(limit=REASON_LIMIT))
    return reason


async def accept_correction_reason(ctx: Context, answer: Answer) -> Result:
    """Keep the correction's reason and go on to the figures."""
    reason = read_reason(answer.text)
    if isinstance(reason, Stay):
        return reason
    return Go(Step.PROGRESS, ctx.draft.but(correction_reason=reason))


# Figures


def _heading(ctx: Context) -> str:
    month = month_name(ctx.month)
    return f"รายงานครั้งที่ {ctx.draft.report_no} ({month}) โครงการ {ctx.draft.project_code}"


@dataclass(frozen=True, slots=True)
class Figure:
    """A cumulative figure step (progress or disbursement): the same rules, other words."""

    name: str  # the Draft field: "progress" or "disbursed"
    step: Step
    drop_step: Step
    next_step: Step
    label: str  # as it appears in "ลดลง" notes
    parse: Callable[[str], Decimal]
    show: Callable[[Decimal], str]

    def pending(self, draft: Draft) -> str:
        """A value below last month's that waits for its reason."""
        return str(getattr(draft, f"pending_{self.name}"))

    def keep_and_drop_buttons(self, draft: Draft) -> tuple[Choice, ...]:
        """ "Keep the value given before" and "it really went down" buttons, when they apply."""
        choices: list[Choice] = []
        if current := getattr(draft, self.name):
            shown = self.show(Decimal(current))
            choices.append(button(self.step, "keep", texts.BTN_KEEP.format(value=shown)))
        if self.pending(draft):
            choices.append(button(self.step, "drop", texts.BTN_DROP))
        return tuple(choices)


async def _check_progress(ctx: Context, value: Decimal) -> Finding | None:
    return check_progress(value, await ctx.neighbours())


async def _check_disbursed(ctx: Context, value: Decimal) -> Finding | None:
    project = await ctx.project()
    budget = project.budget_received if project else None
    return check_disbursed(value, await ctx.neighbours(), budget)


PROGRESS = Figure(
    "progress", Step.PROGRESS, Step.PROGRESS_DROP, Step.DISBURSED, "ความก้าวหน้า",
    parse_percent, lambda v: f"{percent(v)} %",
)  # fmt: skip
DISBURSED = Figure(
    "disbursed", Step.DISBURSED, Step.DISBURSED_DROP, Step.NOTE, "ยอดเบิกจ่าย",
    parse_baht, lambda v: f"{baht(v)} บาท",
)  # fmt: skip
CHECKS: dict[str, Callable[[Context, Decimal], Awaitable[Finding | None]]] = {
    "progress": _check_progress,
    "disbursed": _check_disbursed,
}


async def ask_progress(ctx: Context) -> Outbound:
    """Ask the cumulative progress, showing last month's for reference."""
    around = await ctx.neighbours()
    lines = [_heading(ctx), texts.ASK_PROGRESS]
    if around.before is not None:
        lines.append(f"(รายงานครั้งก่อน: {percent(around.before.values.progress)} %)")
    return Outbound("\n".join(lines), PROGRESS.keep_and_drop_buttons(ctx.draft), numbered=False)


async def ask_disbursed(ctx: Context) -> Outbound:
    """Ask the cumulative disbursement, showing the budget and last month's figure."""
    project = await ctx.project()
    around = await ctx.neighbours()
    lines = [texts.ASK_DISBURSED]
    if project is not None and project.budget_received:
        lines.append(f"(งบประมาณที่ได้รับ {baht(project.budget_received)} บาท)")
    if around.before is not None:
        lines.append(f"(รายงานครั้งก่อน: {baht(around.before.values.disbursed)} บาท)")
    return Outbound("\n".join(lines), DISBURSED.keep_and_drop_buttons(ctx.draft), numbered=False)


def accept_figure(figure: Figure) -> Accept:
    """Read a cumulative figure and check it against the months around it (and the budget)."""

    async def accept(ctx: Context, answer: Answer) -> Result:
        draft = ctx.draft
        if answer.choice == "keep" and getattr(draft, figure.name):
            return Go(figure.next_step, draft)
        if answer.choice == "drop" and figure.pending(draft):
            return Go(figure.drop_step, draft)
        try:
            value = figure.parse(answer.text)
        except ParseError as error:
            return Stay(str(error))
        finding = await CHECKS[figure.name](ctx, value)
        if finding is not None:
            waiting = str(value) if finding.overridable else ""
            return Stay(finding.message, draft.but(**{f"pending_{figure.name}": waiting}))
        typed = {figure.name: str(value), f"pending_{figure.name}": "", f"{figure.name}_drop": ""}
        return Go(figure.next_step, draft.but(**typed))

    return accept


def accept_drop(figure: Figure) -> Accept:
    """Take the reason for a lower figure and keep the figure the officer insisted on."""

    async def accept(ctx: Context, answer: Answer) -> Result:
        reason = read_reason(answer.text)
        if isinstance(reason, Stay):
            return reason
        explained = {
            figure.name: figure.pending(ctx.draft),
            f"pending_{figure.name}": "",
            f"{figure.name}_drop": reason,
        }
        return Go(figure.next_step, ctx.draft.but(**explained))

    return accept


def drop_notes(draft: Draft) -> list[str]:
    """The officer's explanations of figures below last month's, as stored and shown."""
    notes = []
    if draft.progress_drop:
        notes.append(f"{PROGRESS.label}ลดลง: {draft.progress_drop}")
    if draft.disbursed_drop:
        notes.append(f"{DISBURSED.label}ลดลง: {draft.disbursed_drop}")
    return notes


# Note


async def ask_note(ctx: Context) -> Outbound:
    """Ask for a short note of what was done."""
    choices = [button(Step.NOTE, "skip", texts.BTN_NO_NOTE)]
    if ctx.draft.note:
        shown = ctx.draft.note if len(ctx.draft.note) <= 30 else ctx.draft.note[:29] + "…"
        choices.insert(0, button(Step.NOTE, "keep", texts.BTN_KEEP.format(value=shown)))
    return Outbound(texts.ASK_NOTE.format(limit=NOTE_LIMIT), tuple(choices), numbered=False)


async def accept_note(ctx: Context, answer: Answer) -> Result:
    """Take the note, and ask about it when it contradicts the figures."""
    if answer.choice == "keep" and ctx.draft.note is not None:
        note = ctx.draft.note
    elif answer.choice == "skip" or answer.text.strip() in {"-", "ไม่มี", "ข้าม"}:
        note = ""
    else:
        note = " ".join(answer.text.split())
        if len(note) > NOTE_LIMIT:
            return Stay(texts.NOTE_TOO_LONG.format(length=len(note), limit=NOTE_LIMIT))
    draft = ctx.draft.but(note=note, note_checked=False)
    problem = check_note(
        note, Decimal(draft.progress), Decimal(draft.disbursed), await ctx.neighbours()
    )
    if problem is not None:
        return Go(Step.NOTE_CHECK, draft)
    return Go(Step.ON_PLAN, draft)


async def ask_note_check(ctx: Context) -> Outbound:
    """Ask whether a note that contradicts the figures is really right."""
    problem = check_note(
        ctx.draft.note or "",
        Decimal(ctx.draft.progress),
        Decimal(ctx.draft.disbursed),
        await ctx.neighbours(),
    )
    choices = (
        button(Step.NOTE_CHECK, "ok", texts.BTN_NOTE_OK),
        button(Step.NOTE_CHECK, "disbursed", texts.BTN_FIX_DISBURSED),
        button(Step.NOTE_CHECK, "progress", texts.BTN_FIX_PROGRESS),
        button(Step.NOTE_CHECK, "note", texts.BTN_FIX_NOTE),
    )
    return Outbound(texts.NOTE_QUESTION.format(problem=problem or ""), choices)


async def accept_note_check(ctx: Context, answer: Answer) -> Result:
    """Keep the note as it is, or go back to fix a figure or the note."""
    targets = {"disbursed": Step.DISBURSED, "progress": Step.PROGRESS, "note": Step.NOTE}
    typed = yes_no(answer, texts.BTN_NOTE_OK, texts.BTN_FIX_NOTE) if not answer.choice else None
    if answer.choice == "ok" or typed is True:
        return Go(Step.ON_PLAN, ctx.draft.but(note_checked=True))
    if typed is False:
        return Go(Step.NOTE, ctx.draft)  # "no, that is not right": write the note again
    if answer.choice in targets:
        return Go(targets[answer.choice], ctx.draft)
    return Stay(texts.NOTE_CHECK_HINT)
