"""PostgreSQL: reminders claimed before sending, snoozes, and the kinds of message people turned
off (see storage/sqlite_reminders.py for SQLite's)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.models import DeliveryStatus, EventMark, Nudge, ReminderKey, ReminderRecord, Snooze
from storage.pg_base import PgBase, execute, mark, project_id, require_person
from storage.sqlite_base import _KEY_WHERE, _key, _utc

_at = datetime.fromisoformat


class PgRemindersPart(PgBase):
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

    async def finish_reminder(
        self,
        key: ReminderKey,
        status: DeliveryStatus,
        at: datetime,
        error: str = "",
        retry_key: str | None = None,
    ) -> None:
        """Record what became of a claimed reminder, and the retry key of the request it went
        in (kept as it was when None): a resend goes under the same key."""
        await self._execute(
            "UPDATE reminder_log SET status = ?, updated_at = ?, error = ?, "
            f"retry_key = coalesce(?::text, retry_key) WHERE {_KEY_WHERE}",
            (status.value, _utc(at), error[:500], retry_key, *_key(key)),
        )

    async def reminder_records(
        self, status: DeliveryStatus | None = None, *, subject: str | None = None
    ) -> list[ReminderRecord]:
        """Claimed reminders (of one status, about one subject, if given), by key."""
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        rows = await self._all(
            "SELECT person_id, subject, fiscal_year, report_no, kind, channel, external_id, "
            "status, attempts, claimed_at, updated_at, error, retry_key FROM reminder_log "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY person_id, subject, fiscal_year, report_no, kind",
            params,
        )
        return [
            ReminderRecord(
                ReminderKey(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], DeliveryStatus(r[7]), r[8],
                _at(r[9]), _at(r[10]), r[11], r[12],
            )
            for r in rows
        ]  # fmt: skip

    async def mark_in_doubt(self, at: datetime) -> int:
        """At start-up: reminders left SENDING by a stopped process become UNKNOWN (not resent)."""
        return await self._execute(
            "UPDATE reminder_log SET status = 'unknown', updated_at = ? WHERE status = 'sending'",
            (_utc(at),),
        )

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

    async def snoozes(self) -> list[Snooze]:
        """Every snooze (expired ones included), by person and project."""
        rows = await self._all(
            "SELECT person_id, project_code, snoozed_on, until FROM snoozes "
            "ORDER BY person_id, project_code"
        )
        return [Snooze(r[0], r[1], date.fromisoformat(r[2]), _at(r[3])) for r in rows]

    async def set_notification(
        self, person_id: int, kind: str, enabled: bool, *, event: EventMark | None = None
    ) -> None:
        """Turn one kind of message on or off for a person."""
        async with self._transaction() as conn:
            await require_person(conn, person_id)
            await mark(conn, event)
            await execute(
                conn,
                "INSERT INTO notification_settings (person_id, kind, enabled) VALUES (?, ?, ?) "
                "ON CONFLICT (person_id, kind) DO UPDATE SET enabled = excluded.enabled",
                (person_id, kind, int(enabled)),
            )

    async def disabled_notifications(self) -> dict[int, set[str]]:
        """Per person, the kinds of message they turned off."""
        off: dict[int, set[str]] = {}
        for person_id, kind in await self._all(
            "SELECT person_id, kind FROM notification_settings WHERE enabled = 0"
        ):
            off.setdefault(person_id, set()).add(kind)
        return off

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

    async def nudges_between(self, start: datetime, end: datetime) -> list[Nudge]:
        """Nudges to send after `start` and no later than `end`, by when they go out."""
        return await self._nudges(
            "n.send_after > ? AND n.send_after <= ? ORDER BY n.send_after, n.id",
            (_utc(start), _utc(end)),
        )

    async def nudges_of_project(self, project_code: str) -> list[Nudge]:
        """Every nudge about a project, the latest asked first."""
        return await self._nudges("p.code = ? ORDER BY n.asked_at DESC, n.id DESC", (project_code,))

    async def _nudges(self, where: str, params: tuple[object, ...]) -> list[Nudge]:
        rows = await self._all(
            "SELECT n.by_person, n.person_id, p.code, n.fiscal_year, n.report_no, n.day, "
            "n.asked_at, n.send_after FROM nudges n JOIN projects p ON p.id = n.project_id "
            f"WHERE {where}",
            params,
        )
        return [
            Nudge(by, person, code, year, number, date.fromisoformat(day), _at(asked), _at(send))
            for by, person, code, year, number, day, asked, send in rows
        ]
