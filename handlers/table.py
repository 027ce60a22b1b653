"""The dialogue as data: each step, the question it asks and the handler of the answers it takes.

The commands have their own table (`handlers.commands.TABLE`); the engine
(`handlers.conversation`) looks up both and carries out what they decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers import away, texts
from handlers.choosing import (
    accept_correction_reason,
    accept_month,
    accept_project,
    ask_correction_reason,
    ask_month,
    ask_project,
)
from handlers.closing import (
    accept_confirm,
    accept_note,
    accept_note_check,
    accept_on_plan,
    accept_on_target,
    accept_plan_reason,
    accept_target_reason,
    ask_confirm,
    ask_note,
    ask_note_check,
    ask_text,
    ask_yes_no,
)
from handlers.context import Accept, Ask
from handlers.figures import (
    DISBURSED,
    PROGRESS,
    accept_drop,
    accept_figure,
    ask_disbursed,
    ask_progress,
)
from handlers.flow import Step


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One row of the table: the question, what reads its answers, whether "back" skips the
    step (a step that only explains the one before it), and whether it takes free text."""

    ask: Ask
    accept: Accept
    transient: bool = False
    free_text: bool = False  # the answer is free text: a command is recognised only as typed


STEPS: dict[Step, StepSpec] = {
    Step.PROJECT: StepSpec(ask_project, accept_project),
    Step.MONTH: StepSpec(ask_month, accept_month),
    Step.CORRECTION_REASON: StepSpec(
        ask_correction_reason, accept_correction_reason, free_text=True
    ),
    Step.PROGRESS: StepSpec(ask_progress, accept_figure(PROGRESS)),
    Step.PROGRESS_DROP: StepSpec(
        ask_text(texts.ASK_DROP_REASON), accept_drop(PROGRESS), transient=True, free_text=True
    ),
    Step.DISBURSED: StepSpec(ask_disbursed, accept_figure(DISBURSED)),
    Step.DISBURSED_DROP: StepSpec(
        ask_text(texts.ASK_DROP_REASON), accept_drop(DISBURSED), transient=True, free_text=True
    ),
    Step.NOTE: StepSpec(ask_note, accept_note, free_text=True),
    Step.NOTE_CHECK: StepSpec(ask_note_check, accept_note_check, transient=True),
    Step.ON_PLAN: StepSpec(
        ask_yes_no(Step.ON_PLAN, texts.ASK_ON_PLAN, texts.BTN_ON_PLAN, texts.BTN_OFF_PLAN),
        accept_on_plan,
    ),
    Step.PLAN_REASON: StepSpec(ask_text(texts.ASK_PLAN_REASON), accept_plan_reason, free_text=True),
    Step.ON_TARGET: StepSpec(
        ask_yes_no(Step.ON_TARGET, texts.ASK_ON_TARGET, texts.BTN_ON_TARGET, texts.BTN_OFF_TARGET),
        accept_on_target,
    ),
    Step.TARGET_REASON: StepSpec(
        ask_text(texts.ASK_TARGET_REASON), accept_target_reason, free_text=True
    ),
    Step.CONFIRM: StepSpec(ask_confirm, accept_confirm),
    Step.AWAY_UNTIL: StepSpec(away.ask_until, away.accept_until),
    Step.AWAY_DELEGATE: StepSpec(away.ask_delegate, away.accept_delegate, free_text=True),
    Step.AWAY_CONFIRM: StepSpec(away.ask_confirm_away, away.accept_confirm_away),
}
"""Every step but IDLE, where only commands are taken."""
