"""SQLite: the one process that polls a channel, held by a lock on a file beside the database.

A SQLite database is served by one process (its single writer), so a person's turn needs no lock
beyond the conversation's own in that process. Two `run` processes started by mistake on one
file must still not both poll Telegram (each would take the other's updates): the second one
finds the poller's lock taken (an advisory `flock`, released by the system if the process dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.sqlite_base import SqliteBase


class ProcessesPart(SqliteBase):
    """The poller's lock files, held until the storage is closed."""

    @asynccontextmanager
    async def person_turn(self, channel: str, external_id: str) -> AsyncIterator[None]:
        """One process serves a SQLite database: its conversation's own lock is enough."""
        yield

    async def hold_poller(self, channel: str) -> bool:
        """Take the lock file `<database>.<channel>-poller.lock`; False if another process has
        it (an in-memory database is this process's alone)."""
        held = self._pollers
        if channel in held or self._path is None:
            return True
        descriptor = os.open(f"{self._path}.{channel}-poller.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        held[channel] = descriptor
        return True

    @asynccontextmanager
    async def only_one(self, job: str, *, wait: bool = False) -> AsyncIterator[bool]:
        """One process serves a SQLite database: its own job runs one at a time already."""
        yield True

    async def still_poller(self, channel: str) -> bool:
        """A lock file's lock lasts as long as this process: held if it was taken."""
        return self._path is None or channel in self._pollers

    async def healthy(self) -> bool:
        """Whether the database answers a query."""
        try:
            return bool(await self._one("SELECT 1") == (1,))
        except Exception:  # any failure of the database is an unhealthy answer
            return False

    async def close(self) -> None:
        """Close the connection, and let go of the poller's locks."""
        for descriptor in self._pollers.values():
            with contextlib.suppress(OSError):
                os.close(descriptor)
        self._pollers.clear()
        await super().close()
