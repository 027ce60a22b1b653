"""LINE webhook throughput and latency of progress-bot, next to a bare aiohttp echo webhook.

Both run as separate processes, with signature verification on, against the same fake LINE
platform (tests/fake_line.py, in this process), in the same run. For each:
  1. sequential: one event at a time (each sent once the previous one was answered), as one
     officer after another does a whole report: events/s;
  2. concurrent: every remaining officer does a whole report at once, each message sent as soon
     as the previous one was answered: events/s and complete reports/s.
Latency is from the webhook request leaving the platform to the bot's reply call reaching it.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.line_bench --officers 200 --sequential 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.telegram_bench import percentiles, prepare_database
from tests.fake_line import FakeLine, Sent

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-line-channel-access-token-0123456789"
SCRIPT = ["/report", "๘๐ %", "5 หมื่น", "-", "ใช่", "ใช่", "ยืนยัน"]
HERE = Path(__file__).resolve().parent


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def start(
    command: list[str], folder: Path, env: dict[str, str]
) -> asyncio.subprocess.Process:
    log = (folder / f"{Path(command[1]).stem}.log").open("ab")
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


async def measure(
    name: str, fake: FakeLine, users: list[str], script: list[str], sequential: int
) -> Result:
    replies = Replies()
    fake.on_send = replies.on_send
    one_by_one: list[float] = []
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
    started = time.perf_counter()
    await asyncio.gather(*(officer(u) for u in concurrent))
    elapsed = time.perf_counter() - started
    return Result(
        name,
        sequential_per_s,
        *percentiles(one_by_one),
        len(concurrent) * len(script) / elapsed,
        len(concurrent) / elapsed,
        *percentiles(latencies),
    )


async def main(officers: int, sequential: int) -> None:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        users = [user_id(n) for n in range(officers)]
        async with FakeLine(SECRET, TOKEN, quota=None) as fake:
            database = folder / "bench.sqlite3"
            await prepare_database(database, officers, channel="line", account=user_id)
            port = free_port()
            config = folder / "bench.toml"
            config.write_text(
                f'[database]\npath = "{database}"\n[bot]\nfixed_now = "2026-11-23T10:00:00+07:00"\n'
                f'[logging]\nlevel = "WARNING"\n[line]\napi_host = "{fake.base_url}"\n'
                f"webhook_port = {port}\n",
                encoding="utf-8",
            )
            env = {
                "PROGRESS_BOT_LINE_CHANNEL_SECRET": SECRET,
                "PROGRESS_BOT_LINE_ACCESS_TOKEN": TOKEN,
            }
            echo_port = free_port()
            targets = {
                "progress-bot": (
                    [sys.executable, "-m", "bot", "--config", str(config), "run"], port
                ),
                "aiohttp echo": (
                    [
                        sys.executable, str(HERE / "line_echo.py"), SECRET, TOKEN, fake.base_url,
                        str(echo_port),
                    ],
                    echo_port,
                ),
            }  # fmt: skip
            for name, (command, listening) in targets.items():
                fake.webhook_url = f"http://127.0.0.1:{listening}/line"
                process = await start(command, folder, env)
                await wait_until_listening(fake)
                script = SCRIPT if name == "progress-bot" else [f"echo {t}" for t in SCRIPT]
                results.append(await measure(name, fake, users, script, sequential))
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
    print(
        f"officers={officers}: {sequential} one after another, {officers - sequential} at once; "
        "signatures verified"
    )
    print(
        f"{'':14} {'sequential':>27} | {'concurrent':>38}\n"
        f"{'':14} {'ev/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'ev/s':>9} {'reports/s':>10} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    for r in results:
        print(
            f"{r.name:14} {r.sequential_per_s:9.0f} {r.sequential_p50_ms:8.1f} "
            f"{r.sequential_p99_ms:8.1f} | {r.concurrent_per_s:9.0f} {r.reports_per_s:10.1f} "
            f"{r.p50_ms:8.1f} {r.p99_ms:8.1f}"
        )
    ours, echo = results
    print(
        f"progress-bot concurrent throughput = {ours.concurrent_per_s / echo.concurrent_per_s:.0%} "
        "of the echo webhook"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.officers, args.sequential))
