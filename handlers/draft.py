"""The half-finished report carried between messages, stored as JSON in the session."""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass
from typing import Any


class Mode(enum.StrEnum):
    """What the conversation is doing."""

    REPORT = "report"
    CORRECT = "correct"
    HISTORY = "history"
    AWAY = "away"
    FORM = "form"
    CHART = "chart"


@dataclass(frozen=True, slots=True)
class Draft:
    """Everything answered so far. Decimals are kept as strings so the JSON stays exact."""

    mode: Mode = Mode.REPORT
    project_code: str = ""
    fiscal_year: int = 0
    report_no: int = 0
    progress: str = ""
    disbursed: str = ""
    note: str | None = None
    note_checked: bool = False
    on_plan: bool | None = None
    plan_reason: str = ""
    on_target: bool | None = None
    target_reason: str = ""
    # A figure below the previous month's waits in pending_* until the officer explains it;
    # the explanation is kept per figure, and dropped when that figure is typed again.
    pending_progress: str = ""
    pending_disbursed: str = ""
    progress_drop: str = ""
    disbursed_drop: str = ""
    correction_reason: str = ""
    reported_on: str = ""  # ISO date shown on the summary; the report is stored with this date
    away_until: str = ""  # ISO date: the last day away
    delegate_id: int = 0
    trail: tuple[str, ...] = ()

    def to_json(self) -> str:
        """Serialise for the sessions table."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Draft:
        """Read back what `to_json` wrote; unknown keys (from a newer version) are ignored."""
        data: dict[str, Any] = json.loads(raw) if raw else {}
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["mode"] = Mode(values.get("mode", Mode.REPORT))
        values["trail"] = tuple(values.get("trail", ()))
        return cls(**values)

    def but(self, **changes: Any) -> Draft:
        """A copy with some answers changed."""
        return dataclasses.replace(self, **changes)
