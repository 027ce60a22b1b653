"""Reminders claimed before sending, snoozes, and the kinds of message people turned off."""

from __future__ import annotations

from datetime import date, datetime

from domain.models import EventMark, Nudge, ReminderKey
from storage.sql_shared import SharedReminders
from storage.sqlite_base import _KEY_WHERE, SqliteBase, _key, _mark, _utc

_at = datetime.fromisoformat


class RemindersPart(SharedReminders, SqliteBase):
    """Reminders claimed before sending, snoozes, and the kinds of message people turned off."""

    async def claim_reminder(
        self, key: ReminderKey, channel: str, external_id: str, at: datetime
    ) -> bool:
        """Record a reminder as being sent (status SENDING); False if the key exists already."""
        async with (
            self._transaction() as db,
            db.execute(
                "INSERT OR IGNORE INTO reminder_log (person_id, subject, fiscal_year, report_no, "
                "kind, channel, external_id, status, claimed_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?)",
                (*_key(key), channel, external_id, _utc(at), _utc(at)),
            ) as cur,
        ):
            return cur.rowcount > 0

    async def reclaim_reminder(self, key: ReminderKey, at: datetime) -> bool:
        """Take a reminder marked RETRY back to SENDING for another attempt; False if it is not."""
        async with (
            self._transaction() as db,
            db.execute(
                "UPDATE reminder_log SET status = 'sending', attempts = attempts + 1, "
                f"updated_at = ? WHERE {_KEY_WHERE} AND status = 'retry'",
                (_utc(at), *_key(key)),
            ) as cur,
        ):
            return cur.rowcount > 0

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
        async with self._transaction() as db:
            await _mark(db, event)
            async with db.execute(
                "SELECT snoozed_on FROM snoozes WHERE person_id = ? AND project_code = ?",
                (person_id, project_code),
            ) as cur:
                row = await cur.fetchone()
            if row is not None and row[0] == on.isoformat():
                return False
            await db.execute(
                "INSERT INTO snoozes (person_id, project_code, snoozed_on, until) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (person_id, project_code) DO UPDATE SET "
                "snoozed_on = excluded.snoozed_on, until = excluded.until",
                (person_id, project_code, on.isoformat(), _utc(until)),
            )
            return True

    async def add_nudge(self, nudge: Nudge) -> bool:
        """Record a nudge; False if the person was nudged about the project that day already."""
        async with self._transaction() as db:
            await self._require_person(db, nudge.by_person)
            await self._require_person(db, nudge.person_id)
            project_id = await self._project_id(db, nudge.project_code)
            n = nudge
            row = (n.by_person, n.person_id, project_id, n.fiscal_year, n.report_no)
            moments = (n.day.isoformat(), _utc(n.asked_at), _utc(n.send_after))
            async with db.execute(
                "INSERT OR IGNORE INTO nudges (by_person, person_id, project_id, fiscal_year, "
                "report_no, day, asked_at, send_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, *moments),
            ) as cur:
                return cur.rowcount > 0
