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

from bot import runner
from bot.app import open_services
from bot.config import Config, LineConfig, RemindersConfig
from bot.scheduling import build_scheduler
from scheduler.delivery import ReminderService
from tests.fake_line import FakeLine
from tests.line_support import SECRET, TOKEN
from tests.memory_storage import MemoryStorage
from tests.support import NOW


class StartFailed(RuntimeError):
    """The error a test makes start-up fail with."""


def config(tmp_path: Path, api_host: str) -> Config:
    line = LineConfig(
        channel_secret=SECRET, channel_access_token=TOKEN, api_host=api_host, webhook_port=0
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

    monkeypatch.setattr(runner, "build_scheduler", failing_scheduler)
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
