"""Fan-out of reminders to many chats, and officers' answers while it runs.

A fake Bot API on 127.0.0.1 enforces Telegram's limits: it answers 429 (retry_after) to any
message sent faster than 30/s overall or 1/s per chat. The bot's Telegram channel polls it
while one reminder tick sends to every chat; meanwhile a few officers (who snoozed their own
reminders) each do a whole report, one message at a time with a second to read each answer.
Two ways of sending are compared in the same run, round after round (interleaved):
  - lanes: reminders in the bulk lane of the rate limiter, answers in the reply lane (the bot);
  - one queue: every message in one first-come-first-served queue (the limiter without lanes,
    as before; python-telegram-bot itself has no limiter by default, and its optional
    AIORateLimiter is also one queue).
Reported for each: the fan-out's rate (from its first reminder out to its last) as a fraction
of 30/s, and that of all messages sent meanwhile (reminders and answers share the limit),
reminders lost and duplicated (both must be 0), 429s met, and p50/p99 from an officer's
message to the bot's answer.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.reminder_fanout --chats 2000 --rounds 3

Aims: answers p99 under 300 ms during the fan-out; the fan-out at least 0.95 of 30 msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.telegram_bench import SCRIPT, Replies, percentiles
from bot.config import TelegramConfig
from bot.telegram_channel import TelegramChannel, TelegramNotifier
from bot.telegram_limits import Lane, is_sending_endpoint
from domain.models import ChatIdentity, ProjectData, Role
from handlers.conversation import Conversation
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.delivery import ReminderService
from scheduler.planner import ReminderPlanner
from storage.sqlite import SqliteStorage
from tests.fake_telegram import FakeBotApi, Flood

TOKEN = "888:FANOUT"
AT = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Bangkok"))  # the window opens
FIRST_REMINDED = 100_000  # chat ids of the reminded officers
FIRST_TALKING = 900_000  # chat ids of the officers who write during the fan-out
READING = 1.0  # seconds an officer takes to read an answer and type the next message


async def fill(repo: SqliteStorage, chats: int, talking: int) -> None:
    """`chats` officers to remind, and `talking` who snoozed their reminders and will write."""
    for n in range(chats + talking):
        code = f"F-{n:05d}"
        await repo.upsert_project(
            ProjectData(
                code=code, name=f"โครงการ {n}", fiscal_year=2570, start_date=date(2026, 11, 1),
                end_date=date(2027, 9, 30), budget_received=Decimal(1_000_000), agency="เขตทดสอบ",
            )
        )  # fmt: skip
        person = await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset({Role.OFFICER}))
        await repo.link_officer(person.id, code)
        chat = FIRST_REMINDED + n if n < chats else FIRST_TALKING + n - chats
        await repo.link_identity(ChatIdentity("telegram", str(chat), person.id))
        if n >= chats:
            await repo.snooze(person.id, code, AT.date(), AT + timedelta(days=30))


@dataclass
class Result:
    name: str
    rate: float
    all_sends: float
    lost: int
    duplicates: int
    floods: int
    p50_ms: float
    p99_ms: float
    answers: int


async def one_run(folder: Path, chats: int, talking: int, lanes: bool) -> Result:
    repo = await SqliteStorage.open(folder / f"fanout-{time.monotonic_ns()}.sqlite3")
    await fill(repo, chats, talking)
    async with FakeBotApi(TOKEN, flood=Flood(1.0, 30.0, 1)) as fake:
        channel = TelegramChannel(
            TelegramConfig(token=TOKEN, api_base_url=fake.base_url, poll_timeout=1),
            Conversation(repo, lambda: AT),
        )
        await channel.start()
        # Without lanes, reminders share the answers' queue, as before.
        notifier = TelegramNotifier(channel, Lane.BULK if lanes else Lane.REPLY)
        calendar = ReportingCalendar(CalendarSettings(), holidays=lambda day: False)
        service = ReminderService(
            repo, ReminderPlanner(repo, calendar), {"telegram": notifier}, lambda: AT
        )
        stop = asyncio.Event()
        polling = asyncio.create_task(channel.poll(stop))
        replies = Replies()
        reminded = FIRST_REMINDED + chats

        def on_send(sent: object) -> None:
            chat = getattr(sent, "chat_id", None)
            if chat is not None and chat >= reminded:  # only the talking officers' answers
                replies.on_send(sent)  # type: ignore[arg-type]

        fake.on_send = on_send
        fan_out = asyncio.create_task(service.tick())
        await asyncio.sleep(2.0)  # the fan-out is at full speed
        latencies: list[float] = []

        async def officer(n: int) -> None:
            user = FIRST_TALKING + n
            await asyncio.sleep(n * READING / talking)  # people do not write in step
            # A whole report but the last press, then cancelled, again and again.
            while not fan_out.done():
                for step in [*SCRIPT[:-1], ("type", "/cancel")]:
                    if fan_out.done():
                        return
                    latencies.append(await replies.ask(fake, user, step))
                    await asyncio.sleep(READING)

        officers = asyncio.gather(*(officer(n) for n in range(talking)))
        report = await fan_out
        await officers
        stop.set()
        await polling
        await channel.stop()
        sends = Counter(
            s.chat_id
            for s in fake.sent
            if s.method == "sendMessage" and s.chat_id is not None and s.chat_id < reminded
        )
        floods = fake.rejected_429
        # The fan-out's own time: from the first reminder out to the last (planning aside).
        times = [s.at for s in fake.sent if s.method == "sendMessage" and s.chat_id in sends]
        first, last = min(times), max(times)
        limited = sum(
            1 for s in fake.sent if is_sending_endpoint(s.method) and first <= s.at <= last
        )
        span = last - first
    await repo.close()
    assert report.sent == chats, report
    p50, p99 = percentiles(latencies)
    return Result(
        "lanes" if lanes else "one queue",
        (len(sends) - 1) / span,
        (limited - 1) / span,
        chats - len(sends),
        sum(count - 1 for count in sends.values()),
        floods,
        p50,
        p99,
        len(latencies),
    )


def row(r: Result) -> str:
    return (
        f"{r.name:10} fan-out {r.rate:6.2f}/s = {r.rate / 30:.3f} of 30/s (all sends "
        f"{r.all_sends / 30:.3f}), lost {r.lost}, "
        f"duplicated {r.duplicates}, 429s {r.floods}; answers p50 {r.p50_ms:6.0f} ms "
        f"p99 {r.p99_ms:6.0f} ms ({r.answers})"
    )


async def main(chats: int, talking: int, rounds: int) -> None:
    found: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, rounds + 1):
            for lanes in (True, False):
                result = await one_run(Path(tmp), chats, talking, lanes)
                found.setdefault(result.name, []).append(result)
                print(f"round {n}: {row(result)}", flush=True)
    print(f"chats={chats}, {talking} officers writing; medians of {rounds} interleaved rounds:")
    for name, results in found.items():
        print(
            f"{name:10} fan-out {statistics.median(r.rate for r in results) / 30:.3f} of 30/s "
            f"(all sends {statistics.median(r.all_sends for r in results) / 30:.3f}), "
            f"lost {max(r.lost for r in results)}, duplicated "
            f"{max(r.duplicates for r in results)}; answers p50 "
            f"{statistics.median(r.p50_ms for r in results):.0f} ms, p99 "
            f"{statistics.median(r.p99_ms for r in results):.0f} ms"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (bot and fake together): {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--talking", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.chats, options.talking, options.rounds))
