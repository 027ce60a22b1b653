"""LINE webhook throughput and latency of progress-bot, next to a bare aiohttp echo webhook.

Both run as separate processes, with signature verification on, against the same fake LINE
platform (tests/fake_line.py, in this process), round after round (interleaved), each round on
a fresh database; medians of the rounds are printed. For each:
  1. sequential: one event at a time (each sent once the previous one was answered), as one
     officer after another does a whole report: events/s;
  2. concurrent: every remaining officer does a whole report at once, each message sent as soon
     as the previous one was answered: events/s and complete reports/s.
Latency is from the webhook request leaving the platform to the bot's reply call reaching it.
The CPU share of each server process and of this one (the platform and its officers) is
printed too: when this process is near 100 %, the platform, not the bot, sets the pace.

Aim (issue 13): progress-bot at least 0.5 of the echo webhook's events/s, sequential and
concurrent, over whole report conversations.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.line_bench --officers 200 --sequential 20 \
        --rounds 5

With --profile FILE the bot runs under cProfile (bench/profiled.py) while it is measured, one
round; read FILE with pstats.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.telegram_bench import cpu_seconds, percentiles, prepare_database
from tests.fake_line import FakeLine, Sent

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-line-channel-access-token-0123456789"
SCRIPT = ["/report", "๘๐ %", "5 หมื่น", "-", "ใช่", "ใช่", "ยืนยัน"]
NOW = "2026-11-23T10:00:00+07:00"  # the bot's fixed clock; events happen then too
HERE = Path(__file__).resolve().parent
BOT, ECHO = "progress-bot", "aiohttp echo"


def user_id(n: int) -> str:
    return f"U{n:032d}"


@dataclass
class Replies:
    """Routes each reply the bot sends to the officer waiting for it."""

    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    def on_send(self, sent: Sent) -> None:
        future = self.waiting.pop(sent.to, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def ask(self, fake: FakeLine, user: str, text: str) -> float:
        """Deliver one text event; the seconds until the first reply to that user."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[user] = future
        started = time.perf_counter()
        status = await fake.deliver(fake.text(user, text))
        if status != 200:
            raise RuntimeError(f"webhook answered {status}")
        return await asyncio.wait_for(future, 60) - started


@dataclass
class Result:
    name: str
    sequential_per_s: float
    sequential_p50_ms: float
    sequential_p99_ms: float
    concurrent_per_s: float
    reports_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # share of one core the server process used while measured
    platform_cpu: float  # share of one core this process (platform and officers) used


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def start(
    command: list[str], folder: Path, env: dict[str, str]
) -> asyncio.subprocess.Process:
    log = (folder / f"{Path(command[-1]).stem}.log").open("ab")
    return await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
        env={**os.environ, "PYTHAINLP_READ_ONLY": "1", **env}, cwd=folder,
    )  # fmt: skip


async def wait_until_listening(fake: FakeLine) -> None:
    """Deliver LINE's verification call (no events) until the server answers it."""
    for _ in range(600):
        try:
            if await fake.deliver() == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the webhook never came up")


async def warm_up(fake: FakeLine, user: str, script: list[str]) -> None:
    """One whole report, unmeasured: what a server does once after starting (the reader's
    word list, the catch-up reminder tick) stays out of the numbers."""
    replies = Replies()
    fake.on_send = replies.on_send
    for text in script:
        await replies.ask(fake, user, text)
    await asyncio.sleep(1)


async def measure(
    name: str, fake: FakeLine, pid: int, users: list[str], script: list[str], sequential: int
) -> Result:
    replies = Replies()
    fake.on_send = replies.on_send
    one_by_one: list[float] = []
    cpu_before, own_before = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    for user in users[:sequential]:
        for text in script:
            one_by_one.append(await replies.ask(fake, user, text))
    sequential_per_s = sequential * len(script) / (time.perf_counter() - started)
    latencies: list[float] = []

    async def officer(user: str) -> None:
        for text in script:
            latencies.append(await replies.ask(fake, user, text))

    concurrent = users[sequential:]
    concurrent_started = time.perf_counter()
    await asyncio.gather(*(officer(u) for u in concurrent))
    finished = time.perf_counter()
    elapsed = finished - concurrent_started
    return Result(
        name,
        sequential_per_s,
        *percentiles(one_by_one),
        len(concurrent) * len(script) / elapsed,
        len(concurrent) / elapsed,
        *percentiles(latencies),
        (cpu_seconds(pid) - cpu_before) / (finished - started),
        (time.process_time() - own_before) / (finished - started),
    )


