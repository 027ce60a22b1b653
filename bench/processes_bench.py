"""Throughput of one and of two bot processes on PostgreSQL, and of one on SQLite, over webhooks.

Every configuration runs `python -m bot run` in Telegram's webhook mode behind the fake Bot API
(tests/fake_telegram.py), which plays Telegram and a load balancer: each update goes to one of
the processes at random, one update of a chat at a time. `--officers` simulated officers each
send a whole monthly report at once (the conversation of bench/telegram_bench.py, typed and
pressed, each step waiting for the bot's answer). Reported per configuration: updates handled
per second from the first update to the last report, and p50/p99 from an update to its answer.
The configurations alternate round after round (interleaved); medians of the rounds are quoted.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.processes_bench --officers 200 --rounds 3

PostgreSQL: a throwaway server made by tests/pg_server.py (fsync off: the figures are of the
bot, not of the disk), or --database-url of one's own (emptied at each round).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.telegram_bench import SCRIPT, Replies, percentiles
from tests import pg_server
from tests.backends import Database
from tests.bot_process import TOKEN, BotProcess, prepare_world
from tests.fake_telegram import FakeBotApi

FIRST_USER = 10_000
CONFIGURATIONS = (("SQLite, 1 process", 1, False), ("PostgreSQL, 1 process", 1, True),
                  ("PostgreSQL, 2 processes", 2, True))  # fmt: skip


@dataclass
class Result:
    name: str
    updates_per_s: float
    p50_ms: float
    p99_ms: float


async def prepare(database: Database, officers: int) -> None:
    """One project per officer, starting this month (so no month question), linked to their
    Telegram account, in an emptied database."""
    await database.empty()
    await prepare_world(
        database, officers, first_user=FIRST_USER, prefix="B", start=date(2026, 11, 1)
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(
    name: str, processes: int, database: Database, officers: int, folder: Path
) -> Result:
    await prepare(database, officers)
    async with FakeBotApi(TOKEN) as fake:
        bots = []
        for number in range(processes):
            place = folder / f"{time.monotonic_ns()}-{number}"
            place.mkdir()
            port = free_port()
            config = place / "bot.toml"
            config.write_text(
                database.config() + '[bot]\nfixed_now = "2026-11-23T10:00:00+07:00"\n'
                '[logging]\nlevel = "WARNING"\n[reminders]\nenabled = false\n'
                f'[telegram]\napi_base_url = "{fake.base_url}"\nmode = "webhook"\n'
                'webhook_public_url = "https://bots.example.go.th/telegram"\n'
                f"webhook_port = {port}\n"
                "messages_per_second = 10000.0\nmessages_per_chat_per_second = 10000.0\n",
                encoding="utf-8",
            )
            bots.append(BotProcess(fake, place, config, webhook_port=port))
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            fake.deliver_through([f"http://127.0.0.1:{b.webhook_port}/telegram" for b in bots])
            replies = Replies()
            fake.on_send = replies.on_send
            latencies: list[float] = []

            async def officer(user: int) -> None:
                for step in SCRIPT:
                    latencies.append(await replies.ask(fake, user, step))

            started = time.perf_counter()
            await asyncio.gather(*(officer(FIRST_USER + n) for n in range(officers)))
            elapsed = time.perf_counter() - started
            for bot in bots:
                await bot.terminate()
        finally:
            for bot in bots:
                await bot.ensure_stopped()
    p50, p99 = percentiles(latencies)
    return Result(name, officers * len(SCRIPT) / elapsed, p50, p99)


async def main(officers: int, rounds: int, url: str | None) -> None:
    by_name: dict[str, list[Result]] = {}
    with pg_server.address(url) as address, tempfile.TemporaryDirectory() as tmp:
        for round_number in range(1, rounds + 1):
            for name, processes, postgres in CONFIGURATIONS:
                folder = Path(tmp)
                database = Database(
                    folder / f"bench-{time.monotonic_ns()}.sqlite3", address if postgres else None
                )
                result = await measure(name, processes, database, officers, folder)
                by_name.setdefault(name, []).append(result)
                print(f"round {round_number}: {row(result)}", flush=True)
    print(f"\nmedians of {rounds} rounds, {officers} officers, {len(SCRIPT)} updates each:")
    base = statistics.median(r.updates_per_s for r in by_name[CONFIGURATIONS[0][0]])
    for name, results in by_name.items():
        median = Result(
            name,
            statistics.median(r.updates_per_s for r in results),
            statistics.median(r.p50_ms for r in results),
            statistics.median(r.p99_ms for r in results),
        )
        print(f"  {row(median)}  ({median.updates_per_s / base:.2f} x SQLite)")


def row(r: Result) -> str:
    return (
        f"{r.name:<26} {r.updates_per_s:7.1f} updates/s  "
        f"p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:7.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL database of one's own (emptied)")
    args = parser.parse_args()
    asyncio.run(main(args.officers, args.rounds, args.database_url))
    sys.exit(0)
