"""Fan-out of reminders to many chats against a fake Bot API that enforces Telegram's limits.

The fake answers 429 (retry_after) to any message sent faster than 30/s overall or 1/s per
chat. Reports the achieved rate as a fraction of 30/s, messages lost and duplicated (both
must be 0), the 429s met, and peak memory of this process (bot side and fake together).

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.reminder_fanout --chats 10000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import TelegramConfig
from bot.telegram_channel import TelegramChannel, TelegramNotifier
from domain.models import ChatIdentity, ProjectData, Role
from handlers.conversation import Conversation
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.delivery import ReminderService
from scheduler.planner import ReminderPlanner
from storage.sqlite import SqliteStorage
from tests.fake_telegram import FakeBotApi, Flood

TOKEN = "888:FANOUT"
AT = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Bangkok"))  # the window opens


async def fill(repo: SqliteStorage, chats: int) -> None:
    for n in range(chats):
        code = f"F-{n:05d}"
        await repo.upsert_project(
            ProjectData(
                code=code, name=f"โครงการ {n}", fiscal_year=2570, start_date=date(2026, 10, 1),
                end_date=date(2027, 9, 30), budget_received=Decimal(100000), agency="เขตทดสอบ",
            )
        )  # fmt: skip
        person = await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset({Role.OFFICER}))
        await repo.link_officer(person.id, code)
        await repo.link_identity(ChatIdentity("telegram", str(100_000 + n), person.id))


async def main(chats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo = await SqliteStorage.open(Path(folder) / "fanout.sqlite3")
        await fill(repo, chats)
        async with FakeBotApi(TOKEN, flood=Flood(1.0, 30.0, 1)) as fake:
            channel = TelegramChannel(
                TelegramConfig(token=TOKEN, api_base_url=fake.base_url),
                Conversation(repo, lambda: AT),
            )
            await channel.start()
            calendar = ReportingCalendar(CalendarSettings(), holidays=lambda day: False)
            service = ReminderService(
                repo, ReminderPlanner(repo, calendar), {"telegram": TelegramNotifier(channel)},
                lambda: AT,
            )  # fmt: skip
            started = time.perf_counter()
            report = await service.tick()
            elapsed = time.perf_counter() - started
            again = await service.tick()  # a second tick must send nothing
            await channel.stop()
            sends = Counter(s.chat_id for s in fake.sent if s.method == "sendMessage")
            rejected = fake.rejected_429
        await repo.close()
    delivered = len(sends)
    duplicates = sum(count - 1 for count in sends.values())
    rate = delivered / elapsed
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"chats={chats} due={report.due} sent={report.sent} retry={report.retry}")
    print(f"delivered={delivered} lost={chats - delivered} duplicates={duplicates} 429s={rejected}")
    print(f"elapsed={elapsed:.1f}s rate={rate:.2f}/s = {rate / 30:.3f} of 30/s")
    print(f"second tick: sent={again.sent} already={again.already}; peak memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().chats))
