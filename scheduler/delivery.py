"""Sending what the planner says is due, each message exactly once.

Every message is claimed in storage under its unique key before it is sent, so a crash, a
restart or two ticks racing can never send it twice. What then happens is recorded: SENT;
RETRY when the channel failed for a reason that may pass (the next tick tries again while the
reminder is still due); FAILED when it never can (the person blocked the bot). A message
claimed by a process that stopped before it knew the outcome becomes UNKNOWN at the next
start-up and is not sent again: a missed reminder is better than a doubled one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from handlers.types import Clock, Outbound
from scheduler.planner import Planned, ReminderPlanner
from storage.models import ChatIdentity, DeliveryStatus, ReminderKey
from storage.repository import Repository

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The channel did not deliver; `permanent` says whether trying again can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Notifier(Protocol):
    """A channel that can write to a person unasked."""

    async def push(self, identity: ChatIdentity, message: Outbound) -> None:
        """Deliver one message, or raise DeliveryFailed."""


@dataclass
class TickReport:
    """What one tick did."""

    due: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    already: int = 0
    unreachable: int = 0
    expired: int = 0
    errors: list[str] = field(default_factory=list)


class ReminderService:
    """Runs the plan: claims, sends and records every due message."""

    def __init__(
        self,
        repo: Repository,
        planner: ReminderPlanner,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        *,
        concurrency: int = 64,
    ) -> None:
        self._repo = repo
        self._planner = planner
        self._notifiers = dict(notifiers)
        self._clock = clock
        self._concurrency = concurrency
        self._running = asyncio.Lock()

    async def recover(self) -> int:
        """At start-up: messages whose fate a stopped process never learnt become UNKNOWN."""
        doubtful = await self._repo.mark_in_doubt(self._clock())
        if doubtful:
            log.warning("reminders: %d were being sent when the bot stopped; not resent", doubtful)
        return doubtful

    async def tick(self) -> TickReport:
        """Send whatever is due now; one tick at a time."""
        async with self._running:
            return await self._tick()

    async def idle(self) -> None:
        """Wait until no tick is running (for a clean shutdown)."""
        async with self._running:
            pass

    async def _tick(self) -> TickReport:
        at = self._clock()
        planned, unreachable = await self._planner.plan(at)
        report = TickReport(due=len(planned), unreachable=len(unreachable))
        for person in unreachable:
            log.info("reminders: person %d has no chat account to write to", person.person.id)
        retry = {r.key for r in await self._repo.reminder_records(DeliveryStatus.RETRY)}
        gate = asyncio.Semaphore(self._concurrency)

        async def deliver(item: Planned) -> None:
            async with gate:
                await self._deliver(item, retry, report)

        await asyncio.gather(*(deliver(item) for item in planned))
        # A retry whose reminder is no longer due (a later kind came, or the month went stale).
        for key in retry - {item.key for item in planned}:
            await self._repo.finish_reminder(key, DeliveryStatus.FAILED, at, "no longer due")
            report.expired += 1
        if report.sent or report.retry or report.failed:
            log.info(
                "reminders: %d sent, %d to retry, %d failed, %d already sent, %d unreachable",
                report.sent, report.retry, report.failed, report.already, report.unreachable,
            )  # fmt: skip
        return report

    async def _deliver(self, item: Planned, retry: set[ReminderKey], report: TickReport) -> None:
        at = self._clock()
        identity = item.identity
        claimed = await self._repo.claim_reminder(
            item.key, identity.channel, identity.external_id, at
        )
        if not claimed and item.key in retry:
            claimed = await self._repo.reclaim_reminder(item.key, at)
        if not claimed:
            report.already += 1
            return
        notifier = self._notifiers.get(identity.channel)
        try:
            if notifier is None:
                raise DeliveryFailed(f"no {identity.channel} channel is running", permanent=False)
            await notifier.push(identity, item.message)
        except DeliveryFailed as error:
            status = DeliveryStatus.FAILED if error.permanent else DeliveryStatus.RETRY
            await self._repo.finish_reminder(item.key, status, self._clock(), str(error))
            report.failed += status is DeliveryStatus.FAILED
            report.retry += status is DeliveryStatus.RETRY
            report.errors.append(str(error))
        except Exception as error:  # anything unforeseen: keep the reminder for the next tick
            log.exception("reminders: sending failed unexpectedly")
            await self._repo.finish_reminder(
                item.key, DeliveryStatus.RETRY, self._clock(), type(error).__name__
            )
            report.retry += 1
        else:
            await self._repo.finish_reminder(item.key, DeliveryStatus.SENT, self._clock())
            report.sent += 1