async def one_round(
    folder: Path, officers: int, sequential: int, profile: Path | None
) -> list[Result]:
    """progress-bot, then the echo webhook, each on a fresh database and fake platform."""
    results: list[Result] = []
    users = [user_id(n) for n in range(officers)]
    spare = user_id(officers)  # warms the server up, unmeasured
    at = datetime.fromisoformat(NOW).timestamp()
    env = {"PROGRESS_BOT_LINE_CHANNEL_SECRET": SECRET, "PROGRESS_BOT_LINE_ACCESS_TOKEN": TOKEN}
    for name in (BOT, ECHO):
        async with FakeLine(SECRET, TOKEN, quota=None, clock=lambda: at) as fake:
            port = free_port()
            if name == BOT:
                database = folder / f"bench-{time.monotonic_ns()}.sqlite3"
                await prepare_database(database, officers + 1, channel="line", account=user_id)
                config = folder / "bench.toml"
                config.write_text(
                    f'[database]\npath = "{database}"\n[bot]\nfixed_now = "{NOW}"\n'
                    f'[logging]\nlevel = "WARNING"\n[line]\napi_host = "{fake.base_url}"\n'
                    f'api_data_host = "{fake.base_url}"\nwebhook_port = {port}\n',
                    encoding="utf-8",
                )
                arguments = ["bot", "--config", str(config), "run"]
                command = (
                    [sys.executable, "-m", *arguments]
                    if profile is None
                    else [sys.executable, str(HERE / "profiled.py"), str(profile), *arguments]
                )
            else:
                command = [
                    sys.executable, str(HERE / "line_echo.py"), SECRET, TOKEN, fake.base_url,
                    str(port),
                ]  # fmt: skip
            fake.webhook_url = f"http://127.0.0.1:{port}/line"
            process = await start(command, folder, env)
            await wait_until_listening(fake)
            script = SCRIPT if name == BOT else [f"echo {t}" for t in SCRIPT]
            await warm_up(fake, spare, script)
            profiling = profile is not None and name == BOT
            if profiling:
                process.send_signal(signal.SIGUSR1)
            results.append(await measure(name, fake, process.pid, users, script, sequential))
            if profiling:
                process.send_signal(signal.SIGUSR2)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
    return results


def row(r: Result) -> str:
    return (
        f"{r.name:14} {r.sequential_per_s:9.0f} {r.sequential_p50_ms:8.1f} "
        f"{r.sequential_p99_ms:8.1f} | {r.concurrent_per_s:9.0f} {r.reports_per_s:10.1f} "
        f"{r.p50_ms:8.1f} {r.p99_ms:8.1f} | {r.server_cpu:7.0%} {r.platform_cpu:9.0%}"
    )


def median_result(name: str, results: list[Result]) -> Result:
    columns = zip(*(list(vars(r).values())[1:] for r in results), strict=True)
    return Result(name, *(statistics.median(c) for c in columns))


async def main(officers: int, sequential: int, rounds: int, profile: Path | None) -> None:
    by_name: dict[str, list[Result]] = {}
    header = (
        f"{'':14} {'sequential':>27} | {'concurrent':>38} | {'cpu (one core = 100 %)':>17}\n"
        f"{'':14} {'ev/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'ev/s':>9} {'reports/s':>10} "
        f"{'p50 ms':>8} {'p99 ms':>8} | {'server':>7} {'platform':>9}"
    )
    print(
        f"officers={officers}: {sequential} one after another, {officers - sequential} at once; "
        f"signatures verified\n{header}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, rounds + 1):
            for result in await one_round(Path(tmp), officers, sequential, profile):
                by_name.setdefault(result.name, []).append(result)
                print(f"{row(result)}  (round {n})", flush=True)
    print(f"medians of {rounds} interleaved rounds:\n{header}")
    medians = {name: median_result(name, results) for name, results in by_name.items()}
    for result in medians.values():
        print(row(result))
    for label in ("sequential", "concurrent"):
        attribute = f"{label}_per_s"
        ratios = [
            getattr(o, attribute) / getattr(e, attribute)
            for o, e in zip(by_name[BOT], by_name[ECHO], strict=True)
        ]
        print(
            f"progress-bot {label} = {statistics.median(ratios):.2f} of the echo webhook "
            f"(per round: {', '.join(f'{r:.2f}' for r in ratios)})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    rounds = 1 if args.profile is not None else args.rounds
    asyncio.run(main(args.officers, args.sequential, rounds, args.profile))
