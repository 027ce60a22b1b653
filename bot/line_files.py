"""Files for LINE users: LINE cannot carry a PDF or XLSX from a bot, so they become links.

A file is kept on disk under an unguessable name (192 random bits) for a few days and served by
the LINE webhook server; the public base URL (the TLS proxy in front of it) makes the link.
Several processes (PostgreSQL, behind a load balancer) share one folder on a volume they all
mount, so that any of them serves a link another one made: the files are large and live a few
days, so they stay out of the database (its WAL, replicas and backups) and are streamed from
disk. A
chart is sent as a picture from the same place. Without a public base URL nothing is stored:
the person is told how to get the file instead.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.web_server import content_disposition
from domain.clock import Clock
from domain.messages import Attachment

log = logging.getLogger(__name__)

FILES_PATH = "/line-files"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
# Path separators and what Windows refuses in a file name; control characters are added below.
_UNSAFE = '\\/:*?"<>|'
MAX_NAME_BYTES = 200  # of UTF-8 (Linux takes 255), so that a Thai name of any length fits
_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_name(name: str) -> str:
    """A file name to keep on disk and serve, kept whole: Thai vowels and tone marks stay. Path
    separators, control characters and the characters Windows refuses (\\ / : * ? " < > |)
    become `_` (a run of them one `_`), invisible format characters (zero-width spaces,
    direction overrides) go, and so do leading and trailing dots, spaces and `_`, so that a name
    is never hidden, `.` or `..`. Cut to MAX_NAME_BYTES, the extension kept; "file" if nothing
    is left."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", name):
        kind = unicodedata.category(char)
        if kind == "Cf":
            continue
        unsafe = kind in {"Cc", "Cs", "Zl", "Zp"} or char in _UNSAFE
        if not unsafe:
            kept.append(char)
        elif not kept or kept[-1] != "_":
            kept.append("_")
    text = "".join(kept).strip(" ._")
    if len(text.encode()) > MAX_NAME_BYTES:
        stem, dot, suffix = text.rpartition(".")
        if not dot or len(suffix) > 10:
            stem, dot, suffix = text, "", ""
        while len((stem + dot + suffix).encode()) > MAX_NAME_BYTES:
            stem = stem[:-1]
        text = (stem.rstrip(" ._") + dot + suffix).strip(" ._")
    return text or "file"


class FileShelf:
    """Keeps files for a while at unguessable addresses, and serves them back."""

    def __init__(self, folder: Path, public_base_url: str, keep: timedelta, clock: Clock) -> None:
        self._folder = folder
        self._base = public_base_url.rstrip("/")
        self._keep = keep
        self._clock = clock

    def put(self, attachment: Attachment) -> str:
        """Store a file; returns its public address."""
        self._folder.mkdir(parents=True, exist_ok=True)
        self.prune()
        token = secrets.token_urlsafe(24)  # 32 characters
        name = safe_name(attachment.name)
        folder = self._folder / token
        folder.mkdir()
        try:
            (folder / name).write_bytes(attachment.data)
            # The age is read from the injected clock, not the file system's.
            stamp = self._clock().timestamp()
            os.utime(folder / name, (stamp, stamp))
            os.utime(folder, (stamp, stamp))
        except OSError:
            # A full disk: leave nothing half-written behind (no empty token folders).
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return f"{self._base}{FILES_PATH}/{token}/{quote(name)}"

    def expires(self) -> datetime:
        """Until when a file stored now can be downloaded."""
        return self._clock() + self._keep

    def prune(self) -> int:
        """Delete files older than the keeping time; returns how many went."""
        if not self._folder.is_dir():
            return 0
        limit = (self._clock() - self._keep).timestamp()
        gone = 0
        for folder in self._folder.iterdir():
            # Several processes may share the folder (PostgreSQL, README): another one may be
            # removing the same old file at this moment; whoever comes second finds it gone.
            try:
                if not (_TOKEN.fullmatch(folder.name) and folder.stat().st_mtime < limit):
                    continue
                for file in folder.iterdir():
                    file.unlink(missing_ok=True)
                folder.rmdir()
            except (FileNotFoundError, NotADirectoryError):
                continue
            gone += 1
        return gone

    def add_routes(self, app: web.Application) -> None:
        """Serve GET {FILES_PATH}/{token}/{name} from the shelf (404 for anything else)."""
        app.router.add_get(FILES_PATH + "/{token}/{name}", self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        token, name = request.match_info["token"], request.match_info["name"]
        if not _TOKEN.fullmatch(token) or name != safe_name(name):
            raise web.HTTPNotFound()
        path = self._folder / token / name
        if not path.is_file():
            raise web.HTTPNotFound()
        if path.stat().st_mtime < (self._clock() - self._keep).timestamp():
            raise web.HTTPGone()
        suffix = path.suffix.lower()
        content_type = (
            _XLSX if suffix == ".xlsx" else _TYPES.get(suffix, "application/octet-stream")
        )
        headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        if not content_type.startswith("image/"):
            headers["Content-Disposition"] = content_disposition(name)
        return web.Response(body=path.read_bytes(), content_type=content_type, headers=headers)
