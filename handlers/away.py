"""Away: an officer names the last day they are away and a colleague who reports in their place.

While the stand-in is in force the colleague gets the reminders and may submit for the officer's
projects; "กลับมาแล้ว" ends it early.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.messages import Outbound
from domain.models import Delegation, Person, Role
from domain.replies import is_confirmation
from domain.thaidate import format_thai_date, parse_day
from handlers import texts
from handlers.context import Context
from handlers.draft import Draft, Mode
from handlers.flow import Answer, Finish, Go, Result, Say, Stay, Step, button, command_button
from storage.errors import NotFound

LONGEST_ABSENCE = timedelta(days=90)
MAX_CANDIDATES = 10  # colleagues shown as buttons
SEARCH_LIMIT = 50  # a typed name matching more than this is surely too short


async def start_away(ctx: Context) -> Result:
    """The "away" command: officers only."""
    if Role.OFFICER not in ctx.person.roles and not ctx.reach.own:
        return Finish((Outbound(texts.AWAY_OFFICERS_ONLY),))
    ctx.draft = Draft(mode=Mode.AWAY)
    return Go(Step.AWAY_UNTIL, ctx.draft)


async def ask_until(ctx: Context) -> Outbound:
    """Ask the last day away."""
    return Outbound(texts.ASK_AWAY_UNTIL)


async def accept_until(ctx: Context, answer: Answer) -> Result:
    """Take a day from today up to 90 days ahead."""
    day = parse_day(answer.typed.plain, ctx.today)
    if day is None:
        return Stay(texts.AWAY_DAY_HINT)
    if day < ctx.today:
        return Stay(texts.AWAY_DAY_PAST.format(day=format_thai_date(day)))
    if day > ctx.today + LONGEST_ABSENCE:
        return Stay(texts.AWAY_DAY_TOO_FAR)
    if not await ctx.colleagues(MAX_CANDIDATES + 1):
        return Finish((Outbound(texts.NO_COLLEAGUES),))
    return Go(Step.AWAY_DELEGATE, replace(ctx.draft, away_until=day))


async def ask_delegate(ctx: Context) -> Outbound:
    """Offer the first colleagues by name as buttons; any other may be found by name."""
    people = await ctx.colleagues(MAX_CANDIDATES + 1)
    shown = people[:MAX_CANDIDATES]
    lines = [texts.ASK_DELEGATE] + [f"{i}) {p.name}" for i, p in enumerate(shown, start=1)]
    if len(people) > len(shown):
        lines.append(texts.DELEGATE_SEARCH)
    choices = tuple(button(Step.AWAY_DELEGATE, p.id, p.name) for p in shown)
    return Outbound("\n".join(lines), choices)


async def accept_delegate(ctx: Context, answer: Answer) -> Result:
    """Take a colleague from a button, or a typed name (or part of one) that names exactly one
    colleague of the office, among all of them, not only those on the buttons."""
    if answer.choice is not None:
        people = await ctx.colleagues(MAX_CANDIDATES + 1)
        chosen = [p for p in people if str(p.id) == answer.choice]
    else:
        typed = " ".join(answer.text.split())
        found = await ctx.store.colleagues(ctx.person.id, limit=SEARCH_LIMIT, named=typed)
        chosen = [p for p in found if p.name == typed] or found
    if len(chosen) != 1:
        many = len(chosen) > 1 and answer.choice is None
        return Stay(texts.DELEGATE_MANY if many else texts.DELEGATE_HINT)
    return Go(Step.AWAY_CONFIRM, replace(ctx.draft, delegate_id=chosen[0].id))


async def _delegate(ctx: Context) -> Person | None:
    people = await ctx.colleagues(MAX_CANDIDATES + 1)
    known = next((p for p in people if p.id == ctx.draft.delegate_id), None)
    if known is None and ctx.draft.delegate_id:  # found by name beyond the buttons
        known = await ctx.store.get_person(ctx.draft.delegate_id)
    return known


async def ask_confirm_away(ctx: Context) -> Outbound:
    """Say what will happen, and ask to confirm."""
    delegate = await _delegate(ctx)
    name = delegate.name if delegate else "-"
    until = format_thai_date(ctx.draft.away_until) if ctx.draft.away_until else "-"
    text = texts.AWAY_CONFIRM.format(until=until, name=name)
    choices = (
        button(Step.AWAY_CONFIRM, "yes", texts.BTN_CONFIRM),
        command_button(texts.BTN_BACK, "back"),
        command_button(texts.BTN_CANCEL, "cancel"),
    )
    return Outbound(text, choices)


async def accept_confirm_away(ctx: Context, answer: Answer) -> Result:
    """Record the stand-in, ending any earlier one, and close the conversation with it."""
    if answer.choice != "yes" and not is_confirmation(answer.typed):
        return Stay(texts.CONFIRM_HINT)
    until = ctx.draft.away_until
    if until is None or await _delegate(ctx) is None:
        return Go(Step.AWAY_DELEGATE, ctx.draft, (Outbound(texts.DELEGATE_HINT),))
    delegation = Delegation(ctx.person.id, ctx.draft.delegate_id, ctx.today, until)
    try:
        delegate = await ctx.store.set_absence(
            delegation, finish_session=ctx.account, event=ctx.event
        )
    except NotFound:  # the colleague was removed meanwhile
        return Go(Step.AWAY_DELEGATE, ctx.draft, (Outbound(texts.DELEGATE_HINT),))
    ctx.marked = True
    done = texts.AWAY_SAVED.format(name=delegate.name, until=format_thai_date(until))
    return Finish((Outbound(done),), clear=False)


async def back_at_work(ctx: Context) -> Result:
    """The "present" command: end a stand-in early."""
    ended = await ctx.store.end_delegations(ctx.person.id, ctx.today, event=ctx.event)
    ctx.marked = True
    return Say((Outbound(texts.BACK_AT_WORK if ended else texts.NOT_AWAY),))
