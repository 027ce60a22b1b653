"""`progress-bot run`: every configured channel in one process until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.app import Services
from domain.replies import warm_up
from scheduler.calendar import ReportingCalendar
from scheduler.delivery import DeliveryFailed, Notifier, ReminderService, TickReport
from scheduler.planner import PUSH_CHANNELS, ReminderPlanner
from scheduler.quota import Metered

if TYPE_CHECKING:
    from aiohttp import web
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.config import LineConfig
    from bot.line_channel import LineChannel
    from bot.line_menus import MenuKeeper
    from bot.telegram_channel import TelegramChannel
    from bot.web_server import WebServer

log = logging.getLogger(__name__)
ANOTHER_POLLER = (
    "telegram: another process already polls Telegram with this database; this one does not "
    'poll (one poller only; run several processes with telegram.mode = "webhook")'
)

EVENT_MEMORY = timedelta(days=7)  # Telegram keeps undelivered updates for 24 hours
TELEGRAM, LINE = "telegram", "line"


def reminder_service(
    services: Services,
    notifiers: Mapping[str, Notifier],
    metered: Mapping[str, Metered] | None = None,
    calendar: ReportingCalendar | None = None,
) -> ReminderService:
    """The reminder service over the configured calendar and the running channels."""
    calendar = calendar or ReportingCalendar(services.config.reminders.calendar)
    running = tuple(c for c in PUSH_CHANNELS if c in notifiers)
    planner = ReminderPlanner(services.repo, calendar, channels=running)
    return ReminderService(services.repo, planner, notifiers, services.clock, metered=metered)


async def _catch_up(
    reminders: ReminderService, calendar: ReportingCalendar, today: date
) -> TickReport:
    await asyncio.to_thread(calendar.prepare, today)
    return await reminders.tick()


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM ask for a clean stop: the update in hand is finished first."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def line_parts(services: Services, line: LineConfig) -> tuple[LineChannel, web.Application]:
    """The LINE channel and its webhook app (with the file shelf when there is a public URL)."""
    # The LINE SDK takes about a second to import: only where LINE is configured.
    from bot.line_channel import LineApi, LineChannel
    from bot.line_files import FileShelf
    from bot.line_webhook import line_webhook

    shelf = None
    if line.public_base_url:
        keep = timedelta(days=line.files_days)
        shelf = FileShelf(line.files_dir, line.public_base_url, keep, services.clock)
        shelf.prune()
    channel = LineChannel(LineApi(line), services.conversation, services.clock, shelf=shelf)
    return channel, line_webhook(channel, line.channel_secret, line.webhook_path, shelf)


MENU_SYNC = timedelta(minutes=5)


async def keep_menus(keeper: MenuKeeper, stop: asyncio.Event) -> None:
    """Make the LINE rich menus if they are missing or out of date, then link accounts to
    their role's menu every few minutes (roles change by imports and the CLI) until `stop`."""
    made = False
    while not stop.is_set():
        try:
            if not made:
                for done in await keeper.ensure():
                    log.info("line: %s", done)
                made = True
            await keeper.sync()
        except Exception as error:  # LINE unreachable, or refusing: tried again later
            log.warning("line: rich menus not kept this time (%s: %s)", type(error).__name__, error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), MENU_SYNC.total_seconds())


