"""Where each conversation stands, the updates already handled, and the read a turn opens with."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from domain.models import EventMark, Person, Reach, Role, SessionState
from storage.contracts import Opening
from storage.sql_shared import SharedConversations
from storage.sqlite_base import SqliteBase, _mark_statement, _person, _utc


class ConversationsPart(SharedConversations, SqliteBase):
    """Sessions, handled updates, and the opening read of a turn."""

    async def open_turn(self, channel: str, external_id: str, event_id: str, day: date) -> Opening:
        """Everything a turn starts from: two queries in one trip to the database thread (no
        write of this process comes between them)."""

        def read(conn: sqlite3.Connection) -> Opening:
            rows = conn.execute(_TURN_SELECT, (event_id, channel, external_id)).fetchall()
            (handled, state, data, updated_at, *person_columns, preferred) = rows[0]
            handled = handled and bool(event_id)  # an update without an id is never a repeat
            session = None
            if state is not None:
                updated = datetime.fromisoformat(updated_at)
                session = SessionState(channel, external_id, state, data, updated)
            if person_columns[0] is None:
                return Opening(bool(handled), None, session, None, Reach())
            person = _person(person_columns)
            on = day.isoformat()
            params = (person.id, person.id, on, on, person.id)
            reach = _reach(person, conn.execute(_REACH_SELECT, params).fetchall())
            return Opening(bool(handled), person, session, preferred, reach)

        return await self._in_thread(read)

    async def reach_of(self, person_id: int, day: date) -> Reach:
        """What the person may report on and see on `day`; nothing for nobody."""
        person = await self.get_person(person_id)
        if person is None:
            return Reach()
        on = day.isoformat()
        rows = await self._all(_REACH_SELECT, (person.id, person.id, on, on, person.id))
        return _reach(person, rows)

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        """Remember where a conversation stands (marking the event that moved it)."""
        upsert = (
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
        await self._write(*([_mark_statement(event)] if event else []), upsert)

    async def clear_session(
        self, channel: str, external_id: str, *, event: EventMark | None = None
    ) -> None:
        """Forget a finished or cancelled conversation."""
        delete = (
            "DELETE FROM sessions WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        )
        await self._write(delete, *([_mark_statement(event)] if event else []))

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""
        (marked,) = await self._write(_mark_statement(event))
        return marked > 0

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before` (channels redeliver only recent ones)."""
        async with (
            self._transaction() as db,
            db.execute("DELETE FROM handled_events WHERE handled_at < ?", (_utc(before),)) as cur,
        ):
            return cur.rowcount


# The account, its session, whether the update was handled, the person and their channel.
_TURN_SELECT = """
    SELECT
        EXISTS (SELECT 1 FROM handled_events e WHERE e.channel = a.channel AND e.event_id = ?),
        s.state, s.data, s.updated_at,
        p.id, p.name, p.phone, p.position,
        (SELECT group_concat(role) FROM person_roles WHERE person_id = p.id),
        (SELECT channel FROM channel_preferences WHERE person_id = p.id)
    FROM (SELECT ? AS channel, ? AS external_id) a
    LEFT JOIN sessions s ON s.channel = a.channel AND s.external_id = a.external_id
    LEFT JOIN chat_identities i ON i.channel = a.channel AND i.external_id = a.external_id
    LEFT JOIN people p ON p.id = i.person_id
"""
# What a person may reach: their projects, those of colleagues away that day, their scopes.
_REACH_SELECT = """
    SELECT 'own', p.code, NULL FROM project_officers o JOIN projects p ON p.id = o.project_id
    WHERE o.person_id = ?
    UNION ALL
    SELECT 'standing_in', p.code, NULL FROM delegations d
    JOIN project_officers o ON o.person_id = d.person_id JOIN projects p ON p.id = o.project_id
    WHERE d.delegate_id = ? AND d.first_day <= ? AND d.last_day >= ?
    UNION ALL
    SELECT 'scope', p.code, s.agency FROM coordinator_scopes s
    LEFT JOIN projects p ON p.id = s.project_id WHERE s.person_id = ?
"""


def _reach(person: Person, rows: list[Any]) -> Reach:
    """What the person may report on and see, from the rows of `_REACH_SELECT`."""
    found: dict[str, set[str]] = {"own": set(), "standing_in": set(), "scope": set()}
    agencies: list[str] = []
    for kind, code, agency in rows:
        if code is not None:
            found[kind].add(str(code))
        if agency is not None:
            agencies.append(str(agency))
    coordinator = Role.COORDINATOR in person.roles
    return Reach(
        own=frozenset(found["own"]),
        standing_in=frozenset(found["standing_in"] - found["own"]),
        everything=Role.ADMIN in person.roles,
        agencies=tuple(agencies) if coordinator else (),
        watched=frozenset(found["scope"]) if coordinator else frozenset(),
    )
