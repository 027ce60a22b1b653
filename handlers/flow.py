"""The vocabulary of the dialogue: its steps, the answers a step reads, and what a step decides.

A step's `ask` builds its question (with buttons) from the turn's context; its `accept` reads an
answer and decides: `Go` to another step, `Stay` (the answer was not taken: say why, ask again),
`Finish` the dialogue, or `Say` something without moving. Commands decide the same way. The
table from each step and command to its handlers is `handlers.table`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.limits import REASON_LIMIT, REASON_MIN
from domain.messages import Choice, Outbound
from domain.payloads import RunCommand, ShowMore, StepAnswer
from domain.replies import Typed, read
from handlers import texts
from handlers.draft import Draft

NOTHING_TYPED = read("")


class Step(enum.StrEnum):
    """Where a conversation stands (the value is what the sessions table keeps)."""

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
    """What the person answered: a typed reply (read once, see `domain.replies`), or the value
    of a button of this step."""

    typed: Typed = NOTHING_TYPED
    choice: str | None = None

    @property
    def text(self) -> str:
        """What was typed, cleaned, without the particles at its end."""
        return self.typed.bare


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
    """The dialogue is over: the report is stored, or there is nothing left to do. `clear`:
    the conversation's state is still to be forgotten (a store that finished it already says
    so with False)."""

    say: tuple[Outbound, ...] = ()
    clear: bool = True


@dataclass(frozen=True, slots=True)
class Choose:
    """Put a side question on screen (drop the draft or go on? 1.2 million or 1.20 baht?): the
    next typed number or word answers it, never the step underneath."""

    text: str
    choices: tuple[Choice, ...]
    hint: str = ""  # said before the question (why it is asked again), not kept with it
    yes: str = ""  # the payload a typed yes presses ("ถูกต้องค่ะ" to "ถูกต้อง 80.00 %?")
    no: str = ""  # and a typed no ("ไม่ใช่")


@dataclass(frozen=True, slots=True)
class Say:
    """Replies that change no step; `reask` repeats the question in hand after them."""

    messages: tuple[Outbound, ...]
    reask: bool = True


Result = Go | Stay | Finish | Say | Choose


def button(step: Step, value: str | int, label: str) -> Choice:
    """A button of `step`; its payload names the step, so a press after it is recognised."""
    return Choice(label, StepAnswer(step.value, str(value)).encode())


def command_button(label: str, command: str, *, discard: bool = False) -> Choice:
    """A button that gives a command (with `discard`: the unfinished report may be dropped)."""
    return Choice(label, RunCommand(command, discard).encode())


def show_more(what: str, project_id: int, fiscal_year: int, label: str) -> Choice:
    """A button for the rest of something shortened for a phone (see `ShowMore`)."""
    return Choice(label, ShowMore(what, project_id, fiscal_year).encode())


def read_reason(text: str) -> str | Stay:
    """A reason of sensible length, or why not."""
    reason = text.strip()
    if len(reason) < REASON_MIN:
        return Stay(texts.REASON_TOO_SHORT.format(minimum=REASON_MIN))
    if len(reason) > REASON_LIMIT:
        return Stay(texts.REASON_TOO_LONG.format(limit=REASON_LIMIT))
    return reason
