"""The conversation service: one entry point for every channel, `Conversation.handle(inbound)`.

It finds who is talking, loads where their conversation stands (so a restart resumes it), runs
commands and the step table of `handlers.flow`, saves the new state, and returns the replies.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from pythainlp.util import thai_digit_to_arabic_digit

from domain.clock import Clock
from domain.fiscal import ReportMonth
from domain.limits import TEXT_LIMIT
from domain.messages import Choice, Inbound, InboundKind, Outbound
from domain.models import EventMark, Person, Role, SessionState
from domain.months import month_name
from handlers import away, texts
from handlers.closing import (
    accept_confirm,
    accept_reason,
    accept_yes_no,
    ask_confirm,
    ask_text,
    ask_yes_no,
    dated,
)
from handlers.documents import Documents
from handlers.draft import Draft, Mode
from handlers.flow import (
    DISBURSED,
    LOOKING,
    PROGRESS,
    Accept,
    Answer,
    Ask,
    Context,
    Finish,
    Go,
    Result,
    Stay,
    Step,
    accept_correction_reason,
    accept_drop,
    accept_figure,
    accept_month,
    accept_note,
    accept_note_check,
    accept_project,
    after_project,
    ask_correction_reason,
    ask_disbursed,
    ask_month,
    ask_note,
    ask_note_check,
    ask_progress,
    ask_project,
    project_options,
)
from handlers.linking import Linker
from handlers.shortcuts import (
    Say,
    is_shortcut,
    notification_settings,
    shortcut,
    tomorrow_at,
)
from handlers.views import coordinator_status, officer_status
from storage.contracts import Storage

log = logging.getLogger(__name__)

# How long after storing a report a redelivered message is taken as its lost confirmation.
REDELIVERY_WINDOW = timedelta(minutes=15)

INTERNAL_ERROR = (
    "ขออภัย ระบบขัดข้องชั่วคราว ข้อมูลที่กรอกไว้ยังอยู่ กรุณาส่งอีกครั้ง "
    'หากยังไม่ได้ พิมพ์ "ยกเลิก" แล้วเริ่มใหม่ หรือแจ้งผู้ประสานงาน'
)


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One row of the state table."""

    ask: Ask
    accept: Accept


STEPS: dict[Step, StepSpec] = {
    Step.PROJECT: StepSpec(ask_project, accept_project),
    Step.MONTH: StepSpec(ask_month, accept_month),
    Step.CORRECTION_REASON: StepSpec(ask_correction_reason, accept_correction_reason),
    Step.PROGRESS: StepSpec(ask_progress, accept_figure(PROGRESS)),
    Step.PROGRESS_DROP: StepSpec(ask_text(texts.ASK_DROP_REASON), accept_drop(PROGRESS)),
    Step.DISBURSED: StepSpec(ask_disbursed, accept_figure(DISBURSED)),
    Step.DISBURSED_DROP: StepSpec(ask_text(texts.ASK_DROP_REASON), accept_drop(DISBURSED)),
    Step.NOTE: StepSpec(ask_note, accept_note),
    Step.NOTE_CHECK: StepSpec(ask_note_check, accept_note_check),
    Step.ON_PLAN: StepSpec(
        ask_yes_no(Step.ON_PLAN, texts.ASK_ON_PLAN, texts.BTN_ON_PLAN, texts.BTN_OFF_PLAN),
        accept_yes_no(
            "on_plan",
            "plan_reason",
            texts.BTN_ON_PLAN,
            texts.BTN_OFF_PLAN,
            Step.ON_TARGET,
            Step.PLAN_REASON,
        ),
    ),
    Step.PLAN_REASON: StepSpec(
        ask_text(texts.ASK_PLAN_REASON), accept_reason("plan_reason", Step.ON_TARGET)
    ),
    Step.ON_TARGET: StepSpec(
        ask_yes_no(Step.ON_TARGET, texts.ASK_ON_TARGET, texts.BTN_ON_TARGET, texts.BTN_OFF_TARGET),
        accept_yes_no(
            "on_target",
            "target_reason",
            texts.BTN_ON_TARGET,
            texts.BTN_OFF_TARGET,
            Step.CONFIRM,
            Step.TARGET_REASON,
        ),
    ),
    Step.TARGET_REASON: StepSpec(
        ask_text(texts.ASK_TARGET_REASON), accept_reason("target_reason", Step.CONFIRM)
    ),
    Step.CONFIRM: StepSpec(ask_confirm, accept_confirm),
    Step.AWAY_UNTIL: StepSpec(away.ask_until, away.accept_until),
    Step.AWAY_DELEGATE: StepSpec(away.ask_delegate, away.accept_delegate),
    Step.AWAY_CONFIRM: StepSpec(away.ask_confirm_away, away.accept_confirm_away),
}

