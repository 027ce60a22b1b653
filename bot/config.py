"""Configuration: a TOML file plus environment overrides, passed in, never read from globals."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.calendar import CalendarSettings, ReminderKind

DEFAULT_DATABASE = "progress-bot.sqlite3"
DEFAULT_TIMEZONE = "Asia/Bangkok"
DEFAULT_CONSOLE_USER = "demo-officer"

# Environment variables that override keys of the file (handy for containers and tests).
ENV_KEYS = {
    "PROGRESS_BOT_DATABASE": ("database", "path"),
    "PROGRESS_BOT_DATABASE_URL": ("database", "url"),
    "PROGRESS_BOT_TIMEZONE": ("bot", "timezone"),
    "PROGRESS_BOT_FIXED_NOW": ("bot", "fixed_now"),
    "PROGRESS_BOT_LOG_LEVEL": ("logging", "level"),
    "PROGRESS_BOT_TELEGRAM_TOKEN": ("telegram", "token"),
    "PROGRESS_BOT_TELEGRAM_SECRET": ("telegram", "secret_token"),
    "PROGRESS_BOT_LINE_CHANNEL_SECRET": ("line", "channel_secret"),
    "PROGRESS_BOT_LINE_ACCESS_TOKEN": ("line", "channel_access_token"),
}

# Every table and key load_config reads (config.example.toml documents each one). Anything else in
# the file is refused: a misspelt key must not be silently ignored, leaving its default in force.
KNOWN_KEYS: Mapping[str, frozenset[str]] = {
    "database": frozenset({"path", "url", "connections"}),
    "bot": frozenset({"timezone", "fixed_now"}),
    "console": frozenset({"user"}),
    "logging": frozenset({"level"}),
    "reminders": frozenset(
        {"enabled", "window_days", "plan", "send_time", "quiet_hours", "overdue_grace_days",
         "tick_minutes"}
    ),
    "telegram": frozenset(
        {"token", "api_base_url", "api_file_url", "mode", "bot_username", "poll_timeout",
         "webhook_listen", "webhook_port", "webhook_path", "webhook_public_url", "secret_token",
         "messages_per_second", "messages_per_chat_per_second"}
    ),
    "line": frozenset(
        {"channel_secret", "channel_access_token", "api_host", "api_data_host",
         "webhook_listen", "webhook_port", "webhook_path", "public_base_url", "files_dir",
         "files_days", "basic_id", "quota_reserve", "quota_warning", "rich_menus"}
    ),
    "web": frozenset({"listen", "port", "public_url"}),
}  # fmt: skip

TELEGRAM_API = "https://api.telegram.org/bot"
_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,100}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
LINE_API = "https://api.line.me"
LINE_DATA_API = "https://api-data.line.me"  # where rich menu pictures are uploaded
_LINE_SECRET = re.compile(r"[0-9a-fA-F]{32}")
_LINE_TOKEN = re.compile(r"[A-Za-z0-9+/=._-]{20,1000}")
_LINE_BASIC_ID = re.compile(r"@?[a-z0-9._-]{3,40}")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and what is expected.

    The message is read by the administrator at the terminal, so it is in Thai; table and key
    names and example values stay as they are written in the TOML file.
    """


# What a TOML value of each Python type is called in a message: "ไม่ใช่ตัวเลข" reads better
# than a Python type name (an unlisted type, which TOML does not make, shows as its name).
_TYPE_NAMES = {
    "bool": "ค่า true/false",
    "int": "จำนวนเต็ม",
    "float": "ตัวเลข",
    "list": "รายการ",
    "dict": "ตาราง",
    "datetime": "วันเวลา",
    "date": "วันที่",
    "time": "เวลา",
}


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """The Telegram channel. The token and secret are kept out of repr, so never logged."""

    token: str = field(repr=False)
    api_base_url: str = TELEGRAM_API
    api_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = "polling"
    bot_username: str = ""
    poll_timeout: int = 25
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "/telegram"
    webhook_public_url: str = ""
    secret_token: str = field(default="", repr=False)
    messages_per_second: float = 30.0
    messages_per_chat_per_second: float = 1.0

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line."""
        return tuple(s for s in (self.token, self.secret_token) if s)


@dataclass(frozen=True, slots=True)
class LineConfig:
    """The LINE channel (a LINE Official Account). Secrets are kept out of repr, so never logged."""

    channel_secret: str = field(repr=False)
    channel_access_token: str = field(repr=False)
    api_host: str = LINE_API
    api_data_host: str = LINE_DATA_API
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8444
    webhook_path: str = "/line"
    public_base_url: str = ""
    files_dir: Path = Path("line-files")
    files_days: int = 7
    basic_id: str = ""
    quota_reserve: int = 10
    quota_warning: int = 30
    rich_menus: bool = True

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line."""
        return tuple(s for s in (self.channel_secret, self.channel_access_token) if s)


