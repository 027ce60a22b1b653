"""The two cumulative figures of a report: progress (%) and disbursement (baht).

Both follow the same rules: read what was typed, check it against the months around it (and the
budget), and when it is lower than last month's, take it only with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from domain.checks import (
    Doubt,
    Finding,
    check_disbursed,
    check_progress,
    doubt_amount,
    doubt_progress,
)
from domain.messages import Choice, Outbound
from domain.months import month_name
from domain.numbers import baht, percent
from domain.parsing import ParseError, names_a_unit, reply_baht, reply_percent
from domain.replies import Typed
from handlers import texts
from handlers.context import Accept, Context
from handlers.draft import Draft, FigureAnswer
from handlers.flow import Answer, Choose, Go, Result, Stay, Step, button, read_reason


@dataclass(frozen=True, slots=True)
class Figure:
    """A cumulative figure step: the same rules, other words."""

    step: Step
    drop_step: Step
    next_step: Step
    label: str  # as it appears in "ลดลง" notes
    read: Callable[[Typed], Decimal]
    show: Callable[[Decimal], str]
    get: Callable[[Draft], FigureAnswer]
    put: Callable[[Draft, FigureAnswer], Draft]

    def keep_and_drop_buttons(self, draft: Draft) -> tuple[Choice, ...]:
        """ "Keep the value given before" and "it really went down" buttons, when they apply."""
        answer = self.get(draft)
        choices: list[Choice] = []
        if answer.value is not None:
            shown = self.show(answer.value)
            choices.append(button(self.step, "keep", texts.BTN_KEEP.format(value=shown)))
        if answer.pending is not None:
            choices.append(button(self.step, "drop", texts.BTN_DROP))
        return tuple(choices)

    def drop_note(self, draft: Draft) -> str:
        """The officer's explanation of a figure below last month's, as stored and shown."""
        reason = self.get(draft).drop_reason
        return f"{self.label}ลดลง: {reason}" if reason else ""


PROGRESS = Figure(
    Step.PROGRESS, Step.PROGRESS_DROP, Step.DISBURSED, "ความก้าวหน้า",
    reply_percent, lambda v: f"{percent(v)} %",
    lambda d: d.progress, lambda d, a: replace(d, progress=a),
)  # fmt: skip
DISBURSED = Figure(
    Step.DISBURSED, Step.DISBURSED_DROP, Step.NOTE, "ยอดเบิกจ่าย",
    reply_baht, lambda v: f"{baht(v)} บาท",
    lambda d: d.disbursed, lambda d, a: replace(d, disbursed=a),
)  # fmt: skip
FIGURES = (PROGRESS, DISBURSED)


def forget_pending(draft: Draft, going_to: Step) -> Draft:
    """A figure waiting for its "why lower?" is forgotten once its steps are left."""
    for figure in FIGURES:
        answer = figure.get(draft)
        if answer.pending is not None and going_to not in {figure.step, figure.drop_step}:
            draft = figure.put(draft, replace(answer, pending=None))
    return draft


def drop_notes(draft: Draft) -> list[str]:
    """The officer's explanations of figures below last month's."""
    return [note for figure in FIGURES if (note := figure.drop_note(draft))]


async def check(ctx: Context, figure: Figure, value: Decimal) -> Finding | None:
    """What is wrong with a figure for the draft's month, if anything."""
    around = await ctx.neighbours()
    if figure is PROGRESS:
        return check_progress(value, around)
    found = await ctx.file()
    return check_disbursed(value, around, found.project.budget_received if found else None)


async def ask_progress(ctx: Context) -> Outbound:
    """Ask the cumulative progress, showing last month's for reference."""
    around = await ctx.neighbours()
    draft = ctx.draft
    heading = f"รายงานครั้งที่ {draft.report_no} ({month_name(ctx.month)}) โครงการ {draft.project_code}"
    lines = [heading, texts.ASK_PROGRESS]
    if around.before is not None:
        lines.append(f"(รายงานครั้งก่อน: {percent(around.before.values.progress)} %)")
    return Outbound("\n".join(lines), PROGRESS.keep_and_drop_buttons(ctx.draft), numbered=False)


