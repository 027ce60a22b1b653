"""What is wrong with a database file SQLite refused, said so that an administrator can act on it.

SQLite's own messages ("unable to open database file", "file is not a database") name neither the
file nor the cause; the error code and a look at the file and its folder give both.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from storage.errors import (
    DatabaseDamaged,
    DatabaseFolderMissing,
    DatabaseReadOnly,
    DatabaseUnusable,
)

# Primary result codes (https://sqlite.org/rescode.html); an extended code has one in its low byte.
_READONLY = 8
_CORRUPT = 11
_CANTOPEN = 14
_NOTADB = 26
_READONLY_DIRECTORY = 1544  # SQLITE_READONLY | 6 << 8: the journal cannot be made in the folder


def database_fault(path: Path, error: sqlite3.Error) -> DatabaseUnusable:
    """The error to raise for `error`, met while opening or checking the database at `path`."""
    code: int = getattr(error, "sqlite_errorcode", None) or 0
    folder = path.parent
    if code & 0xFF in {_NOTADB, _CORRUPT}:
        return damaged(path)
    if code & 0xFF == _READONLY:
        return _read_only(path, folder_too=code == _READONLY_DIRECTORY)
    if not folder.exists():
        return DatabaseFolderMissing(f"ฐานข้อมูล {path} เปิดไม่ได้: ไม่มีโฟลเดอร์ {folder}")
    if path.is_dir():
        return DatabaseUnusable(f"ฐานข้อมูล {path} เป็นโฟลเดอร์ ไม่ใช่ไฟล์ฐานข้อมูล")
    if code & 0xFF == _CANTOPEN:
        if path.exists() and not os.access(path, os.R_OK):
            return DatabaseUnusable(f"ฐานข้อมูล {path} อ่านไม่ได้: ไม่มีสิทธิ์อ่านไฟล์")
        if not path.exists() and not os.access(folder, os.W_OK):
            return _read_only(path, folder_too=True)
    return DatabaseUnusable(f"ฐานข้อมูล {path} ใช้ไม่ได้: {error}")


def damaged(path: Path, detail: str = "") -> DatabaseDamaged:
    """The error for a file that is not a SQLite database, or is one no longer whole."""
    return DatabaseDamaged(f"ฐานข้อมูล {path} ไม่ใช่ฐานข้อมูล SQLite หรือเสียหาย{detail}")


def _read_only(path: Path, *, folder_too: bool) -> DatabaseReadOnly:
    """SQLite writes the file and, beside it, its journal: say which of the two is refused."""
    if path.exists() and not os.access(path, os.W_OK):
        where = "ที่ตัวไฟล์"
    elif folder_too or not os.access(path.parent, os.W_OK):
        where = f"ที่โฟลเดอร์ {path.parent} ซึ่ง SQLite ใช้เก็บไฟล์ journal"
    else:
        where = "ที่ระบบไฟล์"
    return DatabaseReadOnly(f"ฐานข้อมูล {path} เขียนไม่ได้: อ่านได้อย่างเดียว ({where})")
