"""Away: an officer names the last day they are away and a colleague who reports in their place.

While the stand-in is in force the colleague gets the reminders and may submit for the officer's
projects; "กลับมาแล้ว" ends it early.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.messages import Choice, Outbound
from domain.models import Delegation, Person, Role
from domain.thaidate import format_thai_date, parse_day
from handlers import texts
from handlers.draft import Mode
from handlers.flow import Answer, Context, Finish, Go, Result, Stay, Step, button

LONGEST_ABSENCE = timedelta(days=90)
MAX_CANDIDATES = 10


async def candidates(ctx: Context) -> list[Person]:
    """Colleagues who may stand in: officers of projects under the same office (first segment
    of the agency path) as the person's own projects."""
    offices = {
        p.agency.split("/")[0].strip() for p in await ctx.repo.projects_of_officer(ctx.person.id)
    }
    offices.discard("")
    found: dict[int, Person] = {}
    for office in sorted(offices):
        for project in await ctx.repo.list_projects(agency=office):
            for officer in await ctx.repo.officers_of_project(project.code):
                if officer.id != ctx.person.id:
                    found[officer.id] = officer
    return sorted(found.values(), key=lambda p: p.name)[:MAX_CANDIDATES]


async def ask_until(ctx: Context) -> Outbound:
    """Ask the last day away."""
    return Outbound(texts.ASK_AWAY_UNTIL)


async def accept_until(ctx: Context, answer: Answer) -> Result:
    """Take a day from today up to 90 days ahead."""
    day = parse_day(answer.text, ctx.today)
    if day is None:
        return Stay(texts.AWAY_DAY_HINT)
    if day < ctx.today:
        return Stay(texts.AWAY_DAY_PAST.format(day=format_thai_date(day)))
    if day > ctx.today + LONGEST_ABSENCE:
        return Stay(texts.AWAY_DAY_TOO_FAR)
    return Go(Step.AWAY_DELEGATE, ctx.draft.but(away_until=day.isoformat()))


async def ask_delegate(ctx: Context) -> Outbound:
    """Offer the colleagues who may report in the person's place."""
    people = await candidates(ctx)
    lines = [texts.ASK_DELEGATE] + [f"{i}) {p.name}" for i, p in enumerate(people, start=1)]
    choices = tuple(button(Step.AWAY_DELEGATE, str(p.id), p.name) for p in people)
    return Outbound("\n".join(lines), choices)


async def accept_delegate(ctx: Context, answer: Answer) -> Result:
    """Take a colleague from a button, or a typed name that matches exactly one of them."""
    people = await candidates(ctx)
    if answer.choice is not None:
        chosen = [p for p in people if str(p.id) == answer.choice]
    else:
        typed = " ".join(answer.text.split())
        chosen = [p for p in people if p.name == typed] or [p for p in people if typed in p.name]
    if len(chosen) != 1:
        return Stay(texts.DELEGATE_HINT)
    return Go(Step.AWAY_CONFIRM, ctx.draft.but(delegate_id=chosen[0].id))


async def ask_confirm_away(ctx: Context) -> Outbound:
    """Say what will happen, and ask to confirm."""
    delegate = await ctx.repo.get_person(ctx.draft.delegate_id)
    name = delegate.name if delegate else "-"
    until = format_thai_date(date.fromisoformat(ctx.draft.away_until))
    text = texts.AWAY_CONFIRM.format(until=until, name=name)
    choices = (
        button(Step.AWAY_CONFIRM, "yes", texts.BTN_CONFIRM),
        Choice(texts.BTN_BACK, "cmd:back"),
        Choice(texts.BTN_CANCEL, "cmd:cancel"),
    )
    return Outbound(text, choices)


async def accept_confirm_away(ctx: Context, answer: Answer) -> Result:
    """Record the stand-in."""
    if answer.choice != "yes" and answer.text.strip() not in {"ยืนยัน", "ใช่", "ตกลง"}:
        return Stay(texts.CONFIRM_HINT)
    until = date.fromisoformat(ctx.draft.away_until)
    delegate = await ctx.repo.get_person(ctx.draft.delegate_id)
    if delegate is None:
        return Go(Step.AWAY_DELEGATE, ctx.draft, (Outbound(texts.DELEGATE_HINT),))
    await ctx.repo.end_delegations(ctx.person.id, ctx.today)
    await ctx.repo.add_delegation(Delegation(ctx.person.id, delegate.id, ctx.today, until))
    done = texts.AWAY_SAVED.format(name=delegate.name, until=format_thai_date(until))
    return Finish((Outbound(done),))


async def start_away(ctx: Context) -> Result:
    """The "away" command: officers only."""
    if Role.OFFICER not in ctx.person.roles and not await ctx.repo.projects_of_officer(
        ctx.person.id
    ):
        return Finish((Outbound(texts.AWAY_OFFICERS_ONLY),))
    ctx.draft = ctx.draft.but(mode=Mode.AWAY)
    return Go(Step.AWAY_UNTIL, ctx.draft)


async def back_at_work(ctx: Context) -> Outbound:
    """The "present" command: end a stand-in early."""
    ended = await ctx.repo.end_delegations(ctx.person.id, ctx.today)
    return Outbound(texts.BACK_AT_WORK if ended else texts.NOT_AWAY)
