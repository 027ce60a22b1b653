"""The composition root: the one place that reads the real clock and builds the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Config
from domain.clock import Clock
from handlers.conversation import Conversation
from handlers.shortcuts import tomorrow_at
from reports.documents import ReportDocuments
from scheduler.planner import PUSH_CHANNELS
from storage.contracts import Storage
from storage.sqlite import SqliteStorage

if TYPE_CHECKING:
    from bot.web_dashboard import Dashboard


def make_clock(config: Config) -> Clock:
    """The wall clock in the configured time zone, or the frozen instant the config asks for."""
    if config.fixed_now is not None:
        frozen = config.fixed_now.astimezone(config.timezone)
        return lambda: frozen
    zone = config.timezone
    return lambda: datetime.now(zone)


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a command or channel needs, built once."""

    config: Config
    repo: Storage
    clock: Clock
    conversation: Conversation
    dashboard: Dashboard | None = None


async def open_storage(config: Config) -> Storage:
    """The configured database: PostgreSQL at `database.url` if given, else the SQLite file."""
    if config.database_url is not None:
        from storage.postgres import PostgresStorage  # asyncpg only where PostgreSQL is used

        return await PostgresStorage.open(
            config.database_url, connections=config.database_connections
        )
    return await SqliteStorage.open(config.database)


@asynccontextmanager
async def open_services(
    config: Config, *, clock: Clock | None = None, repo: Storage | None = None
) -> AsyncIterator[Services]:
    """Build the services from the config (tests may pass their own clock or repository)."""
    own_repo = repo is None
    repository: Storage = repo or await open_storage(config)
    the_clock = clock or make_clock(config)
    try:
        snooze_until = tomorrow_at(config.reminders.calendar.send_time)
        dashboard = None
        if config.web is not None:
            from bot.web_dashboard import Dashboard  # Jinja2 only where the dashboard is served
            from scheduler.calendar import ReportingCalendar

            calendar = ReportingCalendar(config.reminders.calendar)
            dashboard = Dashboard(repository, the_clock, config.web, config.timezone, calendar)
        conversation = Conversation(
            repository,
            the_clock,
            snooze_until=snooze_until,
            documents=ReportDocuments(repository, zone=config.timezone, clock=the_clock),
            remembered_channels=PUSH_CHANNELS,
            dashboard=dashboard,
        )
        yield Services(config, repository, the_clock, conversation, dashboard)
    finally:
        if own_repo:
            await repository.close()
