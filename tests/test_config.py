"""Configuration: a TOML file, then environment overrides, with errors that name the key."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import (
    DEFAULT_DATABASE,
    ENV_KEYS,
    KNOWN_KEYS,
    Config,
    ConfigError,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
BANGKOK = ZoneInfo("Asia/Bangkok")

# The keys that are not strings (a number, true/false, a list).
NON_STRING_KEYS = {
    ("database", "connections"),
    ("reminders", "enabled"),
    ("line", "rich_menus"),
    ("web", "port"),
    ("reminders", "window_days"),
    ("reminders", "plan"),
    ("reminders", "overdue_grace_days"),
    ("reminders", "tick_minutes"),
    ("telegram", "poll_timeout"),
    ("telegram", "webhook_port"),
    ("telegram", "messages_per_second"),
    ("telegram", "messages_per_chat_per_second"),
    ("line", "webhook_port"),
    ("line", "files_days"),
    ("line", "quota_reserve"),
    ("line", "quota_warning"),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current folder, so that paths relative to it are predictable."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ or {})
    return str(caught.value)


# Defaults and the file


def test_defaults_without_a_file(workdir: Path) -> None:
    config = load_config(None, {})
    assert config == Config(database=workdir / DEFAULT_DATABASE, timezone=BANGKOK)
    assert config.database == workdir / "progress-bot.sqlite3"
    assert config.timezone.key == "Asia/Bangkok"
    assert config.fixed_now is None
    assert config.console_user == "demo-officer"
    assert config.log_level == "INFO"


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "config.toml", ""), {})
    assert config == Config(database=tmp_path / DEFAULT_DATABASE, timezone=BANGKOK)


def test_a_file_sets_every_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        """
        [database]
        path = "/srv/progress/bot.sqlite3"
        [bot]
        timezone = "UTC"
        fixed_now = "2026-11-25T09:00:00+07:00"
        [console]
        user = "สมชาย"
        [logging]
        level = "debug"
        """,
    )
    config = load_config(path, {})
    assert config.database == Path("/srv/progress/bot.sqlite3")
    assert config.timezone == ZoneInfo("UTC")
    assert config.fixed_now == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert config.console_user == "สมชาย"
    assert config.log_level == "DEBUG"


def test_a_relative_database_is_beside_the_config_file(tmp_path: Path, workdir: Path) -> None:
    path = write(tmp_path / "etc" / "config.toml", '[database]\npath = "data/bot.sqlite3"\n')
    assert load_config(path, {}).database == tmp_path / "etc" / "data" / "bot.sqlite3"
    # Without the key, the default name is beside the file too, not in the current folder.
    other = write(tmp_path / "etc2" / "config.toml", "")
    assert load_config(other, {}).database == tmp_path / "etc2" / DEFAULT_DATABASE


def test_an_in_memory_database_stays_as_it_is(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[database]\npath = ":memory:"\n')
    assert load_config(path, {}).database == Path(":memory:")


# Environment overrides


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '[database]\npath = "file.sqlite3"\n[bot]\ntimezone = "UTC"\n[logging]\nlevel = "ERROR"\n',
    )
    config = load_config(
        path,
        {
            "PROGRESS_BOT_DATABASE": "/var/lib/progress-bot/env.sqlite3",
            "PROGRESS_BOT_TIMEZONE": "Asia/Bangkok",
            "PROGRESS_BOT_FIXED_NOW": "2026-11-25T09:00:00+07:00",
            "PROGRESS_BOT_LOG_LEVEL": "warning",
        },
    )
    assert config.database == Path("/var/lib/progress-bot/env.sqlite3")
    assert config.timezone == BANGKOK
    assert config.fixed_now == datetime(2026, 11, 25, 9, 0, tzinfo=BANGKOK)
    assert config.log_level == "WARNING"


def test_the_environment_without_a_file(workdir: Path) -> None:
    config = load_config(None, {"PROGRESS_BOT_DATABASE": "env.sqlite3"})
    assert config.database == workdir / "env.sqlite3"


def test_empty_and_unrelated_variables_are_ignored(workdir: Path) -> None:
    environ = {"PROGRESS_BOT_TIMEZONE": "", "PROGRESS_BOT_LOG_LEVEL": "", "TZ": "UTC"}
    assert load_config(None, environ) == load_config(None, {})


@pytest.mark.parametrize(("variable", "where"), sorted(ENV_KEYS.items()))
def test_every_variable_overrides_a_known_key(variable: str, where: tuple[str, str]) -> None:
    table, key = where
    assert key in KNOWN_KEYS[table]
    assert variable.startswith("PROGRESS_BOT_")


def test_naive_fixed_now_gets_the_configured_zone(workdir: Path) -> None:
    config = load_config(None, {"PROGRESS_BOT_FIXED_NOW": "2026-11-25T09:00:00"})
    assert config.fixed_now == datetime(2026, 11, 25, 9, 0, tzinfo=BANGKOK)
    assert config.fixed_now is not None and config.fixed_now.tzinfo == BANGKOK

    utc = load_config(
        None, {"PROGRESS_BOT_FIXED_NOW": "2026-11-25T09:00", "PROGRESS_BOT_TIMEZONE": "UTC"}
    )
    assert utc.fixed_now is not None and utc.fixed_now.utcoffset() == timedelta(0)


def test_an_aware_fixed_now_keeps_its_offset(workdir: Path) -> None:
    config = load_config(None, {"PROGRESS_BOT_FIXED_NOW": "2026-11-25T02:00:00+00:00"})
    assert config.fixed_now is not None
    assert config.fixed_now.utcoffset() == timedelta(0)
    assert config.fixed_now == datetime(2026, 11, 25, 9, 0, tzinfo=BANGKOK)


# Errors that say what is wrong and where


def test_bad_toml(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[database\npath = 1\n")
    message = error_of(path)
    assert str(path) in message
    assert "ไม่ใช่ไฟล์ TOML ที่ถูกต้อง" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    message = error_of(path)
    assert message == f"ไม่พบไฟล์ตั้งค่า: {path}"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "asia/bangkok", "Asia", "../etc", "x" * 300])
def test_unknown_time_zone(zone: str) -> None:
    message = error_of(None, {"PROGRESS_BOT_TIMEZONE": zone})
    assert "bot.timezone" in message


def test_unknown_time_zone_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[bot]\ntimezone = "Bangkok"\n')
    message = error_of(path)
    assert "bot.timezone" in message
    assert "Bangkok" in message


@pytest.mark.parametrize(
    ("table", "key"),
    [
        (table, key)
        for table, keys in KNOWN_KEYS.items()
        for key in sorted(keys)
        if (table, key) not in NON_STRING_KEYS
    ],
)
def test_wrong_type_names_the_key(tmp_path: Path, table: str, key: str) -> None:
    path = write(tmp_path / "config.toml", f"[{table}]\n{key} = 7\n")
    message = error_of(path)
    assert message == f"{table}.{key} ต้องเป็นข้อความในเครื่องหมายคำพูด ไม่ใช่จำนวนเต็ม"


@pytest.mark.parametrize(("table", "key"), sorted(NON_STRING_KEYS))
def test_every_other_key_is_read(tmp_path: Path, table: str, key: str) -> None:
    # With the string keys above: each known key is read, none is accepted and then ignored.
    assert key in KNOWN_KEYS[table]
    path = write(tmp_path / "config.toml", f'[{table}]\n{key} = "seven"\n')
    assert f"{table}.{key}" in error_of(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[telegram]\ntoken = "1:T"\nmessages_per_secnd = 5\n',
            "ไม่รู้จักคีย์ telegram.messages_per_secnd (หมายถึง messages_per_second ใช่ไหม)",
        ),
        ("[reminderz]\nenabled = false\n", "ไม่รู้จักตาราง [reminderz] (หมายถึง [reminders] ใช่ไหม)"),
        ("[webb]\nport = 8080\n", "ไม่รู้จักตาราง [webb] (หมายถึง [web] ใช่ไหม)"),
        ('[database]\npth = "bot.sqlite3"\n', "ไม่รู้จักคีย์ database.pth (หมายถึง path ใช่ไหม)"),
        ("[reminders]\nsnooze = 3\n", "ไม่รู้จักคีย์ reminders.snooze"),
        (
            "[reminders.plans]\nwindow = true\n",
            "ไม่รู้จักตาราง [reminders.plans] (หมายถึง reminders.plan ใช่ไหม)",
        ),
        (
            'path = "bot.sqlite3"\n',
            "ไม่รู้จักคีย์ path ที่อยู่นอกตาราง (หมายถึง path ใต้ [database] ใช่ไหม)",
        ),
    ],
)
def test_an_unknown_table_or_key_is_refused(tmp_path: Path, body: str, message: str) -> None:
    assert error_of(write(tmp_path / "config.toml", body)) == message


def test_an_unknown_key_is_refused_whatever_the_environment_sets(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[bot]\ntimezone = "UTC"\ntimezon = "Asia/Tokyo"\n')
    message = error_of(path, {"PROGRESS_BOT_TIMEZONE": "Asia/Bangkok"})
    assert message == "ไม่รู้จักคีย์ bot.timezon (หมายถึง timezone ใช่ไหม)"


def test_the_environment_still_overrides_a_strictly_checked_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[telegram]\nmessages_per_second = 5\n")
    config = load_config(path, {"PROGRESS_BOT_TELEGRAM_TOKEN": "1:T"})
    assert config.telegram is not None and config.telegram.messages_per_second == 5.0


@pytest.mark.parametrize("table", sorted(KNOWN_KEYS))
def test_a_section_that_is_not_a_table(tmp_path: Path, table: str) -> None:
    path = write(tmp_path / "config.toml", f'{table} = "oops"\n')
    assert error_of(path) == f"[{table}] ต้องเป็นตาราง (table) ของ TOML"


def test_a_section_that_is_not_a_table_with_an_override(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'database = "bot.sqlite3"\n')
    message = error_of(path, {"PROGRESS_BOT_DATABASE": "env.sqlite3"})
    assert message == "[database] ต้องเป็นตาราง (table) ของ TOML"


@pytest.mark.parametrize("value", ["tomorrow", "25/11/2569", "2026-13-01T00:00:00"])
def test_bad_fixed_now(value: str) -> None:
    message = error_of(None, {"PROGRESS_BOT_FIXED_NOW": value})
    assert "bot.fixed_now" in message
    assert value in message


@pytest.mark.parametrize("level", ["verbose", "CRITICAL", "info!"])
def test_bad_log_level(tmp_path: Path, level: str) -> None:
    path = write(tmp_path / "config.toml", f'[logging]\nlevel = "{level}"\n')
    message = error_of(path)
    assert "logging.level" in message
    assert level.upper() in message


# The example file shipped at the repository root


def test_the_example_file_gives_the_defaults(workdir: Path) -> None:
    config = load_config(EXAMPLE, {})
    defaults = load_config(None, {})
    assert config.database == EXAMPLE.parent / DEFAULT_DATABASE
    assert config.timezone == defaults.timezone == BANGKOK
    assert config.fixed_now is None
    assert config.console_user == defaults.console_user
    assert config.log_level == defaults.log_level


def documented_keys(text: str) -> dict[str, set[str]]:
    """Every table and key the example shows, set or commented out (`# key = value`)."""
    commented = re.compile(r"# (\[[a-z_]+\]|[a-z_]+ = .*)")
    lines = [
        match.group(1) if (match := commented.fullmatch(line)) else line
        for line in text.splitlines()
    ]
    data = tomllib.loads("\n".join(lines))
    assert all(isinstance(section, dict) for section in data.values()), "only tables at the top"
    return {table: set(section) for table, section in data.items()}


def test_the_example_file_documents_every_key_and_no_other() -> None:
    documented = documented_keys(EXAMPLE.read_text(encoding="utf-8"))
    assert "telegram" in documented and "token" in documented["telegram"], "commented keys count"
    assert documented == {table: set(keys) for table, keys in KNOWN_KEYS.items()}


def test_the_example_file_documents_every_variable() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for variable in ENV_KEYS:
        assert variable in text


def test_a_relative_database_from_the_environment_is_in_the_current_folder(
    tmp_path: Path, workdir: Path
) -> None:
    config_file = write(tmp_path / "etc" / "bot.toml", '[database]\npath = "data.sqlite3"\n')
    config = load_config(config_file, {"PROGRESS_BOT_DATABASE": "mine.sqlite3"})
    assert config.database == workdir / "mine.sqlite3"


def test_telegram_from_the_environment_alone(workdir: Path) -> None:
    config = load_config(None, {"PROGRESS_BOT_TELEGRAM_TOKEN": "123:abc-DEF_1"})
    assert config.telegram is not None
    assert config.telegram.mode == "polling"
    assert config.telegram.api_file_url == "https://api.telegram.org/file/bot"
    assert "123:abc" not in repr(config), "the token never shows in a repr (or a log)"
    assert config.secrets == ("123:abc-DEF_1",)


def test_telegram_against_a_local_bot_api(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[telegram]\ntoken = "1:T"\napi_base_url = "http://127.0.0.1:8081/bot/"\n',
    )
    telegram = load_config(path, {}).telegram
    assert telegram is not None
    assert telegram.api_base_url == "http://127.0.0.1:8081/bot"
    assert telegram.api_file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("[telegram]\n", "telegram.token"),
        ('[telegram]\ntoken = "not a token"\n', "telegram.token"),
        ('[telegram]\ntoken = "1:T"\nmode = "push"\n', "telegram.mode"),
        ('[telegram]\ntoken = "1:T"\nmode = "webhook"\n', "telegram.webhook_public_url"),
        (
            '[telegram]\ntoken = "1:T"\nmode = "webhook"\nwebhook_public_url = "https://x/t"\n',
            "telegram.secret_token",
        ),
        ('[telegram]\ntoken = "1:T"\npoll_timeout = 99\n', "telegram.poll_timeout"),
        ('[telegram]\ntoken = "1:T"\nwebhook_port = "80"\n', "telegram.webhook_port"),
        ('[telegram]\ntoken = "1:T"\napi_base_url = "ftp://x"\n', "telegram.api_base_url"),
        ('[telegram]\ntoken = "1:T"\nmessages_per_second = 0\n', "telegram.messages_per_second"),
    ],
)
def test_telegram_errors_name_the_key(tmp_path: Path, body: str, named: str) -> None:
    message = error_of(write(tmp_path / "c.toml", body))
    assert named in message
    assert "1:T" not in message


def test_reminders_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[reminders]\nwindow_days = 7\nsend_time = "10:30"\nquiet_hours = "21:00-07:00"\n'
        'plan = ["deadline", "overdue"]\ntick_minutes = 15\n',
    )
    reminders = load_config(path, {}).reminders
    assert reminders.calendar.window_days == 7
    assert reminders.calendar.send_time.isoformat() == "10:30:00"
    assert [k.value for k in reminders.calendar.plan] == ["deadline", "overdue"]
    assert reminders.tick_minutes == 15


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('[reminders]\nplan = ["soon"]\n', "reminders.plan"),
        ('[reminders]\nsend_time = "nine"\n', "reminders.send_time"),
        ('[reminders]\nsend_time = "22:00"\n', "[reminders] ใช้ไม่ได้: send_time 22:00"),
        ('[reminders]\nquiet_hours = "late-early"\n', "reminders.quiet_hours"),
        ("[reminders]\nenabled = 1\n", "reminders.enabled"),
        ("[reminders]\nwindow_days = 40\n", "reminders.window_days"),
    ],
)
def test_reminder_errors_name_the_key(tmp_path: Path, body: str, named: str) -> None:
    assert named in error_of(write(tmp_path / "c.toml", body))


LINE_SECRET = "0123456789abcdef0123456789abcdef"
LINE_TOKEN = "Abc+def/GHI=jkl.mno-pqr_stu0123456789"


def test_line_from_the_environment_alone(workdir: Path) -> None:
    config = load_config(
        None,
        {
            "PROGRESS_BOT_LINE_CHANNEL_SECRET": LINE_SECRET,
            "PROGRESS_BOT_LINE_ACCESS_TOKEN": LINE_TOKEN,
        },
    )
    line = config.line
    assert line is not None
    assert line.api_host == "https://api.line.me"
    assert (line.webhook_listen, line.webhook_port, line.webhook_path) == (
        "127.0.0.1",
        8444,
        "/line",
    )
    assert line.public_base_url == ""
    assert line.files_dir == workdir / "line-files"
    assert (line.quota_reserve, line.quota_warning) == (10, 30)
    assert config.telegram is None
    assert LINE_SECRET not in repr(config) and LINE_TOKEN not in repr(config)
    assert set(config.secrets) == {LINE_SECRET, LINE_TOKEN}


def test_line_from_the_file_beside_telegram(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        f'[telegram]\ntoken = "1:T"\n[line]\nchannel_secret = "{LINE_SECRET}"\n'
        f'channel_access_token = "{LINE_TOKEN}"\napi_host = "http://127.0.0.1:8082/"\n'
        'webhook_port = 9000\nwebhook_path = "hook"\npublic_base_url = "https://bot.example.go.th/"\n'
        'files_dir = "files"\nfiles_days = 3\nbasic_id = "123abcde"\nquota_reserve = 0\n'
        "quota_warning = 50\n",
    )
    config = load_config(path, {})
    line = config.line
    assert line is not None and config.telegram is not None
    assert line.api_host == "http://127.0.0.1:8082"
    assert (line.webhook_port, line.webhook_path) == (9000, "/hook")
    assert line.public_base_url == "https://bot.example.go.th"
    assert line.files_dir == tmp_path / "files"
    assert (line.files_days, line.basic_id) == (3, "@123abcde")
    assert (line.quota_reserve, line.quota_warning) == (0, 50)
    assert set(config.secrets) == {"1:T", LINE_SECRET, LINE_TOKEN}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("[line]\n", "line.channel_secret"),
        (f'[line]\nchannel_secret = "{LINE_SECRET[:-1]}"\n', "line.channel_secret"),
        (f'[line]\nchannel_secret = "{LINE_SECRET}"\n', "line.channel_access_token"),
        (
            f'[line]\nchannel_secret = "{LINE_SECRET}"\nchannel_access_token = "{LINE_TOKEN}"\n'
            'api_host = "ftp://x"\n',
            "line.api_host",
        ),
        (
            f'[line]\nchannel_secret = "{LINE_SECRET}"\nchannel_access_token = "{LINE_TOKEN}"\n'
            'public_base_url = "http://bot.example.go.th"\n',
            "line.public_base_url",
        ),
        (
            f'[line]\nchannel_secret = "{LINE_SECRET}"\nchannel_access_token = "{LINE_TOKEN}"\n'
            'basic_id = "not an id!"\n',
            "line.basic_id",
        ),
        (
            f'[line]\nchannel_secret = "{LINE_SECRET}"\nchannel_access_token = "{LINE_TOKEN}"\n'
            "quota_reserve = -1\n",
            "line.quota_reserve",
        ),
        (f'[line]\nchannel_secret = "{LINE_SECRET}"\nwebhook_port = 0\n', "line.webhook_port"),
    ],
)
def test_line_errors_name_the_key_and_hide_secrets(tmp_path: Path, body: str, named: str) -> None:
    message = error_of(write(tmp_path / "c.toml", body))
    assert named in message
    assert LINE_SECRET not in message and LINE_TOKEN not in message


def test_rich_menus_is_true_or_false(tmp_path: Path) -> None:
    secrets = {
        "PROGRESS_BOT_LINE_CHANNEL_SECRET": "0123456789abcdef0123456789abcdef",
        "PROGRESS_BOT_LINE_ACCESS_TOKEN": "fake-line-channel-access-token-0123456789",
    }
    path = write(tmp_path / "config.toml", '[line]\nrich_menus = "yes"\n')
    assert "line.rich_menus ต้องเป็น true หรือ false" in error_of(path, secrets)
    path = write(tmp_path / "config.toml", "[line]\nrich_menus = false\n")
    config = load_config(path, secrets)
    assert config.line is not None and config.line.rich_menus is False


def test_the_web_table_serves_the_dashboard(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml", '[web]\nport = 8500\npublic_url = "https://desk.go.th/"\n'
    )
    config = load_config(path, {})
    assert config.web is not None and config.web.port == 8500
    assert config.web.base_url == "https://desk.go.th" and config.web.secure
    path = write(tmp_path / "config.toml", '[web]\npublic_url = "http://desk.go.th"\n')
    assert "web.public_url ต้องเป็นที่อยู่ https://" in error_of(path)
    assert load_config(write(tmp_path / "c.toml", ""), {}).web is None


def test_a_postgresql_address_from_the_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "pg.toml"
    path.write_text('[database]\nurl = "postgresql://progress@db.example:5432/progress"\n')
    assert load_config(path, {}).database_url == "postgresql://progress@db.example:5432/progress"
    secret = "postgresql://bot:s3cret-pass@10.0.0.5/progress"
    config = load_config(path, {"PROGRESS_BOT_DATABASE_URL": secret})
    assert config.database_url == secret
    assert "s3cret-pass" in config.secrets, "the password is masked in logs like a token"
    in_query = "postgresql://bot@10.0.0.5/progress?sslmode=require&password=q-s3cret"
    assert "q-s3cret" in load_config(path, {"PROGRESS_BOT_DATABASE_URL": in_query}).secrets
    assert load_config(None, {}).database_url is None, "SQLite stays the default"
    assert config.database_connections == 30
    path.write_text('[database]\nurl = "postgresql://h/db"\nconnections = 50\n')
    assert load_config(path, {}).database_connections == 50


def test_a_database_address_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[database]\nurl = "mysql://root@localhost/db"\n')
    with pytest.raises(ConfigError, match=r"database\.url ต้องเป็นที่อยู่ PostgreSQL"):
        load_config(path, {})
