"""What a button sends back when pressed: one typed codec for every kind of button.

A payload is a kind (one letter) and short fields, e.g. `a:on_plan:yes` or `r:17:2570:2:0`.
Fields are numbers (ids, years, report numbers), fixed tokens (step names, answer values) or
flags, never free text: a long Thai project code is never part of a payload, so every payload
fits Telegram's 64 bytes (callback_data) and LINE's 300 (postback data) whatever the data. A
payload the bot never made (forged, from an old version, cut short) decodes to `Unknown`,
never to an exception.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar

TELEGRAM_LIMIT = 64  # bytes of callback_data
LINE_LIMIT = 300  # bytes of postback data
PAYLOAD_LIMIT = min(TELEGRAM_LIMIT, LINE_LIMIT)

LARGEST_ID = 2**63 - 1  # a database row id (SQLite and PostgreSQL bigint)
_SEPARATOR = ":"
_TOKEN = re.compile(r"[a-z0-9_-]{1,24}")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")


class Payload:
    """A button's payload: subclasses are frozen dataclasses with a one-letter `kind`."""

    kind: ClassVar[str]
    kinds: ClassVar[dict[str, type[Payload]]] = {}

    def __init_subclass__(cls, kind: str = "", **rest: Any) -> None:
        super().__init_subclass__(**rest)
        if kind:
            if kind in Payload.kinds or _SEPARATOR in kind:
                raise ValueError(f"payload kind {kind!r} is taken or malformed")
            cls.kind = kind
            Payload.kinds[kind] = cls

    def encode(self) -> str:
        """The payload as the button carries it; ValueError if a field cannot be carried."""
        parts = [self.kind]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            parts.append(_pack(field.name, getattr(self, field.name)))
        text = _SEPARATOR.join(parts)
        if len(text.encode()) > PAYLOAD_LIMIT:
            raise ValueError(f"payload over {PAYLOAD_LIMIT} bytes: {text!r}")
        return text


def _pack(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if not 0 <= value <= LARGEST_ID:
            raise ValueError(f"payload field {name}={value} is outside 0..{LARGEST_ID}")
        return str(value)
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        return value
    raise ValueError(f"{name}={value!r} cannot be carried in a payload")


def _unpack(kind: type[Any], raw: str) -> object | None:
    """One field read back as `kind` (bool, int or str); None if it is not one."""
    if kind is bool:
        return {"1": True, "0": False}.get(raw)
    if kind is int:
        return int(raw) if _NUMBER.fullmatch(raw) and int(raw) <= LARGEST_ID else None
    return raw if _TOKEN.fullmatch(raw) else None


_FIELD_TYPES = {"bool": bool, "int": int, "str": str}


@dataclass(frozen=True, slots=True)
class Unknown:
    """A payload the bot did not make, or no longer understands."""

    raw: str


def decode(text: str) -> Payload | Unknown:
    """The payload a button press carried; `Unknown` for anything else."""
    if len(text.encode()) > LINE_LIMIT:
        return Unknown(text[:LINE_LIMIT])
    kind, _, rest = text.partition(_SEPARATOR)
    cls = Payload.kinds.get(kind)
    if cls is None:
        return Unknown(text)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    raws = rest.split(_SEPARATOR) if rest else []
    if len(raws) != len(fields):
        return Unknown(text)
    values = {}
    for field, raw in zip(fields, raws, strict=True):
        value = _unpack(_FIELD_TYPES[str(field.type)], raw)
        if value is None:
            return Unknown(text)
        values[field.name] = value
    return cls(**values)


# The payload classes have no slots: dataclass(slots=True) makes a new class, which would not be
# the one registered under its kind.


@dataclass(frozen=True)
class StepAnswer(Payload, kind="a"):
    """A button of one step of the dialogue: the step, and the answer it gives (a fixed word
    such as "yes" or "keep", a project or person id, or a month as "2570-2")."""

    step: str
    value: str


@dataclass(frozen=True)
class RunCommand(Payload, kind="c"):
    """A command button ("report", "status", ...). With `discard`, the person already agreed
    to drop the unfinished report the command would replace."""

    name: str
    discard: bool = False


@dataclass(frozen=True)
class ReportNow(Payload, kind="r"):
    """A reminder's "report now": that project's report for that month."""

    project_id: int
    fiscal_year: int
    report_no: int
    discard: bool = False


@dataclass(frozen=True)
class Snooze(Payload, kind="s"):
    """A reminder's "remind me tomorrow" for one project; 0: for every project the person
    reports on (a reminder about several)."""

    project_id: int


@dataclass(frozen=True)
class SwitchNotification(Payload, kind="n"):
    """A coordinator's switch for one kind of message ("missing", "digest")."""

    notification: str
    enabled: bool


@dataclass(frozen=True)
class ChooseChannel(Payload, kind="w"):
    """Where a person wants reminders: "line", "telegram", "both", or "auto" (where they
    last wrote from)."""

    choice: str


@dataclass(frozen=True)
class PickPeriod(Payload, kind="q"):
    """A summary ("summary") or workbook ("export") of another fiscal year or month;
    `report_no` 0: the whole fiscal year."""

    command: str
    fiscal_year: int
    report_no: int = 0


@dataclass(frozen=True)
class ShowMore(Payload, kind="m"):
    """ "The rest" of something shortened for a phone: a project's whole history ("history")
    or the official form as text ("form"), of one fiscal year."""

    what: str
    project_id: int
    fiscal_year: int
