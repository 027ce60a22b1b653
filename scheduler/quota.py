"""Reminders within a channel's monthly message quota (LINE counts every message it delivers).

A metered channel says how many messages it may still send this month. A tick spends what is
left on the most useful reminders first: deadline and overdue ones before early ones. A
reminder that does not fit goes to the person's other channel if they have one, or waits
(unclaimed) for a later tick; it is never dropped silently.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.messages import Outbound
from domain.models import ChatIdentity
from scheduler.calendar import ReminderKind
from scheduler.messages import DIGEST, MISSING, SNOOZED
from scheduler.planner import Planned, base_kind

QUOTA_LOW = "quota-low"  # a notice to coordinators: the quota of a channel is running out
QUOTA_OUT = "quota-out"  # a notice to coordinators: reminders are waiting for quota

# Most useful first: a missed deadline costs more than a missed early nudge.
_URGENCY = {
    ReminderKind.OVERDUE.value: 1,
    ReminderKind.DEADLINE.value: 2,
    MISSING: 3,
    SNOOZED: 4,  # the person asked for it
    ReminderKind.TWO_DAYS.value: 5,
    DIGEST: 6,
    ReminderKind.WINDOW.value: 7,
}
_RETRY_NAMESPACE = uuid.UUID("6f0e2d52-5d0c-4b0e-9a57-3c7f1f4b2a10")


@dataclass(frozen=True, slots=True)
class Allowance:
    """A channel's messages this month: its limit (None: unlimited) and how many were used."""

    limit: int | None
    used: int

    @property
    def left(self) -> int | None:
        """Messages that may still be sent this month; None when there is no limit."""
        return None if self.limit is None else max(0, self.limit - self.used)


class Metered(Protocol):
    """A channel whose messages count against a monthly quota, and that can multicast."""

    quota_reserve: int  # kept for answers the bot must push; reminders never use it
    quota_warning: int  # coordinators are told when no more than this remain
    max_recipients: int  # per multicast request

    async def allowance(self) -> Allowance:
        """The quota and what was used of it; raises DeliveryFailed when it cannot be read."""

    async def push_many(
        self, identities: Sequence[ChatIdentity], message: Outbound, retry_key: str
    ) -> bool:
        """Send one message to every account (one request); raises DeliveryFailed. False when
        the channel says a request under this key went through before (nothing sent now)."""


def urgency(item: Planned) -> int:
    """Sort key: quota notices, then overdue and deadline reminders, early ones last."""
    kind = base_kind(item.key.kind)
    if kind.startswith(("quota-",)):
        return 0
    return _URGENCY.get(kind, len(_URGENCY) + 1)


def request_key(items: Sequence[Planned]) -> str:
    """The X-Line-Retry-Key of a request: derived from what is sent to whom (the accounts, the
    reminders and the message), so the same request always has the same key. A request that
    failed keeps its key in storage, and goes under it again however the reminders are
    grouped at the next tick: LINE refuses (409) a key it accepted before."""
    whom = sorted(
        f"{item.identity.channel}|{item.identity.external_id}|"
        + ",".join(sorted(f"{k.person_id}|{k.subject}|{k.fiscal_year}|{k.report_no}|{k.kind}"
                          for k in item.keys))
        for item in items
    )  # fmt: skip
    what = sorted({message_digest(item.message) for item in items})
    return str(uuid.uuid5(_RETRY_NAMESPACE, "\n".join([*whom, *what])))


def part_key(key: str, part: int) -> str:
    """The key of another request made under `key` (its messages regrouped); part 0 is `key`."""
    return key if part == 0 else str(uuid.uuid5(uuid.UUID(key), f"part {part}"))


def message_digest(message: Outbound) -> str:
    """A stable digest of what a message says and offers (the same in every process)."""
    parts = [message.text, *(f"{c.label}\x1f{c.payload}" for c in message.choices)]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def batches(items: Sequence[Planned], size: int) -> list[list[Planned]]:
    """Items with the same message grouped (in first-seen order), at most `size` to a group."""
    groups: dict[Outbound, list[Planned]] = {}
    for item in items:
        groups.setdefault(item.message, []).append(item)
    result = []
    for group in groups.values():
        result += [group[i : i + size] for i in range(0, len(group), max(1, size))]
    return result