# Steps that explain the step before them: "back" skips them, to the question itself.
TRANSIENT = {Step.IDLE, Step.PROGRESS_DROP, Step.DISBURSED_DROP, Step.NOTE_CHECK}

# Commands, typed as "/report" (Telegram, console) or as plain Thai words (LINE has no slashes).
COMMANDS: dict[str, str] = {
    "report": "report", "ส่งรายงาน": "report", "รายงาน": "report",
    "status": "status", "สถานะ": "status",
    "history": "history", "ประวัติ": "history",
    "correct": "correct", "แก้ไข": "correct", "แก้ไขรายงาน": "correct",
    "back": "back", "ย้อนกลับ": "back",
    "cancel": "cancel", "ยกเลิก": "cancel",
    "help": "help", "start": "help", "ช่วยเหลือ": "help", "วิธีใช้": "help", "เมนู": "help",
    "menu": "help",
    "away": "away", "ไม่อยู่": "away", "ลา": "away",
    "present": "present", "กลับมาแล้ว": "present",
    "notify": "notify", "การแจ้งเตือน": "notify", "แจ้งเตือน": "notify",
    "form": "form", "แบบรายงาน": "form", "แบบฟอร์ม": "form",
    "chart": "chart", "กราฟ": "chart",
    "summary": "summary", "สรุป": "summary",
    "export": "export", "ส่งออก": "export", "excel": "export",
}  # fmt: skip

MENU_CHOICES = (
    Choice(texts.BTN_REPORT, "cmd:report"),
    Choice(texts.BTN_STATUS, "cmd:status"),
    Choice(texts.BTN_HISTORY, "cmd:history"),
    Choice(texts.BTN_CORRECT, "cmd:correct"),
    Choice(texts.BTN_HELP, "cmd:help"),
)

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def clean_text(raw: str) -> str:
    """Typed text made safe to read and store: NFC, no control or zero-width characters."""
    kept = (
        " " if ch in "\t\r" else ch
        for ch in raw
        if ch == "\n" or ch in "\t\r" or (unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE)
    )
    # Normalise after the removals, so marks once split by a zero-width space compose again.
    return unicodedata.normalize("NFC", "".join(kept)).strip()


def command_of(text: str) -> str | None:
    """The command a message asks for, or None: "/report", "/report@SomeBot", "ส่งรายงาน"."""
    word = text.strip().lower()
    if word.startswith("/"):
        word = next(iter(word[1:].split("@", 1)[0].split()), "")
    return COMMANDS.get(word)


