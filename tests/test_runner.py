"""`progress-bot run` (bot.runner.run_channels): a start-up that fails ends with its own error.

The LINE channel runs against tests/fake_line.py, so the webhook server and the API client are
really started before the reminders fail, and must be stopped again.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import runner, scheduling
from bot.app import open_services
from bot.config import Config, LineConfig, RemindersConfig, TelegramConfig
from bot.scheduling import build_scheduler
from scheduler.delivery import ReminderService
from tests.fake_line import FakeLine
from tests.fake_telegram import FakeBotApi
from tests.line_support import SECRET, TOKEN
from tests.memory_storage import MemoryStorage
from tests.support import NOW

TELEGRAM_TOKEN = "4242:RUNNER-TEST"


class StartFailed(RuntimeError):
    """The error a test makes start-up fail with."""


def config(tmp_path: Path, api_host: str) -> Config:
    line = LineConfig(
        channel_secret=SECRET,
        channel_access_token=TOKEN,
        api_host=api_host,
        api_data_host=api_host,
        webhook_port=0,
    )
    return Config(
        database=tmp_path / "unused.sqlite3",
        timezone=ZoneInfo("Asia/Bangkok"),
        line=line,
        reminders=RemindersConfig(enabled=True),
    )


async def run_failing(tmp_path: Path, fake: FakeLine) -> None:
    async with open_services(
        config(tmp_path, fake.base_url), clock=lambda: NOW, repo=MemoryStorage()
    ) as services:
        await runner.run_channels(services, asyncio.Event())


async def test_a_scheduler_that_fails_to_start_ends_the_run_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    built: list[AsyncIOScheduler] = []

    def failing_scheduler(service: ReminderService, settings: RemindersConfig) -> Any:
        scheduler = build_scheduler(service, settings)

        def start(paused: bool = False) -> None:
            raise StartFailed("the scheduler could not start")

        scheduler.start = start
        built.append(scheduler)
        return scheduler

    monkeypatch.setattr(scheduling, "build_scheduler", failing_scheduler)
    caplog.set_level(logging.INFO, logger="bot.runner")
    async with FakeLine(SECRET, TOKEN) as fake:
        with pytest.raises(StartFailed, match="could not start"):
            await run_failing(tmp_path, fake)
        assert fake.calls("/v2/bot/info") == 1  # the LINE channel had started
    (scheduler,) = built
    assert not scheduler.running
    assert "stopped" in caplog.text


async def test_a_failed_recovery_of_reminders_ends_the_run_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def recover(self: ReminderService) -> int:
        raise StartFailed("the reminders could not be recovered")

    monkeypatch.setattr(ReminderService, "recover", recover)
    caplog.set_level(logging.INFO, logger="bot.runner")
    async with FakeLine(SECRET, TOKEN) as fake:
        with pytest.raises(StartFailed, match="could not be recovered"):
            await run_failing(tmp_path, fake)
    assert "stopped" in caplog.text


def telegram_config(tmp_path: Path, fake: FakeBotApi) -> Config:
    telegram = TelegramConfig(
        token=TELEGRAM_TOKEN, api_base_url=fake.base_url, api_file_url=fake.base_file_url,
        poll_timeout=1,
    )  # fmt: skip
    return Config(
        database=tmp_path / "unused.sqlite3",
        timezone=ZoneInfo("Asia/Bangkok"),
        telegram=telegram,
        reminders=RemindersConfig(enabled=True),
    )


async def test_updates_waiting_at_the_start_are_answered_before_the_reminders_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = asyncio.Event()
    answered_first: list[bool] = []
    async with FakeBotApi(TELEGRAM_TOKEN) as fake:
        fake.push_text(50_001, "สวัสดีครับ")  # written while the bot was down

        async def recover(self: ReminderService) -> int:
            answered_first.append(fake.last_text(50_001) is not None)
            stop.set()
            return 0

        monkeypatch.setattr(ReminderService, "recover", recover)
        async with open_services(
            telegram_config(tmp_path, fake), clock=lambda: NOW, repo=MemoryStorage()
        ) as services:
            assert await runner.run_channels(services, stop) == 0
    assert answered_first == [True]


async def test_a_failed_recovery_stops_the_polling_and_ends_the_run_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def recover(self: ReminderService) -> int:
        raise StartFailed("the reminders could not be recovered")

    monkeypatch.setattr(ReminderService, "recover", recover)
    async with (
        FakeBotApi(TELEGRAM_TOKEN) as fake,
        open_services(
            telegram_config(tmp_path, fake), clock=lambda: NOW, repo=MemoryStorage()
        ) as services,
    ):
        with pytest.raises(StartFailed, match="could not be recovered"):
            await runner.run_channels(services, asyncio.Event())
