"""Keep outgoing Telegram requests within the Bot API's flood limits, and never drop a message.

Telegram allows a bot about 30 messages per second overall and about one per second in each
chat (a short burst of a few is tolerated). `TelegramRateLimiter` plugs into python-telegram-bot
(``ApplicationBuilder().rate_limiter(...)``) and throttles every request that sends something to
a chat through two token buckets: the chat's own, then the bot's overall one. Sends in the
bulk lane (`Lane.BULK`: reminders, passed as ``rate_limit_args``) give way to all others at
the overall bucket, so an officer's answer never queues behind a fan-out of reminders. A 429
(`telegram.error.RetryAfter`) pauses both buckets for as long as Telegram asks and the request
is sent again, as many times as it takes; transient network errors are retried with
exponential backoff a bounded number of times.

The clock and the sleep are injected so that tests run on fake time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import math
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

__all__ = ["Lane", "TelegramRateLimiter", "TokenBucket", "is_sending_endpoint"]

_LOGGER = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
JSONDict = dict[str, Any]
ApiResult = bool | JSONDict | list[JSONDict]
ChatKey = int | str

# Telegram's retry_after is whole seconds; waiting a little longer avoids a second 429 caused by
# our clock and Telegram's disagreeing by a few milliseconds.
_RETRY_AFTER_MARGIN = 0.1
# First network backoff; each further retry waits twice as long (0.5, 1, 2, 4, ...).
_FIRST_BACKOFF = 0.5
# Refill arithmetic in floats can leave 0.9999999 of a token after waiting exactly long enough;
# treating that as a whole token avoids a pointless extra nanosecond sleep.
_EPSILON = 1e-9

# Endpoints that put (or change) a message in a chat, which is what Telegram's flood limits
# count. Matched as name prefixes so that new send* methods are throttled without a code change.
_SENDING_PREFIXES = (
    "send",  # sendMessage, sendDocument, sendPhoto, sendMediaGroup, sendChatAction, ...
    "editMessage",  # editMessageText, editMessageCaption, editMessageReplyMarkup, ...
    "copyMessage",  # copyMessage, copyMessages
    "forwardMessage",  # forwardMessage, forwardMessages
    "stopPoll",
    "stopMessageLiveLocation",
)


class Lane(enum.Enum):
    """How urgent a send is: a reply someone waits for (the default), or one of many
    messages nobody is waiting for (reminders), which gives way to replies."""

    REPLY = "reply"
    BULK = "bulk"


def is_sending_endpoint(endpoint: str) -> bool:
    """Whether a Bot API method sends or edits a message in a chat, and so is rate limited."""
    return endpoint.startswith(_SENDING_PREFIXES)


class TokenBucket:
    """A token bucket: `burst` tokens at most, refilled at `rate` per second, FIFO among waiters.

    In any window of w seconds at most ``burst + rate * w`` tokens are handed out.
    """

    def __init__(self, rate: float, burst: float, *, clock: Clock, sleep: Sleep) -> None:
        """Start full, so that the first `burst` acquisitions go at once."""
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate!r}")
        if not burst >= 1:
            raise ValueError(f"burst must be at least 1, not {burst!r}")
        self._rate = float(rate)
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self._burst
        self._updated = clock()
        self._paused_until = -math.inf
        # asyncio.Lock hands itself to waiters in arrival order and a newcomer queues behind
        # existing waiters, so only the head of the queue ever sleeps and no caller starves.
        self._lock = asyncio.Lock()
        # Callers inside or queued for the lock; counted by us because Lock.locked() is briefly
        # False while a woken waiter has not yet run, and eviction must not miss that waiter.
        self._users = 0
        # Bulk callers queue here first, so that at most one of them is ever in the queue for
        # the lock: a reply arriving during a fan-out waits for one token interval at most.
        self._bulk_gate = asyncio.Lock()

    async def acquire(self, lane: Lane = Lane.REPLY) -> None:
        """Wait until a token is available and take it; waiters are served in arrival order,
        except that the bulk lane lets every reply go first (one bulk waiter at a time)."""
        self._users += 1
        try:
            if lane is Lane.BULK:
                async with self._bulk_gate:
                    await self._acquire_now()
            else:
                await self._acquire_now()
        finally:
            self._users -= 1

    async def _acquire_now(self) -> None:
        async with self._lock:
            await self._wait_ready()
            self._take()

    async def acquire_with(self, overall: TokenBucket, lane: Lane = Lane.REPLY) -> None:
        """Take a token from this bucket (a chat's) and one from `overall` at the same instant;
        waiters on this bucket are served in arrival order.

        This bucket's token is taken only once the overall one is in hand, while holding this
        bucket's lock: taking it earlier and then queueing for the overall bucket would let a
        queue of one chat's messages pile up behind a pause and go out together, over the
        per-chat limit.
        """
        self._users += 1
        try:
            async with self._lock:
                while True:
                    await self._wait_ready()
                    await overall.acquire(lane)
                    # Only a pause can make this bucket unready while we hold its lock; the
                    # overall token is then wasted, which is merely slower, never over the limit.
                    if self._ready():
                        self._take()
                        return
        finally:
            self._users -= 1

    def is_idle_and_full(self, now: float) -> bool:
        """Whether forgetting this bucket at monotonic time `now` changes nothing: no caller
        holds or awaits it, it is not paused, and it has refilled, so a new bucket (which starts
        full) would behave the same."""
        if self._users or now < self._paused_until:
            return False
        refilled = self._tokens + max(0.0, now - self._updated) * self._rate
        return refilled >= self._burst - _EPSILON

    def pause_until(self, t: float) -> None:
        """Hand out no token before monotonic time `t` (after a 429), and no burst right after."""
        now = self._clock()
        if t <= max(now, self._paused_until):
            return
        self._refill(now)
        self._paused_until = t
        # Nothing accrues during the pause and at most one token is left for when it ends:
        # bursting again the moment a flood wait is over is how a bot earns the next one.
        self._tokens = min(self._tokens, 1.0)
        self._updated = max(self._updated, t)

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now

    def _ready(self) -> bool:
        """Whether a token can be taken right now (the caller holds the lock)."""
        now = self._clock()
        if now < self._paused_until:
            return False
        self._refill(now)
        return self._tokens >= 1 - _EPSILON

    async def _wait_ready(self) -> None:
        """Sleep until a token can be taken, without taking it (the caller holds the lock)."""
        while not self._ready():
            now = self._clock()
            if now < self._paused_until:
                delay = self._paused_until - now
            else:
                delay = (1 - self._tokens) / self._rate
            # Loop rather than trust one sleep: a pause may begin while we sleep.
            await self._sleep(delay)

    def _take(self) -> None:
        self._tokens -= 1


def _retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait; PTB 22 gives an int or a timedelta."""
    with warnings.catch_warnings():
        # Reading the int form warns that it will become a timedelta; we handle both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | dt.timedelta = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return max(0.0, seconds)


def _chat_key(chat_id: object) -> ChatKey | None:
    """The bucket key for a chat_id: "123" and 123 are the same chat; "@name" stays a string."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


class TelegramRateLimiter(BaseRateLimiter[Lane]):
    """Throttle sends per chat and overall; wait out every 429; retry transient network errors.

    Sending endpoints (see `is_sending_endpoint`: send*, editMessage*, copyMessage(s),
    forwardMessage(s), stopPoll, stopMessageLiveLocation) take a token from the bucket of
    ``data["chat_id"]`` (none if the request has no chat_id, e.g. an inline message edit) and
    from the overall bucket. Every other endpoint goes straight to Telegram without touching
    the buckets (PTB never passes getUpdates through a rate limiter at all).

    A `RetryAfter` pauses the chat's bucket and the overall bucket until now + retry_after +
    0.1 s and the request is sent again, however many 429s come. A `NetworkError` or `TimedOut`
    is retried after 0.5, 1, 2, 4, ... seconds, at most `max_network_retries` times, then
    re-raised; `BadRequest`, `Forbidden`, `InvalidToken` and every other error re-raise at once.
    Note that a retried request which did reach Telegram before the network failed is delivered
    twice; that is the price of never silently losing a report reminder.

    Memory: per-chat buckets that are full and unused are forgotten (a new bucket starts full,
    so nothing is lost). When a new chat would make the table reach its sweep threshold, idle
    buckets are swept and the threshold becomes ``max(max_chat_buckets, 2 * survivors)``. So
    the table never exceeds ``max(max_chat_buckets, 2 * busy)`` buckets, where busy counts the
    chats that, at the last sweep, had a request queued for their bucket or a bucket not yet
    refilled: sent to within the last ``per_chat_burst / per_chat_rate`` seconds (3 s by
    default, so at most ``overall_burst + 3 * overall_rate`` = 120 chats), or in a 429 pause
    or within that long after one. With the defaults that is 1024 buckets unless over 512
    chats are busy at once. Sweeps cost O(1) amortised per new chat.

    A token bucket lets ``burst + rate * w`` through in any w seconds: with the default overall
    burst of 30, a bot that has been quiet may send 30 messages at once and 30 more over the
    next second. Pass a smaller `overall_burst` to stay strictly under 30 in every second.
    """

    def __init__(
        self,
        *,
        overall_rate: float = 30.0,
        overall_burst: float = 30.0,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 3.0,
        max_network_retries: int = 5,
        max_chat_buckets: int = 1024,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Configure the limits; the defaults follow Telegram's published flood limits."""
        if max_network_retries < 0:
            raise ValueError(f"max_network_retries must be >= 0, not {max_network_retries!r}")
        if max_chat_buckets < 1:
            raise ValueError(f"max_chat_buckets must be >= 1, not {max_chat_buckets!r}")
        self._clock = clock
        self._sleep = sleep
        self._per_chat_rate = per_chat_rate
        self._per_chat_burst = per_chat_burst
        # Build one chat bucket now so that bad per-chat settings fail here, not on first send.
        TokenBucket(per_chat_rate, per_chat_burst, clock=clock, sleep=sleep)
        self._overall = TokenBucket(overall_rate, overall_burst, clock=clock, sleep=sleep)
        self._max_network_retries = max_network_retries
        self._max_chat_buckets = max_chat_buckets
        self._chats: dict[ChatKey, TokenBucket] = {}
        self._sweep_at = max_chat_buckets

    @property
    def tracked_chats(self) -> int:
        """How many per-chat buckets are held in memory right now."""
        return len(self._chats)

    async def initialize(self) -> None:
        """Nothing to set up: buckets are created on demand."""

    async def shutdown(self) -> None:
        """Forget all per-chat buckets."""
        self._chats.clear()
        self._sweep_at = self._max_chat_buckets

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> ApiResult:
        """Send the request within the limits; return only once Telegram has accepted it.
        `rate_limit_args` is the request's lane (a reply when not given)."""
        lane = rate_limit_args or Lane.REPLY
        sending = is_sending_endpoint(endpoint)
        chat = _chat_key(data.get("chat_id")) if sending else None
        network_failures = 0
        floods = 0
        while True:
            if sending:
                await self._acquire(chat, lane)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                floods += 1
                delay = _retry_after_seconds(exc) + _RETRY_AFTER_MARGIN
                # Logged without data: it holds the message text. The token never reaches here.
                _LOGGER.warning(
                    "Telegram flood control on %s (chat %s): waiting %.1f s, retry %d",
                    endpoint,
                    chat,
                    delay,
                    floods,
                )
                if sending:
                    # The next _acquire waits out the pause, together with every other send.
                    until = self._clock() + delay
                    if chat is not None:
                        self._chat_bucket(chat).pause_until(until)
                    self._overall.pause_until(until)
                else:
                    await self._sleep(delay)
            except (BadRequest, Forbidden, InvalidToken):
                # BadRequest is a NetworkError subclass, but retrying a rejected request is futile.
                raise
            except NetworkError as exc:
                if network_failures >= self._max_network_retries:
                    raise
                delay = _FIRST_BACKOFF * 2**network_failures
                network_failures += 1
                # Only the class name: some transport errors quote the request URL, which
                # contains the bot token.
                _LOGGER.warning(
                    "%s on %s: retry %d of %d in %.1f s",
                    type(exc).__name__,
                    endpoint,
                    network_failures,
                    self._max_network_retries,
                    delay,
                )
                await self._sleep(delay)

    async def _acquire(self, chat: ChatKey | None, lane: Lane) -> None:
        if chat is None:
            await self._overall.acquire(lane)
        else:
            # Looked up on every attempt: the bucket may have been evicted while idle.
            await self._chat_bucket(chat).acquire_with(self._overall, lane)

    def _chat_bucket(self, chat: ChatKey) -> TokenBucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= self._sweep_at:
                self._sweep()
            bucket = TokenBucket(
                self._per_chat_rate, self._per_chat_burst, clock=self._clock, sleep=self._sleep
            )
            self._chats[chat] = bucket
        return bucket

    def _sweep(self) -> None:
        """Forget idle full buckets; double the threshold past the survivors to stay amortised."""
        now = self._clock()
        idle = [key for key, bucket in self._chats.items() if bucket.is_idle_and_full(now)]
        for key in idle:
            del self._chats[key]
        self._sweep_at = max(self._max_chat_buckets, 2 * len(self._chats))
