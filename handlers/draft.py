"""The half-finished report carried between messages, stored as JSON in the session.

Every field is typed (decimals are Decimal, days are date) and written out field by field, so
mypy sees each one; the JSON keeps decimals as strings, so it stays exact. A draft written by the
previous version (no "v" key) is read too, so a conversation in progress survives an upgrade.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

VERSION = 2


class Mode(enum.StrEnum):
    """What the conversation is doing."""

    REPORT = "report"
    CORRECT = "correct"
    HISTORY = "history"
    AWAY = "away"
    FORM = "form"
    CHART = "chart"


# Modes that only look at a project: any the person may see, not only those they report on.
LOOKING = frozenset({Mode.HISTORY, Mode.FORM, Mode.CHART})


@dataclass(frozen=True, slots=True)
class FigureAnswer:
    """One cumulative figure (progress or disbursement) as answered so far."""

    value: Decimal | None = None
    pending: Decimal | None = None
    """A figure below last month's, waiting for the officer to say why."""
    drop_reason: str = ""
    """Why the figure taken is below last month's (kept with the report)."""


@dataclass(frozen=True, slots=True)
class Offer:
    """A project listed at the project question, as the person saw it."""

    project_id: int
    code: str
    name: str  # cut to the length the list shows


@dataclass(frozen=True, slots=True)
class Overlay:
    """A side question on screen above the step (its text and buttons, as label and payload):
    the next typed reply answers it."""

    text: str
    choices: tuple[tuple[str, str], ...]
    yes: str = ""  # the payload a typed yes ("ถูกต้องค่ะ") presses, if the question is yes/no
    no: str = ""  # and a typed no


@dataclass(frozen=True, slots=True)
class Draft:
    """Everything answered so far."""

    mode: Mode = Mode.REPORT
    project_id: int = 0
    project_code: str = ""
    offered: tuple[Offer, ...] = ()
    fiscal_year: int = 0
    report_no: int = 0
    progress: FigureAnswer = FigureAnswer()
    disbursed: FigureAnswer = FigureAnswer()
    note: str | None = None
    note_checked: bool = False
    on_plan: bool | None = None
    plan_reason: str = ""
    on_target: bool | None = None
    target_reason: str = ""
    correction_reason: str = ""
    reported_on: date | None = None  # the date the summary shows; the report is stored with it
    away_until: date | None = None  # the last day away
    delegate_id: int = 0
    trail: tuple[str, ...] = ()  # the steps answered, for "back"
    overlay: Overlay | None = None

    @property
    def has_answers(self) -> bool:
        """Whether starting afresh would throw away something the person answered."""
        if self.mode is Mode.AWAY:
            return self.away_until is not None
        return self.mode not in LOOKING and bool(self.project_id or self.project_code)

    def to_json(self) -> str:
        """Serialise for the sessions table."""
        data = {
            "v": VERSION,
            "mode": self.mode.value,
            "project_id": self.project_id,
            "project_code": self.project_code,
            "offered": [[o.project_id, o.code, o.name] for o in self.offered],
            "fiscal_year": self.fiscal_year,
            "report_no": self.report_no,
            "progress": _figure_out(self.progress),
            "disbursed": _figure_out(self.disbursed),
            "note": self.note,
            "note_checked": self.note_checked,
            "on_plan": self.on_plan,
            "plan_reason": self.plan_reason,
            "on_target": self.on_target,
            "target_reason": self.target_reason,
            "correction_reason": self.correction_reason,
            "reported_on": _day_out(self.reported_on),
            "away_until": _day_out(self.away_until),
            "delegate_id": self.delegate_id,
            "trail": list(self.trail),
            "overlay": None
            if self.overlay is None
            else {
                "text": self.overlay.text,
                "choices": [list(c) for c in self.overlay.choices],
                "yes": self.overlay.yes,
                "no": self.overlay.no,
            },
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Draft:
        """Read back what `to_json` wrote (or the previous version did); unknown keys, from a
        newer version, are ignored. ValueError, TypeError or KeyError if it is not a draft."""
        data: dict[str, Any] = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise TypeError("a draft is a JSON object")
        if "v" not in data:
            data = _from_first_version(data)
        return cls(
            mode=Mode(data.get("mode", Mode.REPORT)),
            project_id=int(data.get("project_id", 0)),
            project_code=str(data.get("project_code", "")),
            offered=tuple(Offer(int(i), str(c), str(n)) for i, c, n in data.get("offered", ())),
            fiscal_year=int(data.get("fiscal_year", 0)),
            report_no=int(data.get("report_no", 0)),
            progress=_figure_in(data.get("progress")),
            disbursed=_figure_in(data.get("disbursed")),
            note=_optional_text(data.get("note")),
            note_checked=bool(data.get("note_checked", False)),
            on_plan=_optional_bool(data.get("on_plan")),
            plan_reason=str(data.get("plan_reason", "")),
            on_target=_optional_bool(data.get("on_target")),
            target_reason=str(data.get("target_reason", "")),
            correction_reason=str(data.get("correction_reason", "")),
            reported_on=_day_in(data.get("reported_on")),
            away_until=_day_in(data.get("away_until")),
            delegate_id=int(data.get("delegate_id", 0)),
            trail=tuple(str(step) for step in data.get("trail", ())),
            overlay=_overlay_in(data.get("overlay")),
        )


def _overlay_in(data: object) -> Overlay | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("an overlay is a JSON object")
    choices = tuple((str(label), str(payload)) for label, payload in data.get("choices", ()))
    yes, no = str(data.get("yes", "")), str(data.get("no", ""))
    return Overlay(str(data.get("text", "")), choices, yes, no)


def _figure_out(figure: FigureAnswer) -> dict[str, str | None]:
    return {
        "value": None if figure.value is None else str(figure.value),
        "pending": None if figure.pending is None else str(figure.pending),
        "drop_reason": figure.drop_reason,
    }


def _figure_in(data: object) -> FigureAnswer:
    if data is None:
        return FigureAnswer()
    if not isinstance(data, dict):
        raise TypeError("a figure is a JSON object")
    return FigureAnswer(
        value=_decimal(data.get("value")),
        pending=_decimal(data.get("pending")),
        drop_reason=str(data.get("drop_reason", "")),
    )


def _decimal(text: object) -> Decimal | None:
    if text in (None, ""):
        return None
    value = Decimal(str(text))
    if not value.is_finite():
        raise ValueError("a figure is a finite number")
    return value


def _day_out(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day_in(text: object) -> date | None:
    return None if text in (None, "") else date.fromisoformat(str(text))


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def _from_first_version(old: dict[str, Any]) -> dict[str, Any]:
    """A draft as the first version stored it: figures as strings in flat fields."""
    data = dict(old)
    for name in ("progress", "disbursed"):
        data[name] = {
            "value": old.get(name) or None,
            "pending": old.get(f"pending_{name}") or None,
            "drop_reason": old.get(f"{name}_drop", ""),
        }
    data["project_id"] = 0  # found again by its code
    return data
