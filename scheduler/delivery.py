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
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from domain.clock import Clock
from domain.messages import Outbound
from domain.models import ChatIdentity, DeliveryStatus, ReminderKey
from scheduler.messages import quota_exhausted, quota_running_out
from scheduler.planner import Planned, ReminderPlanner
from scheduler.quota import QUOTA_LOW, QUOTA_OUT, Allowance, Metered, batches, retry_key, urgency
from storage.contracts import ReminderLog

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
    held: int = 0  # not sent for want of quota; a later tick tries again
    rerouted: int = 0  # sent on the person's other channel for want of quota
    errors: list[str] = field(default_factory=list)


@dataclass
class _Budget:
    """What a metered channel may still spend in this tick; None: unknown (quota unreadable)."""

    allowance: Allowance | None
    reserve: int
    spent: int = 0

    def left(self, *, use_reserve: bool = False) -> int | None:
        """Messages this tick may still send (None: no limit); 0 when the quota is unknown."""
        if self.allowance is None:
            return 0
        left = self.allowance.left
        if left is None:
            return None
        return max(0, left - self.spent - (0 if use_reserve else self.reserve))


class ReminderService:
    """Runs the plan: claims, sends and records every due message."""

    def __init__(
        self,
        repo: ReminderLog,
        planner: ReminderPlanner,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        *,
        concurrency: int = 64,
        metered: Mapping[str, Metered] | None = None,
    ) -> None:
        self._repo = repo
        self._planner = planner
        self._notifiers = dict(notifiers)
        self._metered = dict(metered or {})
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
        planned.sort(key=urgency)
        budgets = await self._budgets(planned)
        free, batched, held = await self._route(planned, budgets, retry, report)
        if budgets:
            notices = await self._quota_notices(at, budgets, held, retry)
            more_free, more_batched, _ = await self._route(
                notices, budgets, retry, report, use_reserve=True
            )
            free, batched = free + more_free, batched + more_batched
        gate = asyncio.Semaphore(self._concurrency)

        async def deliver(item: Planned) -> None:
            async with gate:
                await self._deliver(item, retry, report)

        async def multicast(channel: str, items: list[Planned]) -> None:
            async with gate:
                await self._multicast(channel, items, report)

        await asyncio.gather(
            *(deliver(item) for item in free),
            *(multicast(channel, items) for channel, items in batched),
        )
        # A retry whose reminder is no longer due (a later kind came, or the month went stale).
        for key in retry - {item.key for item in planned}:
            await self._repo.finish_reminder(key, DeliveryStatus.FAILED, at, "no longer due")
            report.expired += 1
        if report.sent or report.retry or report.failed or report.held:
            log.info(
                "reminders: %d sent, %d to retry, %d failed, %d already sent, %d unreachable, "
                "%d waiting for quota, %d sent on another channel",
                report.sent, report.retry, report.failed, report.already, report.unreachable,
                report.held, report.rerouted,
            )  # fmt: skip
        return report

    async def _budgets(self, planned: list[Planned]) -> dict[str, _Budget]:
        """The quota of each metered channel something is planned on (read once per tick)."""
        budgets: dict[str, _Budget] = {}
        for channel in {item.identity.channel for item in planned} & set(self._metered):
            metered = self._metered[channel]
            try:
                allowance: Allowance | None = await metered.allowance()
            except DeliveryFailed as error:
                log.error(
                    "reminders: cannot read the %s message quota (%s); %s reminders wait for "
                    "the next tick unless the person has another channel",
                    channel, error, channel,
                )  # fmt: skip
                allowance = None
            budgets[channel] = _Budget(allowance, metered.quota_reserve)
        return budgets

    async def _route(
        self,
        items: list[Planned],
        budgets: dict[str, _Budget],
        retry: set[ReminderKey],
        report: TickReport,
        *,
        use_reserve: bool = False,
    ) -> tuple[list[Planned], list[tuple[str, list[Planned]]], list[Planned]]:
        """Split the plan: items for unmetered channels (claimed later, in parallel), claimed
        batches for metered channels within their quota (most urgent first), and items that
        wait for quota. An item that does not fit moves to the person's next channel."""
        free: list[Planned] = []
        claimed: dict[str, list[Planned]] = {}
        held: list[Planned] = []
        for item in items:
            budget = budgets.get(item.identity.channel)
            if budget is None:
                free.append(item)
                continue
            left = budget.left(use_reserve=use_reserve)
            if left is not None and left <= 0:
                other = next((i for i in item.fallbacks if i.channel not in budgets), None)
                if other is None:
                    held.append(item)
                else:
                    free.append(replace(item, identity=other, fallbacks=()))
                    report.rerouted += 1
                continue
            if await self._claim(item, retry):
                budget.spent += 1
                claimed.setdefault(item.identity.channel, []).append(item)
            else:
                report.already += 1
        batched = [
            (channel, group)
            for channel, group_items in claimed.items()
            for group in batches(group_items, self._metered[channel].max_recipients)
        ]
        if held:
            known = {r.key for r in await self._repo.reminder_records()}
            waiting = [item for item in held if item.key not in known or item.key in retry]
            report.already += len(held) - len(waiting)
            report.held += len(waiting)
            if waiting:
                log.error(
                    "reminders: no %s message quota left (spent, or unreadable): %d reminders "
                    "not sent, kept for a later tick (the most urgent went first)",
                    waiting[0].identity.channel, len(waiting),
                )  # fmt: skip
        return free, batched, held

    async def _quota_notices(
        self,
        at: datetime,
        budgets: dict[str, _Budget],
        held: list[Planned],
        retry: set[ReminderKey],
    ) -> list[Planned]:
        """Tell coordinators (once a month each) that a channel's quota is low or spent."""
        notices: list[Planned] = []
        for channel, budget in budgets.items():
            allowance = budget.allowance
            if allowance is None or allowance.limit is None or allowance.left is None:
                continue
            left = max(0, allowance.left - budget.spent)
            waiting = sum(1 for item in held if item.identity.channel == channel)
            if waiting:
                message = quota_exhausted(channel, allowance.limit, waiting)
                notices += await self._planner.notice(at, f"{QUOTA_OUT}:{channel}", message)
            elif left <= self._metered[channel].quota_warning:
                log.warning(
                    "reminders: %s message quota running out: %d of %d left this month",
                    channel, left, allowance.limit,
                )  # fmt: skip
                message = quota_running_out(channel, allowance.limit, left)
                notices += await self._planner.notice(at, f"{QUOTA_LOW}:{channel}", message)
        return notices

    async def _claim(self, item: Planned, retry: set[ReminderKey]) -> bool:
        """Record the item as being sent; False if it was sent (or is being sent) already."""
        at = self._clock()
        identity = item.identity
        claimed = await self._repo.claim_reminder(
            item.key, identity.channel, identity.external_id, at
        )
        if not claimed and item.key in retry:
            claimed = await self._repo.reclaim_reminder(item.key, at)
        return claimed

    async def _deliver(self, item: Planned, retry: set[ReminderKey], report: TickReport) -> None:
        if not await self._claim(item, retry):
            report.already += 1
            return
        identity = item.identity
        notifier = self._notifiers.get(identity.channel)
        try:
            if notifier is None:
                raise DeliveryFailed(f"no {identity.channel} channel is running", permanent=False)
            await notifier.push(identity, item.message)
        except DeliveryFailed as error:
            await self._failed([item], error, report)
        except Exception as error:  # anything unforeseen: keep the reminder for the next tick
            log.exception("reminders: sending failed unexpectedly")
            await self._failed(
                [item], DeliveryFailed(type(error).__name__, permanent=False), report
            )
        else:
            await self._repo.finish_reminder(item.key, DeliveryStatus.SENT, self._clock())
            report.sent += 1

    async def _multicast(self, channel: str, items: list[Planned], report: TickReport) -> None:
        """Send one claimed batch (same message) in one request of a metered channel."""
        try:
            await self._metered[channel].push_many(
                [item.identity for item in items],
                items[0].message,
                retry_key(item.key for item in items),
            )
        except DeliveryFailed as error:
            await self._failed(items, error, report)
        except Exception as error:  # anything unforeseen: keep the reminders for the next tick
            log.exception("reminders: sending failed unexpectedly")
            await self._failed(items, DeliveryFailed(type(error).__name__, permanent=False), report)
        else:
            for item in items:
                await self._repo.finish_reminder(item.key, DeliveryStatus.SENT, self._clock())
            report.sent += len(items)

    async def _failed(
        self, items: list[Planned], error: DeliveryFailed, report: TickReport
    ) -> None:
        status = DeliveryStatus.FAILED if error.permanent else DeliveryStatus.RETRY
        for item in items:
            await self._repo.finish_reminder(item.key, status, self._clock(), str(error))
        report.failed += len(items) if status is DeliveryStatus.FAILED else 0
        report.retry += len(items) if status is DeliveryStatus.RETRY else 0
        report.errors.append(str(error))
