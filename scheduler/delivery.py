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
from datetime import datetime, timedelta
from typing import Protocol

from domain.clock import Clock
from domain.messages import Outbound
from domain.models import ChatIdentity, DeliveryStatus, ReminderKey
from scheduler.messages import quota_exhausted, quota_running_out
from scheduler.planner import Planned, ReminderPlanner
from scheduler.quota import (
    QUOTA_LOW,
    QUOTA_OUT,
    Allowance,
    Metered,
    batches,
    part_key,
    request_key,
    urgency,
)
from storage.contracts import Processes, ReminderLog

log = logging.getLogger(__name__)
# A claim still SENDING this long after it was made was left by a process that stopped (a send
# takes seconds): it is marked in doubt. Newer ones may be in the hands of a live process.
IN_DOUBT_AFTER = timedelta(minutes=10)
TICK_JOB = "reminders"  # the tick runs in one process at a time


class DeliveryStore(ReminderLog, Processes, Protocol):
    """What sending reads and writes: the reminder log, and the one tick across processes."""


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
        repo: DeliveryStore,
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
        """At start-up (and at every tick): messages whose fate a stopped process never learnt
        become UNKNOWN. Only those claimed IN_DOUBT_AFTER ago or more: another process sharing
        the database may be sending newer ones at this moment."""
        return await self._in_doubt()

    async def _in_doubt(self) -> int:
        at = self._clock()
        doubtful = await self._repo.mark_in_doubt(at, claimed_before=at - IN_DOUBT_AFTER)
        if doubtful:
            log.warning("reminders: %d were being sent when a bot stopped; not resent", doubtful)
        return doubtful

    async def tick(self, *, wait: bool = False) -> TickReport:
        """Send whatever is due now; one tick at a time, across the processes sharing the
        database too: a process whose tick finds another one's running skips it (that one
        sends what is due), so a quota is read and spent by one tick at a time and the
        bot's overall send rate is not doubled. With `wait` (a nudge asked for now, which the
        running tick may have planned without), it runs after that one instead."""
        async with self._running, self._repo.only_one(TICK_JOB, wait=wait) as mine:
            if not mine:
                log.debug("reminders: another process is ticking; skipped")
                return TickReport()
            return await self._tick()

    async def idle(self) -> None:
        """Wait until no tick is running (for a clean shutdown)."""
        async with self._running:
            pass

    async def _tick(self) -> TickReport:
        await self._in_doubt()  # a process that died since the last tick left claims in doubt
        at = self._clock()
        planned, unreachable = await self._planner.plan(at)
        report = TickReport(due=sum(len(item.keys) for item in planned))
        report.unreachable = len(unreachable)
        for person in unreachable:
            log.info("reminders: person %d has no chat account to write to", person.person.id)
        # A reminder whose send failed in a way that may pass, and its request's key (if any).
        failed = await self._repo.reminder_records(DeliveryStatus.RETRY)
        retry = {r.key: r.retry_key for r in failed}
        planned.sort(key=urgency)
        budgets = await self._budgets(planned)
        free, metered, held = await self._route(planned, budgets, report)
        if budgets:
            notices = await self._quota_notices(at, budgets, held, retry)
            more_free, more_metered, _ = await self._route(
                notices, budgets, report, use_reserve=True
            )
            free += more_free
            for channel, items in more_metered.items():
                metered.setdefault(channel, []).extend(items)
        gate = asyncio.Semaphore(self._concurrency)

        async def deliver(item: Planned) -> None:
            async with gate:
                await self._deliver(item, retry, report)

        async def requests(channel: str, items: list[Planned]) -> None:
            async with gate:
                await self._send_metered(channel, items, retry, report)

        await asyncio.gather(
            *(deliver(item) for item in free),
            *(requests(channel, items) for channel, items in metered.items()),
        )
        # A retry whose reminder is no longer due (a later kind came, or the month went stale).
        due = {key for item in planned for key in item.keys}
        for key in retry.keys() - due:
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
        report: TickReport,
        *,
        use_reserve: bool = False,
    ) -> tuple[list[Planned], dict[str, list[Planned]], list[Planned]]:
        """Split the plan: messages for unmetered channels, messages for each metered channel
        within its quota (most urgent first), and messages that wait for quota. A message that
        does not fit moves to the person's next channel. Nothing is claimed yet."""
        free: list[Planned] = []
        metered: dict[str, list[Planned]] = {}
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
            budget.spent += 1
            metered.setdefault(item.identity.channel, []).append(item)
        if held:
            known = {r.key: r.status for r in await self._repo.reminder_records()}
            waiting = [
                item
                for item in held
                if any(known.get(k) in {None, DeliveryStatus.RETRY} for k in item.keys)
            ]
            report.already += len(held) - len(waiting)
            report.held += sum(len(item.keys) for item in waiting)
            if waiting:
                log.error(
                    "reminders: no %s message quota left (spent, or unreadable): %d reminders "
                    "not sent, kept for a later tick (the most urgent went first)",
                    waiting[0].identity.channel, len(waiting),
                )  # fmt: skip
        return free, metered, held

    async def _quota_notices(
        self,
        at: datetime,
        budgets: dict[str, _Budget],
        held: list[Planned],
        retry: Mapping[ReminderKey, str],
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

    async def _claim(self, item: Planned, retry: Mapping[ReminderKey, str]) -> Planned | None:
        """Record the message's reminders as being sent; the message for those claimed (made
        again if some were sent, or are being sent, already), or None if none was."""
        at = self._clock()
        identity = item.identity
        claimed = []
        for key in item.keys:
            done = await self._repo.claim_reminder(key, identity.channel, identity.external_id, at)
            if not done and key in retry:
                done = await self._repo.reclaim_reminder(key, at)
            if done:
                claimed.append(key)
        return item.only(claimed) if claimed else None

    async def _deliver(
        self, item: Planned, retry: Mapping[ReminderKey, str], report: TickReport
    ) -> None:
        claimed = await self._claim(item, retry)
        report.already += len(item.keys) - (len(claimed.keys) if claimed else 0)
        if claimed is None:
            return
        identity = claimed.identity
        notifier = self._notifiers.get(identity.channel)
        try:
            if notifier is None:
                raise DeliveryFailed(f"no {identity.channel} channel is running", permanent=False)
            await notifier.push(identity, claimed.message)
        except DeliveryFailed as error:
            await self._failed([claimed], error, report)
        except Exception as error:  # anything unforeseen: keep the reminder for the next tick
            log.exception("reminders: sending failed unexpectedly")
            await self._failed(
                [claimed], DeliveryFailed(type(error).__name__, permanent=False), report
            )
        else:
            await self._sent([claimed], report)

    async def _send_metered(
        self,
        channel: str,
        items: list[Planned],
        retry: Mapping[ReminderKey, str],
        report: TickReport,
    ) -> None:
        """Claim and send a metered channel's messages, the same message to many accounts in
        one request. A message that failed before goes again under its request's key, with
        whatever else is still due of that request; new messages go in requests of their own."""
        earlier: dict[str, list[Planned]] = {}
        new: list[Planned] = []
        for item in items:
            under: dict[str, list[ReminderKey]] = {}
            for key in item.keys:
                under.setdefault(retry.get(key, ""), []).append(key)
            for request, keys in under.items():
                part = item.only(keys)
                (earlier.setdefault(request, []) if request else new).append(part)
        for request, group in earlier.items():
            claimed = [c for item in group if (c := await self._claim(item, retry)) is not None]
            report.already += sum(len(i.keys) for i in group) - sum(len(c.keys) for c in claimed)
            if claimed:
                await self._resend(channel, request, claimed, report)
        claimed = [c for item in new if (c := await self._claim(item, retry)) is not None]
        report.already += sum(len(i.keys) for i in new) - sum(len(c.keys) for c in claimed)
        for batch in batches(claimed, self._metered[channel].max_recipients):
            await self._request(channel, batch, request_key(batch), report)

    async def _resend(
        self, channel: str, key: str, items: list[Planned], report: TickReport
    ) -> None:
        """Send again what a failed request under `key` carried. The first request goes under
        that key: if LINE took the failed one after all, it refuses this one, and every message
        of the failed request counts as sent; otherwise the rest follow, each under a key of
        its own made from `key` (the messages may differ now: some reports came in)."""
        groups = batches(items, self._metered[channel].max_recipients)
        for part, batch in enumerate(groups):
            outcome = await self._request(channel, batch, part_key(key, part), report)
            if part == 0 and outcome is False:  # taken before: nothing of it goes twice
                await self._sent([i for later in groups[1:] for i in later], report)
                return
            if part == 0 and outcome is None:
                # Failed again: the rest wait with it, still under the same key.
                rest = [i for later in groups[1:] for i in later]
                error = DeliveryFailed("sent with an earlier request that failed", permanent=False)
                await self._failed(rest, error, report, key)
                return

    async def _request(
        self, channel: str, items: list[Planned], key: str, report: TickReport
    ) -> bool | None:
        """One request of a metered channel: the same message to every account of `items`.
        True: sent now; False: a request under this key went through before; None: failed."""
        try:
            fresh = await self._metered[channel].push_many(
                [item.identity for item in items], items[0].message, key
            )
        except DeliveryFailed as error:
            await self._failed(items, error, report, key)
            return None
        except Exception as error:  # anything unforeseen: keep the reminders for the next tick
            log.exception("reminders: sending failed unexpectedly")
            await self._failed(
                items, DeliveryFailed(type(error).__name__, permanent=False), report, key
            )
            return None
        await self._sent(items, report, "" if fresh else "sent by an earlier request")
        return fresh

    async def _sent(self, items: list[Planned], report: TickReport, note: str = "") -> None:
        for item in items:
            for key in item.keys:
                await self._repo.finish_reminder(key, DeliveryStatus.SENT, self._clock(), note)
            report.sent += len(item.keys)

    async def _failed(
        self,
        items: list[Planned],
        error: DeliveryFailed,
        report: TickReport,
        request: str | None = None,
    ) -> None:
        status = DeliveryStatus.FAILED if error.permanent else DeliveryStatus.RETRY
        count = sum(len(item.keys) for item in items)
        for item in items:
            for key in item.keys:
                await self._repo.finish_reminder(key, status, self._clock(), str(error), request)
        report.failed += count if status is DeliveryStatus.FAILED else 0
        report.retry += count if status is DeliveryStatus.RETRY else 0
        report.errors.append(str(error))