class Conversation:
    """The channel-agnostic dialogue. Build one per process; it is safe to call concurrently."""

    def __init__(
        self,
        repo: Storage,
        clock: Clock,
        *,
        snooze_until: Callable[[datetime], datetime] | None = None,
        documents: Documents | None = None,
        remembered_channels: Collection[str] = (),
    ) -> None:
        self._repo = repo
        self._documents = documents
        # A person linked on several of these channels prefers the one they last wrote from:
        # reminders go there (scheduler.planner). What this process recorded, to skip writes.
        self._remembered = frozenset(remembered_channels)
        self._last_channel: dict[int, str] = {}
        self._clock = clock
        self._snooze_until = snooze_until or tomorrow_at(time(9, 0))
        self._linker = Linker(repo, MENU_CHOICES)
        # One lock per chat account: a person's messages are handled in order, others in parallel.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle(self, message: Inbound) -> list[Outbound]:
        """Answer one message. Never raises: an unexpected failure becomes a polite Thai apology."""
        key = (message.channel, message.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            try:
                return await self._handle(message)
            except Exception:
                log.exception("conversation failed on %s message", message.kind.value)
                return [Outbound(INTERNAL_ERROR)]

    async def _handle(self, message: Inbound) -> list[Outbound]:
        now = self._clock()
        event = EventMark(message.channel, message.event_id, now) if message.event_id else None
        if event is not None and await self._repo.event_handled(event.channel, event.event_id):
            # Delivered again (the channel retried after a crash or a lost reply): change nothing,
            # but say where the conversation stands, in case the first reply never arrived.
            return await self._redelivered(message, now)
        person = await self._repo.find_person_by_identity(message.channel, message.user_id)
        if person is None:
            replies = await self._linker.answer(message, now)
            if event is not None:
                await self._repo.mark_event(event)
            if message.channel in self._remembered:  # linked by this very message?
                linked = await self._repo.find_person_by_identity(message.channel, message.user_id)
                if linked is not None:
                    await self._remember_channel(linked.id, message.channel)
            return replies
        ctx = await self._context(message, person, now)
        ctx.event = event
        replies = await self._turn(message, ctx)
        if event is not None and not ctx.marked:
            await self._repo.mark_event(event)
        await self._remember_channel(person.id, message.channel)
        return replies

    async def _remember_channel(self, person_id: int, channel: str) -> None:
        """The person wrote from `channel`: it becomes the one their reminders go to."""
        if channel in self._remembered and self._last_channel.get(person_id) != channel:
            await self._repo.set_preferred_channel(person_id, channel)
            self._last_channel[person_id] = channel

    async def _context(self, message: Inbound, person: Person, now: datetime) -> Context:
        """Where this person's conversation stands (an unreadable state starts afresh)."""
        session = await self._repo.load_session(message.channel, message.user_id)
        step, draft = Step.IDLE, Draft()
        if session is not None:
            try:
                step, draft = Step(session.state), Draft.from_json(session.data)
            except (ValueError, TypeError, KeyError):
                log.warning("dropping unreadable session state %r", session.state)
                await self._repo.clear_session(message.channel, message.user_id)
                step, draft = Step.IDLE, Draft()
        ctx = Context(self._repo, person, now, message.channel, message.user_id, draft)
        ctx.step = step
        ctx.documents = self._documents
        return ctx

    async def _redelivered(self, message: Inbound, now: datetime) -> list[Outbound]:
        person = await self._repo.find_person_by_identity(message.channel, message.user_id)
        if person is None:
            return [Outbound(texts.UNKNOWN_USER, ask_contact=True)]
        ctx = await self._context(message, person, now)
        if ctx.step is Step.IDLE:
            # A crash may have come between storing a report and confirming it: say it now.
            last = await self._repo.last_change_by(person.id)
            if last is not None and now - last[1].changed_at <= REDELIVERY_WINDOW:
                report = last[0]
                month = month_name(ReportMonth(report.fiscal_year, report.report_no))
                done = texts.ALREADY_DONE.format(
                    report_no=report.report_no, month=month, code=report.project_code
                )
                return [Outbound(done, MENU_CHOICES)]
        return await self._reask(ctx.step, ctx) or [Outbound(texts.MENU, MENU_CHOICES)]

    async def _turn(self, message: Inbound, ctx: Context) -> list[Outbound]:
        """One message of a linked person: commands, then the step table."""
        step = ctx.step
        if message.kind is InboundKind.CONTACT:
            return await self._stay(
                step, ctx, Stay(texts.ALREADY_LINKED.format(name=ctx.person.name))
            )
        if message.kind is InboundKind.OTHER:
            return await self._stay(step, ctx, Stay(texts.NOT_TEXT))
        text = clean_text(message.text) if message.kind is InboundKind.TEXT else message.text
        if len(text) > TEXT_LIMIT:
            too_long = texts.TEXT_TOO_LONG.format(length=len(text), limit=TEXT_LIMIT)
            return await self._stay(step, ctx, Stay(too_long))
        if not text:
            return await self._stay(step, ctx, Stay(texts.EMPTY))

        answer = await self._answer(step, ctx, message.kind, text)
        if isinstance(answer, Stay):
            return await self._stay(step, ctx, answer)
        if answer.choice is not None and is_shortcut(answer.choice):
            done = await shortcut(ctx, answer.choice, self._snooze_until)
            if isinstance(done, Say):
                return [done.message, *(await self._reask(step, ctx) if done.reask else [])]
            return await self._apply(step, ctx, done)
        if answer.choice is None:
            command = command_of(text)
        else:
            is_command = answer.choice.startswith("cmd:")
            command = answer.choice.removeprefix("cmd:") if is_command else None
        if command is not None:
            return await self._command(command, step, ctx)
        if step is Step.IDLE:
            return [Outbound(texts.MENU, MENU_CHOICES)]
        return await self._apply(step, ctx, await STEPS[step].accept(ctx, answer))

    async def _answer(
        self, step: Step, ctx: Context, kind: InboundKind, text: str
    ) -> Answer | Stay:
        """Resolve a button press or a typed label/number into this step's answer."""
        if kind is InboundKind.CHOICE:
            if text.startswith("cmd:") or is_shortcut(text):
                return Answer("", text)
            owner, _, value = text.partition(":")
            if owner != step.value:
                return Stay(texts.STALE_BUTTON)
            return Answer("", value)
        prompt = (
            Outbound(texts.MENU, MENU_CHOICES) if step is Step.IDLE else await STEPS[step].ask(ctx)
        )
        typed = text.casefold()
        number = thai_digit_to_arabic_digit(text)
        for index, choice in enumerate(prompt.choices, start=1):
            matches_number = prompt.numbered and number == str(index)
            if matches_number or typed == choice.label.casefold():
                value = (
                    choice.payload
                    if choice.payload.startswith("cmd:")
                    else (choice.payload.partition(":")[2])
                )
                return Answer(text, value)
        return Answer(text)

    async def _command(self, command: str, step: Step, ctx: Context) -> list[Outbound]:
        starts = {
            "report": Mode.REPORT,
            "correct": Mode.CORRECT,
            "history": Mode.HISTORY,
            "away": Mode.AWAY,
            "form": Mode.FORM,
            "chart": Mode.CHART,
        }
        if command.removesuffix("!") not in {*COMMANDS.values(), "resume"}:
            return await self._stay(step, ctx, Stay(texts.STALE_BUTTON))  # a forged button
        if command in starts and step is not Step.IDLE:
            # A new start would throw the unfinished draft away: ask first.
            choices = (
                Choice(texts.BTN_DISCARD, f"cmd:{command}!"),
                Choice(texts.BTN_RESUME, "cmd:resume"),
            )
            return [Outbound(texts.DISCARD_QUESTION, choices)]
        if command == "resume":
            return await self._reask(step, ctx) or [Outbound(texts.MENU, MENU_CHOICES)]
        if command == "help":
            return [Outbound(texts.HELP, MENU_CHOICES), *await self._reask(step, ctx)]
        if command == "cancel":
            if step is Step.IDLE:
                return [Outbound(texts.NOTHING_TO_CANCEL, MENU_CHOICES)]
            await self._clear(ctx)
            return [Outbound(texts.CANCELLED, MENU_CHOICES)]
        if command == "back":
            if not ctx.draft.trail:
                return [Outbound(texts.NOTHING_TO_GO_BACK), *await self._reask(step, ctx)]
            previous = Step(ctx.draft.trail[-1])
            ctx.draft = ctx.draft.but(trail=ctx.draft.trail[:-1])
            return await self._apply(step, ctx, Go(previous, ctx.draft, remember=False))
        if command == "status":
            return [*await self._status(ctx), *await self._reask(step, ctx)]
        if command == "present":
            return [await away.back_at_work(ctx), *await self._reask(step, ctx)]
        if command == "notify":
            return [await notification_settings(ctx), *await self._reask(step, ctx)]
        if command in {"summary", "export"}:
            return [*await self._agency(command, ctx), *await self._reask(step, ctx)]
        if command.removesuffix("!") == "away":
            ctx.draft = Draft()
            return await self._apply(Step.IDLE, ctx, await away.start_away(ctx))
        return await self._start(starts[command.removesuffix("!")], ctx)

    async def _start(self, mode: Mode, ctx: Context) -> list[Outbound]:
        """Begin a new report, correction or history look-up (dropping any unfinished one)."""
        ctx.draft = Draft(mode=mode)
        if not await (ctx.viewable() if mode in LOOKING else ctx.projects()):
            await self._clear(ctx)
            coordinator = Role.COORDINATOR in ctx.person.roles
            return [
                Outbound(texts.COORDINATOR_ONLY if coordinator else texts.NO_PROJECTS, MENU_CHOICES)
            ]
        projects = await project_options(ctx)
        if not projects:
            await self._clear(ctx)
            empty = texts.NOTHING_TO_CORRECT if mode is Mode.CORRECT else texts.NOTHING_DUE
            return [Outbound(empty, MENU_CHOICES)]
        if len(projects) == 1:
            result = await after_project(ctx, ctx.draft.but(project_code=projects[0].code))
        else:
            result = Go(Step.PROJECT, ctx.draft)
        if isinstance(result, Stay):
            await self._clear(ctx)
            return [Outbound(result.message, MENU_CHOICES)]
        return await self._apply(Step.IDLE, ctx, result)

    async def _apply(self, step: Step, ctx: Context, result: Result) -> list[Outbound]:
        """Carry out what a step decided: save the new state and ask the next question."""
        if isinstance(result, Stay):
            return await self._stay(step, ctx, result)
        if isinstance(result, Finish):
            if result.clear:
                await self._clear(ctx)
            *first, last = result.say or (Outbound(texts.MENU),)
            if last.attachment is not None:
                return [*first, last]  # a file ends the turn; its caption stays as it is
            return [*first, Outbound(last.text, last.choices or MENU_CHOICES)]
        draft = result.draft
        if result.remember and step not in TRANSIENT:
            draft = draft.but(trail=(*draft.trail, step.value))
        # A figure waiting for its "why lower?" is forgotten once its step is left.
        for figure in (PROGRESS, DISBURSED):
            if result.step not in {figure.step, figure.drop_step}:
                draft = draft.but(**{f"pending_{figure.name}": ""})
        if result.step is Step.CONFIRM and step is not Step.CONFIRM:
            draft = await dated(ctx, draft)
        ctx.draft = draft
        await self._save(result.step, ctx)
        return [*result.say, await STEPS[result.step].ask(ctx)]

    async def _stay(self, step: Step, ctx: Context, stay: Stay) -> list[Outbound]:
        """Explain why an answer was not taken, keeping the step (and the buttons) as they were."""
        if step is Step.IDLE:
            return [Outbound(stay.message, MENU_CHOICES)]
        if stay.draft is not None:
            ctx.draft = stay.draft
            await self._save(step, ctx)
        prompt = await STEPS[step].ask(ctx)
        if stay.message == texts.STALE_BUTTON:  # an old button: say what is asked now
            return [Outbound(f"{stay.message}\n{prompt.text}", prompt.choices, prompt.numbered)]
        return [Outbound(stay.message, prompt.choices, prompt.numbered)]

    async def _reask(self, step: Step, ctx: Context) -> list[Outbound]:
        if step is Step.IDLE:
            return []
        prompt = await STEPS[step].ask(ctx)
        return [Outbound(f"{texts.RESUMED}\n{prompt.text}", prompt.choices, prompt.numbered)]

    async def _save(self, step: Step, ctx: Context) -> None:
        await self._repo.save_session(
            SessionState(ctx.channel, ctx.user_id, step.value, ctx.draft.to_json(), ctx.now),
            event=ctx.event,
        )
        ctx.marked = True

    async def _clear(self, ctx: Context) -> None:
        await self._repo.clear_session(ctx.channel, ctx.user_id, event=ctx.event)
        ctx.marked = True

    async def _agency(self, command: str, ctx: Context) -> list[Outbound]:
        """A coordinator's month summary with its chart, or the workbook of their projects."""
        if Role.COORDINATOR not in ctx.person.roles:
            if command != "summary":
                return [Outbound(texts.COORDINATORS_ONLY)]
            if self._documents is None:
                return await self._status(ctx)
            return await self._documents.officer_summary(ctx.person.id, ctx.today)
        if self._documents is None:
            return [Outbound(texts.DOCUMENTS_OFF)]
        projects = await self._repo.projects_of_coordinator(ctx.person.id)
        if not projects:
            return [Outbound(texts.NOTHING_TO_SHOW)]
        month = ReportMonth.containing(ctx.today)
        if command == "summary":
            scopes = await self._repo.coordinator_scopes(ctx.person.id)
            named = [s.agency for s in scopes if s.agency] or [p.code for p in projects]
            return await self._documents.agency_summary(projects, month, ", ".join(named))
        return await self._documents.agency_workbook(projects, month.fiscal_year)

    async def _status(self, ctx: Context) -> list[Outbound]:
        """The officer's projects and what is due; for coordinators, their agency's month."""
        replies: list[Outbound] = []
        officer_projects = await ctx.projects()
        if officer_projects:
            rows = [(p, await self._repo.reports_of_project(p.code)) for p in officer_projects]
            replies.append(Outbound(officer_status(rows, ctx.today)))
        if Role.COORDINATOR in ctx.person.roles:
            scoped = await self._repo.projects_of_coordinator(ctx.person.id)
            rows = [(p, await self._repo.reports_of_project(p.code)) for p in scoped]
            replies.append(Outbound(coordinator_status(rows, ctx.today)))
        return replies or [Outbound(texts.NO_PROJECTS)]
