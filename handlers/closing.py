"""The last steps of a report: the note, on plan?, on target?, and the confirmation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from domain.checks import check_disbursed, check_note, check_progress
from domain.limits import NOTE_LIMIT
from domain.messages import Outbound
from domain.models import MonthlyReport, ReportValues, Submission
from domain.months import month_name
from domain.replies import Intent, Typed, intent_of, is_confirmation, yes_or_no
from domain.thaitext import shorten
from handlers import texts
from handlers.context import Ask, Context
from handlers.draft import Draft, Mode
from handlers.figures import DISBURSED, PROGRESS, drop_notes
from handlers.flow import (
    Answer,
    Finish,
    Go,
    Result,
    Stay,
    Step,
    button,
    command_button,
    read_reason,
)
from handlers.views import entry_lines
from storage.errors import AlreadyReported

# Note


async def ask_note(ctx: Context) -> Outbound:
    """Ask for a short note of what was done."""
    choices = [button(Step.NOTE, "skip", texts.BTN_NO_NOTE)]
    if ctx.draft.note:
        shown = shorten(ctx.draft.note, 30)
        choices.insert(0, button(Step.NOTE, "keep", texts.BTN_KEEP.format(value=shown)))
    # A note of just a number says nothing: a typed number presses the button of that number.
    return Outbound(texts.ASK_NOTE.format(limit=NOTE_LIMIT), tuple(choices))


def read_note(typed: Typed) -> str:
    """The note a reply gives: "" for "ไม่มีค่ะ", "-", "ข้าม"; otherwise the text on one line,
    without the particles at its end."""
    if intent_of(typed, Intent.NONE):
        return ""
    return " ".join(typed.bare.split())


def read_on_plan(typed: Typed) -> bool | None:
    """On plan? from a reply: yes, no, or the question's own words ("ตามแผน", "ล่าช้า")."""
    return yes_or_no(typed, PLAN_YES, PLAN_NO)


def read_on_target(typed: Typed) -> bool | None:
    """On target? from a reply: yes, no, or the question's own words ("ตามเป้า", "ไม่ถึงเป้า")."""
    return yes_or_no(typed, TARGET_YES, TARGET_NO)


async def _note_problem(ctx: Context, draft: Draft) -> str | None:
    progress, disbursed = draft.progress.value, draft.disbursed.value
    if progress is None or disbursed is None:
        return None
    return check_note(draft.note or "", progress, disbursed, await ctx.neighbours())


async def accept_note(ctx: Context, answer: Answer) -> Result:
    """Take the note, and ask about it when it contradicts the figures."""
    if answer.choice == "keep" and ctx.draft.note is not None:
        note = ctx.draft.note
    elif answer.choice == "skip" or (
        answer.choice is None and intent_of(answer.typed, Intent.NONE)
    ):
        note = ""
    else:
        note = " ".join(answer.text.split())
        if len(note) > NOTE_LIMIT:
            return Stay(texts.NOTE_TOO_LONG.format(length=len(note), limit=NOTE_LIMIT))
    draft = replace(ctx.draft, note=note, note_checked=False)
    if await _note_problem(ctx, draft) is not None:
        return Go(Step.NOTE_CHECK, draft)
    return Go(Step.ON_PLAN, draft)


async def ask_note_check(ctx: Context) -> Outbound:
    """Ask whether a note that contradicts the figures is really right."""
    problem = await _note_problem(ctx, ctx.draft)
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
    typed = (
        yes_or_no(answer.typed, (texts.BTN_NOTE_OK,), (texts.BTN_FIX_NOTE,))
        if answer.choice is None
        else None
    )
    if answer.choice == "ok" or typed is True:
        return Go(Step.ON_PLAN, replace(ctx.draft, note_checked=True))
    if typed is False:
        return Go(Step.NOTE, ctx.draft)  # "no, that is not right": write the note again
    if answer.choice in targets:
        return Go(targets[answer.choice], ctx.draft)
    return Stay(texts.NOTE_CHECK_HINT)


# On plan? On target? The words people answer these with, besides yes and no.

