"""The commands: what each does, and the words that give it.

Commands are typed as "/report" (Telegram, the console) or as plain Thai words (LINE has no
slashes), or pressed as buttons. A command that starts a dialogue asks before it drops an
unfinished report.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date

from domain.fiscal import ReportMonth
from domain.messages import Choice, Outbound
from domain.models import Person, Role
from domain.months import Period, month_before, month_name, parse_period
from domain.payloads import PickPeriod
from handlers import texts
from handlers.away import back_at_work, start_away
from handlers.choosing import start
from handlers.context import Context
from handlers.dashboard import dashboard
from handlers.draft import Mode
from handlers.flow import Finish, Go, Result, Say, Step, command_button
from handlers.shortcuts import notification_settings, reminder_channel
from handlers.views import coordinator_status, officer_status


def menu_for(person: Person, *, reports: bool | None = None) -> tuple[Choice, ...]:
    """The menu buttons for what this person can do: reporting ones only for someone who
    reports (`reports`, or else an officer by role), a coordinator's own ones for coordinators."""
    reporting = Role.OFFICER in person.roles if reports is None else reports
    coordinator = Role.COORDINATOR in person.roles
    buttons = [
        (texts.BTN_REPORT, "report", reporting),
        (texts.BTN_STATUS, "status", True),
        (texts.BTN_SUMMARY, "summary", coordinator),
        (texts.BTN_EXPORT, "export", coordinator),
        (texts.BTN_HISTORY, "history", True),
        (texts.BTN_CORRECT, "correct", reporting),
        (texts.BTN_HELP, "help", True),
    ]
    return tuple(command_button(label, name) for label, name, shown in buttons if shown)


def menu(ctx: Context) -> tuple[Choice, ...]:
    """The menu for the person of this turn (who may report is known from their reach)."""
    reports = ctx.reach.everything or bool(ctx.reach.reports_on)
    return menu_for(ctx.person, reports=reports)


_TITLES = re.compile(r"^(?:นางสาว|นาย|นาง|น\.ส\.|ดร\.|ว่าที่\s*ร\.ต\.|คุณ)\s*")


def first_name(name: str) -> str:
    """How the bot greets a person: คุณ and the first name, without the title."""
    bare = _TITLES.sub("", name.strip())
    return f"คุณ{bare.split()[0]}" if bare else ""


Run = Callable[[Context], Awaitable[Result]]


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its name, the words that give it, and what it does. A command that
    `starts` a dialogue begins afresh, so it asks before dropping an unfinished report."""

    name: str
    words: tuple[str, ...]
    run: Run
    starts: bool = False
    takes_period: bool = False  # "ส่งออก 2564", "สรุป ต.ค.": a month or fiscal year may follow


def _starting(mode: Mode) -> Run:
    async def run(ctx: Context) -> Result:
        return await start(ctx, mode)

    return run


async def _help(ctx: Context) -> Result:
    return Say((Outbound(texts.HELP, menu(ctx)),))


async def _resume(ctx: Context) -> Result:
    return Say(())


async def _cancel(ctx: Context) -> Result:
    if ctx.step is Step.IDLE:
        return Say((Outbound(texts.NOTHING_TO_CANCEL, menu(ctx)),), reask=False)
    return Finish((Outbound(texts.CANCELLED),))


async def _back(ctx: Context) -> Result:
    if ctx.step is Step.IDLE:
        return Say((Outbound(texts.NOTHING_TO_CANCEL, menu(ctx)),), reask=False)
    if not ctx.draft.trail:
        return Say((Outbound(texts.NOTHING_TO_GO_BACK),))
    previous = Step(ctx.draft.trail[-1])
    return Go(previous, replace(ctx.draft, trail=ctx.draft.trail[:-1]), remember=False)


async def _status(ctx: Context) -> Result:
    """The officer's projects and what is due; for coordinators, their agency's month."""
    replies: list[Outbound] = []
    own = await ctx.reportable()
    if own:
        rows = [(f.project, list(f.reports)) for f in own]
        replies.append(Outbound(officer_status(rows, ctx.today)))
    if Role.COORDINATOR in ctx.person.roles:
        scoped = await ctx.store.projects_of_coordinator(ctx.person.id)
        files = await ctx.store.project_files([p.code for p in scoped])
        rows = [(f.project, list(f.reports)) for f in files]
        replies.append(Outbound(coordinator_status(rows, ctx.today)))
    return Say(tuple(replies) or (Outbound(texts.NO_PROJECTS),))


async def _summary(ctx: Context) -> Result:
    """A coordinator's month with its chart (this month, or the one asked for); an officer's
    projects with their figures."""
    if Role.COORDINATOR not in ctx.person.roles:
        if ctx.documents is None:
            return await _status(ctx)
        return Say(tuple(await ctx.documents.officer_summary(ctx.person.id, ctx.today)))
    return await _agency(ctx, workbook=False)


async def _export(ctx: Context) -> Result:
    """The workbook of a coordinator's projects (this fiscal year, or the one asked for)."""
    if Role.COORDINATOR not in ctx.person.roles:
        return Say((Outbound(texts.COORDINATORS_ONLY),))
    return await _agency(ctx, workbook=True)


