"""PostgreSQL: monthly reports with every version they had, and projects read with their reports
(see storage/sqlite_reports.py for SQLite's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.models import (
    EventMark,
    MonthlyReport,
    Revision,
    Submission,
)
from storage.contracts import Account
from storage.errors import AlreadyReported, NotFound, StorageError
from storage.pg_base import (
    Conn,
    PgBase,
    execute,
    mark,
    project_id,
    rows,
    sql,
)
from storage.pg_base import finish_session as end_session
from storage.sql_shared import SharedReports
from storage.sqlite_base import (
    _REPORT_COLUMNS,
    _REPORT_FROM,
    _monthly_report,
    _report,
    _to_centi,
    _values_from_row,
    to_satang,
)

_REVISION_COLUMNS = (
    "reported_on, progress_centi, disbursed_satang, note, on_plan, plan_reason, "
    "on_target, target_reason, revision, changed_by, channel, changed_at, reason"
)


def _revision_from_row(report_id: int, row: Sequence[Any]) -> Revision:
    """A version of a report from a row of `_REVISION_COLUMNS`."""
    return Revision(
        report_id=report_id,
        revision=row[8],
        values=_values_from_row(row),
        changed_by=row[9],
        channel=row[10],
        changed_at=datetime.fromisoformat(row[11]),
        reason=row[12],
    )


async def _store_version(
    conn: Conn,
    report_id: int,
    revision: int,
    s: Submission,
    session: Account | None,
    event: EventMark | None,
) -> None:
    """The version stored, the conversation that made it ended, its update marked handled."""
    v = s.values
    await execute(
        conn,
        "INSERT INTO report_revisions (report_id, revision, reported_on, progress_centi, "
        "disbursed_satang, note, on_plan, plan_reason, on_target, target_reason, changed_by, "
        "channel, changed_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report_id,
            revision,
            v.reported_on.isoformat(),
            _to_centi(v.progress),
            to_satang(v.disbursed),
            v.note,
            int(v.on_plan),
            v.plan_reason,
            int(v.on_target),
            v.target_reason,
            s.sent_by,
            s.channel,
            s.sent_at.isoformat(),  # its own offset kept, as SQLite keeps it
            s.reason,
        ),
    )
    await end_session(conn, session)
    await mark(conn, event)


class PgReportsPart(SharedReports, PgBase):
    """Monthly reports with every version they had, and projects read with their reports."""

    async def submit_report(
        self,
        submission: Submission,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new monthly report (revision 1); raise AlreadyReported if that month has one."""
        s = submission
        async with self._transaction() as conn:
            project = await project_id(conn, s.project_code)
            # Concurrent submits of one month meet at the unique key (project, year, number):
            # the later waits for the earlier to commit, then inserts nothing.
            report_id = await conn.fetchval(
                sql(
                    "INSERT INTO monthly_reports (project_id, fiscal_year, report_no) "
                    "VALUES (?, ?, ?) ON CONFLICT (project_id, fiscal_year, report_no) "
                    "DO NOTHING RETURNING id"
                ),
                project,
                s.fiscal_year,
                s.report_no,
            )
            if report_id is None:
                raise AlreadyReported(
                    f"{s.project_code} already has report {s.report_no} of {s.fiscal_year}"
                )
            await _store_version(conn, int(report_id), 1, s, finish_session, event)
        return _report(int(report_id), 1, s)

    async def correct_report(
        self,
        submission: Submission,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new revision of an existing report (the reason is required)."""
        s = submission
        if not s.reason.strip():
            raise StorageError("a correction needs a reason")
        async with self._transaction() as conn:
            project = await project_id(conn, s.project_code)
            # One statement reads and bumps the revision number, holding the report's row
            # locked to the end of the transaction: a concurrent correction waits, then counts
            # on from this one's number.
            found = await conn.fetchrow(
                sql(
                    "UPDATE monthly_reports SET current_revision = current_revision + 1 "
                    "WHERE project_id = ? AND fiscal_year = ? AND report_no = ? "
                    "RETURNING id, current_revision"
                ),
                project,
                s.fiscal_year,
                s.report_no,
            )
            if found is None:
                raise NotFound("no report to correct for that month")
            report_id, revision = int(found[0]), int(found[1])
            await _store_version(conn, report_id, revision, s, finish_session, event)
        return _report(report_id, revision, s)

    async def last_change_by(self, person_id: int) -> tuple[MonthlyReport, Revision] | None:
        """The report this person stored or corrected last (its current version), with that
        revision of theirs."""
        async with self._snapshot() as conn:  # the three reads see one state
            changes = await rows(
                conn,
                "SELECT report_id, revision, changed_at FROM report_revisions WHERE changed_by = ?",
                (person_id,),
            )
            if not changes:
                return None
            # Compared as instants: stored times may carry different offsets.
            report_id, revision, _ = max(
                changes, key=lambda r: (datetime.fromisoformat(r[2]), r[0], r[1])
            )
            [theirs] = await rows(
                conn,
                f"SELECT {_REVISION_COLUMNS} FROM report_revisions "
                "WHERE report_id = ? AND revision = ?",
                (report_id, revision),
            )
            [current] = await rows(
                conn,
                f"SELECT {_REPORT_COLUMNS}, p.code {_REPORT_FROM} WHERE r.id = ?",
                (report_id,),
            )
        return _monthly_report(current, current[15]), _revision_from_row(report_id, theirs)

    async def revisions(self, report_id: int) -> list[Revision]:
        """Every version of a report, oldest first."""
        found = await self._all(
            f"SELECT {_REVISION_COLUMNS} FROM report_revisions WHERE report_id = ? "
            "ORDER BY revision",
            (report_id,),
        )
        return [_revision_from_row(report_id, r) for r in found]