PLAN_YES = (texts.BTN_ON_PLAN, "ตามแผน", "เป็นไปตามแผน", "ทันตามแผน", "ตามกำหนด", "ทันกำหนด", "ปกติ")
PLAN_NO = (
    texts.BTN_OFF_PLAN, "ไม่ตามแผน", "ไม่เป็นไปตามแผน", "ไม่ทันตามแผน", "ล่าช้า", "ช้า",
    "ช้ากว่าแผน", "ล่าช้ากว่าแผน", "ไม่ทัน", "ไม่ทันกำหนด", "เลื่อน", "ล่าช้ากว่ากำหนด",
)  # fmt: skip
TARGET_YES = (texts.BTN_ON_TARGET, "ตามเป้า", "ตามเป้าหมาย", "เป็นไปตามเป้า", "ถึงเป้า", "บรรลุเป้า")
TARGET_NO = (
    texts.BTN_OFF_TARGET, "ไม่ตามเป้า", "ไม่ตามเป้าหมาย", "ไม่เป็นไปตามเป้า", "ไม่ถึงเป้า",
    "ต่ำกว่าเป้า", "ต่ำกว่าเป้าหมาย", "ไม่บรรลุเป้า", "ยังไม่ถึงเป้า",
)  # fmt: skip


def ask_yes_no(step: Step, question: str, yes_label: str, no_label: str) -> Ask:
    """A question answered with two buttons."""

    async def ask(ctx: Context) -> Outbound:
        return Outbound(question, (button(step, "yes", yes_label), button(step, "no", no_label)))

    return ask


async def accept_on_plan(ctx: Context, answer: Answer) -> Result:
    """On plan: go on to the target; not on plan: ask why."""
    value = _yes_no(answer, read_on_plan)
    if value is None:
        return Stay(texts.YES_NO_HINT)
    if value:
        return Go(Step.ON_TARGET, replace(ctx.draft, on_plan=True, plan_reason=""))
    return Go(Step.PLAN_REASON, replace(ctx.draft, on_plan=False))


async def accept_on_target(ctx: Context, answer: Answer) -> Result:
    """On target: on to the confirmation; not on target: ask why."""
    value = _yes_no(answer, read_on_target)
    if value is None:
        return Stay(texts.YES_NO_HINT)
    if value:
        return Go(Step.CONFIRM, replace(ctx.draft, on_target=True, target_reason=""))
    return Go(Step.TARGET_REASON, replace(ctx.draft, on_target=False))


def _yes_no(answer: Answer, reader: Callable[[Typed], bool | None]) -> bool | None:
    if answer.choice in {"yes", "no"}:
        return answer.choice == "yes"
    return reader(answer.typed)


def ask_text(message: str) -> Ask:
    """A question answered with free text."""

    async def ask(ctx: Context) -> Outbound:
        return Outbound(message)

    return ask


async def accept_plan_reason(ctx: Context, answer: Answer) -> Result:
    """Why the work is not on plan."""
    reason = read_reason(answer.text)
    if isinstance(reason, Stay):
        return reason
    return Go(Step.ON_TARGET, replace(ctx.draft, plan_reason=reason))


async def accept_target_reason(ctx: Context, answer: Answer) -> Result:
    """Why the work is not on target."""
    reason = read_reason(answer.text)
    if isinstance(reason, Stay):
        return reason
    return Go(Step.CONFIRM, replace(ctx.draft, target_reason=reason))


# Confirmation


def draft_values(draft: Draft) -> ReportValues:
    """The report the draft describes, with the date shown on its summary."""
    assert draft.progress.value is not None and draft.disbursed.value is not None
    assert draft.reported_on is not None
    return ReportValues(
        reported_on=draft.reported_on,
        progress=draft.progress.value,
        disbursed=draft.disbursed.value,
        note=draft.note or "",
        on_plan=bool(draft.on_plan),
        plan_reason=draft.plan_reason if draft.on_plan is False else "",
        on_target=bool(draft.on_target),
        target_reason=draft.target_reason if draft.on_target is False else "",
    )


async def _stored(ctx: Context) -> MonthlyReport | None:
    found = await ctx.file()
    return found.report(ctx.draft.fiscal_year, ctx.draft.report_no) if found else None


