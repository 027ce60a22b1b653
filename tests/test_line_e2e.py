"""End to end over real sockets: `progress-bot run` with LINE (and Telegram) against fakes.

The fake LINE platform posts signed webhook events to the bot's server and receives its calls;
an officer does a whole report through LINE, the process is killed and restarted in the middle
of a second one, an event LINE delivers again is not applied twice; and with Telegram beside
LINE in the same process, a person linked on both gets each reminder once, where they prefer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from domain.models import ChatIdentity
from handlers.linking import issue_invite, shown_code
from tests.backends import Database
from tests.fake_line import FakeLine, Sent
from tests.fake_telegram import FakeBotApi
from tests.line_support import OFFICER, SECRET, SINGLE, TOKEN
from tests.support import BANGKOK, ROAD, SCHOOL, build_world

TELEGRAM_TOKEN = "424242:E2E-SECRET-TOKEN_do-not-log"
TELEGRAM_OFFICER = 6001
TELEGRAM_SINGLE = 6002

FIRST_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BANGKOK)
WINDOW_NOW = datetime(2026, 11, 25, 9, 5, tzinfo=BANGKOK)


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Bot:
    """The bot process and the fakes it talks to."""

    line: FakeLine
    folder: Path
    config: Path
    telegram: FakeBotApi | None = None
    process: asyncio.subprocess.Process | None = None
    env: dict[str, str] = field(default_factory=dict)
    database: Database | None = None  # where it keeps its data (SQLite or PostgreSQL)

    @property
    def data(self) -> Database:
        assert self.database is not None
        return self.database

    async def start(self) -> None:
        """Start `python -m bot run`; ready once it has checked its LINE token."""
        seen = len(self.line.requests)
        log = (self.folder / "bot.log").open("ab")
        env = {
            **os.environ,
            "PYTHAINLP_READ_ONLY": "1",
            "PROGRESS_BOT_LINE_CHANNEL_SECRET": SECRET,
            "PROGRESS_BOT_LINE_ACCESS_TOKEN": TOKEN,
            **self.env,
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config), "run",
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=self.folder,
        )  # fmt: skip
        log.close()
        await self.line.wait_for_request("/v2/bot/info", timeout=30, after=seen)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def terminate(self) -> int:
        """SIGTERM: a clean stop."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def say(self, user: str, text: str, expect: str) -> Sent:
        """Type a message on LINE and wait for the answer containing `expect`."""
        after = len(self.line.sent)
        assert await self.line.deliver(self.line.text(user, text)) == 200
        return await self.line.wait_for_text(user, expect, timeout=20, after=after)

    async def press(self, user: str, label: str, expect: str) -> Sent:
        """Press the latest LINE button starting with `label`, and wait for the answer."""
        for sent in reversed(self.line.messages_to(user)):
            for shown, data in sent.buttons():
                if shown.startswith(label):
                    after = len(self.line.sent)
                    assert await self.line.deliver(self.line.postback(user, data)) == 200
                    return await self.line.wait_for_text(user, expect, timeout=20, after=after)
        raise AssertionError(f"no button {label!r} for {user}")

    def log(self) -> str:
        return (self.folder / "bot.log").read_text(encoding="utf-8")


async def prepare(database: Database, *, telegram: bool) -> Database:
    repo = await database.open()
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("line", OFFICER, world.officer.id))
    await repo.link_identity(ChatIdentity("line", SINGLE, world.single.id))
    if telegram:
        await repo.link_identity(ChatIdentity("telegram", str(TELEGRAM_OFFICER), world.officer.id))
        await repo.link_identity(ChatIdentity("telegram", str(TELEGRAM_SINGLE), world.single.id))
        # The officer last wrote from LINE; the other one from Telegram.
        await repo.set_preferred_channel(world.officer.id, "line")
        await repo.set_preferred_channel(world.single.id, "telegram")
    await repo.close()
    return database


@pytest.fixture
async def bot(tmp_path: Path, database: Database) -> AsyncIterator[Bot]:
    await prepare(database, telegram=False)
    async with FakeLine(SECRET, TOKEN, clock=FIRST_NOW.timestamp) as line:
        port = free_port()
        line.webhook_url = f"http://127.0.0.1:{port}/line"
        config = tmp_path / "bot.toml"
        config.write_text(
            database.config() + f'[bot]\nfixed_now = "{FIRST_NOW.isoformat()}"\n'
            f'[line]\napi_host = "{line.base_url}"\napi_data_host = "{line.base_url}"\n'
            f"webhook_port = {port}\n",
            encoding="utf-8",
        )
        running = Bot(line, tmp_path, config, database=database)
        try:
            yield running
        finally:
            if running.process is not None and running.process.returncode is None:
                running.process.kill()
                await running.process.wait()


async def stored(
    database: Database, code: str, report_no: int
) -> tuple[Decimal, Decimal, str] | None:
    repo = await database.open()
    try:
        report = await repo.get_report(code, 2570, report_no)
        if report is None:
            return None
        return report.values.progress, report.values.disbursed, report.channel
    finally:
        await repo.close()


