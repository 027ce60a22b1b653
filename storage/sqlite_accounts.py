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
from storage.sqlite_base import SqliteBase, _mark, _utc


class AccountsPart(SqliteBase):
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

    async def find_person_by_identity(self, channel: str, external_id: str) -> Person | None:
        """The person behind a chat account, if linked."""
        found = await self._people(
            "WHERE p.id = (SELECT person_id FROM chat_identities "
            "WHERE channel = ? AND external_id = ?)",
            (channel, external_id),
        )
        return found[0] if found else None

    async def identities_of(self, person_id: int) -> list[ChatIdentity]:
        """Every chat account of a person."""
        rows = await self._all(
            "SELECT channel, external_id FROM chat_identities WHERE person_id = ? "
            "ORDER BY channel, external_id",
            (person_id,),
        )
        return [ChatIdentity(r[0], r[1], person_id) for r in rows]

    async def all_identities(self) -> list[ChatIdentity]:
        """Every chat account, by person, channel and id."""
        rows = await self._all(
            "SELECT channel, external_id, person_id FROM chat_identities "
            "ORDER BY person_id, channel, external_id"
        )
        return [ChatIdentity(r[0], r[1], r[2]) for r in rows]

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

    async def preferred_channels(self) -> dict[int, str]:
        """Per person, the channel they want messages on (people without one are absent)."""
        rows = await self._all("SELECT person_id, channel FROM channel_preferences")
        return {person_id: channel for person_id, channel in rows}

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

    async def reminder_channels(self) -> dict[int, str]:
        """Per person, the channel chosen for reminders (people without a choice are absent)."""
        rows = await self._all("SELECT person_id, choice FROM reminder_channels")
        return {person_id: choice for person_id, choice in rows}

    async def rich_menus(self) -> dict[str, tuple[str, str]]:
        """Per role, the LINE rich menu made for it: (its id at LINE, its name)."""
        rows = await self._all("SELECT role, rich_menu_id, name FROM line_rich_menus")
        return {role: (menu, name) for role, menu, name in rows}

    async def set_rich_menu(self, role: str, rich_menu_id: str, name: str) -> None:
        """Remember the LINE rich menu made for a role (replacing the one before)."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO line_rich_menus (role, rich_menu_id, name) VALUES (?, ?, ?) "
                "ON CONFLICT (role) DO UPDATE SET rich_menu_id = excluded.rich_menu_id, "
                "name = excluded.name",
                (role, rich_menu_id, name),
            )

    async def menu_links(self) -> dict[str, str]:
        """Per LINE account, the rich menu it was last linked to (by the bot)."""
        rows = await self._all("SELECT external_id, rich_menu_id FROM line_menu_links")
        return {external_id: menu for external_id, menu in rows}

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

    async def blocked_accounts(self) -> set[tuple[str, str]]:
        """Every (channel, external id) that blocked the bot."""
        rows = await self._all("SELECT channel, external_id FROM blocked_accounts")
        return {(channel, external_id) for channel, external_id in rows}

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

    async def link_failures_since(self, channel: str, external_id: str, since: datetime) -> int:
        """How many failed linking attempts a chat account made since `since`."""
        row = await self._one(
            "SELECT count(*) FROM link_failures "
            "WHERE channel = ? AND external_id = ? AND failed_at >= ?",
            (channel, external_id, _utc(since)),
        )
        return int(row[0])
