"""Telegram throughput and latency of progress-bot, next to a bare python-telegram-bot echo bot.

Both run as separate processes against the same fake Bot API on 127.0.0.1 (in this process), in
the same run. Two phases for each:
  1. saturation: every simulated officer does a whole report at once, each message sent as soon
     as the previous one was answered: updates/s and complete reports/s;
  2. a steady load of --rate updates/s (officers answering one message at a time): p50/p99 from
     an update being available to the bot's reply.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.telegram_bench --officers 200 --rate 50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.models import ChatIdentity, ProjectData, Role
from storage.sqlite import SqliteStorage
from tests.fake_telegram import FakeBotApi, Sent

TOKEN = "777:BENCH"
SCRIPT = ["/report", "๘๐ %", "5 หมื่น", "-", "ใช่", "ใช่", "ยืนยัน"]
HERE = Path(__file__).resolve().parent


@dataclass
class Replies:
    """Routes each reply sent by the bot to the officer waiting for it."""

    waiting: dict[int, asyncio.Future[float]] = field(default_factory=dict)

    def on_send(self, sent: Sent) -> None:
        if sent.method != "sendMessage" or sent.chat_id is None:
            return
        future = self.waiting.pop(sent.chat_id, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def ask(self, fake: FakeBotApi, user: int, text: str) -> float:
        """Push a message and return the seconds until the first reply to that chat."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[user] = future
        started = time.perf_counter()
        fake.push_text(user, text)
        return await asyncio.wait_for(future, 60) - started


@dataclass
class Result:
    name: str
    updates_per_s: float
    reports_per_s: float
    p50_ms: float
    p99_ms: float
    steady_rate: float


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    q = statistics.quantiles(latencies, n=100)
    return q[49] * 1000, q[98] * 1000


async def prepare_database(
    path: Path,
    officers: int,
    *,
    channel: str = "telegram",
    account: Callable[[int], str] = lambda n: str(10_000 + n),
) -> None:
    """One project per officer, starting this month (so no month question), each officer
    linked on `channel` as `account(n)`."""
    repo = await SqliteStorage.open(path)
    for n in range(officers):
        code = f"B-{n:05d}"
        await repo.upsert_project(
            ProjectData(
                code=code, name=f"โครงการ {n}", fiscal_year=2570, start_date=date(2026, 11, 1),
                end_date=date(2027, 9, 30), budget_received=Decimal("1000000"),
                agency="สำนักงานเขตทดสอบ",
            )
        )  # fmt: skip
        person = await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset({Role.OFFICER}))
        await repo.link_officer(person.id, code)
        await repo.link_identity(ChatIdentity(channel, account(n), person.id))
    await repo.close()


async def start(command: list[str], folder: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHAINLP_READ_ONLY": "1"}
    log = (folder / f"{Path(command[1]).stem}.log").open("ab")
    return await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=folder
    )


async def measure(
    name: str, fake: FakeBotApi, users: list[int], script: list[str], rate: float, seconds: float
) -> Result:
    replies = Replies()
    fake.on_send = replies.on_send
    half = len(users) // 2
    saturation_users, steady_users = users[:half], users[half:]

    async def officer(user: int) -> None:
        for text in script:
            await replies.ask(fake, user, text)

    started = time.perf_counter()
    await asyncio.gather(*(officer(u) for u in saturation_users))
    elapsed = time.perf_counter() - started
    updates_per_s = len(saturation_users) * len(script) / elapsed
    reports_per_s = len(saturation_users) / elapsed

    # Steady load: one message every 1/rate s, each from an officer not waiting for an answer.
    latencies: list[float] = []
    idle: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for user in steady_users:
        idle.put_nowait((user, 0))
    tasks: set[asyncio.Task[None]] = set()

    async def one(user: int, step: int) -> None:
        latencies.append(await replies.ask(fake, user, script[step]))
        if step + 1 < len(script):
            idle.put_nowait((user, step + 1))

    deadline = time.perf_counter() + seconds
    tick = time.perf_counter()
    sent = 0
    while time.perf_counter() < deadline and not idle.empty():
        user, step = idle.get_nowait()
        task = asyncio.create_task(one(user, step))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
        tick += 1 / rate
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    steady_elapsed = seconds - max(0.0, deadline - time.perf_counter())
    await asyncio.gather(*tasks)
    p50, p99 = percentiles(latencies)
    return Result(name, updates_per_s, reports_per_s, p50, p99, sent / steady_elapsed)


async def main(officers: int, rate: float, seconds: float) -> None:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        users = [10_000 + n for n in range(officers)]
        async with FakeBotApi(TOKEN) as fake:
            database = folder / "bench.sqlite3"
            await prepare_database(database, officers)
            config = folder / "bench.toml"
            config.write_text(
                f'[database]\npath = "{database}"\n[bot]\nfixed_now = "2026-11-23T10:00:00+07:00"\n'
                f'[logging]\nlevel = "WARNING"\n[telegram]\ntoken = "{TOKEN}"\n'
                f'api_base_url = "{fake.base_url}"\npoll_timeout = 10\n'
                "messages_per_second = 10000.0\nmessages_per_chat_per_second = 10000.0\n",
                encoding="utf-8",
            )
            targets = {
                "progress-bot": [sys.executable, "-m", "bot", "--config", str(config), "run"],
                "PTB echo bot": [sys.executable, str(HERE / "echo_bot.py"), TOKEN, fake.base_url],
            }
            for name, command in targets.items():
                seen = len(fake.requests)
                process = await start(command, folder)
                await fake.wait_for_request("getUpdates", timeout=60, after=seen)
                script = SCRIPT if name == "progress-bot" else [f"echo {t}" for t in SCRIPT]
                results.append(await measure(name, fake, users, script, rate, seconds))
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
    print(f"officers={officers} (half saturation, half steady) steady rate={rate}/s")
    print(
        f"{'':14} {'updates/s':>10} {'reports/s':>10} {'steady/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for r in results:
        print(
            f"{r.name:14} {r.updates_per_s:10.0f} {r.reports_per_s:10.1f} {r.steady_rate:9.1f} "
            f"{r.p50_ms:8.1f} {r.p99_ms:8.1f}"
        )
    ours, echo = results
    print(
        f"progress-bot throughput = {ours.updates_per_s / echo.updates_per_s:.0%} of the echo bot"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    asyncio.run(main(args.officers, args.rate, args.seconds))