async def test_a_whole_report_through_line_a_crash_and_a_redelivery(bot: Bot) -> None:
    await bot.start()
    # The load balancer's health check, on the webhook's own server.
    health = bot.line.webhook_url.replace("/line", "/healthz")
    async with aiohttp.ClientSession() as client, client.get(health) as answer:
        assert answer.status == 200 and await answer.text() == "ok"
    # A whole report by the one-project officer, typed and tapped, answered by replies only.
    await bot.say(SINGLE, "ส่งรายงาน", "กี่เปอร์เซ็นต์")
    await bot.say(SINGLE, "๖๐ %", "เบิกจ่ายสะสม")
    await bot.say(SINGLE, "1.5 แสน", "สรุปผลการดำเนินงาน")
    await bot.press(SINGLE, "ไม่มีบันทึก", "เป็นไปตามแผนหรือไม่")
    await bot.press(SINGLE, "เป็นไปตามแผน", "เป็นไปตามเป้าหมายหรือไม่")
    summary = await bot.press(SINGLE, "เป็นไปตามเป้าหมาย", "กรุณาตรวจสอบรายงานก่อนส่ง")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 150,000 บาท" in summary.text
    await bot.press(SINGLE, "ยืนยันส่ง", "บันทึกรายงานครั้งที่ 2")
    assert await stored(bot.data, SCHOOL.code, 2) == (
        Decimal("60.00"), Decimal("150000.00"), "line",
    )  # fmt: skip
    assert {s.kind for s in bot.line.sent} == {"reply"} and bot.line.used == 0

    # The other officer starts; the process dies in the middle.
    await bot.say(OFFICER, "ส่งรายงาน", "เลือกเดือน")
    await bot.press(OFFICER, "ต.ค. 2569", "กี่เปอร์เซ็นต์")
    typed = bot.line.text(OFFICER, "25")
    assert await bot.line.deliver(typed) == 200
    await bot.line.wait_for_text(OFFICER, "เบิกจ่ายสะสม", timeout=20)
    await bot.kill()

    # Restarted: LINE delivers the last event again (it saw no answer), which changes nothing,
    # and the conversation goes on where it stood.
    await bot.start()
    before = len(bot.line.sent)
    assert await bot.line.deliver(bot.line.again(typed)) == 200
    assert len(bot.line.sent) == before
    await bot.say(OFFICER, "300000", "สรุปผลการดำเนินงาน")
    await bot.say(OFFICER, "ปรับพื้นที่และวางท่อแล้ว", "เป็นไปตามแผนหรือไม่")
    await bot.say(OFFICER, "ไม่", "เหตุผลที่ไม่เป็นไปตามแผน")
    await bot.say(OFFICER, "ฝนตกหนัก", "เป็นไปตามเป้าหมายหรือไม่")
    await bot.say(OFFICER, "ใช่", "กรุณาตรวจสอบรายงานก่อนส่ง")
    await bot.say(OFFICER, "ยืนยัน", "บันทึกรายงานครั้งที่ 1")
    assert await stored(bot.data, ROAD.code, 1) == (
        Decimal("25.00"), Decimal("300000.00"), "line",
    )  # fmt: skip

    # A forged request is refused; a clean stop; no secret in the log.
    assert await bot.line.deliver(bot.line.text(OFFICER, "/cancel"), signature="Zm9yZ2Vk") == 401
    assert await bot.terminate() == 0
    log = bot.log()
    assert SECRET not in log and TOKEN not in log
    assert "Traceback" not in log
    assert "refused a request with a wrong signature" in log


