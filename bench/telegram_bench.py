"""Telegram throughput and latency of progress-bot, next to a bare python-telegram-bot echo bot.

Both run as separate processes against the same fake Bot API on 127.0.0.1 (in this process), in
the same run, round after round (interleaved); medians of the rounds are printed. The echo bot
has python-telegram-bot's default settings (one update at a time). Two phases for each:
  1. saturation: every simulated officer does a whole report at once (typing some answers and
     pressing buttons for others, as officers do), each message sent as soon as the previous one
     was answered: updates/s, complete reports/s, the rate-limited Bot API calls (sends and
     edits) per update, and the CPU time of the bot's process per update;
  2. a steady load of --rate updates/s (officers answering one message at a time): p50/p99 from
     an update being available to the bot's reply.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.telegram_bench --officers 200 --rate 50

With --profile FILE the bot runs under cProfile (bench/profiled.py) while it is measured, one
round only (its figures are then slower than without); read FILE with pstats.
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

from bot.telegram_limits import is_sending_endpoint
from domain.models import ChatIdentity, ProjectData, Role
from storage.sqlite import SqliteStorage
from tests.fake_telegram import FakeBotApi, Sent

TOKEN = "777:BENCH"
# A whole report as officers make it: typed figures, pressed buttons (a press is the label of
# the button to press on the latest message with buttons).
SCRIPT: list[tuple[str, str]] = [
    ("type", "/report"), ("type", "๘๐ %"), ("type", "5 หมื่น"), ("press", "ไม่มีบันทึก"),
    ("press", "เป็นไปตามแผน"), ("press", "เป็นไปตามเป้าหมาย"), ("press", "ยืนยันส่ง"),
]  # fmt: skip
ECHO_SCRIPT = [("type", f"echo {n}") for n in range(len(SCRIPT))]
HERE = Path(__file__).resolve().parent


@dataclass
class Replies:
    """Routes each reply sent by the bot to the officer waiting for it, keeps the latest message
    with buttons of each chat, and counts the rate-limited calls (sends and edits)."""

    waiting: dict[int, asyncio.Future[float]] = field(default_factory=dict)
    buttons: dict[int, tuple[int, list[tuple[str, str]]]] = field(default_factory=dict)
    limited: int = 0

    def on_send(self, sent: Sent) -> None:
        if sent.chat_id is None:
            return
        if is_sending_endpoint(sent.method):
            self.limited += 1
        shown = FakeBotApi.buttons(sent)
        if shown and sent.message_id is not None:
            self.buttons[sent.chat_id] = (sent.message_id, shown)
        if sent.method not in {"sendMessage", "editMessageText"}:
            return
        future = self.waiting.pop(sent.chat_id, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def ask(self, fake: FakeBotApi, user: int, step: tuple[str, str]) -> float:
        """Type or press, and return the seconds until the first reply to that chat."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[user] = future
        how, what = step
        started = time.perf_counter()
        if how == "type":
            fake.push_text(user, what)
        else:
            message_id, shown = self.buttons[user]
            data = next(data for label, data in shown if label.startswith(what))
            fake.push_callback(user, data, message_id=message_id)
        return await asyncio.wait_for(future, 60) - started


@dataclass
class Result:
    name: str
    updates_per_s: float
    reports_per_s: float
    calls_per_update: float
    p50_ms: float
    p99_ms: float
    steady_rate: float
    cpu_ms: float  # CPU of the bot process per update, saturation phase


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    name: str,
    pid: int,
    fake: FakeBotApi,
    users: list[int],
    script: list[tuple[str, str]],
    rate: float,
    seconds: float,
) -> Result:
    replies = Replies()
    fake.on_send = replies.on_send
    half = len(users) // 2
    saturation_users, steady_users = users[:half], users[half:]

    async def officer(user: int) -> None:
        for step in script:
            await replies.ask(fake, user, step)

    started, cpu_before = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*(officer(u) for u in saturation_users))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    updates = len(saturation_users) * len(script)
    updates_per_s = updates / elapsed
    reports_per_s = len(saturation_users) / elapsed
    calls_per_update = replies.limited / updates

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
    return Result(
        name,
        updates_per_s,
        reports_per_s,
        calls_per_update,
        p50,
        p99,
        sent / steady_elapsed,
        cpu / updates * 1000,
    )


