"""Benchmark of the conversation core on a real SQLite file, without any chat channel.

Many simulated officers each complete a full monthly report at once; prints messages handled per
second, complete reports per second, and p50/p99 time to answer one message. Then, one officer at
a time, the storage calls each message costs (every method called on the storage, reads and
writes alike), for a one-project officer's whole report and for a two-project officer who picks
the project by typing its number.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.conversation --officers 200 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.messages import Inbound
from domain.models import ChatIdentity, ProjectData, Role
from domain.replies import warm_up
from handlers.conversation import Conversation
from storage.sqlite import SqliteStorage
from tests.support import Counting

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Bangkok"))
SCRIPT = ["ส่งรายงาน", "๘๐ %", "5 หมื่น", "ประชุมคณะทำงาน", "ใช่", "ไม่", "รอผู้รับจ้าง", "ยืนยัน"]
TWO_PROJECTS = ["ส่งรายงาน", "1", "๘๐ %"]


def project(code: str, n: int) -> ProjectData:
    """A project starting in November (so no month question)."""
    return ProjectData(
        code=code,
        name=f"โครงการทดสอบ {n}",
        fiscal_year=2570,
        start_date=date(2026, 11, 1),
        end_date=date(2027, 9, 30),
        budget_received=Decimal("1000000"),
        agency="สำนักงานเขตทดสอบ / ฝ่ายโยธา",
    )


async def add_officer(repo: SqliteStorage, user: str, codes: list[str]) -> None:
    """An officer of the given projects, with a chat account on the bench channel."""
    person = await repo.add_person(f"เจ้าหน้าที่ {user}", roles=frozenset({Role.OFFICER}))
    for code in codes:
        await repo.link_officer(person.id, code)
    await repo.link_identity(ChatIdentity("bench", user, person.id))


async def setup(repo: SqliteStorage, officers: int) -> None:
    """One project per officer."""
    for n in range(officers):
        code = f"B-{n:05d}"
        await repo.upsert_project(project(code, n))
        await add_officer(repo, f"u{n}", [code])


async def officer(conversation: Conversation, n: int, latencies: list[float]) -> None:
    for step, text in enumerate(SCRIPT):
        started = time.perf_counter()
        # Each message carries an update id, as every real channel's does.
        await conversation.handle(Inbound.typed("bench", f"u{n}", text, f"{n}-{step}"))
        latencies.append(time.perf_counter() - started)


async def throughput(officers: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = await SqliteStorage.open(Path(folder) / "bench.sqlite3")
        await setup(repo, officers)
        conversation = Conversation(repo, lambda: NOW)
        warm_up()  # as `run` does at start-up: the word list is loaded before the first message
        latencies: list[float] = []
        gate = asyncio.Semaphore(concurrency)

        async def limited(n: int) -> None:
            async with gate:
                await officer(conversation, n, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(limited(n) for n in range(officers)))
        elapsed = time.perf_counter() - started
        stored = len(await repo.report_rows())
        await repo.close()
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"officers={officers} concurrency={concurrency} messages={len(latencies)}")
    print(f"reports stored: {stored} (expected {officers})")
    print(f"messages/s: {len(latencies) / elapsed:.0f}   reports/s: {stored / elapsed:.1f}")
    print(f"per message: p50 {quantiles[49] * 1000:.1f} ms   p99 {quantiles[98] * 1000:.1f} ms")


async def calls_per_message(
    user: str, script: list[str], repo: SqliteStorage
) -> list[tuple[str, int, str]]:
    """Storage calls made by each message of `script`, typed by `user` one after another."""
    counting = Counting(repo)
    conversation = Conversation(counting.as_storage(), lambda: NOW)
    rows = []
    for step, text in enumerate(script):
        counting.calls.clear()
        await conversation.handle(Inbound.typed("bench", user, text, f"{user}-{step}"))
        detail = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counting.calls.items())
        rows.append((text, sum(counting.calls.values()), detail))
    return rows


async def counts() -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = await SqliteStorage.open(Path(folder) / "calls.sqlite3")
        await setup(repo, 1)
        await repo.upsert_project(project("B-TWO-1", 1))
        await repo.upsert_project(project("B-TWO-2", 2))
        await add_officer(repo, "two", ["B-TWO-1", "B-TWO-2"])

        for title, user, script in (
            ("one project, a whole report", "u0", SCRIPT),
            ("two projects, the project picked by typing its number", "two", TWO_PROJECTS),
        ):
            print(f"storage calls per message ({title}):")
            for text, total, detail in await calls_per_message(user, script, repo):
                print(f"  {text!r:>20}: {total:2d}  ({detail})")
        await repo.close()


async def main(officers: int, concurrency: int) -> None:
    await throughput(officers, concurrency)
    await counts()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.officers, args.concurrency))
