"""Where each conversation stands, the updates already handled, and the read a turn opens with."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from domain.models import EventMark, Person, Reach, Role, SessionState
from storage.contracts import Opening
from storage.sqlite_base import _PEOPLE_SELECT, SqliteBase, _mark, _person, _utc


class ConversationsPart(SqliteBase):
    """Sessions, handled updates, and the opening read of a turn."""

    async def open_turn(self, channel: str, external_id: str, event_id: str, day: date) -> Opening:
        """Everything a turn starts from, read in one snapshot."""
        account = (channel, external_id)
        async with self._reading() as db:
            handled = False
            if event_id:
                async with db.execute(
                    "SELECT 1 FROM handled_events WHERE channel = ? AND event_id = ?",
                    (channel, event_id),
                ) as cur:
                    handled = await cur.fetchone() is not None
            async with db.execute(
                "SELECT state, data, updated_at FROM sessions "
                "WHERE channel = ? AND external_id = ?",
                account,
            ) as cur:
                row = await cur.fetchone()
            session = None
            if row is not None:
                session = SessionState(*account, row[0], row[1], datetime.fromisoformat(row[2]))
            where = (
                "WHERE p.id = (SELECT person_id FROM chat_identities "
                "WHERE channel = ? AND external_id = ?)"
            )
            async with db.execute(_PEOPLE_SELECT.format(where=where), account) as cur:
                row = await cur.fetchone()
            if row is None:
                return Opening(handled, None, session, None, Reach())
            person = _person(row)
            preferred, reach = await _reach(db, person, day)
        return Opening(handled, person, session, preferred, reach)

    async def load_session(self, channel: str, external_id: str) -> SessionState | None:
        """The half-finished conversation of this chat account, if any."""
        row = await self._one(
            "SELECT state, data, updated_at FROM sessions WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        )
        if row is None:
            return None
        return SessionState(channel, external_id, row[0], row[1], datetime.fromisoformat(row[2]))

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        """Remember where a conversation stands (marking the event that moved it)."""
        async with self._transaction() as db:
            await _mark(db, event)
            await db.execute(
                "INSERT INTO sessions (channel, external_id, state, data, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, external_id) DO UPDATE SET "
                "state = excluded.state, data = excluded.data, updated_at = excluded.updated_at",
                (
                    session.channel,
                    session.external_id,
                    session.state,
                    session.data,
                    session.updated_at.isoformat(),
                ),
            )

    async def clear_session(
        self, channel: str, external_id: str, *, event: EventMark | None = None
    ) -> None:
        """Forget a finished or cancelled conversation."""
        async with self._transaction() as db:
            await self._finish(db, (channel, external_id))
            await _mark(db, event)

    async def sessions_older_than(self, moment: datetime) -> list[SessionState]:
        """Conversations idle since before `moment`."""
        rows = await self._all(
            "SELECT channel, external_id, state, data, updated_at FROM sessions "
            "ORDER BY channel, external_id"
        )
        found = [SessionState(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]
        # Sorted as moments, not as ISO text: texts with different UTC offsets do not sort in time.
        found.sort(key=lambda s: s.updated_at)
        return [s for s in found if s.updated_at < moment]

    async def event_handled(self, channel: str, event_id: str) -> bool:
        """Whether an incoming update was handled already (its turn's writes committed)."""
        row = await self._one(
            "SELECT 1 FROM handled_events WHERE channel = ? AND event_id = ?", (channel, event_id)
        )
        return row is not None

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""
        async with self._transaction() as db:
            return await _mark(db, event)

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before` (channels redeliver only recent ones)."""
        async with (
            self._transaction() as db,
            db.execute("DELETE FROM handled_events WHERE handled_at < ?", (_utc(before),)) as cur,
        ):
            return cur.rowcount


async def _reach(db: aiosqlite.Connection, person: Person, day: date) -> tuple[str | None, Reach]:
    """The person's preferred channel, and what they may report on and see on `day`."""
    async with db.execute(
        "SELECT channel FROM channel_preferences WHERE person_id = ?", (person.id,)
    ) as cur:
        row = await cur.fetchone()
    preferred = None if row is None else str(row[0])
    async with db.execute(
        "SELECT p.code FROM project_officers o JOIN projects p ON p.id = o.project_id "
        "WHERE o.person_id = ?",
        (person.id,),
    ) as cur:
        own = frozenset(str(r[0]) for r in await cur.fetchall())
    async with db.execute(
        "SELECT p.code FROM delegations d JOIN project_officers o ON o.person_id = d.person_id "
        "JOIN projects p ON p.id = o.project_id "
        "WHERE d.delegate_id = ? AND d.first_day <= ? AND d.last_day >= ?",
        (person.id, day.isoformat(), day.isoformat()),
    ) as cur:
        standing_in = frozenset(str(r[0]) for r in await cur.fetchall())
    agencies: list[str] = []
    watched: set[str] = set()
    if Role.COORDINATOR in person.roles:
        async with db.execute(
            "SELECT s.agency, p.code FROM coordinator_scopes s "
            "LEFT JOIN projects p ON p.id = s.project_id WHERE s.person_id = ? ORDER BY s.id",
            (person.id,),
        ) as cur:
            for agency, code in await cur.fetchall():
                if agency is not None:
                    agencies.append(str(agency))
                if code is not None:
                    watched.add(str(code))
    reach = Reach(
        own=own,
        standing_in=standing_in - own,
        everything=Role.ADMIN in person.roles,
        agencies=tuple(agencies),
        watched=frozenset(watched),
    )
    return preferred, reach
