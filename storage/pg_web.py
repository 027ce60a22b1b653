"""PostgreSQL: sign-in links and sessions of the web dashboard, stored as hashes of their secrets
(see storage/sqlite_web.py for SQLite's)."""

from __future__ import annotations

from datetime import datetime

from storage.errors import NotFound
from storage.pg_base import PgBase
from storage.sql_shared import SharedWeb
from storage.sqlite_base import _utc


class PgWebPart(SharedWeb, PgBase):
    """Single-use sign-in links and the sessions they open."""

    async def create_web_link(self, token_hash: str, person_id: int, expires_at: datetime) -> None:
        """Store a new sign-in link."""
        # One statement: the link is stored only if the person exists (NotFound otherwise).
        stored = await self._execute(
            "INSERT INTO web_links (token_hash, person_id, expires_at) "
            "SELECT ?::text, id, ?::text FROM people WHERE id = ?",
            (token_hash, _utc(expires_at), person_id),
        )
        if not stored:
            raise NotFound(f"no person with id {person_id}")

    async def redeem_web_link(self, token_hash: str, at: datetime) -> int | None:
        """Use a link once: its person, or None if it is unknown, used or expired."""
        # One statement: of two processes redeeming a link at once, the second waits for the
        # first's row lock, then finds the link used.
        row = await self._one(
            "UPDATE web_links SET used_at = ? "
            "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? "
            "RETURNING person_id",
            (_utc(at), token_hash, _utc(at)),
        )
        return None if row is None else int(row[0])