async def run_channels(services: Services, stop: asyncio.Event) -> int:
    """Run the configured channels until `stop` is set; 2 if there is nothing to run."""
    telegram, line = services.config.telegram, services.config.line
    if telegram is None and line is None:
        log.error(
            "no channel is configured: add a [telegram] or [line] table (see config.example.toml)"
        )
        return 2
    pruned = await services.repo.prune_events(services.clock() - EVENT_MEMORY)
    log.info("forgot %d handled updates older than %d days", pruned, EVENT_MEMORY.days)
    notifiers: dict[str, Notifier] = {}
    metered: dict[str, Metered] = {}
    servers: list[WebServer] = []
    healthy = services.repo.healthy  # GET /healthz of every server, for a load balancer
    channel: TelegramChannel | None = None
    line_channel: LineChannel | None = None
    reminders: ReminderService | None = None
    scheduler: AsyncIOScheduler | None = None
    catch_up: asyncio.Task[TickReport] | None = None
    warming: asyncio.Task[None] | None = None
    menus: asyncio.Task[None] | None = None
    polling: asyncio.Task[None] | None = None
    try:
        if telegram is not None:
            from bot.telegram_channel import TelegramChannel, TelegramNotifier

            channel = TelegramChannel(telegram, services.conversation)
            await channel.start()
            notifiers[TELEGRAM] = TelegramNotifier(channel)
        if line is not None:
            from bot.line_channel import LineNotifier
            from bot.web_server import serve, with_health

            line_channel, app = line_parts(services, line)
            if line.rich_menus:
                from bot.line_menus import MenuKeeper

                keeper = MenuKeeper(
                    line_channel.api, services.repo, dashboard=services.dashboard is not None
                )
                line_channel.menus = keeper
                menus = asyncio.create_task(keep_menus(keeper, stop))
            servers.append(
                await serve(with_health(app, healthy), line.webhook_listen, line.webhook_port)
            )
            notifiers[LINE] = metered[LINE] = LineNotifier(line_channel, line)
            try:
                basic_id = await line_channel.api.check()
            except DeliveryFailed as error:
                # Webhooks still arrive, and replies may work once LINE is reachable again.
                log.error("line: Messaging API unreachable (%s); check the access token", error)
            else:
                log.info(
                    "line: %s, webhook on %s:%d%s",
                    basic_id, line.webhook_listen, line.webhook_port, line.webhook_path,
                )  # fmt: skip
        web_config, dashboard = services.config.web, services.dashboard
        if web_config is not None and dashboard is not None:
            from bot.web_server import serve, with_health

            desk = with_health(dashboard.app(), healthy)
            servers.append(await serve(desk, web_config.listen, web_config.port))
            log.info("web: dashboard on %s:%d", web_config.listen, web_config.port)
        if channel is not None and telegram is not None and telegram.mode == "polling":
            if not await services.repo.hold_poller("telegram"):
                # Two pollers would take each other's updates: one process polls, the others
                # serve the rest (LINE, the dashboard, reminders) or use webhook mode.
                log.error(ANOTHER_POLLER)
            else:
                log.info("telegram: long polling")
                answered = asyncio.Event()
                still = functools.partial(services.repo.still_poller, "telegram")
                polling = asyncio.create_task(channel.poll(stop, answered, still))
                # The updates that waited while the bot was down are answered before the
                # reminders start (the scheduler's import, recovery and the catch-up take
                # their share).
                await asyncio.wait(
                    {polling, asyncio.create_task(answered.wait())},
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if polling.done():
                    await polling  # it ended before its first batch: its error, or stopped
        elif channel is not None and telegram is not None:
            from bot.telegram_channel import ALLOWED_UPDATES
            from bot.telegram_webhook import telegram_webhook
            from bot.web_server import serve, with_health

            app = telegram_webhook(channel, telegram.secret_token, telegram.webhook_path)
            hooked = with_health(app, healthy)
            servers.append(await serve(hooked, telegram.webhook_listen, telegram.webhook_port))
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
        # The reader of Thai replies loads its word list (pythainlp, about 0.1 s) in a thread
        # once the channels run and what waited is answered, not on a later officer's message;
        # loaded during the start, it would slow the start's imports as much (one interpreter
        # lock). An answer that needs it sooner loads it itself.
        warming = asyncio.create_task(asyncio.to_thread(warm_up))
        gc.enable()  # off while the bot started (bot.cli)
        calendar = ReportingCalendar(services.config.reminders.calendar)
        reminders = reminder_service(services, notifiers, metered, calendar)
        if services.config.reminders.enabled and not stop.is_set():
            from bot.scheduling import build_scheduler

            if services.dashboard is not None:
                # A nudge goes now: after another process's tick, if one is running.
                services.dashboard.send_nudges_with(functools.partial(reminders.tick, wait=True))
            await reminders.recover()
            scheduler = build_scheduler(reminders, services.config.reminders)
            scheduler.start()
            # Catch up at once: what fell due while the bot was down goes out now (once), as
            # soon as the holidays are loaded (in a thread, so that the loop keeps answering).
            catch_up = asyncio.create_task(_catch_up(reminders, calendar, services.clock().date()))
        if polling is not None:
            await polling  # until stopped, or another process took over the polling
        await stop.wait()
    finally:
        if polling is not None and not polling.done():
            polling.cancel()  # a failed start of the reminders: the updates come again later
            await asyncio.gather(polling, return_exceptions=True)
        for server in servers:
            await server.cleanup()  # waits for requests in progress
        # Whatever failed on the way (a channel, recovery, the scheduler's start), only what was
        # started is stopped, and the error that stopped the bot is the one raised.
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if catch_up is not None:
            await asyncio.gather(catch_up, return_exceptions=True)
        if reminders is not None:
            await reminders.idle()  # a tick in progress finishes what it claimed
        if warming is not None:
            await asyncio.gather(warming, return_exceptions=True)
        if menus is not None:
            menus.cancel()
            await asyncio.gather(menus, return_exceptions=True)
        if channel is not None:
            await channel.stop()
        if line_channel is not None:
            await line_channel.api.close()
        log.info("stopped")
    return 0
