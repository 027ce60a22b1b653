"""PostgreSQL: several bot processes on one database, kept from stepping on each other by
advisory locks (held by the server for a connection; let go if the process dies).

A person's turn: the lock of their chat account, held on a connection of the locks' pool for the
whole turn, so that a message landing on another process waits for this one's answer. The
Telegram poller: a lock taken without waiting and held until the storage is closed. A job (the
reminders' tick): a lock taken without waiting for the job's run.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.pg_base import PgBase

POLLERS = 0x706F6C6C  # the first half of the poller locks' two-part keys ("poll")
JOBS = 0x6A6F6273  # and of the locks of jobs run by one process at a time ("jobs")
HEALTH_TIMEOUT = 2.0  # seconds


class PgProcessesPart(PgBase):
    """Turn locks per chat account and the one poller per channel."""

    @asynccontextmanager
    async def person_turn(self, channel: str, external_id: str) -> AsyncIterator[None]:
        """Hold the account's lock for the turn (waiting while another process holds it)."""
        key = f"{channel}:{external_id}"
        async with self._turns.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
            try:
                yield
            finally:
                # Released with the connection in any case (the pool's reset unlocks all).
                await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)

    @asynccontextmanager
    async def only_one(self, job: str, *, wait: bool = False) -> AsyncIterator[bool]:
        """The job's lock on a connection of the locks' pool, taken without waiting unless
        `wait`."""
        async with self._turns.acquire() as conn:
            if wait:
                await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", JOBS, job)
                mine = True
            else:
                taken = "SELECT pg_try_advisory_lock($1, hashtext($2))"
                mine = bool(await conn.fetchval(taken, JOBS, job))
            try:
                yield mine
            finally:
                if mine:  # (released with the connection in any case: the pool's reset)
                    await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", JOBS, job)

    async def hold_poller(self, channel: str) -> bool:
        """Take the channel's poller lock without waiting; held until `close`."""
        if channel in self._pollers:
            return True
        conn = await self._turns.acquire()
        try:
            taken = await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", POLLERS, channel
            )
        except BaseException:
            await self._turns.release(conn)
            raise
        if not taken:
            await self._turns.release(conn)
            return False
        self._pollers[channel] = conn
        return True

    async def still_poller(self, channel: str) -> bool:
        """Whether the lock's connection still answers (a server restart or a lost network
        takes the lock with the connection); if not, take the lock again if nobody else has."""
        conn = self._pollers.get(channel)
        if conn is not None:
            try:
                await conn.fetchval("SELECT 1", timeout=HEALTH_TIMEOUT)
                return True
            except Exception:  # the connection is gone, and the lock with it
                self._pollers.pop(channel, None)
                with contextlib.suppress(Exception):
                    await self._turns.release(conn)
        try:
            return await self.hold_poller(channel)
        except Exception:  # the database is not answering: no lock, so no polling
            return False

    async def healthy(self) -> bool:
        """Whether the server answers a query within HEALTH_TIMEOUT seconds."""
        try:
            return bool(await self._pool.fetchval("SELECT 1", timeout=HEALTH_TIMEOUT) == 1)
        except Exception:  # any failure (down, unreachable, too slow) is an unhealthy answer
            return False
