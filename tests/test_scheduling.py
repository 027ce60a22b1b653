"""The APScheduler wiring, checked without waiting for real time."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import RemindersConfig
from bot.scheduling import JOB_ID, build_scheduler
from scheduler.delivery import ReminderService, TickReport
from tests.support import BANGKOK


class CountingService(ReminderService):
    """A service whose tick only counts (the planner and storage are tested elsewhere)."""

    def __init__(self) -> None:
        self.ticks = 0

    async def tick(self, *, wait: bool = False) -> TickReport:
        self.ticks += 1
        return TickReport()


def test_one_coalesced_job_every_tick_minutes_in_bangkok_time() -> None:
    service = CountingService()
    scheduler = build_scheduler(service, RemindersConfig(tick_minutes=30))
    (job,) = scheduler.get_jobs()
    assert job.id == JOB_ID
    assert job.coalesce is True and job.max_instances == 1
    assert job.misfire_grace_time == 30 * 60
    trigger = job.trigger
    assert str(trigger.timezone) == "Asia/Bangkok"
    now = datetime(2026, 11, 25, 8, 47, tzinfo=BANGKOK)
    first = trigger.get_next_fire_time(None, now)
    assert first == datetime(2026, 11, 25, 9, 0, tzinfo=BANGKOK)
    assert trigger.get_next_fire_time(first, first + timedelta(seconds=1)) == first + timedelta(
        minutes=30
    )


async def test_the_job_runs_the_services_tick() -> None:
    service = CountingService()
    scheduler = build_scheduler(service, RemindersConfig(tick_minutes=15))
    (job,) = scheduler.get_jobs()
    await job.func()
    assert service.ticks == 1
