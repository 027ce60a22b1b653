"""End to end over a real socket: `progress-bot run` against a fake Bot API on 127.0.0.1.

A linked officer does a whole report; the process is killed with SIGKILL in the middle of a
second conversation, started again, and the conversation is finished where it stood.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from domain.models import ChatIdentity
from tests.backends import Database
from tests.bot_process import BotProcess
from tests.fake_telegram import FakeBotApi
from tests.support import OTHER, ROAD, SCHOOL, build_world

TOKEN = "424242:E2E-SECRET-TOKEN_do-not-log"
OFFICER = 6001  # Telegram user id linked to the world's two-project officer
SINGLE = 6002  # linked to the officer with one project
FIXED_NOW = "2026-11-23T10:00:00+07:00"


@dataclass
class Bot(BotProcess):
    """The bot process (tests/bot_process.py), and a person typing and pressing to it."""

    token: str = TOKEN
    database: Database | None = None  # where it keeps its data (SQLite or PostgreSQL)

    @property
    def data(self) -> Database:
        assert self.database is not None
        return self.database

    async def say(self, user: int, text: str, expect: str) -> str:
        """Type a message and wait for the bot's answer containing `expect`."""
        after = len(self.fake.sent)
        self.fake.push_text(user, text)
        reply = await self.fake.wait_for_text(user, expect, timeout=20, after=after)
        return reply.text or ""

    async def press(self, user: int, label: str, expect: str) -> str:
        """Press a button of the last message with buttons, and wait for the answer."""
        for sent in reversed(self.fake.messages_to(user)):
            for shown, data in self.fake.buttons(sent):
                if shown.startswith(label):
                    assert sent.message_id is not None
                    after = len(self.fake.sent)
                    self.fake.push_callback(user, data, message_id=sent.message_id)
                    reply = await self.fake.wait_for_text(user, expect, timeout=20, after=after)
                    return reply.text or ""
        raise AssertionError(f"no button {label!r} for {user}")


@pytest.fixture
async def bot(tmp_path: Path, database: Database) -> AsyncIterator[Bot]:
    repo = await database.open()
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", str(OFFICER), world.officer.id))
    await repo.link_identity(ChatIdentity("telegram", str(SINGLE), world.single.id))
    await repo.close()
    async with FakeBotApi(TOKEN) as fake:
        config = tmp_path / "bot.toml"
        config.write_text(
            database.config() + f'[bot]\nfixed_now = "{FIXED_NOW}"\n'
            f'[telegram]\napi_base_url = "{fake.base_url}"\npoll_timeout = 5\n'
            "messages_per_chat_per_second = 100.0\n",
            encoding="utf-8",
        )
        running = Bot(fake, tmp_path, config, database=database)
        try:
            yield running
        finally:
            await running.ensure_stopped()


async def stored(database: Database, code: str, report_no: int) -> tuple[Decimal, Decimal] | None:
    repo = await database.open()
    try:
        report = await repo.get_report(code, 2570, report_no)
        return None if report is None else (report.values.progress, report.values.disbursed)
    finally:
        await repo.close()


async def test_report_kill_restart_and_finish(bot: Bot) -> None:
    await bot.start()
    commands = bot.fake.commands()
    assert {c["command"] for c in commands} >= {"report", "status", "cancel", "help"}

    # A whole report by the single-project officer, with typed answers and buttons.
    await bot.say(SINGLE, "/report", "กี่เปอร์เซ็นต์")
    await bot.say(SINGLE, "๖๐ %", "เบิกจ่ายสะสม")
    await bot.say(SINGLE, "1.5 แสน", "สรุปผลการดำเนินงาน")
    await bot.press(SINGLE, "ไม่มีบันทึก", "เป็นไปตามแผนหรือไม่")
    await bot.press(SINGLE, "เป็นไปตามแผน", "เป็นไปตามเป้าหมายหรือไม่")
    summary = await bot.press(SINGLE, "เป็นไปตามเป้าหมาย", "กรุณาตรวจสอบรายงานก่อนส่ง")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 150,000 บาท" in summary
    await bot.press(SINGLE, "ยืนยันส่ง", "บันทึกรายงานครั้งที่ 2")
    assert await stored(bot.data, SCHOOL.code, 2) == (Decimal("60.00"), Decimal("150000.00"))

    # The other officer starts (the shared school project is reported now, so only the road
    # project is offered and no project question comes), and the process dies in the middle.
    await bot.say(OFFICER, "ส่งรายงาน", "เลือกเดือน")
    await bot.press(OFFICER, "ต.ค. 2569", "กี่เปอร์เซ็นต์")
    await bot.say(OFFICER, "25", "เบิกจ่ายสะสม")
    await bot.kill()

    # An answer typed while the bot was down waits at Telegram, and is handled after restart.
    bot.fake.push_text(OFFICER, "300000")
    await bot.start()
    await bot.fake.wait_for_text(OFFICER, "สรุปผลการดำเนินงาน", timeout=20)
    await bot.say(OFFICER, "ปรับพื้นที่และวางท่อแล้ว", "เป็นไปตามแผนหรือไม่")
    await bot.say(OFFICER, "ไม่", "เหตุผลที่ไม่เป็นไปตามแผน")
    await bot.say(OFFICER, "ฝนตกหนัก", "เป็นไปตามเป้าหมายหรือไม่")
    await bot.say(OFFICER, "ใช่", "กรุณาตรวจสอบรายงานก่อนส่ง")
    await bot.say(OFFICER, "ยืนยัน", "บันทึกรายงานครั้งที่ 1")
    assert await stored(bot.data, ROAD.code, 1) == (Decimal("25.00"), Decimal("300000.00"))
    assert await stored(bot.data, OTHER.code, 1) is None

    # A clean stop: exit code 0, and the token never reached the log.
    assert await bot.terminate() == 0
    log = (bot.folder / "bot.log").read_text(encoding="utf-8")
    assert TOKEN not in log
    assert "Traceback" not in log


