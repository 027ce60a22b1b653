"""APScheduler wiring: one fixed job that asks the reminder service what is due.

The rules live in scheduler/ (pure, tested at any instant); this only says when to ask: every
`tick_minutes` on the clock, and once at start-up so that reminders missed during downtime go out
(once, and only those still due).
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import RemindersConfig
from scheduler.delivery import ReminderService

log = logging.getLogger(__name__)

JOB_ID = "reminders"


def build_scheduler(service: ReminderService, settings: RemindersConfig) -> AsyncIOScheduler:
    """A scheduler (not started) with the reminder tick every `tick_minutes`."""
    zone = settings.calendar.timezone
    scheduler = AsyncIOScheduler(timezone=zone)
    scheduler.add_job(
        service.tick,
        CronTrigger(minute=f"*/{settings.tick_minutes}", timezone=zone),
        id=JOB_ID,
        coalesce=True,  # after a pause, one tick rather than one per missed slot
        max_instances=1,
        misfire_grace_time=settings.tick_minutes * 60,
    )
    return scheduler
