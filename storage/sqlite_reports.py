"""Monthly reports with every version they had, and projects read with their reports."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from domain.models import (
    EventMark,
    MonthlyReport,
    Revision,
    Submission,
)
from storage.contracts import Account
from storage.errors import AlreadyReported, NotFound, StorageError
from storage.sql_shared import SharedReports
from storage.sqlite_base import (
    _REPORT_COLUMNS,
    _REPORT_FROM,
    SqliteBase,
    Statement,
    _finish_statement,
    _mark_statement,
    _monthly_report,
    _project_id_of,
    _report,
    _to_centi,
    _values_from_row,
    to_satang,
)


def _revision(report_id: int, revision: int, s: Submission) -> Statement:
    """The statement storing one version of a report."""
    v = s.values
    return (
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
            s.sent_at.isoformat(),
            s.reason,
        ),
    )


def _finish_turn(
    conn: sqlite3.Connection,
    revision: Statement,
    session: Account | None,
    event: EventMark | None,
) -> None:
    """The version stored, the conversation that made it ended, its update marked handled."""
    conn.execute(*revision)
    if session is not None:
        conn.execute(*_finish_statement(session))
    if event is not None:
        conn.execute(*_mark_statement(event))


class ReportsPart(SharedReports, SqliteBase):
    """Monthly reports with every version they had, and projects read with their reports."""

    async def submit_report(
        self,
        submission: Submission,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new monthly report (revision 1); raise AlreadyReported if that month has one."""

        def write(conn: sqlite3.Connection) -> int:
            project_id = _project_id_of(conn, submission.project_code)
            cur = conn.execute(
                "INSERT INTO monthly_reports (project_id, fiscal_year, report_no) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (project_id, submission.fiscal_year, submission.report_no),
            )
            if cur.rowcount == 0 or cur.lastrowid is None:
                raise AlreadyReported(
                    f"{submission.project_code} already has report "
                    f"{submission.report_no} of {submission.fiscal_year}"
                )
            _finish_turn(conn, _revision(cur.lastrowid, 1, submission), finish_session, event)
            return cur.lastrowid

        return _report(await self._transact(write), 1, submission)

    async def correct_report(
        self,
        submission: Submission,
        *,
        finish_session: Account | None = None,
        event: EventMark | None = None,
    ) -> MonthlyReport:
        """Store a new revision of an existing report (the reason is required)."""
        if not submission.reason.strip():
            raise StorageError("a correction needs a reason")

        def write(conn: sqlite3.Connection) -> tuple[int, int]:
            project_id = _project_id_of(conn, submission.project_code)
            row = conn.execute(
                "SELECT id, current_revision FROM monthly_reports "
                "WHERE project_id = ? AND fiscal_year = ? AND report_no = ?",
                (project_id, submission.fiscal_year, submission.report_no),
            ).fetchone()
            if row is None:
                raise NotFound("no report to correct for that month")
            report_id, revision = int(row[0]), int(row[1]) + 1
            conn.execute(
                "UPDATE monthly_reports SET current_revision = ? WHERE id = ?",
                (revision, report_id),
            )
            _finish_turn(conn, _revision(report_id, revision, submission), finish_session, event)
            return report_id, revision

        report_id, revision = await self._transact(write)
        return _report(report_id, revision, submission)

    async def last_change_by(self, person_id: int) -> tuple[MonthlyReport, Revision] | None:
        """The report this person stored or corrected last (its current version), with that
        revision of theirs."""
        rows = await self._all(
            "SELECT report_id, revision, changed_at FROM report_revisions WHERE changed_by = ?",
            (person_id,),
        )
        if not rows:
            return None
        # Compared as instants: stored times may carry different offsets.
        report_id, revision, _ = max(rows, key=lambda r: (datetime.fromisoformat(r[2]), r[0], r[1]))
        history = await self.revisions(report_id)
        found = await self._all(
            f"SELECT {_REPORT_COLUMNS}, p.code {_REPORT_FROM} WHERE r.id = ?", (report_id,)
        )
        return _monthly_report(found[0], found[0][15]), history[revision - 1]

    async def revisions(self, report_id: int) -> list[Revision]:
        """Every version of a report, oldest first."""
        rows = await self._all(
            "SELECT reported_on, progress_centi, disbursed_satang, note, on_plan, plan_reason, "
            "on_target, target_reason, revision, changed_by, channel, changed_at, reason "
            "FROM report_revisions WHERE report_id = ? ORDER BY revision",
            (report_id,),
        )
        return [
            Revision(
                report_id=report_id,
                revision=r[8],
                values=_values_from_row(r[:8]),
                changed_by=r[9],
                channel=r[10],
                changed_at=datetime.fromisoformat(r[11]),
                reason=r[12],
            )
            for r in rows
        ]
