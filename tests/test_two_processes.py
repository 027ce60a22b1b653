"""Two `progress-bot run` processes on one PostgreSQL database: the reminder fan-out goes out
once, though both processes try to tick at the same moment (one runs, the other skips); a
second Telegram poller does not start; a LINE report whose events alternate between the
processes is stored once. (The crash-safety run with two processes is in
tests/test_crash_safety.py.)"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

from domain.models import DeliveryStatus
from storage.postgres import PostgresStorage
from tests.backends import Database
from tests.bot_process import TOKEN, BotProcess, prepare_world
from tests.fake_telegram import FakeBotApi

CHATS = 300
FIRST_CHAT = 70_000
WINDOW_OPENS = "2026-11-25T09:05:00+07:00"  # the window of November opens on the 25th


async def prepare(url: str, chats: int) -> None:
    """`chats` officers of a project each (running in November), linked on Telegram."""
    database = Database(Path("unused.sqlite3"), url)
    await database.empty()
    await prepare_world(database, chats, first_user=FIRST_CHAT, prefix="R")


def process(fake: FakeBotApi, folder: Path, url: str, number: int, port: int) -> BotProcess:
    """A bot process with reminders on, in webhook mode on its own port."""
    place = folder / f"process-{number}"
    place.mkdir()
    config = place / "bot.toml"
    config.write_text(
        Database(place / "unused.sqlite3", url).config() + f'[bot]\nfixed_now = "{WINDOW_OPENS}"\n'
        f'[telegram]\napi_base_url = "{fake.base_url}"\nmode = "webhook"\n'
        'webhook_public_url = "https://bots.example.go.th/telegram"\n'
        f"webhook_port = {port}\nmessages_per_second = 10000.0\n",
        encoding="utf-8",
    )
    return BotProcess(fake, place, config, webhook_port=port)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_two_processes_tick_together_and_each_reminder_goes_once(
    tmp_path: Path, postgres_url: str
) -> None:
    await prepare(postgres_url, CHATS)
    async with FakeBotApi(TOKEN) as fake:
        bots = [process(fake, tmp_path, postgres_url, n, free_port()) for n in (1, 2)]
        try:
            # Started together: each catches up at once with a tick of its own.
            await asyncio.gather(*(bot.start() for bot in bots))
            await fake.wait_for(lambda _: True, timeout=120, after=CHATS - 1)
            # A clean stop waits for a tick in progress: then every claim is settled.
            exits = [await bot.terminate() for bot in bots]
        finally:
            for bot in bots:
                await bot.ensure_stopped()
    assert exits == [0, 0]
    repo = await PostgresStorage.open(postgres_url)
    try:
        records = await repo.reminder_records()
    finally:
        await repo.close()
    assert len(records) == CHATS and {r.status for r in records} == {DeliveryStatus.SENT}
    reminders = [s for s in fake.sent if "ถึงเวลารายงานความก้าวหน้า" in (s.text or "")]
    per_chat = Counter(s.chat_id for s in reminders)
    assert len(per_chat) == CHATS, "every officer reminded"
    assert set(per_chat.values()) == {1}, "and none twice"
    sent_by = []
    for bot in bots:
        log = bot.log_path.read_text(encoding="utf-8")
        assert "Traceback" not in log
        sent_by.append(sum(int(n) for n in re.findall(r"reminders: (\d+) sent", log)))
    assert sum(sent_by) == CHATS, f"what each process sent: {sent_by}"


async def test_a_second_poller_says_so_and_does_not_poll(tmp_path: Path, postgres_url: str) -> None:
    await prepare(postgres_url, 1)
    async with FakeBotApi(TOKEN) as fake:
        bots = []
        for number in (1, 2):
            place = tmp_path / f"poller-{number}"
            place.mkdir()
            config = place / "bot.toml"
            config.write_text(
                Database(place / "unused.sqlite3", postgres_url).config()
                + f'[bot]\nfixed_now = "{WINDOW_OPENS}"\n[reminders]\nenabled = false\n'
                f'[telegram]\napi_base_url = "{fake.base_url}"\npoll_timeout = 1\n',
                encoding="utf-8",
            )
            bots.append(BotProcess(fake, place, config))
        try:
            await bots[0].start()  # polls
            second = bots[1]
            assert second.process is None
            log = second.log_path
            with log.open("ab") as out:
                import sys

                second.process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "--config", str(second.config), "run",
                    stdout=out, stderr=out, cwd=second.folder,
                    env={"PYTHAINLP_READ_ONLY": "1", "PROGRESS_BOT_TELEGRAM_TOKEN": TOKEN,
                         "PATH": "/usr/bin:/bin"},
                )  # fmt: skip
            for _ in range(400):
                if log.exists() and "another process already polls" in log.read_text("utf-8"):
                    break
                await asyncio.sleep(0.05)
            assert "another process already polls Telegram" in log.read_text("utf-8")
            # Only the first one fetches updates: one officer's message is answered once.
            fake.push_text(FIRST_CHAT, "/help")
            await fake.wait_for(lambda s: s.chat_id == FIRST_CHAT, timeout=30)
            assert [await bot.terminate() for bot in bots] == [0, 0]
            answers = [s for s in fake.sent if s.chat_id == FIRST_CHAT]
            assert len(answers) == 1
        finally:
            for bot in bots:
                await bot.ensure_stopped()


async def test_a_line_report_whose_events_land_on_both_processes(
    tmp_path: Path, postgres_url: str
) -> None:
    """LINE posts each event to the load balancer; here they alternate between two processes.
    The report goes through as with one process, and is stored once."""
    from tests.fake_line import FakeLine
    from tests.line_support import SECRET, SINGLE
    from tests.line_support import TOKEN as LINE_TOKEN
    from tests.support import SCHOOL
    from tests.test_line_e2e import FIRST_NOW, Bot, prepare

    database = Database(tmp_path / "unused.sqlite3", postgres_url)
    await database.empty()
    await prepare(database, telegram=False)
    async with FakeLine(SECRET, LINE_TOKEN, clock=FIRST_NOW.timestamp) as line:
        bots, urls = [], []
        for number in (1, 2):
            place = tmp_path / f"line-{number}"
            place.mkdir()
            port = free_port()
            config = place / "bot.toml"
            config.write_text(
                database.config() + f'[bot]\nfixed_now = "{FIRST_NOW.isoformat()}"\n'
                "[reminders]\nenabled = false\n"
                f'[line]\napi_host = "{line.base_url}"\napi_data_host = "{line.base_url}"\n'
                f"webhook_port = {port}\n",
                encoding="utf-8",
            )
            bots.append(Bot(line, place, config, database=database))
            urls.append(f"http://127.0.0.1:{port}/line")
        try:
            for bot in bots:  # one after the other: each is ready once it checked its token
                await bot.start()
            steps = [
                ("say", "ส่งรายงาน", "กี่เปอร์เซ็นต์"), ("say", "๖๐ %", "เบิกจ่ายสะสม"),
                ("say", "1.5 แสน", "สรุปผลการดำเนินงาน"),
                ("press", "ไม่มีบันทึก", "เป็นไปตามแผนหรือไม่"),
                ("press", "เป็นไปตามแผน", "เป็นไปตามเป้าหมายหรือไม่"),
                ("press", "เป็นไปตามเป้าหมาย", "กรุณาตรวจสอบรายงานก่อนส่ง"),
                ("press", "ยืนยันส่ง", "บันทึกรายงานครั้งที่ 2"),
            ]  # fmt: skip
            for number, (how, what, expect) in enumerate(steps):
                line.webhook_url = urls[number % 2]  # the balancer sends it to this process
                if how == "say":
                    await bots[0].say(SINGLE, what, expect)
                else:
                    await bots[0].press(SINGLE, what, expect)
            assert [await bot.terminate() for bot in bots] == [0, 0]
        finally:
            for bot in bots:
                if bot.process is not None and bot.process.returncode is None:
                    bot.process.kill()
                    await bot.process.wait()
    repo = await database.open()
    try:
        [report] = [r for r in await repo.reports_of_project(SCHOOL.code) if r.report_no == 2]
        assert (report.values.progress, report.values.disbursed, report.channel) == (
            Decimal("60.00"), Decimal("150000.00"), "line",
        )  # fmt: skip
        assert report.revision == 1 and len(await repo.revisions(report.id)) == 1
        assert await repo.load_session("line", SINGLE) is None, "the conversation ended"
    finally:
        await repo.close()
    for bot in bots:
        assert "Traceback" not in bot.log()
