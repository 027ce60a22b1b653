"""A database file that cannot be used is refused when it is opened, with a message that names the
file and what is wrong: by the storage (a DatabaseUnusable) and by every command that opens it
(exit code 2, the message on standard error, no traceback). Nothing is written to it."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.errors import (
    DatabaseDamaged,
    DatabaseFolderMissing,
    DatabaseReadOnly,
    DatabaseTooNew,
    DatabaseUnusable,
    StorageError,
)
from storage.migrations import SCHEMA_VERSION
from storage.sqlite import SqliteStorage
from tests.test_cli import run

Lock = Callable[[Path, int], None]


@dataclass(frozen=True, slots=True)
class Broken:
    """A database path SQLite cannot use, and what the error must say about it."""

    path: Path
    error: type[DatabaseUnusable]
    says: str


async def _create(path: Path) -> None:
    repo = await SqliteStorage.open(path)
    await repo.close()


@pytest.fixture
def sound(tmp_path: Path) -> bytes:
    """The bytes of a sound, fully migrated database (closing it emptied its write-ahead log)."""
    path = tmp_path / "sound" / "bot.sqlite3"
    path.parent.mkdir()
    asyncio.run(_create(path))
    assert not path.with_name("bot.sqlite3-wal").exists()
    return path.read_bytes()


@pytest.fixture
def lock() -> Iterator[Lock]:
    """Takes permissions away from a file or folder (0o555: read-only), gives them back after."""
    locked: list[Path] = []

    def take(path: Path, mode: int) -> None:
        path.chmod(mode)
        locked.append(path)
        # Root (or a process with CAP_DAC_OVERRIDE) reads and writes whatever the permissions
        # say, so these cases cannot be made for it: they run only as an ordinary user.
        if os.access(path, os.W_OK):
            pytest.skip("file permissions are not enforced for this user (running as root)")

    yield take
    for path in reversed(locked):
        path.chmod(0o755 if path.is_dir() else 0o644)


def no_lock(path: Path, mode: int) -> None:
    raise AssertionError(f"{path} is not to be locked")


DAMAGED = "ไม่ใช่ฐานข้อมูล SQLite หรือเสียหาย"
READ_ONLY = "เขียนไม่ได้: อ่านได้อย่างเดียว"
KINDS = [
    "text file",
    "garbage after the header",
    "truncated",
    "a damaged page",
    "missing folder",
    "a folder",
    "read-only file",
    "read-only folder",
    "read-only folder, new database",
    "unreadable file",
]


def prepare(kind: str, folder: Path, sound: bytes, lock: Lock) -> Broken:
    """Lay out the broken database of this kind in `folder`."""
    path = folder / "db" / "bot.sqlite3"
    path.parent.mkdir(parents=True)
    assert sound.startswith(b"SQLite format 3\x00")
    page = int.from_bytes(sound[16:18], "big")
    pages = len(sound) // page
    assert pages > 8, "the migrated schema spans many pages"
    pattern = bytes(range(256)) * (page // 256)
    match kind:
        case "text file":
            path.write_text("รายงานความก้าวหน้า\nnot a database\n", encoding="utf-8")
            return Broken(path, DatabaseDamaged, DAMAGED)
        case "garbage after the header":
            path.write_bytes(sound[:100] + pattern * 4)
            return Broken(path, DatabaseDamaged, DAMAGED)
        case "truncated":
            path.write_bytes(sound[: page * (pages // 2)])
            return Broken(path, DatabaseDamaged, DAMAGED)
        case "a damaged page":
            middle = page * (pages // 2)
            path.write_bytes(sound[:middle] + pattern + sound[middle + page :])
            return Broken(path, DatabaseDamaged, DAMAGED)
        case "missing folder":
            path.parent.rmdir()
            return Broken(path, DatabaseFolderMissing, f"ไม่มีโฟลเดอร์ {path.parent}")
        case "a folder":
            path.mkdir()
            return Broken(path, DatabaseUnusable, "เป็นโฟลเดอร์ ไม่ใช่ไฟล์ฐานข้อมูล")
        case "read-only file":
            path.write_bytes(sound)
            lock(path, 0o444)
            return Broken(path, DatabaseReadOnly, f"{READ_ONLY} (ที่ตัวไฟล์)")
        case "read-only folder":
            path.write_bytes(sound)
            lock(path.parent, 0o555)
            return Broken(path, DatabaseReadOnly, f"{READ_ONLY} (ที่โฟลเดอร์ {path.parent} ")
        case "read-only folder, new database":
            lock(path.parent, 0o555)
            return Broken(path, DatabaseReadOnly, f"{READ_ONLY} (ที่โฟลเดอร์ {path.parent} ")
        case "unreadable file":
            path.write_bytes(sound)
            lock(path, 0o000)
            return Broken(path, DatabaseUnusable, "อ่านไม่ได้: ไม่มีสิทธิ์อ่านไฟล์")
    raise AssertionError(kind)


# Each file under a folder: its size, when it was last written, and its bytes (None for a folder
# or a file the test may not read).
Snapshot = dict[str, tuple[int, int, bytes | None]]


def contents(folder: Path) -> Snapshot:
    """Every file under `folder`, to see afterwards that nothing changed."""
    found: Snapshot = {}
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        status = path.stat()
        readable = path.is_file() and os.access(path, os.R_OK)
        data = path.read_bytes() if readable else None
        written = 0 if path.is_dir() else status.st_mtime_ns  # a folder's changes with its files
        found[str(path.relative_to(folder))] = (status.st_size, written, data)
    return found


def left_alone(before: Snapshot, after: Snapshot) -> bool:
    """Nothing changed, but for the empty write-ahead log and its index SQLite leaves beside a
    read-only database it has read (and cannot remove: only a writer may)."""
    extra = {name: size for name, (size, _, _) in after.items() if name not in before}
    return {name: after.get(name) for name in before} == before and all(
        name.endswith("-shm") or (name.endswith("-wal") and size == 0)
        for name, size in extra.items()
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_the_storage_refuses_it_on_opening(
    kind: str, tmp_path: Path, sound: bytes, lock: Lock
) -> None:
    broken = prepare(kind, tmp_path / "case", sound, lock)
    before = contents(tmp_path / "case")
    with pytest.raises(broken.error) as caught:
        await SqliteStorage.open(broken.path)
    message = str(caught.value)
    assert message.startswith(f"ฐานข้อมูล {broken.path} "), message
    assert broken.says in message
    assert isinstance(caught.value, StorageError), "callers handle one family of errors"
    assert left_alone(before, contents(tmp_path / "case")), "nothing written"


async def test_a_database_from_a_newer_program_is_refused(tmp_path: Path, sound: bytes) -> None:
    path = tmp_path / "newer.sqlite3"
    path.write_bytes(sound)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer = f"ฐานข้อมูล {path} มีโครงสร้างรุ่น {SCHEMA_VERSION + 1} ใหม่กว่า"
    with pytest.raises(DatabaseTooNew, match=newer):
        await SqliteStorage.open(path)


async def test_a_failed_migration_is_rolled_back_and_named(tmp_path: Path) -> None:
    # Another program's database, with a table of the same name as one of ours.
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (name TEXT)")
        db.execute("INSERT INTO people VALUES ('นายสมชาย ใจดี')")
    db.close()
    with pytest.raises(DatabaseUnusable) as caught:
        await SqliteStorage.open(path)
    assert str(caught.value) == (f"ฐานข้อมูล {path} ใช้ไม่ได้: table people already exists"), (
        "the first migration stopped at our own people table"
    )
    with sqlite3.connect(path) as db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        rows = db.execute("SELECT * FROM people").fetchall()
        version = db.execute("PRAGMA user_version").fetchone()
    db.close()
    assert tables == [("people",)], "the tables the migration made before it failed are gone"
    assert rows == [("นายสมชาย ใจดี",)]
    assert version == (0,)


@pytest.mark.parametrize("kind", KINDS)
def test_a_command_on_it_ends_with_a_plain_message(
    kind: str, tmp_path: Path, sound: bytes, lock: Lock
) -> None:
    broken = prepare(kind, tmp_path / "case", sound, lock)
    before = contents(tmp_path / "case")
    done = run(tmp_path, "demo-data", database=broken.path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"ผิดพลาด: ฐานข้อมูล {broken.path} "), done.stderr
    assert broken.says in done.stderr
    assert done.stdout == ""
    assert left_alone(before, contents(tmp_path / "case"))


COMMANDS = [
    ["demo-data"],
    ["console"],
    ["run"],
    ["export", "--out", "-"],
    ["export", "--format", "xlsx", "--out", "out.xlsx"],
    ["projects", "import", "projects.csv"],
    ["projects", "list"],
    ["reports", "import", "projects.csv"],
    ["people", "list"],
    ["people", "add", "--name", "นายสมชาย ใจดี"],
    ["reminders", "preview"],
    ["invite", "--name", "นายสมชาย ใจดี"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_that_opens_the_database_says_so(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_text("not a database\n", encoding="utf-8")
    (tmp_path / "projects.csv").write_text("รหัสโครงการ,ชื่อโครงการ\n", encoding="utf-8")
    done = run(tmp_path, *command, stdin="สถานะ\n")
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"ผิดพลาด: ฐานข้อมูล {database} {DAMAGED}\n"
    assert not (tmp_path / "out.xlsx").exists()


# backup and restore work on the database file itself, without the storage: the same messages.


def test_backing_up_an_unusable_database_says_what_is_wrong(tmp_path: Path, sound: bytes) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(sound[: len(sound) // 2])
    done = run(tmp_path, "backup", "--out", "b.sqlite3")
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"ผิดพลาด: ฐานข้อมูล {database} {DAMAGED}\n"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "sound")
    assert left == ["bot.sqlite3"], "no backup, no leftover"

    missing = tmp_path / "no-such-folder" / "bot.sqlite3"
    done = run(tmp_path, "backup", "--out", "b.sqlite3", database=missing)
    assert (done.returncode, done.stderr) == (2, f"ผิดพลาด: ไม่พบไฟล์ฐานข้อมูลที่ {missing}\n")


def test_a_damaged_page_is_named_as_the_database_not_its_copy(tmp_path: Path, sound: bytes) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(
        prepare("a damaged page", tmp_path / "case", sound, no_lock).path.read_bytes()
    )
    done = run(tmp_path, "backup", "--out", "b.sqlite3")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"ผิดพลาด: ฐานข้อมูล {database} {DAMAGED}"), done.stderr
    assert not list(tmp_path.glob("*b.sqlite3*")), "no backup, no partial copy, no journal"


def test_restoring_an_unusable_backup_says_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "b.sqlite3").write_text("not a backup\n", encoding="utf-8")
    done = run(tmp_path, "restore", "--from", "b.sqlite3")
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"ผิดพลาด: ฐานข้อมูล b.sqlite3 {DAMAGED}\n"
    assert not (tmp_path / "bot.sqlite3").exists()


def test_restoring_into_a_missing_folder_says_so(tmp_path: Path, sound: bytes) -> None:
    (tmp_path / "b.sqlite3").write_bytes(sound)
    missing = tmp_path / "no-such-folder" / "bot.sqlite3"
    done = run(tmp_path, "restore", "--from", "b.sqlite3", database=missing)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr == (f"ผิดพลาด: ฐานข้อมูล {missing} เปิดไม่ได้: ไม่มีโฟลเดอร์ {missing.parent}\n")
    assert not missing.parent.exists()


def test_a_backup_restores_over_a_damaged_database_which_is_kept(
    tmp_path: Path, sound: bytes
) -> None:
    # The message says the database is damaged; restoring a backup is the remedy, so a damaged
    # database must not stop it (it cannot be copied through SQLite: it is kept byte for byte).
    (tmp_path / "b.sqlite3").write_bytes(sound)
    damaged = sound[: len(sound) // 2]
    (tmp_path / "bot.sqlite3").write_bytes(damaged)
    done = run(tmp_path, "restore", "--from", "b.sqlite3")
    assert done.returncode == 0, done.stderr
    assert "before-restore" in done.stdout
    assert (tmp_path / "bot.sqlite3.before-restore").read_bytes() == damaged
    assert run(tmp_path, "projects", "list").returncode == 0, "the restored database opens"
