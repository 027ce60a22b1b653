"""Sign-in links and sessions of the web dashboard, stored as hashes of their secrets."""

from __future__ import annotations

from datetime import datetime

from storage.sql_shared import SharedWeb
from storage.sqlite_base import SqliteBase, _utc


class WebPart(SharedWeb, SqliteBase):
    """Single-use sign-in links and the sessions they open."""

    async def create_web_link(self, token_hash: str, person_id: int, expires_at: datetime) -> None:
        """Store a new sign-in link."""
        async with self._transaction() as db:
            await self._require_person(db, person_id)
            await db.execute(
                "INSERT INTO web_links (token_hash, person_id, expires_at) VALUES (?, ?, ?)",
                (token_hash, person_id, _utc(expires_at)),
            )

    async def redeem_web_link(self, token_hash: str, at: datetime) -> int | None:
        """Use a link once: its person, or None if it is unknown, used or expired."""
        async with (
            self._transaction() as db,
            db.execute(
                "UPDATE web_links SET used_at = ? "
                "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? "
                "RETURNING person_id",
                (_utc(at), token_hash, _utc(at)),
            ) as cur,
        ):
            row = await cur.fetchone()
        return None if row is None else int(row[0])
