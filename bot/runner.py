"""`progress-bot run`: every configured channel in one process until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from bot.app import Services
from bot.scheduling import build_scheduler
from bot.telegram_channel import ALLOWED_UPDATES, TelegramChannel, TelegramNotifier
from bot.webhooks import telegram_webhook
from scheduler.calendar import ReportingCalendar
from scheduler.delivery import Notifier, ReminderService
from scheduler.planner import ReminderPlanner

log = logging.getLogger(__name__)

EVENT_MEMORY = timedelta(days=7)  # Telegram keeps undelivered updates for 24 hours


def reminder_service(services: Services, notifiers: Mapping[str, Notifier]) -> ReminderService:
    """The reminder service over the configured calendar and the running channels."""
    calendar = ReportingCalendar(services.config.reminders.calendar)
    planner = ReminderPlanner(services.repo, calendar, channels=tuple(notifiers))
    return ReminderService(services.repo, planner, notifiers, services.clock)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM ask for a clean stop: the update in hand is finished first."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_channels(services: Services, stop: asyncio.Event) -> int:
    """Run the configured channels until `stop` is set; 2 if there is nothing to run."""
    telegram = services.config.telegram
    if telegram is None:
        log.error("no channel is configured: add a [telegram] table (see config.example.toml)")
        return 2
    pruned = await services.repo.prune_events(services.clock() - EVENT_MEMORY)
    log.info("forgot %d handled updates older than %d days", pruned, EVENT_MEMORY.days)
    channel = TelegramChannel(telegram, services.conversation)
    await channel.start()
    reminders = reminder_service(services, {"telegram": TelegramNotifier(channel)})
    scheduler = None
    if services.config.reminders.enabled:
        await reminders.recover()
        scheduler = build_scheduler(reminders, services.config.reminders)
        scheduler.start()
        # Catch up at once: what fell due while the bot was down goes out now (once).
        catch_up = asyncio.create_task(reminders.tick())
    try:
        if telegram.mode == "polling":
            log.info("telegram: long polling")
            await channel.poll(stop)
        else:
            app = telegram_webhook(channel, telegram.secret_token, telegram.webhook_path)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, telegram.webhook_listen, telegram.webhook_port)
            await site.start()
            await channel.app.bot.set_webhook(
                url=telegram.webhook_public_url,
                secret_token=telegram.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info(
                "telegram: webhook on %s:%d%s",
                telegram.webhook_listen,
                telegram.webhook_port,
                telegram.webhook_path,
            )
            await stop.wait()
            await runner.cleanup()  # waits for requests in progress
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await asyncio.gather(catch_up, return_exceptions=True)
            await reminders.idle()  # a tick in progress finishes what it claimed
        await channel.stop()
        log.info("stopped")
    return 0
