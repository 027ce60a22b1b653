"""Chat accounts (whose they are, the channel each person wants, who blocked the bot) and the
single-use invites and failed tries that link them."""

from __future__ import annotations

from datetime import datetime

from domain.models import (
    ChatIdentity,
    EventMark,
    InviteResult,
    Person,
)
from storage.sql_shared import SharedAccounts
from storage.sqlite_base import SqliteBase, _mark, _utc


class AccountsPart(SharedAccounts, SqliteBase):
    """Chat accounts and the invites that link them."""

    async def link_identity(
        self, identity: ChatIdentity, *, event: EventMark | None = None
    ) -> None:
        """Attach a chat account to a person (re-linking an account moves it)."""
        async with self._transaction() as db:
            await self._require_person(db, identity.person_id)
            await _mark(db, event)
            await db.execute(
                "INSERT INTO chat_identities (channel, external_id, person_id) VALUES (?, ?, ?) "
                "ON CONFLICT (channel, external_id) DO UPDATE SET person_id = excluded.person_id",
                (identity.channel, identity.external_id, identity.person_id),
            )

    async def set_menu_links(self, links: dict[str, str | None]) -> None:
        """Remember the rich menus LINE accounts were linked to (None: the default again)."""
        async with self._transaction() as db:
            for external_id, menu in links.items():
                if menu is None:
                    await db.execute(
                        "DELETE FROM line_menu_links WHERE external_id = ?", (external_id,)
                    )
                else:
                    await db.execute(
                        "INSERT INTO line_menu_links (external_id, rich_menu_id) "
                        "VALUES (?, ?) ON CONFLICT (external_id) "
                        "DO UPDATE SET rich_menu_id = excluded.rich_menu_id",
                        (external_id, menu),
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
        async with self._transaction() as db:
            await _mark(db, event)
            async with db.execute(
                "SELECT person_id, expires_at, used_at FROM invites WHERE code_hash = ?",
                (code_hash,),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return InviteResult.UNKNOWN, None
            if row[2] is not None:
                return InviteResult.USED, None
            if row[1] <= _utc(now):
                return InviteResult.EXPIRED, None
            await db.execute(
                "UPDATE invites SET used_at = ?, used_channel = ?, used_external_id = ? "
                "WHERE code_hash = ?",
                (_utc(now), channel, external_id, code_hash),
            )
            await db.execute(
                "INSERT INTO chat_identities (channel, external_id, person_id) VALUES (?, ?, ?) "
                "ON CONFLICT (channel, external_id) DO UPDATE SET person_id = excluded.person_id",
                (channel, external_id, row[0]),
            )
            person_id = int(row[0])
        return InviteResult.LINKED, await self.get_person(person_id)