async def one_round(
    folder: Path, officers: int, rate: float, seconds: float, profile: Path | None = None
) -> list[Result]:
    """progress-bot, then the echo bot, each on a fresh database and fake Bot API."""
    results: list[Result] = []
    users = [10_000 + n for n in range(officers)]
    for name in ("progress-bot", "PTB echo bot"):
        async with FakeBotApi(TOKEN) as fake:
            database = folder / f"bench-{time.monotonic_ns()}.sqlite3"
            await prepare_database(database, officers)
            config = folder / "bench.toml"
            config.write_text(
                f'[database]\npath = "{database}"\n[bot]\nfixed_now = "2026-11-23T10:00:00+07:00"\n'
                f'[logging]\nlevel = "WARNING"\n[telegram]\ntoken = "{TOKEN}"\n'
                f'api_base_url = "{fake.base_url}"\npoll_timeout = 10\n'
                "messages_per_second = 10000.0\nmessages_per_chat_per_second = 10000.0\n",
                encoding="utf-8",
            )
            arguments = ["bot", "--config", str(config), "run"]
            profiling = profile is not None and name == "progress-bot"
            command = (
                [sys.executable, str(HERE / "profiled.py"), str(profile), *arguments]
                if profiling
                else [sys.executable, "-m", *arguments]
                if name == "progress-bot"
                else [sys.executable, str(HERE / "echo_bot.py"), TOKEN, fake.base_url]
            )
            seen = len(fake.requests)
            process = await start(command, folder)
            await fake.wait_for_request("getUpdates", timeout=60, after=seen)
            script = SCRIPT if name == "progress-bot" else ECHO_SCRIPT
            if profiling:
                process.send_signal(signal.SIGUSR1)
            results.append(await measure(name, process.pid, fake, users, script, rate, seconds))
            if profiling:
                process.send_signal(signal.SIGUSR2)
                await asyncio.sleep(1)  # the profile is written before the bot is stopped
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    return results


async def main(
    officers: int, rate: float, seconds: float, rounds: int, profile: Path | None = None
) -> None:
    by_name: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, rounds + 1):
            for result in await one_round(Path(tmp), officers, rate, seconds, profile):
                by_name.setdefault(result.name, []).append(result)
                print(f"round {n}: {row(result)}", flush=True)
    print(f"officers={officers} (half saturation, half steady) steady rate={rate}/s")
    print(f"medians of {rounds} interleaved rounds:")
    print(
        f"{'':14} {'updates/s':>10} {'reports/s':>10} {'calls/upd':>10} {'steady/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'cpu ms/u':>8}"
    )
    medians = {name: median_result(name, results) for name, results in by_name.items()}
    for result in medians.values():
        print(row(result))
    ours, echo = medians["progress-bot"], medians["PTB echo bot"]
    ratios = [
        o.updates_per_s / e.updates_per_s
        for o, e in zip(by_name["progress-bot"], by_name["PTB echo bot"], strict=True)
    ]
    print(
        f"progress-bot throughput = {ours.updates_per_s / echo.updates_per_s:.2f} of the echo "
        f"bot (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
    )


def row(r: Result) -> str:
    return (
        f"{r.name:14} {r.updates_per_s:10.0f} {r.reports_per_s:10.1f} {r.calls_per_update:10.2f} "
        f"{r.steady_rate:9.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.cpu_ms:8.2f}"
    )


def median_result(name: str, results: list[Result]) -> Result:
    def mid(values: list[float]) -> float:
        return statistics.median(values)

    return Result(
        name,
        mid([r.updates_per_s for r in results]),
        mid([r.reports_per_s for r in results]),
        mid([r.calls_per_update for r in results]),
        mid([r.p50_ms for r in results]),
        mid([r.p99_ms for r in results]),
        mid([r.steady_rate for r in results]),
        mid([r.cpu_ms for r in results]),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the bot into FILE")
    args = parser.parse_args()
    rounds = 1 if args.profile else args.rounds
    asyncio.run(main(args.officers, args.rate, args.seconds, rounds, args.profile))
