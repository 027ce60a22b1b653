"""PostgreSQL: chat accounts (whose they are, the channel each person wants, who blocked the bot)
and the single-use invites and failed tries that link them (SQLite's: storage/sqlite_accounts.py).

Instants are compared as SQLite compares them, byte by byte (`COLLATE "C"`): UTC ISO texts sort
as their instants only so, whatever the database's own collation.
"""

from __future__ import annotations

from datetime import datetime

from domain.models import (
    ChatIdentity,
    EventMark,
    InviteResult,
    Person,
)
from storage.pg_base import PEOPLE_SELECT, PgBase, execute, mark, require_person, rows, sql
from storage.sql_shared import SharedAccounts
from storage.sqlite_base import _person, _utc

_LINK = (
    "INSERT INTO chat_identities (channel, external_id, person_id) VALUES (?, ?, ?) "
    "ON CONFLICT (channel, external_id) DO UPDATE SET person_id = excluded.person_id"
)


class PgAccountsPart(SharedAccounts, PgBase):
    """Chat accounts and the invites that link them."""

    async def link_identity(
        self, identity: ChatIdentity, *, event: EventMark | None = None
    ) -> None:
        """Attach a chat account to a person (re-linking an account moves it)."""
        async with self._transaction() as conn:
            await require_person(conn, identity.person_id)
            await mark(conn, event)
            await execute(conn, _LINK, (identity.channel, identity.external_id, identity.person_id))

    async def set_menu_links(self, links: dict[str, str | None]) -> None:
        """Remember the rich menus LINE accounts were linked to (None: the default again)."""
        # Sorted, so that two processes writing overlapping links lock rows in the same order
        # (no deadlock between them).
        gone = sorted(external_id for external_id, menu in links.items() if menu is None)
        kept = sorted((k, menu) for k, menu in links.items() if menu is not None)
        async with self._transaction() as conn:
            if gone:
                await execute(
                    conn, "DELETE FROM line_menu_links WHERE external_id = ANY(?::text[])", (gone,)
                )
            if kept:
                await execute(
                    conn,
                    "INSERT INTO line_menu_links (external_id, rich_menu_id) "
                    "SELECT * FROM unnest(?::text[], ?::text[]) ON CONFLICT (external_id) "
                    "DO UPDATE SET rich_menu_id = excluded.rich_menu_id",
                    ([k for k, _ in kept], [menu for _, menu in kept]),
                )

    async def redeem_invite(
        self,
        code_hash: str,
        channel: str,
        external_id: str,
        now: datetime,
        *,
        event: EventMark | None = None,
    ) -> tuple[InviteResult, Person | None]:
        """Use an invite: link the chat account to its person, once, before it expires."""
        at = _utc(now)
        async with self._transaction() as conn:
            await mark(conn, event)
            # Single use across processes: the UPDATE takes the invite only while it is unused
            # (and unexpired). A second process redeeming the same code at once waits for the
            # first's row lock, then finds `used_at` set and takes nothing.
            person_id = await conn.fetchval(
                sql(
                    "UPDATE invites SET used_at = ?, used_channel = ?, used_external_id = ? "
                    'WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? COLLATE "C" '
                    "RETURNING person_id"
                ),
                at,
                channel,
                external_id,
                code_hash,
                at,
            )
            if person_id is None:
                row = await conn.fetchrow(
                    "SELECT used_at FROM invites WHERE code_hash = $1", code_hash
                )
                if row is None:
                    return InviteResult.UNKNOWN, None
                if row[0] is not None:
                    return InviteResult.USED, None
                return InviteResult.EXPIRED, None
            await execute(conn, _LINK, (channel, external_id, person_id))
            found = await rows(conn, PEOPLE_SELECT.format(where="WHERE p.id = ?"), (person_id,))
        return InviteResult.LINKED, _person(found[0]) if found else None