def _period(ctx: Context, *, workbook: bool) -> Period | str:
    """The period asked for (a button's, or typed after the command), or this one."""
    if ctx.period is not None:
        return ctx.period
    if ctx.argument:
        return parse_period(ctx.argument, ctx.today)
    current = ReportMonth.containing(ctx.today)
    return Period(current.fiscal_year, None if workbook else current)


def _month_of(period: Period, today: date) -> ReportMonth:
    """The month a summary shows: the one asked for, or of a fiscal year the latest up to
    today (its last month for a year gone by)."""
    if period.month is not None:
        return period.month
    current = ReportMonth.containing(today)
    return (
        current
        if current.fiscal_year == period.fiscal_year
        else ReportMonth(period.fiscal_year, 12)
    )


def _other_periods(ctx: Context, shown: Period, *, workbook: bool) -> tuple[Choice, ...]:
    """Buttons for the periods people ask for next: the two before, and back to now."""
    command = "export" if workbook else "summary"
    current = ReportMonth.containing(ctx.today)
    if workbook:
        years = [shown.fiscal_year - 1, shown.fiscal_year - 2]
        if shown.fiscal_year != current.fiscal_year:
            years.insert(0, current.fiscal_year)
        return tuple(
            Choice(f"ปีงบประมาณ {year}", PickPeriod(command, year).encode()) for year in years
        )
    month = _month_of(shown, ctx.today)
    before = month_before(month)
    months = [before, month_before(before)]
    if month != current:
        months.insert(0, current)
    return tuple(
        Choice(month_name(m), PickPeriod(command, m.fiscal_year, m.report_no).encode())
        for m in months
    )


async def _agency(ctx: Context, *, workbook: bool) -> Result:
    if ctx.documents is None:
        return Say((Outbound(texts.DOCUMENTS_OFF),))
    period = _period(ctx, workbook=workbook)
    if isinstance(period, str):  # typed, but not a month or fiscal year: say how to write one
        return Say((Outbound(period),))
    projects = await ctx.store.projects_of_coordinator(ctx.person.id)
    if not projects:
        return Say((Outbound(texts.NOTHING_TO_SHOW),))
    more = _other_periods(ctx, period, workbook=workbook)
    if workbook:
        replies = await ctx.documents.agency_workbook(projects, period.fiscal_year)
    else:
        scopes = await ctx.store.coordinator_scopes(ctx.person.id)
        named = [s.agency for s in scopes if s.agency] or [p.code for p in projects]
        month = _month_of(period, ctx.today)
        replies = await ctx.documents.agency_summary(projects, month, ", ".join(named))
    *before, last = replies
    return Say((*before, replace(last, choices=(*last.choices, *more))))


TABLE: tuple[Command, ...] = (
    Command("report", ("report", "ส่งรายงาน", "รายงาน"), _starting(Mode.REPORT), starts=True),
    Command("status", ("status", "สถานะ"), _status),
    Command("history", ("history", "ประวัติ"), _starting(Mode.HISTORY), starts=True),
    Command("correct", ("correct", "แก้ไข", "แก้ไขรายงาน"), _starting(Mode.CORRECT), starts=True),
    Command("back", ("back", "ย้อนกลับ"), _back),
    Command("cancel", ("cancel", "ยกเลิก"), _cancel),
    Command("help", ("help", "start", "menu", "ช่วยเหลือ", "วิธีใช้", "เมนู"), _help),
    Command("away", ("away", "ไม่อยู่", "ลา"), start_away, starts=True),
    Command("present", ("present", "กลับมาแล้ว"), back_at_work),
    Command("notify", ("notify", "การแจ้งเตือน", "แจ้งเตือน"), notification_settings),
    Command(
        "channel",
        ("channel", "ช่องทางแจ้งเตือน", "ช่องทางการแจ้งเตือน", "ช่องทาง"),
        reminder_channel,
    ),
    Command("form", ("form", "แบบรายงาน", "แบบฟอร์ม"), _starting(Mode.FORM), starts=True),
    Command("chart", ("chart", "กราฟ"), _starting(Mode.CHART), starts=True),
    Command("dashboard", ("dashboard", "แดชบอร์ด", "หน้าเว็บ"), dashboard),
    Command("summary", ("summary", "สรุป"), _summary, takes_period=True),
    Command("export", ("export", "ส่งออก", "excel"), _export, takes_period=True),
    Command("resume", (), _resume),  # the "go on" button of the discard question
)
COMMANDS: dict[str, Command] = {command.name: command for command in TABLE}
WORDS: dict[str, str] = {word: command.name for command in TABLE for word in command.words}
# Command words that a month or fiscal year may follow, longest first.
PERIOD_WORDS = sorted(
    ((word, c.name) for c in TABLE if c.takes_period for word in c.words),
    key=lambda pair: -len(pair[0]),
)


def command_with_period(plain: str) -> tuple[str, str] | None:
    """("export", "2564") for "ส่งออก 2564", "/export 2564" or "สรุปต.ค."; None otherwise."""
    text = plain.removeprefix("/")
    if text != plain:  # "/export@SomeBot 2564"
        head, _, rest = text.partition(" ")
        text = head.split("@", 1)[0] + (" " + rest if rest else "")
    for word, name in PERIOD_WORDS:
        if text.startswith(word) and text[len(word) :].strip():
            return name, text[len(word) :].strip()
    return None
