"""Online backup of the SQLite database, safe while the bot is running, and a check of the copy.

SQLite's backup API copies the database page by page from a consistent read snapshot (WAL lets
the bot keep writing meanwhile); the copy is written to a temporary file beside the target and
renamed into place only once it has passed `PRAGMA integrity_check` and holds the same schema
version and the same number of rows in every table as the snapshot it came from. A failed or
interrupted backup therefore never leaves a half-written file under the target name.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StorageError

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


def check_database(path: Path) -> tuple[int, dict[str, int]]:
    """Open a database file read-only, check its integrity; its schema version and row counts.

    Raises StorageError when the file is not a sound progress-bot database.
    """
    if not path.is_file():
        raise StorageError(f"no database file at {path}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise StorageError(f"cannot open {path}: {error}") from error
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            problems = "; ".join(str(row[0]) for row in verdict[:5])
            raise StorageError(f"{path} is damaged: {problems}")
        counts = _counts(db)
        missing = [t for t in KEY_TABLES if t not in counts]
        if missing:
            raise StorageError(f"{path} is not a progress-bot database (no {', '.join(missing)})")
        return _version(db), counts
    except sqlite3.DatabaseError as error:
        raise StorageError(f"{path} is not a readable database: {error}") from error
    finally:
        db.close()


def backup_database(source: Path, target: Path) -> BackupResult:
    """Copy the live database at `source` to `target` and check the copy (see the module doc)."""
    if not source.is_file():
        raise StorageError(f"no database file at {source}")
    if target.resolve() == source.resolve():
        raise StorageError("the backup must go to another file than the database itself")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        # One read transaction: the counts and the copy come from the same snapshot.
        src.execute("BEGIN")
        expected_version, expected_rows = _version(src), _counts(src)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup of {source} failed: {error}") from error
    finally:
        src.close()
    try:
        version, rows = check_database(partial)
        if (version, rows) != (expected_version, expected_rows):
            raise StorageError("the copy does not match the database it was taken from")
    except StorageError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return BackupResult(target, version, rows, target.stat().st_size)


def restore_database(backup: Path, target: Path) -> BackupResult:
    """Put a checked backup in place of the database at `target` (the bot must be stopped).

    The current database, if any, is kept beside it as `<name>.before-restore`.
    """
    version, rows = check_database(backup)
    if target.exists():
        keep = target.with_name(f"{target.name}.before-restore")
        backup_database(target, keep)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    if check_database(partial) != (version, rows):
        partial.unlink(missing_ok=True)
        raise StorageError("the restored copy does not match the backup")
    for suffix in ("-wal", "-shm"):  # the old database's log must not replay onto the new one
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)
    return BackupResult(target, version, rows, target.stat().st_size)
