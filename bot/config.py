"""Configuration: a TOML file plus environment overrides, passed in, never read from globals."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE = "progress-bot.sqlite3"
DEFAULT_TIMEZONE = "Asia/Bangkok"
DEFAULT_CONSOLE_USER = "demo-officer"

# Environment variables that override keys of the file (handy for containers and tests).
ENV_KEYS = {
    "PROGRESS_BOT_DATABASE": ("database", "path"),
    "PROGRESS_BOT_TIMEZONE": ("bot", "timezone"),
    "PROGRESS_BOT_FIXED_NOW": ("bot", "fixed_now"),
    "PROGRESS_BOT_LOG_LEVEL": ("logging", "level"),
}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and what is expected."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the program can be configured with."""

    database: Path
    timezone: ZoneInfo
    fixed_now: datetime | None = None
    console_user: str = DEFAULT_CONSOLE_USER
    log_level: str = "INFO"


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _string(section: Mapping[str, Any], table: str, key: str, default: str | None) -> str | None:
    value = section.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{table}.{key} must be a string, not {type(value).__name__}")
    return value


def load_config(path: Path | None, environ: Mapping[str, str]) -> Config:
    """Read the TOML file at `path` (None: defaults only), then apply environment overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ConfigError(f"config file not found: {path}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}") from error
    for variable, (table, key) in ENV_KEYS.items():
        if environ.get(variable):
            section = data.setdefault(table, {})
            if not isinstance(section, dict):
                raise ConfigError(f"[{table}] must be a table")
            section[key] = environ[variable]

    database = _section(data, "database")
    bot = _section(data, "bot")
    console = _section(data, "console")
    logging_ = _section(data, "logging")

    db_path = _string(database, "database", "path", DEFAULT_DATABASE) or DEFAULT_DATABASE
    zone_name = _string(bot, "bot", "timezone", DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE
    # OSError: a name that is a folder of the zone database ("Asia"), or too long for a file name.
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ConfigError(f"bot.timezone: unknown time zone {zone_name!r}") from error

    fixed_now = None
    if raw_now := _string(bot, "bot", "fixed_now", None):
        try:
            fixed_now = datetime.fromisoformat(raw_now)
        except ValueError as error:
            raise ConfigError(f"bot.fixed_now: not an ISO date-time: {raw_now!r}") from error
        fixed_now = fixed_now.replace(tzinfo=zone) if fixed_now.tzinfo is None else fixed_now

    level = (_string(logging_, "logging", "level", "INFO") or "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"logging.level must be DEBUG, INFO, WARNING or ERROR, not {level!r}")

    # A path from the file is relative to the file; one from the environment (or the default)
    # to the current folder, as a shell user expects.
    from_file = path is not None and not environ.get("PROGRESS_BOT_DATABASE")
    base = path.parent if from_file and path is not None else Path.cwd()
    db = Path(db_path)
    return Config(
        database=db if db.is_absolute() or db_path == ":memory:" else base / db,
        timezone=zone,
        fixed_now=fixed_now,
        console_user=_string(console, "console", "user", DEFAULT_CONSOLE_USER)
        or DEFAULT_CONSOLE_USER,
        log_level=level,
    )
