"""Benchmark of the conversation core on a real SQLite file, without any chat channel.

Many simulated officers each complete a full monthly report at once; prints messages handled per
second, complete reports per second, and p50/p99 time to answer one message.

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

from handlers.conversation import Conversation
from handlers.types import Inbound
from storage.models import ChatIdentity, ProjectData, Role
from storage.sqlite import SqliteRepository

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Bangkok"))
SCRIPT = ["ส่งรายงาน", "๘๐ %", "5 หมื่น", "ประชุมคณะทำงาน", "ใช่", "ไม่", "รอผู้รับจ้าง", "ยืนยัน"]


async def setup(repo: SqliteRepository, officers: int) -> None:
    """One project starting in November (so no month question) per officer."""
    for n in range(officers):
        code = f"B-{n:05d}"
        await repo.upsert_project(
            ProjectData(
                code=code,
                name=f"โครงการทดสอบ {n}",
                fiscal_year=2570,
                start_date=date(2026, 11, 1),
                end_date=date(2027, 9, 30),
                budget_received=Decimal("1000000"),
                agency="สำนักงานเขตทดสอบ / ฝ่ายโยธา",
            )
        )
        person = await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset({Role.OFFICER}))
        await repo.link_officer(person.id, code)
        await repo.link_identity(ChatIdentity("bench", f"u{n}", person.id))


async def officer(conversation: Conversation, n: int, latencies: list[float]) -> None:
    for text in SCRIPT:
        started = time.perf_counter()
        await conversation.handle(Inbound.typed("bench", f"u{n}", text))
        latencies.append(time.perf_counter() - started)


async def main(officers: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = await SqliteRepository.open(Path(folder) / "bench.sqlite3")
        await setup(repo, officers)
        conversation = Conversation(repo, lambda: NOW)
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.officers, args.concurrency))
