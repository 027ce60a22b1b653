"""The last steps of the report dialogue: on plan?, on target?, and the confirmation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.checks import check_disbursed, check_progress
from domain.messages import Choice, Outbound
from domain.models import ReportValues, Submission
from domain.months import month_name
from handlers import texts
from handlers.draft import Draft, Mode
from handlers.flow import (
    YES_WORDS,
    Accept,
    Answer,
    Ask,
    Context,
    Finish,
    Go,
    Result,
    Stay,
    Step,
    button,
    drop_notes,
    read_reason,
    yes_no,
)
from handlers.views import entry_lines
from storage.errors import AlreadyReported


def ask_yes_no(step: Step, question: str, yes_label: str, no_label: str) -> Ask:
    """A question answered with two buttons."""

    async def ask(ctx: Context) -> Outbound:
        return Outbound(question, (button(step, "yes", yes_label), button(step, "no", no_label)))

    return ask


def accept_yes_no(
    field_name: str,
    reason_field: str,
    yes_label: str,
    no_label: str,
    yes_next: Step,
    reason_step: Step,
) -> Accept:
    """Record the answer; "no" asks for the reason."""

    async def accept(ctx: Context, answer: Answer) -> Result:
        value = yes_no(answer, yes_label, no_label)
        if value is None:
            return Stay(texts.YES_NO_HINT)
        draft = ctx.draft.but(**{field_name: value})
        if value:
            return Go(yes_next, draft.but(**{reason_field: ""}))
        return Go(reason_step, draft)

    return accept


def ask_text(message: str) -> Ask:
    """A question answered with free text."""

    async def ask(ctx: Context) -> Outbound:
        return Outbound(message)

    return ask


def accept_reason(field_name: str, next_step: Step) -> Accept:
    """Record a reason of sensible length."""

    async def accept(ctx: Context, answer: Answer) -> Result:
        reason = read_reason(answer.text)
        if isinstance(reason, Stay):
            return reason
        return Go(next_step, ctx.draft.but(**{field_name: reason}))

    return accept


# Confirmation


def draft_values(draft: Draft) -> ReportValues:
    """The report the draft describes, with the date shown on its summary."""
    return ReportValues(
        reported_on=date.fromisoformat(draft.reported_on),
        progress=Decimal(draft.progress),
        disbursed=Decimal(draft.disbursed),
        note=draft.note or "",
        on_plan=bool(draft.on_plan),
        plan_reason=draft.plan_reason if draft.on_plan is False else "",
        on_target=bool(draft.on_target),
        target_reason=draft.target_reason if draft.on_target is False else "",
    )


async def dated(ctx: Context, draft: Draft) -> Draft:
    """The draft with the date its summary shows: today for a new report (the day it is
    confirmed), the original date for a correction."""
    if draft.mode is Mode.CORRECT:
        stored = await ctx.repo.get_report(draft.project_code, draft.fiscal_year, draft.report_no)
        if stored is not None:
            return draft.but(reported_on=stored.values.reported_on.isoformat())
    return draft.but(reported_on=ctx.today.isoformat())


async def ask_confirm(ctx: Context) -> Outbound:
    """Show the entry worded as the form words it, with confirm / back / cancel."""
    project = await ctx.project()
    lines = [texts.CONFIRM_HEAD]
    if project is not None:
        lines.append(f"โครงการ: {project.name} ({project.code})")
    if ctx.draft.mode is Mode.CORRECT:
        lines.append(f"การแก้ไข เหตุผล: {ctx.draft.correction_reason}")
    lines += entry_lines(ctx.draft.report_no, draft_values(ctx.draft))
    lines += [f"หมายเหตุ: {note}" for note in drop_notes(ctx.draft)]
    choices = (
        button(Step.CONFIRM, "yes", texts.BTN_CONFIRM),
        Choice(texts.BTN_BACK, "cmd:back"),
        Choice(texts.BTN_CANCEL, "cmd:cancel"),
    )
    return Outbound("\n".join(lines), choices)


async def accept_confirm(ctx: Context, answer: Answer) -> Result:
    """Store the report once every check still holds (the months around may have changed)."""
    confirmed = answer.choice == "yes" or (
        answer.choice is None and answer.text.strip().lower() in {"ยืนยัน", *YES_WORDS}
    )
    if not confirmed:
        return Stay(texts.CONFIRM_HINT)
    project = await ctx.project()
    if project is None:
        return Finish((Outbound(texts.NOT_YOUR_PROJECT),))
    draft = ctx.draft
    if draft.mode is Mode.REPORT and draft.reported_on != ctx.today.isoformat():
        # Midnight passed while the summary was shown: show it again with today's date.
        redated = draft.but(reported_on=ctx.today.isoformat())
        return Go(Step.CONFIRM, redated, (Outbound(texts.DATE_CHANGED),), remember=False)
    around = await ctx.neighbours()
    progress, disbursed = Decimal(draft.progress), Decimal(draft.disbursed)
    for finding, step, explained in (
        (check_progress(progress, around), Step.PROGRESS, draft.progress_drop),
        (check_disbursed(disbursed, around, project.budget_received), Step.DISBURSED,
         draft.disbursed_drop),
    ):  # fmt: skip
        if finding is not None and not (finding.overridable and explained):
            return Go(step, draft, (Outbound(finding.message),))
    values = draft_values(draft)
    reason = "; ".join(filter(None, [draft.correction_reason, *drop_notes(draft)]))
    submission = Submission(
        project_code=draft.project_code,
        fiscal_year=draft.fiscal_year,
        report_no=draft.report_no,
        values=values,
        sent_by=ctx.person.id,
        channel=ctx.channel,
        sent_at=ctx.now,
        reason=reason,
    )
    key = (ctx.channel, ctx.user_id)
    words = {
        "report_no": draft.report_no,
        "month": month_name(ctx.month),
        "code": draft.project_code,
    }
    if draft.mode is Mode.CORRECT:
        stored = await ctx.repo.get_report(draft.project_code, draft.fiscal_year, draft.report_no)
        if stored is not None and stored.values == values:
            return Finish((Outbound(texts.CORRECTION_NO_CHANGE),))
        report = await ctx.repo.correct_report(submission, finish_session=key, event=ctx.event)
        ctx.marked = True
        text = texts.CORRECTED.format(revision=report.revision, **words)
        return Finish((Outbound(text),), clear=False)
    try:
        await ctx.repo.submit_report(submission, finish_session=key, event=ctx.event)
        ctx.marked = True
    except AlreadyReported:
        stored = await ctx.repo.get_report(draft.project_code, draft.fiscal_year, draft.report_no)
        if stored is not None and stored.values == values and stored.sent_by == ctx.person.id:
            # The same confirmation delivered twice: it is stored already, say so again.
            return Finish((Outbound(texts.SAVED.format(**words)),))
        race = texts.RACE_ALREADY_SENT.format(month=month_name(ctx.month))
        return Go(Step.CORRECTION_REASON, draft.but(mode=Mode.CORRECT), (Outbound(race),))
    return Finish((Outbound(texts.SAVED.format(**words)),), clear=False)
