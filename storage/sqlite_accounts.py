"""Chat accounts (whose they are, the channel each person wants, who blocked the bot) and the
single-use invites and failed tries that link them."""

from __future__ import annotations

from datetime import datetime

from domain.models import (
    REMINDER_CHANNELS,
    ChatIdentity,
    EventMark,
    Invite,
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

    async def set_preferred_channel(self, person_id: int, channel: str) -> bool:
        """Remember the channel a person wants messages on; False if it was that already."""
        async with self._transaction() as db:
            await self._require_person(db, person_id)
            cursor = await db.execute(
                "INSERT INTO channel_preferences (person_id, channel) VALUES (?, ?) "
                "ON CONFLICT (person_id) DO UPDATE SET channel = excluded.channel "
                "WHERE channel <> excluded.channel",
                (person_id, channel),
            )
            return cursor.rowcount > 0

    async def set_reminder_channel(
        self, person_id: int, choice: str | None, *, event: EventMark | None = None
    ) -> None:
        """The channel a person chose for reminders ("line", "telegram" or "both"); None
        forgets the choice (reminders then go where the person last wrote from)."""
        if choice is not None and choice not in REMINDER_CHANNELS:
            raise ValueError(f"unknown reminder channel {choice!r}")
        async with self._transaction() as db:
            await self._require_person(db, person_id)
            await _mark(db, event)
            if choice is None:
                await db.execute("DELETE FROM reminder_channels WHERE person_id = ?", (person_id,))
            else:
                await db.execute(
                    "INSERT INTO reminder_channels (person_id, choice) VALUES (?, ?) "
                    "ON CONFLICT (person_id) DO UPDATE SET choice = excluded.choice",
                    (person_id, choice),
                )

    async def set_rich_menu(self, role: str, rich_menu_id: str, name: str) -> None:
        """Remember the LINE rich menu made for a role (replacing the one before)."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO line_rich_menus (role, rich_menu_id, name) VALUES (?, ?, ?) "
                "ON CONFLICT (role) DO UPDATE SET rich_menu_id = excluded.rich_menu_id, "
                "name = excluded.name",
                (role, rich_menu_id, name),
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

    async def set_blocked(
        self,
        channel: str,
        external_id: str,
        blocked: bool,
        at: datetime,
        *,
        event: EventMark | None = None,
    ) -> None:
        """Record that a chat account blocked the bot (or unblocked it)."""
        async with self._transaction() as db:
            await _mark(db, event)
            if blocked:
                await db.execute(
                    "INSERT INTO blocked_accounts (channel, external_id, blocked_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (channel, external_id) DO NOTHING",
                    (channel, external_id, _utc(at)),
                )
            else:
                await db.execute(
                    "DELETE FROM blocked_accounts WHERE channel = ? AND external_id = ?",
                    (channel, external_id),
                )

    async def create_invite(self, invite: Invite) -> None:
        """Store a new invite (by the hash of its code)."""
        async with self._transaction() as db:
            await self._require_person(db, invite.person_id)
            await db.execute(
                "INSERT INTO invites (code_hash, person_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (invite.code_hash, invite.person_id, _utc(invite.created_at),
                 _utc(invite.expires_at)),
            )  # fmt: skip

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

    async def record_link_failure(
        self, channel: str, external_id: str, at: datetime, *, event: EventMark | None = None
    ) -> None:
        """Count a wrong invite code or phone number typed by a chat account."""
        async with self._transaction() as db:
            await _mark(db, event)
            await db.execute(
                "INSERT INTO link_failures (channel, external_id, failed_at) VALUES (?, ?, ?)",
                (channel, external_id, _utc(at)),
            )
