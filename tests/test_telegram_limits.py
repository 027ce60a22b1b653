"""Telegram flood limits: token buckets, 429 and network retries, eviction, and PTB wiring.

Everything runs on fake time: `FakeTime.sleep` moves the fake clock on instead of waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import warnings
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ApplicationBuilder
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from bot.telegram_limits import Lane, TelegramRateLimiter, TokenBucket, is_sending_endpoint

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[[], Coroutine[Any, Any, Result]]

# The limiter must read retry_after without tripping PTB's int-to-timedelta deprecation warning.
pytestmark = pytest.mark.filterwarnings("error::telegram.warnings.PTBDeprecationWarning")

START = 1000.0  # not zero, so that "elapsed" and "absolute" time can't be confused
SECRET_TEXT = "รายงานลับ secret report text"


class FakeTime:
    """A clock the test controls; sleeping moves it on instead of waiting.

    A sleep yields once and then sets the clock to the sleeper's wake-up time (never back), so
    tasks that sleep at the same moment overlap as in real time instead of adding up: a task
    that runs while another sleeps still sees the time the sleep began.
    """

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        wake_at = self.now + max(0.0, delay)
        await asyncio.sleep(0)  # a suspension point, as a real sleep is
        self.now = max(self.now, wake_at)

    @property
    def elapsed(self) -> float:
        return self.now - START


def flood(retry_after: int | dt.timedelta) -> RetryAfter:
    """A 429 as PTB raises it (its constructor itself warns about the deprecated int form)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(retry_after)


def limiter_on(time: FakeTime, **overrides: Any) -> TelegramRateLimiter:
    return TelegramRateLimiter(clock=time.clock, sleep=time.sleep, **overrides)


def bucket_on(time: FakeTime, rate: float, burst: float) -> TokenBucket:
    return TokenBucket(rate, burst, clock=time.clock, sleep=time.sleep)


