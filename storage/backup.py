"""Online backup of the SQLite database, safe while the bot is running, and a check of the copy.

SQLite's backup API copies the database page by page from a consistent read snapshot (WAL lets
the bot keep writing meanwhile); the copy is written to a temporary file beside the target and
renamed into place only once it has passed `PRAGMA integrity_check` and holds the same schema
version and the same number of rows in every table as the snapshot it came from. A failed or
interrupted backup therefore never leaves a half-written file under the target name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.errors import DatabaseDamaged, DatabaseUnusable, StorageError
from storage.sqlite_faults import damaged, database_fault

KEY_TABLES = ("projects", "people", "monthly_reports", "report_revisions", "chat_identities")


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What was copied: the schema version, row counts per table, the size in bytes."""

    path: Path
    schema_version: int
    rows: dict[str, int]
    size: int


def _tables(db: sqlite3.Connection) -> list[str]:
    found = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(name) for (name,) in found]


def _counts(db: sqlite3.Connection) -> dict[str, int]:
    # Table names come from sqlite_master itself, quoted: nothing from outside reaches the SQL.
    return {t: int(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in _tables(db)}


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check_database(path: Path, *, shown: Path | None = None) -> tuple[int, dict[str, int]]:
    """Open a database file read-only, check its integrity; its schema version and row counts.

    Raises DatabaseUnusable, naming the file (or `shown`: the database a copy was taken of), when
    the file is not a sound progress-bot database.
    """
    name = shown or path
    if not path.is_file():
        raise DatabaseUnusable(f"ไม่พบไฟล์ฐานข้อมูลที่ {name}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise database_fault(name, error) from error
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            raise damaged(name, ": " + "; ".join(str(row[0]) for row in verdict[:5]))
        counts = _counts(db)
        missing = [t for t in KEY_TABLES if t not in counts]
        if missing:
            raise DatabaseUnusable(
                f"{name} ไม่ใช่ฐานข้อมูลของ progress-bot (ไม่มีตาราง {', '.join(missing)})"
            )
        return _version(db), counts
    except sqlite3.Error as error:
        raise database_fault(name, error) from error
    finally:
        db.close()


def _one_file(copy: sqlite3.Connection) -> None:
    """The copy keeps its journal in the file itself: checking it read-only then leaves no
    write-ahead log beside it, which a read-only connection could not remove (the program sets
    WAL again when it opens the database)."""
    copy.execute("PRAGMA journal_mode = DELETE")


def _copy_failed(source: Path, target: Path, error: sqlite3.Error) -> StorageError:
    """The copy stopped: a damaged database is the database's fault, anything else the target's
    (a missing or read-only folder, a full disk): an error of the command, not of the database."""
    fault = database_fault(source, error)
    if isinstance(fault, DatabaseDamaged):
        return fault
    return StorageError(f"เขียนไฟล์สำรองไม่ได้: {database_fault(target, error)}")


def backup_database(source: Path, target: Path) -> BackupResult:
    """Copy the live database at `source` to `target` and check the copy (see the module doc)."""
    if not source.is_file():
        raise DatabaseUnusable(f"ไม่พบไฟล์ฐานข้อมูลที่ {source}")
    if target.resolve() == source.resolve():
        raise StorageError("ไฟล์สำรองต้องเป็นคนละไฟล์กับตัวฐานข้อมูล")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(source, timeout=30)
    except sqlite3.Error as error:
        raise database_fault(source, error) from error
    try:
        # One read transaction: the counts and the copy come from the same snapshot.
        src.execute("BEGIN")
        expected_version, expected_rows = _version(src), _counts(src)
    except sqlite3.Error as error:
        src.close()
        raise database_fault(source, error) from error
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            _one_file(dst)
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise _copy_failed(source, target, error) from error
    finally:
        src.close()
    try:
        # A page SQLite copied as it found it is damaged in the database too: name the database.
        version, rows = check_database(partial, shown=source)
        if (version, rows) != (expected_version, expected_rows):
            raise StorageError("สำเนาไม่ตรงกับฐานข้อมูลต้นฉบับ")
    except StorageError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return BackupResult(target, version, rows, target.stat().st_size)


def _keep_as_it_is(database: Path, keep: Path) -> None:
    """A damaged database cannot be copied through SQLite: its files are kept byte for byte."""
    for suffix in ("", "-wal"):
        if Path(f"{database}{suffix}").is_file():
            shutil.copyfile(f"{database}{suffix}", f"{keep}{suffix}")


def restore_database(backup: Path, target: Path) -> BackupResult:
    """Put a checked backup in place of the database at `target` (the bot must be stopped).

    The current database, if any, is kept beside it as `<name>.before-restore`; a damaged one
    (the reason to restore, often) is kept as it is.
    """
    version, rows = check_database(backup)
    if target.exists():
        keep = target.with_name(f"{target.name}.before-restore")
        try:
            backup_database(target, keep)
        except DatabaseDamaged:
            _keep_as_it_is(target, keep)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            _one_file(dst)
        finally:
            dst.close()
    except sqlite3.Error as error:
        # The backup was just checked: the place of the database is at fault.
        partial.unlink(missing_ok=True)
        raise database_fault(target, error) from error
    finally:
        src.close()
    if check_database(partial) != (version, rows):
        partial.unlink(missing_ok=True)
        raise StorageError("ข้อมูลที่กู้คืนไม่ตรงกับไฟล์สำรอง")
    for suffix in ("-wal", "-shm"):  # the old database's log must not replay onto the new one
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)
    return BackupResult(target, version, rows, target.stat().st_size)
