"""The conversation engine: one entry point for every channel.

A turn opens with one read (who is talking, where their conversation stands, what they may
reach), routes the message through the tables (`handlers.commands`, `handlers.table`), carries
out what was decided (save the step, or finish) and answers. One person's messages are handled
one at a time, in order, by a lock held here and nowhere else: the channels only translate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from datetime import datetime, time, timedelta

from domain.clock import Clock
from domain.fiscal import ReportMonth
from domain.limits import TEXT_LIMIT
from domain.messages import Choice, Inbound, InboundKind, Outbound, Reply
from domain.models import EventMark, SessionState
from domain.months import Period, month_name
from domain.payloads import (
    ChooseChannel,
    Payload,
    PickPeriod,
    ReportNow,
    RunCommand,
    ShowMore,
    Snooze,
    StepAnswer,
    SwitchNotification,
    Unknown,
    decode,
)
from domain.replies import Intent, Typed, command_of, intent_of, read, yes_or_no
from handlers import texts
from handlers.closing import dated
from handlers.commands import COMMANDS, WORDS, command_with_period, first_name, menu, menu_for
from handlers.context import Context
from handlers.documents import DashboardLinks, Documents
from handlers.draft import Draft, Overlay
from handlers.figures import forget_pending
from handlers.flow import Answer, Choose, Finish, Result, Say, Stay, Step, command_button
from handlers.linking import Linker
from handlers.shortcuts import (
    choose_channel,
    report_now,
    show_more,
    snoozer,
    switch_notification,
    tomorrow_at,
)
from handlers.table import STEPS
from storage.contracts import Opening, Storage

log = logging.getLogger(__name__)

# How long after storing a report a redelivered message is taken as its lost confirmation.
REDELIVERY_WINDOW = timedelta(minutes=15)

INTERNAL_ERROR = (
    "ขออภัย ระบบขัดข้องชั่วคราว ข้อมูลที่กรอกไว้ยังอยู่ กรุณาส่งอีกครั้ง "
    'หากยังไม่ได้ พิมพ์ "ยกเลิก" แล้วเริ่มใหม่ หรือแจ้งผู้ประสานงาน'
)
FOLLOW_GREETING = "/start"  # a new friend (or one who unblocked the bot) is answered as /start

Send = Callable[[Reply], Awaitable[None]]


class Conversation:
    """The channel-agnostic dialogue. Build one per process; it is safe to call concurrently."""

    def __init__(
        self,
        store: Storage,
        clock: Clock,
        *,
        snooze_until: Callable[[datetime], datetime] | None = None,
        documents: Documents | None = None,
        dashboard: DashboardLinks | None = None,
        remembered_channels: Collection[str] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._documents = documents
        self._dashboard = dashboard
        # A person linked on several of these channels prefers the one they last wrote from:
        # reminders go there (scheduler.planner).
        self._remembered = frozenset(remembered_channels)
        self._snooze = snoozer(snooze_until or tomorrow_at(time(9, 0)))
        self._linker = Linker(store, menu_for)
        # One lock per chat account: a person's messages are handled in order, others in parallel.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle(self, message: Inbound) -> list[Outbound]:
        """Answer one message, returning the replies (for callers that send them later)."""
        answered: list[Outbound] = []

        async def keep(reply: Reply) -> None:
            answered.extend(reply.messages)

        await self.serve(message, keep)
        return answered

    async def serve(self, message: Inbound, send: Send) -> None:
        """Answer one message and hand the answer to `send`, both in the person's turn: the
        next message of the same person waits until this answer is sent. An unexpected failure
        is answered with a polite Thai apology; a failure of `send` is the caller's."""
        key = (message.channel, message.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        # Across processes sharing a database too: another process serving this account's
        # previous message finishes first. Taking that turn can fail too (the database is
        # down): the person is then answered with the same apology.
        async with lock, contextlib.AsyncExitStack() as turn:
            unmarked: EventMark | None = None
            try:
                await turn.enter_async_context(self._store.person_turn(*key))
                reply, unmarked = await self._respond(message)
            except Exception:
                log.exception("conversation failed on %s message", message.kind.value)
                reply = Reply((Outbound(INTERNAL_ERROR),))
            await send(reply)
            if unmarked is not None:
                # A turn that stored nothing is marked handled once its answer is sent: if the
                # answer is lost on the way, the update is simply handled again when it comes
                # back. A turn that stored something marked it with that write.
                await self._store.mark_event(unmarked)

    async def _respond(self, message: Inbound) -> tuple[Reply, EventMark | None]:
        """The answer to a message, and its update if no write of the turn marked it."""
        now = self._clock()
        channel, user = message.channel, message.user_id
        event = EventMark(channel, message.event_id, now) if message.event_id else None
        opening = await self._store.open_turn(channel, user, message.event_id, now.date())
        if opening.handled:
            # Delivered again (the channel retried after a crash or a lost reply): change
            # nothing, but say where the conversation stands, in case the answer never arrived.
            if message.kind is InboundKind.UNFOLLOW:
                return Reply((), repeat=True), None
            answer = await self._redelivered(message, opening, now)
            return Reply(tuple(answer), repeat=True), None
        if message.kind is InboundKind.UNFOLLOW:
            await self._store.set_blocked(channel, user, True, now, event=event)
            log.info("%s: a user blocked the bot; no more messages to them", channel)
            return Reply(), None
        if message.kind is InboundKind.FOLLOW:
            await self._store.set_blocked(channel, user, False, now)
            message = Inbound.typed(channel, user, FOLLOW_GREETING, message.event_id)
        if opening.person is None:
            linking = await self._linker.answer(message, now, event)
            if linking.person is not None and channel in self._remembered:
                await self._store.set_preferred_channel(linking.person.id, channel)
            return Reply(tuple(linking.replies)), None if linking.marked else event
        ctx = await self._context(message, opening, now)
        ctx.event = event
        asked_from = ctx.step
        replies = await self._turn(message, ctx)
        if channel in self._remembered and opening.preferred_channel != channel:
            # The person wrote from this channel: it becomes the one their reminders go to.
            await self._store.set_preferred_channel(opening.person.id, channel)
        in_place = (
            message.kind is InboundKind.CHOICE
            and asked_from is not Step.IDLE
            and ctx.step not in {Step.IDLE, asked_from}
            and len(replies) == 1
            and replies[0].attachment is None
            and isinstance(decode(message.text), StepAnswer)
        )
        return Reply(tuple(replies), in_place=in_place), None if ctx.marked else event

    async def _context(self, message: Inbound, opening: Opening, now: datetime) -> Context:
        """Where this person's conversation stands (an unreadable state starts afresh)."""
        assert opening.person is not None
        step, draft = Step.IDLE, Draft()
        session = opening.session
        if session is not None:
            try:
                step, draft = Step(session.state), Draft.from_json(session.data)
            except (ValueError, TypeError, KeyError):
                log.warning("dropping unreadable session state %r", session.state)
                await self._store.clear_session(message.channel, message.user_id)
        ctx = Context(
            self._store,
            opening.person,
            opening.reach,
            now,
            message.channel,
            message.user_id,
            draft,
            step=step,
            documents=self._documents,
            dashboard=self._dashboard,
        )
        return ctx

    async def _redelivered(
        self, message: Inbound, opening: Opening, now: datetime
    ) -> list[Outbound]:
        if opening.person is None:
            return [Outbound(texts.UNKNOWN_USER, ask_contact=True)]
        ctx = await self._context(message, opening, now)
        if ctx.step is Step.IDLE:
            # A crash may have come between storing a report and confirming it: say it now.
            last = await self._store.last_change_by(opening.person.id)
            if last is not None and now - last[1].changed_at <= REDELIVERY_WINDOW:
                report = last[0]
                month = month_name(ReportMonth(report.fiscal_year, report.report_no))
                done = texts.ALREADY_DONE.format(
                    report_no=report.report_no, month=month, code=report.project_code
                )
                return [Outbound(done, menu(ctx))]
        return await self._reask(ctx) or [Outbound(texts.MENU, menu(ctx))]

    async def _turn(self, message: Inbound, ctx: Context) -> list[Outbound]:
        """One message of a linked person: what it is, then what the tables decide."""
        if message.kind is InboundKind.CONTACT:
            return await self._stay(ctx, Stay(texts.ALREADY_LINKED.format(name=ctx.person.name)))
        if message.kind is InboundKind.OTHER:
            return await self._stay(ctx, Stay(texts.NOT_TEXT))
        if message.kind is InboundKind.CHOICE:
            self._leave_overlay(ctx)  # a button pressed: whatever it was, the side question is over
            return await self._carry_out(ctx, *await self._press(ctx, decode(message.text)))
        typed = read(message.text)
        if len(typed.text) > TEXT_LIMIT:
            too_long = texts.TEXT_TOO_LONG.format(length=len(typed.text), limit=TEXT_LIMIT)
            return await self._stay(ctx, Stay(too_long))
        if not typed.text:
            return await self._stay(ctx, Stay(texts.EMPTY))
        return await self._carry_out(ctx, *await self._typed(ctx, typed))

    async def _typed(self, ctx: Context, typed: Typed) -> tuple[Step, Result]:
        """A typed reply answers the question on screen: a side question first, then a
        command, a greeting, a button's number or label, or the step's own answer."""
        free_text = ctx.step is not Step.IDLE and STEPS[ctx.step].free_text
        overlay = ctx.draft.overlay
        command = command_of(typed, WORDS, typos=not free_text and overlay is None)
        if overlay is not None:
            chosen = _pick(typed, overlay.choices, numbered=True)
            if chosen is None and command is None and (overlay.yes or overlay.no):
                # A yes/no side question: "ถูกต้องค่ะ", "ใช่ครับ", "ไม่ใช่" answer it too.
                said = yes_or_no(typed)
                if said is not None:
                    chosen = (overlay.yes if said else overlay.no) or None
            if chosen is None and command is None and not _asked_by_step(overlay, ctx.step):
                again = Choose(
                    overlay.text, _choices(overlay.choices), texts.CHOOSE_HINT,
                    overlay.yes, overlay.no,
                )  # fmt: skip
                return ctx.step, again
            # A question the step itself asked back ("4 บาท: did you mean 40,000?") is passed
            # by a reply that names none of its buttons: that is the answer typed again.
            self._leave_overlay(ctx)
            if chosen is not None:
                return await self._press(ctx, decode(chosen))
        if not free_text and (asked := command_with_period(typed.plain)) is not None:
            # "ส่งออก 2564", "สรุป ต.ค.": the command, and the period after its word.
            ctx.argument = asked[1]
            return await self._command(ctx, asked[0], discard=False)
        if command is not None:
            return await self._command(ctx, command, discard=False)
        for intent, reply in ((Intent.GREETING, texts.GREETING), (Intent.THANKS, texts.THANKS)):
            if intent_of(typed, intent):
                answer = Outbound(reply.format(name=first_name(ctx.person.name)), menu(ctx))
                return ctx.step, Say((answer,), reask=ctx.step is not Step.IDLE)
        if ctx.step is Step.IDLE:
            prompt = Outbound(texts.MENU, menu(ctx))
        else:
            prompt = await STEPS[ctx.step].ask(ctx)
        choices = tuple((c.label, c.payload) for c in prompt.choices)
        chosen = _pick(typed, choices, numbered=prompt.numbered)
        if chosen is not None:
            return await self._press(ctx, decode(chosen))
        if ctx.step is Step.IDLE:
            return Step.IDLE, Say((prompt,), reask=False)
        return ctx.step, await STEPS[ctx.step].accept(ctx, Answer(typed))

    @staticmethod
    def _leave_overlay(ctx: Context) -> None:
        """The side question on screen is answered or passed by: forget it with this turn."""
        if ctx.draft.overlay is not None:
            ctx.draft = replace(ctx.draft, overlay=None)
            ctx.dirty = True

    async def _press(self, ctx: Context, payload: Payload | Unknown) -> tuple[Step, Result]:
        """A button: an answer to the step on screen, a command, or a reminder's button."""
        match payload:
            case StepAnswer(step=step, value=value):
                if ctx.step is Step.IDLE or step != ctx.step.value:
                    return ctx.step, Stay(texts.STALE_BUTTON)
                return ctx.step, await STEPS[ctx.step].accept(ctx, Answer(choice=value))
            case RunCommand(name=name, discard=discard):
                return await self._command(ctx, name, discard=discard)
            case ReportNow():
                return ctx.step, await report_now(ctx, payload)
            case Snooze():
                return ctx.step, await self._snooze(ctx, payload)
            case SwitchNotification():
                return ctx.step, await switch_notification(ctx, payload)
            case ChooseChannel():
                return ctx.step, await choose_channel(ctx, payload)
            case ShowMore():
                return ctx.step, await show_more(ctx, payload)
            case PickPeriod(command=name, fiscal_year=year, report_no=number):
                if name not in {"summary", "export"} or not 0 <= number <= 12:
                    return ctx.step, Stay(texts.STALE_BUTTON)
                month = ReportMonth(year, number) if number else None
                ctx.period = Period(year, month)
                return await self._command(ctx, name, discard=False)
        return ctx.step, Stay(texts.STALE_BUTTON)  # forged, cut short, or from an old version

    async def _command(self, ctx: Context, name: str, *, discard: bool) -> tuple[Step, Result]:
        command = COMMANDS.get(name)
        if command is None:
            return ctx.step, Stay(texts.STALE_BUTTON)
        if not command.starts:
            return ctx.step, await command.run(ctx)
        if ctx.step is not Step.IDLE and ctx.draft.has_answers and not discard:
            # A new start would throw the unfinished draft away: ask first.
            choices = (
                command_button(texts.BTN_DISCARD, name, discard=True),
                command_button(texts.BTN_RESUME, "resume"),
            )
            return ctx.step, Choose(texts.DISCARD_QUESTION, choices)
        return Step.IDLE, await command.run(ctx)  # a fresh start: nothing to go back to

    async def _carry_out(self, ctx: Context, origin: Step, result: Result) -> list[Outbound]:
        """Carry out what was decided: save the new step and ask its question, or finish."""
        if isinstance(result, Stay):
            return await self._stay(ctx, result)
        if isinstance(result, Choose):
            shown = tuple((c.label, c.payload) for c in result.choices)
            overlay = Overlay(result.text, shown, result.yes, result.no)
            ctx.draft = replace(ctx.draft, overlay=overlay)
            await self._save(ctx)
            text = f"{result.hint}\n{result.text}" if result.hint else result.text
            return [Outbound(text, result.choices)]
        if isinstance(result, Say):
            if ctx.dirty:
                await self._save(ctx)
            reasked = await self._reask(ctx) if result.reask else []
            return [*result.messages, *reasked] or [Outbound(texts.MENU, menu(ctx))]
        if isinstance(result, Finish):
            if result.clear:
                await self._clear(ctx)
            *first, last = result.say or (Outbound(texts.MENU),)
            if last.attachment is not None:
                return [*first, last]  # a file ends the turn; its caption stays as it is
            return [*first, Outbound(last.text, (*last.choices, *menu(ctx)))]
        draft = result.draft
        if result.remember and origin is not Step.IDLE and not STEPS[origin].transient:
            draft = replace(draft, trail=(*draft.trail, origin.value))
        draft = forget_pending(draft, result.step)
        ctx.draft = replace(draft, overlay=None)
        if result.step is Step.CONFIRM and origin is not Step.CONFIRM:
            ctx.draft = await dated(ctx, ctx.draft)
        ctx.step = result.step
        await self._save(ctx)
        return [*result.say, await STEPS[result.step].ask(ctx)]

    async def _stay(self, ctx: Context, stay: Stay) -> list[Outbound]:
        """Explain why an answer was not taken, keeping the step (and the buttons) as they were."""
        if ctx.step is Step.IDLE:
            return [Outbound(stay.message, menu(ctx))]
        if stay.draft is not None:
            ctx.draft = replace(stay.draft, overlay=None)
        if stay.draft is not None or ctx.dirty:
            await self._save(ctx)
        prompt = await STEPS[ctx.step].ask(ctx)
        if stay.message == texts.STALE_BUTTON:  # an old button: say what is asked now
            return [Outbound(f"{stay.message}\n{prompt.text}", prompt.choices, prompt.numbered)]
        return [Outbound(stay.message, prompt.choices, prompt.numbered)]

    async def _reask(self, ctx: Context) -> list[Outbound]:
        if ctx.step is Step.IDLE:
            return []
        prompt = await STEPS[ctx.step].ask(ctx)
        return [Outbound(f"{texts.RESUMED}\n{prompt.text}", prompt.choices, prompt.numbered)]

    async def _save(self, ctx: Context) -> None:
        state = SessionState(ctx.channel, ctx.user_id, ctx.step.value, ctx.draft.to_json(), ctx.now)
        await self._store.save_session(state, event=ctx.event)
        ctx.marked = True

    async def _clear(self, ctx: Context) -> None:
        await self._store.clear_session(ctx.channel, ctx.user_id, event=ctx.event)
        ctx.marked = True


def _pick(typed: Typed, choices: tuple[tuple[str, str], ...], *, numbered: bool) -> str | None:
    """The payload of the button a typed reply names: its number (where the question is a
    choice), or its label as typed ("ทำต่อค่ะ" names "ทำต่อ")."""
    if numbered and typed.plain.isdigit():
        index = int(typed.plain) - 1
        return choices[index][1] if 0 <= index < len(choices) else None
    for label, payload in choices:
        if typed.plain == read(label).plain:
            return payload
    return None


def _asked_by_step(overlay: Overlay, step: Step) -> bool:
    """Whether the side question's buttons answer the step under it (a figure asked back)."""
    return any(
        isinstance(found := decode(payload), StepAnswer) and found.step == step.value
        for _, payload in overlay.choices
    )


def _choices(shown: tuple[tuple[str, str], ...]) -> tuple[Choice, ...]:
    return tuple(Choice(label, payload) for label, payload in shown)
