"""PostgreSQL: where each conversation stands, the updates already handled, and the read a turn
opens with (SQLite's: storage/sqlite_conversations.py).

Instants are compared as SQLite compares them, byte by byte (`COLLATE "C"`): UTC ISO texts sort
as their instants only so, whatever the database's own collation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from domain.models import EventMark, Person, Reach, SessionState
from storage.contracts import Opening
from storage.pg_base import PgBase
from storage.sql_shared import SharedConversations
from storage.sqlite_base import _person, _utc
from storage.sqlite_conversations import _reach

_MARK = (
    "INSERT INTO handled_events (channel, event_id, handled_at) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)


class PgConversationsPart(SharedConversations, PgBase):
    """Sessions, handled updates, and the opening read of a turn."""

    async def open_turn(self, channel: str, external_id: str, event_id: str, day: date) -> Opening:
        """Everything a turn starts from: one statement, so one round trip and one snapshot."""
        on = day.isoformat()
        found = await self._all(_TURN_SELECT, (event_id, channel, external_id, on, on))
        handled, state, data, updated_at, *person_columns = found[0][:10]
        handled = bool(handled) and bool(event_id)  # an update without an id is never a repeat
        session = None
        if state is not None:
            updated = datetime.fromisoformat(updated_at)
            session = SessionState(channel, external_id, state, data, updated)
        if person_columns[0] is None:
            return Opening(handled, None, session, None, Reach())
        person = _person(person_columns)
        preferred = person_columns[5]
        return Opening(handled, person, session, preferred, _reach_of_rows(person, found, 10))

    async def reach_of(self, person_id: int, day: date) -> Reach:
        """What the person may report on and see on `day`; nothing for nobody."""
        on = day.isoformat()
        found = await self._all(_REACH_OF_SELECT, (on, on, person_id))
        if not found:
            return Reach()
        return _reach_of_rows(_person(found[0]), found, 5)

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        """Remember where a conversation stands (marking the event that moved it)."""
        upsert = (
            "INSERT INTO sessions (channel, external_id, state, data, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, external_id) DO UPDATE SET "
            "state = excluded.state, data = excluded.data, updated_at = excluded.updated_at"
        )
        params = [
            session.channel,
            session.external_id,
            session.state,
            session.data,
            session.updated_at.isoformat(),
        ]
        await self._execute(*_with_mark(event, upsert, params))

    async def clear_session(
        self, channel: str, external_id: str, *, event: EventMark | None = None
    ) -> None:
        """Forget a finished or cancelled conversation."""
        delete = "DELETE FROM sessions WHERE channel = ? AND external_id = ?"
        await self._execute(*_with_mark(event, delete, [channel, external_id]))

    async def mark_event(self, event: EventMark) -> bool:
        """Mark an update handled by a turn that wrote nothing else; False if it was already."""
        # Exactly once across processes: the primary key (channel, event_id) lets one INSERT
        # through; a second one at the same time waits for it and then inserts nothing.
        marked = await self._execute(_MARK, (event.channel, event.event_id, _utc(event.at)))
        return marked > 0

    async def prune_events(self, before: datetime) -> int:
        """Forget events handled before `before` (channels redeliver only recent ones)."""
        return await self._execute(
            'DELETE FROM handled_events WHERE handled_at < ?::text COLLATE "C"', (_utc(before),)
        )


def _with_mark(event: EventMark | None, statement: str, params: list[Any]) -> tuple[str, list[Any]]:
    """`statement` with the event marked handled by the same statement (a data-modifying WITH
    runs once, whatever reads it): one round trip, one transaction."""
    if event is None:
        return statement, params
    return (
        f"WITH marked AS ({_MARK}) {statement}",
        [event.channel, event.event_id, _utc(event.at), *params],
    )


def _reach_of_rows(person: Person, found: Sequence[Sequence[Any]], at: int) -> Reach:
    """The reach from the (kind, code, agency) columns starting at `at` of each row (a row
    without a kind is the person's without any)."""
    return _reach(person, [row[at : at + 3] for row in found if row[at] is not None])


# What a person `p` may reach on a day (the day given twice): their projects, those of
# colleagues away that day, their scopes (in the order they were given, for `Reach.agencies`).
_REACH_JOIN = """
    LEFT JOIN LATERAL (
        SELECT 'own' AS kind, pj.code, NULL::text AS agency, 0::bigint AS place
        FROM project_officers o JOIN projects pj ON pj.id = o.project_id
        WHERE o.person_id = p.id
        UNION ALL
        SELECT 'standing_in', pj.code, NULL, 0 FROM delegations d
        JOIN project_officers o ON o.person_id = d.person_id
        JOIN projects pj ON pj.id = o.project_id
        WHERE d.delegate_id = p.id
            AND d.first_day <= ?::text COLLATE "C" AND d.last_day >= ?::text COLLATE "C"
        UNION ALL
        SELECT 'scope', pj.code, s.agency, s.id FROM coordinator_scopes s
        LEFT JOIN projects pj ON pj.id = s.project_id WHERE s.person_id = p.id
    ) r ON true
"""
_ROLES = "(SELECT string_agg(role, ',') FROM person_roles WHERE person_id = p.id)"
# The account, its session, whether the update was handled, the person, their channel, then
# one row per thing they reach (a single row of the rest if they reach nothing).
_TURN_SELECT = f"""
    SELECT
        EXISTS (SELECT 1 FROM handled_events e WHERE e.channel = a.channel AND e.event_id = ?),
        s.state, s.data, s.updated_at,
        p.id, p.name, p.phone, p.position, {_ROLES},
        (SELECT channel FROM channel_preferences WHERE person_id = p.id),
        r.kind, r.code, r.agency
    FROM (SELECT ?::text AS channel, ?::text AS external_id) a
    LEFT JOIN sessions s ON s.channel = a.channel AND s.external_id = a.external_id
    LEFT JOIN chat_identities i ON i.channel = a.channel AND i.external_id = a.external_id
    LEFT JOIN people p ON p.id = i.person_id
    {_REACH_JOIN}
    ORDER BY r.place
"""
# The person and one row per thing they reach, as in `_TURN_SELECT` (no row for nobody).
_REACH_OF_SELECT = f"""
    SELECT p.id, p.name, p.phone, p.position, {_ROLES}, r.kind, r.code, r.agency
    FROM people p
    {_REACH_JOIN}
    WHERE p.id = ?
    ORDER BY r.place
"""