async def test_a_report_typed_the_way_officers_type(bot: Bot) -> None:
    """Polite endings, everyday words, a typo, emoji and a doubtful amount asked back, through
    the real bot process and python-telegram-bot."""
    await bot.start()
    await bot.say(OFFICER, "สวัสดีครับ", "สวัสดีคุณสมชาย")
    await bot.say(OFFICER, "ส่ง รายงานครับ", "เลือกโครงการ")
    await bot.say(OFFICER, "1", "เลือกเดือน")  # the road project, listed first
    await bot.say(OFFICER, "พ.ย. ครับ", "กี่เปอร์เซ็นต์")
    await bot.say(OFFICER, "80ครับ", "เบิกจ่ายสะสม")
    await bot.say(OFFICER, "1.2", "หมายถึงจำนวนใด")  # of a 1,200,000-baht budget
    await bot.say(OFFICER, "1", "สรุปผลการดำเนินงาน")  # [1] 1,200,000 บาท
    await bot.say(OFFICER, "ปรับปรุงผิวจราจรเสร็จครับ", "เป็นไปตามแผนหรือไม่")
    await bot.say(OFFICER, "ตามแผนครับ", "เป็นไปตามเป้าหมายหรือไม่")
    await bot.say(OFFICER, "ใช่ครับผม", "กรุณาตรวจสอบรายงานก่อนส่ง")
    await bot.say(OFFICER, "ยืนยันครับ", "บันทึกรายงานครั้งที่ 2")
    assert await stored(bot.data, ROAD.code, 2) == (Decimal("80.00"), Decimal("1200000.00"))
    assert await bot.terminate() == 0


async def test_an_update_redelivered_after_a_crash_is_not_applied_twice(bot: Bot) -> None:
    await bot.start()
    await bot.say(SINGLE, "/report", "กี่เปอร์เซ็นต์")
    typed = bot.fake.push_text(SINGLE, "40")
    await bot.fake.wait_for_text(SINGLE, "เบิกจ่ายสะสม", timeout=20)
    await bot.kill()
    # Telegram did not get the acknowledgement: it sends the same update again.
    bot.fake.redeliver(typed)
    await bot.start()
    again = await bot.fake.wait_for_text(SINGLE, "ทำต่อจากที่ค้างไว้", timeout=20)
    assert "เบิกจ่ายสะสม" in (again.text or ""), "still at the money step: 40 was not read twice"
    await bot.say(SINGLE, "1000", "สรุปผลการดำเนินงาน")
    assert await bot.terminate() == 0


async def test_reminders_arrive_and_a_button_starts_the_report(
    tmp_path: Path, database: Database
) -> None:
    repo = await database.open()
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", str(SINGLE), world.single.id))
    await repo.close()
    async with FakeBotApi(TOKEN) as fake:
        config = tmp_path / "bot.toml"
        config.write_text(
            database.config()
            + '[bot]\nfixed_now = "2026-11-25T09:05:00+07:00"\n'  # the window opens on 25 Nov
            f'[telegram]\napi_base_url = "{fake.base_url}"\npoll_timeout = 5\n',
            encoding="utf-8",
        )
        running = Bot(fake, tmp_path, config)
        try:
            await running.start()
            reminder = await fake.wait_for_text(SINGLE, "ถึงเวลารายงานความก้าวหน้า", timeout=20)
            assert SCHOOL.code in (reminder.text or "")
            await running.press(SINGLE, "ส่งรายงานเลย", "กี่เปอร์เซ็นต์")
            # A restart sends nothing twice: the reminder was recorded before it went out.
            await running.kill()
            await running.start()
            await running.say(SINGLE, "30", "เบิกจ่ายสะสม")
            reminders = [s for s in fake.messages_to(SINGLE) if "ถึงเวลารายงาน" in (s.text or "")]
            assert len(reminders) == 1
            assert await running.terminate() == 0
        finally:
            await running.ensure_stopped()
