"""Numbered schema migrations, applied in order; `PRAGMA user_version` records the last one applied.

Never edit a migration that has shipped: add a new one. Money is stored as integer satang and
progress as integer hundredths of a percent, so that both are exact.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: projects, people, roles, chat identities, monthly reports with revisions, conversations.
    """
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE CHECK (length(trim(code)) > 0),
        name TEXT NOT NULL,
        fiscal_year INTEGER NOT NULL CHECK (fiscal_year BETWEEN 2400 AND 2800),
        start_date TEXT,
        end_date TEXT,
        budget_received_satang INTEGER CHECK (budget_received_satang >= 0),
        budget_used_satang INTEGER CHECK (budget_used_satang >= 0),
        agency TEXT NOT NULL DEFAULT '',
        officer_name TEXT NOT NULL DEFAULT '',
        officer_phone TEXT NOT NULL DEFAULT '',
        coordinator_name TEXT NOT NULL DEFAULT '',
        coordinator_phone TEXT NOT NULL DEFAULT '',
        rationale TEXT NOT NULL DEFAULT '',
        objectives TEXT NOT NULL DEFAULT '',
        target_quantity TEXT NOT NULL DEFAULT '',
        target_quality TEXT NOT NULL DEFAULT '',
        strategy TEXT NOT NULL DEFAULT '',
        sub_strategy TEXT NOT NULL DEFAULT '',
        goal TEXT NOT NULL DEFAULT '',
        indicator TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX projects_by_agency ON projects (agency);

    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        phone TEXT NOT NULL DEFAULT '',
        position TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE person_roles (
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('officer', 'coordinator', 'admin')),
        PRIMARY KEY (person_id, role)
    ) WITHOUT ROWID;

    CREATE TABLE project_officers (
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        PRIMARY KEY (project_id, person_id)
    ) WITHOUT ROWID;
    CREATE INDEX project_officers_by_person ON project_officers (person_id);

    CREATE TABLE coordinator_scopes (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        agency TEXT,
        project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
        CHECK ((agency IS NULL) <> (project_id IS NULL)),
        UNIQUE (person_id, agency, project_id)
    );

    CREATE TABLE chat_identities (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        PRIMARY KEY (channel, external_id)
    ) WITHOUT ROWID;

    CREATE TABLE monthly_reports (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects (id),
        fiscal_year INTEGER NOT NULL,
        report_no INTEGER NOT NULL CHECK (report_no BETWEEN 1 AND 12),
        current_revision INTEGER NOT NULL DEFAULT 1,
        UNIQUE (project_id, fiscal_year, report_no)
    );

    -- Every version of every report; rows are only ever inserted (see the triggers below).
    CREATE TABLE report_revisions (
        report_id INTEGER NOT NULL REFERENCES monthly_reports (id),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        reported_on TEXT NOT NULL,
        progress_centi INTEGER NOT NULL CHECK (progress_centi BETWEEN 0 AND 10000),
        disbursed_satang INTEGER NOT NULL CHECK (disbursed_satang >= 0),
        note TEXT NOT NULL DEFAULT '',
        on_plan INTEGER NOT NULL CHECK (on_plan IN (0, 1)),
        plan_reason TEXT NOT NULL DEFAULT '',
        on_target INTEGER NOT NULL CHECK (on_target IN (0, 1)),
        target_reason TEXT NOT NULL DEFAULT '',
        changed_by INTEGER REFERENCES people (id),
        channel TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (report_id, revision)
    ) WITHOUT ROWID;

    CREATE TRIGGER report_revisions_no_update BEFORE UPDATE ON report_revisions
    BEGIN SELECT RAISE(ABORT, 'report revisions are append-only'); END;
    CREATE TRIGGER report_revisions_no_delete BEFORE DELETE ON report_revisions
    BEGIN SELECT RAISE(ABORT, 'report revisions are append-only'); END;
    CREATE TRIGGER monthly_reports_no_delete BEFORE DELETE ON monthly_reports
    BEGIN SELECT RAISE(ABORT, 'monthly reports are never deleted'); END;

    CREATE TABLE sessions (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        state TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, external_id)
    ) WITHOUT ROWID;
    """,
    # 2: linking chat accounts by invite, with attempt limits, and incoming events handled once.
    # Times in these tables are UTC ISO text, so that comparing the text compares the instants.
    """
    CREATE TABLE invites (
        code_hash TEXT PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_channel TEXT,
        used_external_id TEXT
    ) WITHOUT ROWID;

    CREATE TABLE link_failures (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        failed_at TEXT NOT NULL
    );
    CREATE INDEX link_failures_by_account ON link_failures (channel, external_id, failed_at);

    CREATE TABLE handled_events (
        channel TEXT NOT NULL,
        event_id TEXT NOT NULL,
        handled_at TEXT NOT NULL,
        PRIMARY KEY (channel, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX handled_events_by_time ON handled_events (handled_at);
    """,
    # 3: reminders. Each message is claimed (inserted) before it is sent, so no key is ever sent
    # twice; its status then records what happened. Snoozes, stand-ins while away, and each
    # person's choice of which notifications they receive.
    """
    CREATE TABLE reminder_log (
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        subject TEXT NOT NULL,
        fiscal_year INTEGER NOT NULL,
        report_no INTEGER NOT NULL CHECK (report_no BETWEEN 1 AND 12),
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'retry', 'failed', 'unknown')),
        attempts INTEGER NOT NULL DEFAULT 1,
        claimed_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (person_id, subject, fiscal_year, report_no, kind)
    ) WITHOUT ROWID;
    CREATE INDEX reminder_log_by_status ON reminder_log (status);

    CREATE TABLE snoozes (
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        project_code TEXT NOT NULL,
        snoozed_on TEXT NOT NULL,
        until TEXT NOT NULL,
        PRIMARY KEY (person_id, project_code)
    ) WITHOUT ROWID;

    CREATE TABLE delegations (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        delegate_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        first_day TEXT NOT NULL,
        last_day TEXT NOT NULL,
        created_at TEXT NOT NULL,
        CHECK (person_id <> delegate_id),
        CHECK (first_day <= last_day)
    );
    CREATE INDEX delegations_by_person ON delegations (person_id, last_day);

    CREATE TABLE notification_settings (
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        PRIMARY KEY (person_id, kind)
    ) WITHOUT ROWID;
    """,
    # 4: where to write to a person linked on several channels: the channel they last used, and
    # accounts that blocked the bot (a LINE unfollow), which are not written to until unblocked.
    """
    CREATE TABLE channel_preferences (
        person_id INTEGER PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
        channel TEXT NOT NULL
    );

    CREATE TABLE blocked_accounts (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        blocked_at TEXT NOT NULL,
        PRIMARY KEY (channel, external_id)
    ) WITHOUT ROWID;
    """,
    # 5: the X-Line-Retry-Key each reminder was sent under, so that a resend after a failure
    # goes under the same key however the reminders are grouped then; and the channel (or
    # both) each person chose for reminders.
    """
    ALTER TABLE reminder_log ADD COLUMN retry_key TEXT NOT NULL DEFAULT '';

    CREATE TABLE reminder_channels (
        person_id INTEGER PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
        choice TEXT NOT NULL CHECK (choice IN ('line', 'telegram', 'both'))
    );
    """,
    # 6: LINE rich menus: the menu made for each role (its id at LINE, and its name, which says
    # what it was made from), and the menu each LINE account was last linked to (by its id).
    """
    CREATE TABLE line_rich_menus (
        role TEXT PRIMARY KEY,
        rich_menu_id TEXT NOT NULL,
        name TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE line_menu_links (
        external_id TEXT PRIMARY KEY,
        rich_menu_id TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 7: the web dashboard: single-use sign-in links sent in chat, and the sessions they open
    # (both stored as hashes of their secrets, so a copy of the database opens nothing).
    """
    CREATE TABLE web_links (
        token_hash TEXT PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        expires_at TEXT NOT NULL,
        used_at TEXT
    ) WITHOUT ROWID;

    CREATE TABLE web_sessions (
        token_hash TEXT PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 8: nudges from the dashboard: who asked that whom be reminded of which project's report,
    # at most one per person and project on the day it goes out (the reminder log records
    # what became of each, read by project for the project's page).
    """
    CREATE TABLE nudges (
        id INTEGER PRIMARY KEY,
        by_person INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        fiscal_year INTEGER NOT NULL,
        report_no INTEGER NOT NULL CHECK (report_no BETWEEN 1 AND 12),
        day TEXT NOT NULL,
        asked_at TEXT NOT NULL,
        send_after TEXT NOT NULL,
        UNIQUE (person_id, project_id, day)
    );

    CREATE INDEX nudges_by_send_after ON nudges (send_after);

    CREATE INDEX reminder_log_by_subject ON reminder_log (subject);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