async def dated(ctx: Context, draft: Draft) -> Draft:
    """The draft with the date its summary shows: today for a new report (the day it is
    confirmed), the original date for a correction."""
    if draft.mode is Mode.CORRECT:
        stored = await _stored(ctx)
        if stored is not None:
            return replace(draft, reported_on=stored.values.reported_on)
    return replace(draft, reported_on=ctx.today)


async def ask_confirm(ctx: Context) -> Outbound:
    """Show the entry worded as the form words it, with confirm / back / cancel."""
    found = await ctx.file()
    lines = [texts.CONFIRM_HEAD]
    if found is not None:
        lines.append(f"โครงการ: {found.project.name} ({found.project.code})")
    if ctx.draft.mode is Mode.CORRECT:
        lines.append(f"การแก้ไข เหตุผล: {ctx.draft.correction_reason}")
    lines += entry_lines(ctx.draft.report_no, draft_values(ctx.draft))
    lines += [f"หมายเหตุ: {note}" for note in drop_notes(ctx.draft)]
    choices = (
        button(Step.CONFIRM, "yes", texts.BTN_CONFIRM),
        command_button(texts.BTN_BACK, "back"),
        command_button(texts.BTN_CANCEL, "cancel"),
    )
    return Outbound("\n".join(lines), choices)


async def accept_confirm(ctx: Context, answer: Answer) -> Result:
    """Store the report once every check still holds (the months around may have changed)."""
    confirmed = answer.choice == "yes" or (answer.choice is None and is_confirmation(answer.typed))
    if not confirmed:
        return Stay(texts.CONFIRM_HINT)
    found = await ctx.file()
    if found is None:
        return Finish((Outbound(texts.NOT_YOUR_PROJECT),))
    draft = ctx.draft
    if draft.mode is Mode.REPORT and draft.reported_on != ctx.today:
        # Midnight passed while the summary was shown: show it again with today's date.
        redated = replace(draft, reported_on=ctx.today)
        return Go(Step.CONFIRM, redated, (Outbound(texts.DATE_CHANGED),), remember=False)
    around = await ctx.neighbours()
    values = draft_values(draft)
    budget = found.project.budget_received
    for finding, step, explained in (
        (check_progress(values.progress, around), PROGRESS.step, draft.progress.drop_reason),
        (check_disbursed(values.disbursed, around, budget), DISBURSED.step,
         draft.disbursed.drop_reason),
    ):  # fmt: skip
        if finding is not None and not (finding.overridable and explained):
            return Go(step, draft, (Outbound(finding.message),))
    reason = "; ".join(filter(None, [draft.correction_reason, *drop_notes(draft)]))
    submission = Submission(
        project_code=found.project.code,
        fiscal_year=draft.fiscal_year,
        report_no=draft.report_no,
        values=values,
        sent_by=ctx.person.id,
        channel=ctx.channel,
        sent_at=ctx.now,
        reason=reason,
    )
    words = {
        "report_no": draft.report_no,
        "month": month_name(ctx.month),
        "code": found.project.code,
    }
    if draft.mode is Mode.CORRECT:
        stored = await _stored(ctx)
        if stored is not None and stored.values == values:
            return Finish((Outbound(texts.CORRECTION_NO_CHANGE),))
        report = await ctx.store.correct_report(
            submission, finish_session=ctx.account, event=ctx.event
        )
        ctx.marked = True
        text = texts.CORRECTED.format(revision=report.revision, **words)
        return Finish((Outbound(text),), clear=False)
    try:
        await ctx.store.submit_report(submission, finish_session=ctx.account, event=ctx.event)
        ctx.marked = True
    except AlreadyReported:
        ctx.forget_reads()
        stored = await _stored(ctx)
        if stored is not None and stored.values == values and stored.sent_by == ctx.person.id:
            # The same confirmation delivered twice: it is stored already, say so again.
            return Finish((Outbound(texts.SAVED.format(**words)),))
        race = texts.RACE_ALREADY_SENT.format(month=month_name(ctx.month))
        return Go(Step.CORRECTION_REASON, replace(draft, mode=Mode.CORRECT), (Outbound(race),))
    return Finish((Outbound(texts.SAVED.format(**words)),), clear=False)
