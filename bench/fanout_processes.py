"""The month's reminders from two bot processes on one PostgreSQL database, started together so
that both tick at once: every officer must be reminded exactly once.

Each run fills a fresh database with `--chats` officers (one project each, linked on Telegram),
starts two `python -m bot run` processes (webhook mode, reminders on, the clock at the moment
November's window opens) against the fake Bot API, waits until every reminder is settled in the
reminder log, and counts what the fake received per chat. Printed: reminders sent, chats reminded
twice (must be 0) or never (must be 0), how the sending split between the processes (a tick
runs in one process at a time: the other's finds it running and skips), and the seconds from
start to the last reminder.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.fanout_processes --chats 5000
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from domain.models import DeliveryStatus
from storage.postgres import PostgresStorage
from tests import pg_server
from tests.bot_process import TOKEN
from tests.fake_telegram import FakeBotApi
from tests.test_two_processes import free_port, prepare, process


async def run(chats: int, url: str, folder: Path) -> int:
    await prepare(url, chats)
    async with FakeBotApi(TOKEN) as fake:
        bots = [process(fake, folder, url, n, free_port()) for n in (1, 2)]
        started = time.perf_counter()
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            repo = await PostgresStorage.open(url)
            try:
                while True:
                    records = await repo.reminder_records()
                    if len(records) == chats and all(
                        r.status is DeliveryStatus.SENT for r in records
                    ):
                        break
                    await asyncio.sleep(0.2)
            finally:
                await repo.close()
            elapsed = time.perf_counter() - started
            for bot in bots:
                await bot.terminate()
        finally:
            for bot in bots:
                await bot.ensure_stopped()
    per_chat = Counter(s.chat_id for s in fake.sent if "ถึงเวลารายงานความก้าวหน้า" in (s.text or ""))
    twice = sum(1 for n in per_chat.values() if n > 1)
    never = chats - len(per_chat)
    split = [
        sum(int(n) for n in re.findall(r"reminders: (\d+) sent", b.log_path.read_text("utf-8")))
        for b in bots
    ]
    print(f"chats {chats}: reminders sent {sum(per_chat.values())}, twice {twice}, never {never}")
    print(f"sent by each process: {split}; {elapsed:.1f} s from start to the last reminder")
    return 0 if twice == 0 and never == 0 else 1


async def main(chats: int, url: str | None) -> int:
    with pg_server.address(url) as database, tempfile.TemporaryDirectory() as tmp:
        return await run(chats, database, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--database-url", help="a PostgreSQL database of one's own (emptied)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.chats, args.database_url)))