async def ask_disbursed(ctx: Context) -> Outbound:
    """Ask the cumulative disbursement, showing the budget and last month's figure."""
    found = await ctx.file()
    around = await ctx.neighbours()
    lines = [texts.ASK_DISBURSED]
    if found is not None and found.project.budget_received:
        lines.append(f"(งบประมาณที่ได้รับ {baht(found.project.budget_received)} บาท)")
    if around.before is not None:
        lines.append(f"(รายงานครั้งก่อน: {baht(around.before.values.disbursed)} บาท)")
    return Outbound("\n".join(lines), DISBURSED.keep_and_drop_buttons(ctx.draft), numbered=False)


def accept_figure(figure: Figure) -> Accept:
    """Read a cumulative figure, ask back one that may not be what was meant, and check it
    against the months around it (and the budget)."""

    async def accept(ctx: Context, answer: Answer) -> Result:
        draft = ctx.draft
        given = figure.get(draft)
        if answer.choice == "keep" and given.value is not None:
            return Go(figure.next_step, draft)
        if answer.choice == "drop" and given.pending is not None:
            return Go(figure.drop_step, draft)
        if answer.choice == RETYPE:
            return Stay(texts.RETYPE)
        chosen = _reading_of(answer.choice)
        if chosen is not None:
            value = chosen
        elif answer.choice is not None:
            return Stay(texts.STALE_BUTTON)
        else:
            try:
                value = figure.read(answer.typed)
            except ParseError as error:
                return Stay(str(error))
            if not names_a_unit(answer.typed):
                doubt = await _doubt(ctx, figure, value)
                if doubt is not None:
                    return _ask_back(figure, doubt)
        finding = await check(ctx, figure, value)
        if finding is not None:
            waiting = value if finding.overridable else None
            return Stay(finding.message, figure.put(draft, replace(given, pending=waiting)))
        return Go(figure.next_step, figure.put(draft, FigureAnswer(value=value)))

    return accept


RETYPE = "retype"
_READING = "n"  # a button's answer "n8000": the figure 80.00, in hundredths


def _reading_of(choice: str | None) -> Decimal | None:
    """The figure a button of a doubt carries, if it is one."""
    if choice is None or not choice.startswith(_READING) or not choice[1:].isdigit():
        return None
    return Decimal(int(choice[1:])).scaleb(-2)


async def _doubt(ctx: Context, figure: Figure, value: Decimal) -> Doubt | None:
    around = await ctx.neighbours()
    if figure is PROGRESS:
        return doubt_progress(value, around)
    found = await ctx.file()
    return doubt_amount(value, around, found.project.budget_received if found else None)


def _ask_back(figure: Figure, doubt: Doubt) -> Choose:
    """The doubt as a side question: one button per reading, and one to type again."""
    choices = [
        button(
            figure.step, f"{_READING}{int(reading * 100)}", _reading_label(figure, reading, doubt)
        )
        for reading in doubt.readings
    ]
    choices.append(button(figure.step, RETYPE, texts.BTN_RETYPE))
    # One reading asked back is a yes/no question: yes takes it, no types again.
    yes = choices[0].payload if len(doubt.readings) == 1 else ""
    return Choose(doubt.message, tuple(choices), yes=yes, no=choices[-1].payload)


def _reading_label(figure: Figure, reading: Decimal, doubt: Doubt) -> str:
    if len(doubt.readings) == 1:
        return texts.BTN_RIGHT.format(value=figure.show(reading))
    return figure.show(reading)


def accept_drop(figure: Figure) -> Accept:
    """Take the reason for a lower figure and keep the figure the officer insisted on."""

    async def accept(ctx: Context, answer: Answer) -> Result:
        reason = read_reason(answer.text)
        if isinstance(reason, Stay):
            return reason
        explained = FigureAnswer(value=figure.get(ctx.draft).pending, drop_reason=reason)
        return Go(figure.next_step, figure.put(ctx.draft, explained))

    return accept