class Recorder:
    """Callbacks that log (fake time, chat) on every call, failing with scripted errors first."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[tuple[float, object]] = []
        self.called = asyncio.Event()

    def callback(self, chat: object, failures: Sequence[TelegramError] = ()) -> Callback:
        pending = list(failures)

        async def call() -> Result:
            self.calls.append((self.time.now, chat))
            self.called.set()
            if pending:
                raise pending.pop(0)
            return {"message_id": len(self.calls), "chat": {"id": chat}}

        return call

    def times(self, chat: object | None = None) -> list[float]:
        return [t - START for t, c in self.calls if chat is None or c == chat]


async def send(
    limiter: TelegramRateLimiter,
    recorder: Recorder,
    chat: object,
    *,
    failures: Sequence[TelegramError] = (),
    endpoint: str = "sendMessage",
    lane: Lane | None = None,
) -> Result:
    data = {"chat_id": chat, "text": SECRET_TEXT}
    return await limiter.process_request(
        recorder.callback(chat, failures), (), {}, endpoint, data, lane
    )


def max_in_window_ok(times: Sequence[float], rate: float, burst: float) -> bool:
    """No window [t_i, t_j] holds more than burst + rate * (t_j - t_i) of the sorted times."""
    ordered = sorted(times)
    return all(
        j - i + 1 <= burst + rate * (ordered[j] - ordered[i]) + 1e-6
        for i in range(len(ordered))
        for j in range(i, len(ordered))
    )


# --- TokenBucket --------------------------------------------------------------------------


async def test_bucket_bursts_then_keeps_the_steady_rate() -> None:
    time = FakeTime()
    bucket = bucket_on(time, rate=2.0, burst=3.0)
    stamps = []
    for _ in range(7):
        await bucket.acquire()
        stamps.append(time.elapsed)
    assert stamps == pytest.approx([0, 0, 0, 0.5, 1.0, 1.5, 2.0])


async def test_bucket_refills_while_idle_but_never_beyond_the_burst() -> None:
    time = FakeTime()
    bucket = bucket_on(time, rate=1.0, burst=2.0)
    for _ in range(2):
        await bucket.acquire()
    time.now += 60  # a long quiet spell refills only up to the burst
    stamps = []
    for _ in range(3):
        await bucket.acquire()
        stamps.append(time.elapsed)
    assert stamps == pytest.approx([60, 60, 61])


async def test_bucket_serves_concurrent_waiters_first_come_first_served() -> None:
    time = FakeTime()
    bucket = bucket_on(time, rate=1.0, burst=1.0)
    order: list[int] = []

    async def waiter(n: int) -> None:
        await bucket.acquire()
        order.append(n)

    early = [asyncio.create_task(waiter(n)) for n in range(5)]
    await asyncio.sleep(0)  # 0 got the token; 1 waits for the next one; 2-4 queue behind it
    time.now += 1.0  # the next token is there before 1 has woken up to take it ...
    await waiter(5)  # ... when a newcomer arrives, who must not snatch it
    await asyncio.gather(*early)
    assert order == [0, 1, 2, 3, 4, 5]
    assert time.elapsed == pytest.approx(5.0)


async def test_a_reply_goes_before_every_bulk_waiter_but_the_one_at_the_head() -> None:
    time = FakeTime()
    bucket = bucket_on(time, rate=1.0, burst=1.0)
    order: list[str] = []

    async def waiter(name: str, lane: Lane) -> None:
        await bucket.acquire(lane)
        order.append(name)

    bulk = [asyncio.create_task(waiter(f"bulk {n}", Lane.BULK)) for n in range(5)]
    await asyncio.sleep(0)  # bulk 0 took the token; bulk 1 waits for the next; 2-4 behind it
    await waiter("reply", Lane.REPLY)
    await asyncio.gather(*bulk)
    assert order == ["bulk 0", "bulk 1", "reply", "bulk 2", "bulk 3", "bulk 4"]
    assert time.elapsed == pytest.approx(5.0)  # nothing is slower: the same six tokens


async def test_replies_keep_their_order_among_themselves_during_a_fan_out() -> None:
    time = FakeTime()
    limiter = limiter_on(time, overall_burst=1.0)  # 30/s
    recorder = Recorder(time)
    fan_out = [
        asyncio.create_task(send(limiter, recorder, f"r{n}", lane=Lane.BULK)) for n in range(300)
    ]
    await asyncio.sleep(0)
    replies = [asyncio.create_task(send(limiter, recorder, f"o{n}")) for n in range(3)]
    await asyncio.gather(*replies)
    assert recorder.times("o0") == pytest.approx([2 / 30])  # one token interval behind the head
    assert recorder.times("o2") == pytest.approx([4 / 30])
    assert not all(task.done() for task in fan_out)
    await asyncio.gather(*fan_out)
    assert time.elapsed == pytest.approx(302 / 30)  # the fan-out lost only the replies' tokens
    assert max_in_window_ok(recorder.times(), rate=30, burst=1)


async def test_bucket_pause_blocks_until_then_allows_no_burst() -> None:
    time = FakeTime()
    bucket = bucket_on(time, rate=1.0, burst=3.0)
    bucket.pause_until(START + 5)
    bucket.pause_until(START + 2)  # an earlier end never shortens a pause
    stamps = []
    for _ in range(3):
        await bucket.acquire()
        stamps.append(time.elapsed)
    assert stamps == pytest.approx([5, 6, 7])


async def test_acquire_with_takes_a_token_from_both_buckets_at_once() -> None:
    time = FakeTime()
    chat = bucket_on(time, rate=1.0, burst=2.0)
    overall = bucket_on(time, rate=4.0, burst=1.0)
    stamps = []
    for _ in range(4):
        await chat.acquire_with(overall)
        stamps.append(time.elapsed)
    # The overall bucket sets the pace first (a token every 0.25 s), then the chat's (1/s).
    assert stamps == pytest.approx([0, 0.25, 1.0, 2.0])


async def test_a_bucket_is_idle_and_full_once_refilled_and_not_paused() -> None:
    time = FakeTime()
    bucket = bucket_on(time, rate=1.0, burst=2.0)
    assert bucket.is_idle_and_full(time.now)
    await bucket.acquire()
    assert not bucket.is_idle_and_full(time.now)
    assert bucket.is_idle_and_full(time.now + 1)
    bucket.pause_until(time.now + 5)
    assert not bucket.is_idle_and_full(time.now + 4)
    assert bucket.is_idle_and_full(time.now + 6)


def test_bucket_rejects_settings_that_could_never_hand_out_a_token() -> None:
    time = FakeTime()
    with pytest.raises(ValueError, match="rate"):
        bucket_on(time, rate=0.0, burst=3.0)
    with pytest.raises(ValueError, match="burst"):
        bucket_on(time, rate=1.0, burst=0.5)


# --- Throttling ---------------------------------------------------------------------------


async def test_sixty_chats_go_no_faster_than_the_overall_limit() -> None:
    time = FakeTime()
    limiter = limiter_on(time)  # 30/s overall, burst 30
    recorder = Recorder(time)
    await asyncio.gather(*(send(limiter, recorder, chat) for chat in range(60)))
    stamps = recorder.times()
    # The burst of 30 goes at once; the other 30 follow at 30/s, so the last at 1 s.
    assert stamps[:30] == [0.0] * 30
    assert stamps[30:] == pytest.approx([n / 30 for n in range(1, 31)])
    assert max_in_window_ok(stamps, rate=30, burst=30)


async def test_sixty_chats_take_about_two_seconds_without_a_burst() -> None:
    time = FakeTime()
    limiter = limiter_on(time, overall_burst=1.0)
    recorder = Recorder(time)
    await asyncio.gather(*(send(limiter, recorder, chat) for chat in range(60)))
    assert time.elapsed == pytest.approx(59 / 30)
    assert recorder.times() == pytest.approx([n / 30 for n in range(60)])


async def test_one_chat_gets_its_burst_then_one_message_a_second() -> None:
    time = FakeTime()
    limiter = limiter_on(time, per_chat_rate=1.0, per_chat_burst=3.0)
    recorder = Recorder(time)
    await asyncio.gather(*(send(limiter, recorder, 7) for _ in range(5)))
    assert recorder.times() == pytest.approx([0, 0, 0, 1, 2])


async def test_a_busy_chat_does_not_hold_up_other_chats() -> None:
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    busy = [asyncio.create_task(send(limiter, recorder, "busy")) for _ in range(5)]
    await asyncio.sleep(0)
    await send(limiter, recorder, "quiet")
    assert recorder.times("quiet") == [0.0]
    assert not all(task.done() for task in busy)
    await asyncio.gather(*busy)
    assert recorder.times("busy") == pytest.approx([0, 0, 0, 1, 2])


async def test_numeric_string_chat_ids_share_the_chats_bucket() -> None:
    time = FakeTime()
    limiter = limiter_on(time, per_chat_burst=1.0)
    recorder = Recorder(time)
    await send(limiter, recorder, 42)
    await send(limiter, recorder, "42")
    assert [t for t, _ in recorder.calls] == pytest.approx([START, START + 1])


# --- 429 RetryAfter -----------------------------------------------------------------------


async def test_retry_after_is_waited_out_and_pauses_other_chats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.telegram_limits")
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    flooded = asyncio.create_task(send(limiter, recorder, 1, failures=[flood(3), flood(3)]))
    await recorder.called.wait()  # the first attempt has failed and the pause begun
    assert time.elapsed == 0
    other = await send(limiter, recorder, 2)
    result = await flooded

    assert isinstance(result, dict) and result["chat"] == {"id": 1}
    assert len(recorder.times(1)) == 3
    assert recorder.times(1)[1] >= 3 and recorder.times(1)[2] >= 6
    assert time.elapsed >= 6
    # Chat 2 never hit a limit, but Telegram floods are per bot: it waited too.
    assert isinstance(other, dict) and recorder.times(2)[0] >= 3

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "sendMessage" in warnings[0].getMessage()
    assert SECRET_TEXT not in caplog.text


@pytest.mark.parametrize("ptb_timedelta", ["false", "true"])
async def test_retry_after_as_timedelta_is_waited_out(
    ptb_timedelta: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 hands retry_after out as seconds by default and as a timedelta when opted in.
    monkeypatch.setenv("PTB_TIMEDELTA", ptb_timedelta)
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    await send(limiter, recorder, 1, failures=[flood(dt.timedelta(seconds=2.5))])
    assert len(recorder.calls) == 2
    assert recorder.times()[1] >= 2.5


async def test_a_429_is_never_given_up_on() -> None:
    time = FakeTime()
    limiter = limiter_on(time, max_network_retries=0)
    recorder = Recorder(time)
    result = await send(limiter, recorder, 1, failures=[flood(1)] * 25)
    assert isinstance(result, dict)
    assert len(recorder.calls) == 26
    assert time.elapsed >= 25


async def test_a_429_on_a_request_without_chat_id_pauses_overall() -> None:
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    inline_edit = limiter.process_request(
        recorder.callback("inline", [flood(4)]),
        (),
        {},
        "editMessageText",
        {"inline_message_id": "abc", "text": SECRET_TEXT},
        None,
    )
    await inline_edit
    await send(limiter, recorder, 9)
    # After a flood wait the overall bucket restarts with one token, not a fresh burst.
    assert recorder.times() == pytest.approx([0, 4.1, 4.1 + 1 / 30])
    assert limiter.tracked_chats == 1  # only chat 9: the inline edit has no chat bucket


# --- Other errors -------------------------------------------------------------------------


@pytest.mark.parametrize("error", [NetworkError("connection reset"), TimedOut()])
async def test_network_errors_are_retried_then_succeed(error: NetworkError) -> None:
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    result = await send(limiter, recorder, 1, failures=[error, error])
    assert isinstance(result, dict)
    assert len(recorder.calls) == 3
    assert time.sleeps == [0.5, 1.0]


async def test_network_errors_forever_reraise_after_the_backoff_sequence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.telegram_limits")
    time = FakeTime()
    limiter = limiter_on(time, max_network_retries=5)
    recorder = Recorder(time)
    secret_url = "https://api.telegram.org/bot123:SECRET-TOKEN/sendMessage"
    with pytest.raises(NetworkError, match="unreachable"):
        await send(limiter, recorder, 1, failures=[NetworkError(f"unreachable {secret_url}")] * 99)
    assert len(recorder.calls) == 6  # the first try and 5 retries
    assert time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert "SECRET-TOKEN" not in caplog.text and SECRET_TEXT not in caplog.text


async def test_no_network_retries_when_configured_so() -> None:
    time = FakeTime()
    limiter = limiter_on(time, max_network_retries=0)
    recorder = Recorder(time)
    with pytest.raises(TimedOut):
        await send(limiter, recorder, 1, failures=[TimedOut()])
    assert len(recorder.calls) == 1 and time.sleeps == []


@pytest.mark.parametrize(
    "error", [BadRequest("Chat not found"), Forbidden("bot was blocked"), InvalidToken()]
)
async def test_rejections_reraise_at_once_without_retry(error: TelegramError) -> None:
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    with pytest.raises(type(error)):
        await send(limiter, recorder, 1, failures=[error, error])
    assert len(recorder.calls) == 1
    assert time.sleeps == []


# --- Which endpoints are limited ----------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendMediaGroup",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "copyMessage",
        "forwardMessage",
        "forwardMessages",
        "stopPoll",
    ],
)
def test_sending_endpoints(endpoint: str) -> None:
    assert is_sending_endpoint(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "getUpdates",
        "getMe",
        "answerCallbackQuery",
        "setMyCommands",
        "deleteWebhook",
        "getChat",
        "deleteMessage",
        "editForumTopic",
    ],
)
async def test_non_sending_endpoints_pass_straight_through(endpoint: str) -> None:
    assert not is_sending_endpoint(endpoint)
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    for _ in range(100):
        await send(limiter, recorder, 5, endpoint=endpoint)
    assert len(recorder.calls) == 100
    assert time.sleeps == [] and limiter.tracked_chats == 0
    # The overall bucket is untouched: its whole burst is still there for sends.
    await asyncio.gather(*(send(limiter, recorder, chat) for chat in range(30)))
    assert time.sleeps == []


async def test_non_sending_endpoints_still_wait_out_a_429() -> None:
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    await send(limiter, recorder, None, failures=[flood(2)], endpoint="setMyCommands")
    assert len(recorder.calls) == 2 and recorder.times()[1] >= 2
    assert limiter.tracked_chats == 0


# --- Bounded memory -----------------------------------------------------------------------


async def test_bucket_count_stays_bounded_over_twenty_thousand_chats() -> None:
    time = FakeTime()
    limiter = limiter_on(time)
    recorder = Recorder(time)
    most = 0
    for chat in range(20_000):
        await send(limiter, recorder, chat)
        most = max(most, limiter.tracked_chats)
    assert len(recorder.calls) == 20_000
    assert most <= 1024
    await limiter.shutdown()
    assert limiter.tracked_chats == 0


async def test_eviction_never_forgets_a_chat_that_is_still_limited() -> None:
    time = FakeTime()
    limiter = limiter_on(time, max_chat_buckets=2, overall_rate=1000.0, overall_burst=1000.0)
    recorder = Recorder(time)
    for _ in range(3):
        await send(limiter, recorder, "limited")  # its burst is spent
    for chat in range(50):  # many new chats force sweeps; none of them may evict "limited"
        await send(limiter, recorder, chat)
    await send(limiter, recorder, "limited")
    assert recorder.times("limited") == pytest.approx([0, 0, 0, 1])

    assert limiter.tracked_chats == 51  # all still limited, so none could be forgotten
    for chat in range(100, 200):  # once the others are full and idle, sweeps forget them
        time.now += 2
        await send(limiter, recorder, chat)
    assert limiter.tracked_chats <= 2


# --- The limits hold for any traffic ------------------------------------------------------

PER_CHAT_RATE, PER_CHAT_BURST = 1.0, 2.0
OVERALL_RATE, OVERALL_BURST = 3.0, 4.0

traffic = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=2.0),  # gap before this request arrives
        st.integers(min_value=0, max_value=3),  # chat
        st.integers(min_value=0, max_value=2),  # how many 429s its first attempts get
    ),
    max_size=25,
)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(traffic)
def test_no_window_ever_exceeds_the_limits(plan: list[tuple[float, int, int]]) -> None:
    time = FakeTime()
    limiter = limiter_on(
        time,
        per_chat_rate=PER_CHAT_RATE,
        per_chat_burst=PER_CHAT_BURST,
        overall_rate=OVERALL_RATE,
        overall_burst=OVERALL_BURST,
    )
    recorder = Recorder(time)

    async def run() -> list[Result]:
        tasks = []
        for gap, chat, floods in plan:
            time.now += gap
            failures = [flood(1)] * floods
            tasks.append(asyncio.create_task(send(limiter, recorder, chat, failures=failures)))
            await asyncio.sleep(0)
        return await asyncio.gather(*tasks)

    results = asyncio.run(run())

    assert len(results) == len(plan)  # every request got through eventually
    # Every attempt counts, the ones that got a 429 included: Telegram saw them all.
    assert len(recorder.calls) == len(plan) + sum(floods for _, _, floods in plan)
    for chat in range(4):
        assert max_in_window_ok(recorder.times(chat), PER_CHAT_RATE, PER_CHAT_BURST)
    assert max_in_window_ok(recorder.times(), OVERALL_RATE, OVERALL_BURST)


# --- Through python-telegram-bot for real -------------------------------------------------


def bot_api(result: object) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


TOO_MANY_REQUESTS = json.dumps(
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }
).encode()
ME = {"id": 1, "is_bot": True, "first_name": "Progress", "username": "progress_bot"}
SENT = {
    "message_id": 77,
    "date": 1_790_000_000,
    "chat": {"id": 1, "type": "private", "first_name": "Somchai"},
    "from": ME,
    "text": "x",
}


class RecordingRequest(BaseRequest):
    """Answers Bot API calls from canned responses, per endpoint, without any socket."""

    def __init__(self, responses: dict[str, list[tuple[int, bytes]]]) -> None:
        self.responses = responses
        self.endpoints: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *timeouts: object,
        **named_timeouts: object,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        self.endpoints.append(endpoint)
        queue = self.responses[endpoint]
        return queue.pop(0) if len(queue) > 1 else queue[0]


async def test_ptb_send_message_succeeds_after_a_429(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.telegram_limits")
    time = FakeTime()
    recording_request = RecordingRequest(
        {
            "getMe": [(200, bot_api(ME))],
            "sendMessage": [(429, TOO_MANY_REQUESTS), (200, bot_api(SENT))],
        }
    )
    app = (
        ApplicationBuilder()
        .token("1:T")
        .rate_limiter(TelegramRateLimiter(clock=time.clock, sleep=time.sleep))
        .request(recording_request)
        .get_updates_request(RecordingRequest({}))
        .build()
    )
    # PTB's own RetryAfter constructor warns about the int form; that is not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        async with app:
            message = await app.bot.send_message(chat_id=1, text="x")

    assert message.message_id == 77 and message.text == "x"
    assert recording_request.endpoints == ["getMe", "sendMessage", "sendMessage"]
    assert time.elapsed >= 2
    assert "retry" in caplog.text and "1:T" not in caplog.text