@dataclass(frozen=True, slots=True)
class RemindersConfig:
    """When reminders go out; `calendar` holds the rules (see scheduler.calendar)."""

    enabled: bool = True
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    tick_minutes: int = 30


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The web dashboard, served by `run`: where it listens, and the address people open."""

    listen: str = "127.0.0.1"
    port: int = 8446
    public_url: str = ""

    @property
    def base_url(self) -> str:
        """The address sign-in links point to: the public one, else the local one."""
        return self.public_url or f"http://{self.listen}:{self.port}"

    @property
    def secure(self) -> bool:
        """Behind https: the session cookie is sent over https only."""
        return self.base_url.startswith("https://")


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the program can be configured with."""

    database: Path
    timezone: ZoneInfo
    fixed_now: datetime | None = None
    database_url: str | None = None  # PostgreSQL in place of the SQLite file, when given
    database_connections: int = 30  # PostgreSQL: the most one process holds
    console_user: str = DEFAULT_CONSOLE_USER
    log_level: str = "INFO"
    telegram: TelegramConfig | None = None
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    line: LineConfig | None = None
    web: WebConfig | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret, for the log filter that masks them."""
        telegram = self.telegram.secrets if self.telegram else ()
        password = _password(self.database_url) if self.database_url else ""
        return (
            telegram + (self.line.secrets if self.line else ()) + ((password,) if password else ())
        )


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] ต้องเป็นตาราง (table) ของ TOML")
    return value


def _nearest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to a misspelt one, if any is close enough to be meant."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return close[0] if close else None


def _check_known(data: Mapping[str, Any]) -> None:
    """Refuse any table or key load_config does not read, naming it and the nearest known name."""
    for table, section in data.items():
        keys = KNOWN_KEYS.get(table)
        if keys is None:
            if isinstance(section, Mapping):
                near = _nearest(table, KNOWN_KEYS)
                hint = f" (หมายถึง [{near}] ใช่ไหม)" if near else ""
                raise ConfigError(f"ไม่รู้จักตาราง [{table}]{hint}")
            # A key above every table: perhaps its [table] line is missing.
            owner = next((name for name, known in KNOWN_KEYS.items() if table in known), None)
            hint = f" (หมายถึง {table} ใต้ [{owner}] ใช่ไหม)" if owner else ""
            raise ConfigError(f"ไม่รู้จักคีย์ {table} ที่อยู่นอกตาราง{hint}")
        if not isinstance(section, Mapping):
            raise ConfigError(f"[{table}] ต้องเป็นตาราง (table) ของ TOML")
        for key, value in section.items():
            if key in keys:
                continue
            near = _nearest(key, keys)
            if isinstance(value, Mapping):  # a sub-table: [table.key]
                hint = f" (หมายถึง {table}.{near} ใช่ไหม)" if near else ""
                raise ConfigError(f"ไม่รู้จักตาราง [{table}.{key}]{hint}")
            hint = f" (หมายถึง {near} ใช่ไหม)" if near else ""
            raise ConfigError(f"ไม่รู้จักคีย์ {table}.{key}{hint}")


def _string(section: Mapping[str, Any], table: str, key: str, default: str | None) -> str | None:
    value = section.get(key, default)
    if value is not None and not isinstance(value, str):
        kind = _TYPE_NAMES.get(type(value).__name__, f"ค่าแบบ {type(value).__name__}")
        raise ConfigError(f"{table}.{key} ต้องเป็นข้อความในเครื่องหมายคำพูด ไม่ใช่{kind}")
    return value


def _integer(
    section: Mapping[str, Any], table: str, key: str, default: int, low: int, high: int
) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{table}.{key} ต้องเป็นจำนวนเต็มตั้งแต่ {low} ถึง {high}")
    return value


def _rate(section: Mapping[str, Any], table: str, key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 10_000:
        raise ConfigError(f"{table}.{key} ต้องเป็นจำนวนข้อความต่อวินาทีที่มากกว่า 0")
    return float(value)


def _telegram(data: Mapping[str, Any]) -> TelegramConfig | None:
    """The [telegram] table (present, or a token in the environment, enables the channel)."""
    if "telegram" not in data:
        return None
    t = _section(data, "telegram")

    def text(key: str, default: str) -> str:
        return _string(t, "telegram", key, default) or default

    # Read every key first, so that a key of the wrong type is named before anything is missing.
    token, base = text("token", ""), text("api_base_url", TELEGRAM_API).rstrip("/")
    files, mode, username = (
        text("api_file_url", ""),
        text("mode", "polling"),
        text("bot_username", ""),
    )
    secret, public_url = text("secret_token", ""), text("webhook_public_url", "")
    listen, path = text("webhook_listen", "127.0.0.1"), text("webhook_path", "/telegram")
    poll_timeout = _integer(t, "telegram", "poll_timeout", 25, 0, 50)
    port = _integer(t, "telegram", "webhook_port", 8443, 1, 65535)
    overall = _rate(t, "telegram", "messages_per_second", 30.0)
    per_chat = _rate(t, "telegram", "messages_per_chat_per_second", 1.0)

    if not _TOKEN.fullmatch(token):
        raise ConfigError(
            "telegram.token (หรือ PROGRESS_BOT_TELEGRAM_TOKEN) ต้องเป็นโทเคนของบอทที่ได้จาก "
            "@BotFather เช่น 123456:ABC-DEF..."
        )
    if not base.startswith(("http://", "https://")):
        raise ConfigError("telegram.api_base_url ต้องขึ้นต้นด้วย http:// หรือ https://")
    if mode not in {"polling", "webhook"}:
        raise ConfigError(f"telegram.mode ต้องเป็น 'polling' หรือ 'webhook' ไม่ใช่ {mode!r}")
    if mode == "webhook":
        if not public_url.startswith("https://"):
            raise ConfigError("telegram.webhook_public_url ต้องเป็นที่อยู่ https:// เมื่อใช้โหมด webhook")
        if not _SECRET.fullmatch(secret):
            raise ConfigError(
                "telegram.secret_token (หรือ PROGRESS_BOT_TELEGRAM_SECRET) ต้องมีเมื่อใช้โหมด "
                "webhook: ยาว 1-256 ตัวอักษร ใช้ได้เฉพาะ A-Z, a-z, 0-9, _ และ -"
            )
    return TelegramConfig(
        token=token,
        api_base_url=base,
        api_file_url=files or (base.removesuffix("/bot") + "/file/bot"),
        mode=mode,
        bot_username=username.lstrip("@"),
        poll_timeout=poll_timeout,
        webhook_listen=listen,
        webhook_port=port,
        webhook_path=path if path.startswith("/") else "/" + path,
        webhook_public_url=public_url,
        secret_token=secret,
        messages_per_second=overall,
        messages_per_chat_per_second=per_chat,
    )


def _line(data: Mapping[str, Any], base: Path) -> LineConfig | None:
    """The [line] table (present, or a secret in the environment, enables the channel)."""
    if "line" not in data:
        return None
    t = _section(data, "line")

    def text(key: str, default: str) -> str:
        return _string(t, "line", key, default) or default

    # Every key is read before anything is checked, so a key of the wrong type is named first.
    secret, token = text("channel_secret", ""), text("channel_access_token", "")
    api_host, public = text("api_host", LINE_API).rstrip("/"), text("public_base_url", "")
    data_host = text("api_data_host", LINE_DATA_API).rstrip("/")
    listen, path = text("webhook_listen", "127.0.0.1"), text("webhook_path", "/line")
    files_dir, basic_id = text("files_dir", "line-files"), text("basic_id", "")
    port = _integer(t, "line", "webhook_port", 8444, 1, 65535)
    files_days = _integer(t, "line", "files_days", 7, 1, 365)
    reserve = _integer(t, "line", "quota_reserve", 10, 0, 1_000_000)
    warning = _integer(t, "line", "quota_warning", 30, 0, 1_000_000)
    menus = t.get("rich_menus", True)
    if not isinstance(menus, bool):
        raise ConfigError("line.rich_menus ต้องเป็น true หรือ false")

    if not _LINE_SECRET.fullmatch(secret):
        raise ConfigError(
            "line.channel_secret (หรือ PROGRESS_BOT_LINE_CHANNEL_SECRET) ต้องเป็น Channel "
            "secret จาก LINE Developers Console: เลขฐานสิบหก 32 ตัว"
        )
    if not _LINE_TOKEN.fullmatch(token):
        raise ConfigError(
            "line.channel_access_token (หรือ PROGRESS_BOT_LINE_ACCESS_TOKEN) ต้องเป็น "
            "Channel access token แบบใช้ได้ระยะยาว (long-lived) จาก LINE Developers Console"
        )
    for key, host in (("api_host", api_host), ("api_data_host", data_host)):
        if not host.startswith(("http://", "https://")):
            raise ConfigError(f"line.{key} ต้องขึ้นต้นด้วย http:// หรือ https://")
    if public and not public.startswith("https://"):
        raise ConfigError("line.public_base_url ต้องเป็นที่อยู่ https:// (LINE ไม่แสดงที่อยู่แบบอื่น)")
    if basic_id and not _LINE_BASIC_ID.fullmatch(basic_id):
        raise ConfigError("line.basic_id ต้องเป็น Basic ID ของบัญชี เช่น @123abcde")
    folder = Path(files_dir)
    return LineConfig(
        channel_secret=secret,
        channel_access_token=token,
        api_host=api_host,
        api_data_host=data_host,
        webhook_listen=listen,
        webhook_port=port,
        webhook_path=path if path.startswith("/") else "/" + path,
        public_base_url=public.rstrip("/"),
        files_dir=folder if folder.is_absolute() else base / folder,
        files_days=files_days,
        basic_id=("@" + basic_id.lstrip("@")) if basic_id else "",
        quota_reserve=reserve,
        quota_warning=warning,
        rich_menus=menus,
    )


def _clock_time(section: Mapping[str, Any], key: str, default: str) -> time:
    text = _string(section, "reminders", key, default) or default
    try:
        return time.fromisoformat(text)
    except ValueError as error:
        raise ConfigError(f"reminders.{key} ต้องเป็นเวลา เช่น 09:00 ไม่ใช่ {text!r}") from error


def _quiet_hours(section: Mapping[str, Any]) -> tuple[time, time]:
    """reminders.quiet_hours, "20:00-08:00" by default: the start and end of the quiet hours."""
    text = _string(section, "reminders", "quiet_hours", "20:00-08:00") or "20:00-08:00"
    start, dash, end = text.partition("-")
    if not dash:
        return time(20), time(8)
    try:
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError as error:
        raise ConfigError(
            f"reminders.quiet_hours ต้องเป็นช่วงเวลา เช่น 20:00-08:00 ไม่ใช่ {text!r}"
        ) from error


def _reminders(data: Mapping[str, Any], zone: ZoneInfo) -> RemindersConfig:
    """The [reminders] table: the calendar rules and how often the bot looks for what is due."""
    r = _section(data, "reminders")
    enabled = r.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError("reminders.enabled ต้องเป็น true หรือ false")
    quiet_start, quiet_end = _quiet_hours(r)
    plan = r.get("plan", [kind.value for kind in ReminderKind])
    if not isinstance(plan, list) or not all(isinstance(k, str) for k in plan):
        raise ConfigError('reminders.plan ต้องเป็นรายการ เช่น ["window", "deadline"]')
    known = {kind.value: kind for kind in ReminderKind}
    unknown = [k for k in plan if k not in known]
    if unknown:
        raise ConfigError(f"reminders.plan มีชนิดที่ไม่รู้จัก {unknown} ชนิดที่ใช้ได้: {sorted(known)}")
    try:
        settings = CalendarSettings(
            timezone=zone,
            window_days=_integer(r, "reminders", "window_days", 5, 1, 27),
            send_time=_clock_time(r, "send_time", "09:00"),
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            plan=tuple(known[k] for k in plan),
            overdue_grace_days=_integer(r, "reminders", "overdue_grace_days", 10, 1, 60),
        )
    except ValueError as error:
        raise ConfigError(f"[reminders] ใช้ไม่ได้: {error}") from error
    return RemindersConfig(
        enabled=enabled,
        calendar=settings,
        tick_minutes=_integer(r, "reminders", "tick_minutes", 30, 1, 60),
    )


def load_config(path: Path | None, environ: Mapping[str, str]) -> Config:
    """Read the TOML file at `path` (None: defaults only), then apply environment overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ConfigError(f"ไม่พบไฟล์ตั้งค่า: {path}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} ไม่ใช่ไฟล์ TOML ที่ถูกต้อง: {error}") from error
        _check_known(data)
    for variable, (table, key) in ENV_KEYS.items():
        if environ.get(variable):
            section = data.setdefault(table, {})
            if not isinstance(section, dict):
                raise ConfigError(f"[{table}] ต้องเป็นตาราง (table) ของ TOML")
            section[key] = environ[variable]

    database = _section(data, "database")
    bot = _section(data, "bot")
    console = _section(data, "console")
    logging_ = _section(data, "logging")

    db_path = _string(database, "database", "path", DEFAULT_DATABASE) or DEFAULT_DATABASE
    db_url = _string(database, "database", "url", None) or None
    if db_url is not None and not db_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "database.url ต้องเป็นที่อยู่ PostgreSQL เช่น postgresql://progress@db.example:5432/progress"
        )
    zone_name = _string(bot, "bot", "timezone", DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE
    # OSError: a name that is a folder of the zone database ("Asia"), or too long for a file name.
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ConfigError(
            f"bot.timezone: ไม่รู้จักเขตเวลา {zone_name!r} (ใช้ชื่อแบบ Asia/Bangkok)"
        ) from error

    fixed_now = None
    if raw_now := _string(bot, "bot", "fixed_now", None):
        try:
            fixed_now = datetime.fromisoformat(raw_now)
        except ValueError as error:
            raise ConfigError(
                f"bot.fixed_now ต้องเป็นวันเวลาแบบ ISO เช่น 2026-11-25T09:00:00 ไม่ใช่ {raw_now!r}"
            ) from error
        fixed_now = fixed_now.replace(tzinfo=zone) if fixed_now.tzinfo is None else fixed_now

    level = (_string(logging_, "logging", "level", "INFO") or "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"logging.level ต้องเป็น DEBUG, INFO, WARNING หรือ ERROR ไม่ใช่ {level!r}")

    # A path from the file is relative to the file; one from the environment (or the default)
    # to the current folder, as a shell user expects.
    from_file = path is not None and not environ.get("PROGRESS_BOT_DATABASE")
    base = path.parent if from_file and path is not None else Path.cwd()
    db = Path(db_path)
    return Config(
        database=db if db.is_absolute() or db_path == ":memory:" else base / db,
        database_url=db_url,
        database_connections=_integer(database, "database", "connections", 30, 4, 1000),
        timezone=zone,
        fixed_now=fixed_now,
        console_user=_string(console, "console", "user", DEFAULT_CONSOLE_USER)
        or DEFAULT_CONSOLE_USER,
        log_level=level,
        telegram=_telegram(data),
        reminders=_reminders(data, zone),
        line=_line(data, path.parent if path is not None else Path.cwd()),
        web=_web(data),
    )


def _web(data: Mapping[str, Any]) -> WebConfig | None:
    """The [web] table: present, the dashboard is served."""
    if "web" not in data:
        return None
    t = _section(data, "web")
    listen = _string(t, "web", "listen", "127.0.0.1") or "127.0.0.1"
    port = _integer(t, "web", "port", 8446, 1, 65535)
    public = (_string(t, "web", "public_url", "") or "").rstrip("/")
    if public and not public.startswith("https://"):
        raise ConfigError("web.public_url ต้องเป็นที่อยู่ https:// (คุกกี้เข้าสู่ระบบส่งผ่าน https เท่านั้น)")
    return WebConfig(listen=listen, port=port, public_url=public)


def _password(url: str) -> str:
    """The password in a database address (postgresql://user:password@host/db, or
    ?password=...), if any: masked in logs like a token."""
    parts = urlsplit(url)
    if parts.password:
        return unquote(parts.password)
    for key, value in parse_qsl(parts.query):
        if key.lower() == "password" and value:
            return value
    return ""
