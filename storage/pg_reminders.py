"""PostgreSQL: reminders claimed before sending, snoozes, and the kinds of message people turned
off (see storage/sqlite_reminders.py for SQLite's)."""

from __future__ import annotations

from datetime import date, datetime

from domain.models import EventMark, Nudge, ReminderKey
from storage.pg_base import PgBase, execute, mark, project_id, require_person
from storage.sql_shared import SharedReminders
from storage.sqlite_base import _KEY_WHERE, _key, _utc

_at = datetime.fromisoformat


class PgRemindersPart(SharedReminders, PgBase):
    """Reminders claimed before sending, snoozes, and the kinds of message people turned off."""

    async def claim_reminder(
        self, key: ReminderKey, channel: str, external_id: str, at: datetime
    ) -> bool:
        """Record a reminder as being sent (status SENDING); False if the key exists already."""
        # Concurrency: the primary key decides; of processes claiming at once, one inserts the
        # row and the others (waiting on it) insert nothing.
        changed = await self._execute(
            "INSERT INTO reminder_log (person_id, subject, fiscal_year, report_no, kind, channel, "
            "external_id, status, claimed_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT DO NOTHING",
            (*_key(key), channel, external_id, _utc(at), _utc(at)),
        )
        return changed > 0

    async def reclaim_reminder(self, key: ReminderKey, at: datetime) -> bool:
        """Take a reminder marked RETRY back to SENDING for another attempt; False if it is not."""
        # Concurrency: one UPDATE; a second caller waits on the row lock, then re-checks the
        # status (now 'sending') and changes nothing.
        changed = await self._execute(
            "UPDATE reminder_log SET status = 'sending', attempts = attempts + 1, "
            f"updated_at = ? WHERE {_KEY_WHERE} AND status = 'retry'",
            (_utc(at), *_key(key)),
        )
        return changed > 0

    async def snooze(
        self,
        person_id: int,
        project_code: str,
        on: date,
        until: datetime,
        *,
        event: EventMark | None = None,
    ) -> bool:
        """Hold reminders about a project until `until`; False if already snoozed on `on`."""
        async with self._transaction() as conn:
            await mark(conn, event)
            # Concurrency: one upsert instead of read-then-write. The existing row is replaced
            # only when snoozed on another day; a concurrent snooze for the same day waits on
            # the row (or the key), then sees that day and changes nothing.
            changed = await execute(
                conn,
                "INSERT INTO snoozes (person_id, project_code, snoozed_on, until) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (person_id, project_code) DO UPDATE SET "
                "snoozed_on = excluded.snoozed_on, until = excluded.until "
                "WHERE snoozes.snoozed_on <> excluded.snoozed_on",
                (person_id, project_code, on.isoformat(), _utc(until)),
            )
            return changed > 0

    async def add_nudge(self, nudge: Nudge) -> bool:
        """Record a nudge; False if the person was nudged about the project that day already."""
        async with self._transaction() as conn:
            await require_person(conn, nudge.by_person)
            await require_person(conn, nudge.person_id)
            project = await project_id(conn, nudge.project_code)
            n = nudge
            row = (n.by_person, n.person_id, project, n.fiscal_year, n.report_no)
            moments = (n.day.isoformat(), _utc(n.asked_at), _utc(n.send_after))
            # Concurrency: the unique key (person, project, day) decides between simultaneous
            # nudges; the loser inserts nothing.
            changed = await execute(
                conn,
                "INSERT INTO nudges (by_person, person_id, project_id, fiscal_year, report_no, "
                "day, asked_at, send_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (*row, *moments),
            )
            return changed > 0
