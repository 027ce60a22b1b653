"""Reminders within a channel's monthly message quota (LINE counts every message it delivers).

A metered channel says how many messages it may still send this month. A tick spends what is
left on the most useful reminders first: deadline and overdue ones before early ones. A
reminder that does not fit goes to the person's other channel if they have one, or waits
(unclaimed) for a later tick; it is never dropped silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.messages import Outbound
from domain.models import ChatIdentity, ReminderKey
from scheduler.calendar import ReminderKind
from scheduler.messages import DIGEST, MISSING, SNOOZED
from scheduler.planner import Planned

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
    ) -> None:
        """Send one message to every account (one request); raises DeliveryFailed."""


def urgency(item: Planned) -> int:
    """Sort key: quota notices, then overdue and deadline reminders, early ones last."""
    kind = item.key.kind
    if kind.startswith(("quota-",)):
        return 0
    return _URGENCY.get(kind.split(":", 1)[0], len(_URGENCY) + 1)


def retry_key(keys: Iterable[ReminderKey]) -> str:
    """The X-Line-Retry-Key of a request carrying these reminders: the same reminders always
    give the same key, so LINE refuses (409) a resend of a request it already accepted."""
    names = sorted(
        f"{k.person_id}|{k.subject}|{k.fiscal_year}|{k.report_no}|{k.kind}" for k in keys
    )
    return str(uuid.uuid5(_RETRY_NAMESPACE, "\n".join(names)))


def batches(items: Sequence[Planned], size: int) -> list[list[Planned]]:
    """Items with the same message grouped (in first-seen order), at most `size` to a group."""
    groups: dict[Outbound, list[Planned]] = {}
    for item in items:
        groups.setdefault(item.message, []).append(item)
    result = []
    for group in groups.values():
        result += [group[i : i + size] for i in range(0, len(group), max(1, size))]
    return result