async def test_telegram_and_line_in_one_process_share_one_person(
    tmp_path: Path, database: Database
) -> None:
    await prepare(database, telegram=True)
    async with (
        FakeLine(SECRET, TOKEN, clock=WINDOW_NOW.timestamp) as line,
        FakeBotApi(TELEGRAM_TOKEN) as telegram,
    ):
        port = free_port()
        line.webhook_url = f"http://127.0.0.1:{port}/line"
        config = tmp_path / "bot.toml"
        config.write_text(
            database.config()
            + f'[bot]\nfixed_now = "{WINDOW_NOW.isoformat()}"\n'  # the window opens on 25 Nov
            f'[telegram]\napi_base_url = "{telegram.base_url}"\npoll_timeout = 5\n'
            "messages_per_chat_per_second = 100.0\n"
            f'[line]\napi_host = "{line.base_url}"\napi_data_host = "{line.base_url}"\n'
            f"webhook_port = {port}\n",
            encoding="utf-8",
        )
        # The most talkative log level: every library's lines are searched for secrets below.
        env = {"PROGRESS_BOT_TELEGRAM_TOKEN": TELEGRAM_TOKEN, "PROGRESS_BOT_LOG_LEVEL": "DEBUG"}
        bot = Bot(line, tmp_path, config, telegram, env=env)
        try:
            await bot.start()
            # The officer (prefers LINE) gets both reminders on LINE, the other on Telegram.
            await line.wait_for_text(OFFICER, ROAD.code, timeout=20)
            await line.wait_for_text(OFFICER, SCHOOL.code, timeout=20)
            await telegram.wait_for_text(TELEGRAM_SINGLE, "ถึงเวลารายงานความก้าวหน้า", timeout=20)
            assert telegram.messages_to(TELEGRAM_OFFICER) == []
            assert line.messages_to(SINGLE) == []
            assert line.used == 1, "both projects in one message"
            # The reminder's button for a project starts its report on LINE.
            await bot.press(OFFICER, f"ส่ง {ROAD.code}", "กี่เปอร์เซ็นต์")
            # Writing from Telegram makes Telegram the officer's channel from now on.
            after = len(telegram.sent)
            telegram.push_text(TELEGRAM_OFFICER, "/status")
            await telegram.wait_for_text(TELEGRAM_OFFICER, "", timeout=20, after=after)
            assert await bot.terminate() == 0
            repo = await database.open()
            try:
                officer = await repo.find_person_by_identity("line", OFFICER)
                assert officer is not None
                assert (await repo.preferred_channels())[officer.id] == "telegram"
                sent = [r for r in await repo.reminder_records() if r.key.person_id == officer.id]
                assert sorted((r.channel, r.key.subject) for r in sent) == [
                    ("line", ROAD.code), ("line", SCHOOL.code),
                ]  # fmt: skip
            finally:
                await repo.close()
            log = bot.log()
            assert "DEBUG" in log, "the run logged at debug level"
            for secret in (TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], TOKEN, SECRET):
                assert secret not in log
            assert "Traceback" not in log
        finally:
            if bot.process is not None and bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()


async def test_a_full_run_logs_no_token_code_phone_or_note(
    tmp_path: Path, database: Database
) -> None:
    """The real bot at INFO: an invite redeemed, a report whose note holds a phone number, a
    coordinator's workbook downloaded through the file shelf. Nothing private reaches the log:
    not the download address, not the invite code, not a phone number, not the note."""
    await prepare(database, telegram=False)
    repo = await database.open()
    coordinator = await repo.find_person("น.ส.รัตนา ปิยะวรสกุล")
    officer = await repo.find_person("นายสมชาย ใจดี")
    assert coordinator is not None and officer is not None
    code, _ = await issue_invite(repo, coordinator, FIRST_NOW)
    await repo.close()
    stranger = "U" + "9" * 32
    note = "ประชุมผู้รับจ้าง ติดต่อ 089-765-4321 คุณวิชัย"
    async with FakeLine(SECRET, TOKEN, clock=FIRST_NOW.timestamp) as line:
        port = free_port()
        line.webhook_url = f"http://127.0.0.1:{port}/line"
        config = tmp_path / "bot.toml"
        config.write_text(
            database.config() + f'[bot]\nfixed_now = "{FIRST_NOW.isoformat()}"\n'
            f'[line]\napi_host = "{line.base_url}"\napi_data_host = "{line.base_url}"\n'
            f"webhook_port = {port}\n"
            f'public_base_url = "https://127.0.0.1:{port}"\nfiles_dir = "{tmp_path / "files"}"\n',
            encoding="utf-8",
        )
        bot = Bot(line, tmp_path, config)
        try:
            await bot.start()
            await bot.say(stranger, shown_code(code).lower(), "เชื่อมบัญชีกับ")
            for text, expect in (
                ("ส่งรายงาน", "กี่เปอร์เซ็นต์"), ("40", "เบิกจ่ายสะสม"),
                ("1000", "สรุปผลการดำเนินงาน"), (note, "เป็นไปตามแผนหรือไม่"),
                ("ใช่", "เป็นไปตามเป้าหมายหรือไม่"), ("ใช่", "กรุณาตรวจสอบ"),
                ("ยืนยัน", "บันทึกรายงานครั้งที่ 2"),
            ):  # fmt: skip
                await bot.say(SINGLE, text, expect)
            link = await bot.say(stranger, "ส่งออก", "/line-files/")
            address = next(w for w in link.text.split() if "/line-files/" in w)
            plain = address.replace("https://", "http://")  # no TLS proxy in the test
            async with aiohttp.ClientSession() as session, session.get(plain) as download:
                assert download.status == 200
                assert (await download.read()).startswith(b"PK")
            assert await bot.terminate() == 0
        finally:
            if bot.process is not None and bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()
    log = bot.log()
    token = address.split("/line-files/", 1)[1].split("/", 1)[0]
    assert "GET /line-files…" in log, "the download was logged, without its address"
    for private in (token, code, shown_code(code), "089-765-4321", "0897654321", note, SECRET):
        assert private not in log, private
    assert "Traceback" not in log
