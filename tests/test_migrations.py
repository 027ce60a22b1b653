"""Databases written by every earlier version of the code, migrated by today's.

tests/fixtures/schema_vN.sql are SQL dumps of databases filled by the commit that last wrote
schema version N (tests/fixtures/make_schema_dumps.py rebuilds them): the seed project and its
twelve reports, a report sent through the console and then corrected, a half-finished
conversation, and per version its additions (an invite from v2, a reminder from v3).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from domain.messages import Inbound
from domain.models import Submission
from handlers.conversation import Conversation
from storage.migrations import SCHEMA_VERSION
from storage.sqlite import SqliteStorage
from tests.support import NOW, values

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = sorted(int(p.stem.removeprefix("schema_v")) for p in FIXTURES.glob("schema_v*.sql"))
SEED = "50140000-3629"
SENT = "50140000-4701"  # reported through the console at 35 %, then corrected to 36 %


def test_every_earlier_version_has_a_fixture() -> None:
    missing = set(range(1, SCHEMA_VERSION)) - set(VERSIONS)
    assert not missing, "dump each earlier version with tests/fixtures/make_schema_dumps.py"


def load(version: int, folder: Path) -> Path:
    path = folder / f"v{version}.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / f"schema_v{version}.sql").read_text(encoding="utf-8"))
        assert db.execute("PRAGMA user_version").fetchone()[0] == version
    return path


@pytest.mark.parametrize("version", VERSIONS)
async def test_an_old_database_is_migrated_with_everything_in_it(
    version: int, tmp_path: Path
) -> None:
    path = load(version, tmp_path)
    repo = await SqliteStorage.open(path)
    try:
        seed = await repo.reports_of_project(SEED)
        assert [r.report_no for r in seed] == list(range(1, 13))
        assert seed[-1].values.progress == Decimal("100.00")
        [sent] = await repo.reports_of_project(SENT)
        assert sent.values.progress == Decimal("36.00") and sent.revision == 2
        history = await repo.revisions(sent.id)
        assert [h.values.progress for h in history] == [Decimal("35.00"), Decimal("36.00")]
        assert history[1].reason == "แก้ตัวเลขที่พิมพ์ผิด"
        assert await repo.load_session("console", "demo-officer") is not None

        # Today's code works on it: a new report, and the conversation.
        month_two = Submission(SENT, 2570, 2, values("40", "210000"), None, "console", NOW)
        await repo.submit_report(month_two)
        assert len(await repo.reports_of_project(SENT)) == 2
        conversation = Conversation(repo, lambda: NOW)
        replies = await conversation.handle(Inbound.typed("console", "demo-officer", "สถานะ"))
        assert any(SENT in r.text for r in replies)
    finally:
        await repo.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        if version >= 2:
            assert db.execute("SELECT count(*) FROM invites").fetchone()[0] == 1
        if version >= 3:
            assert db.execute("SELECT status FROM reminder_log").fetchall() == [("sent",)]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE report_revisions SET progress_centi = 0")


async def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    path = load(VERSIONS[0], tmp_path)
    for _ in range(2):
        repo = await SqliteStorage.open(path)
        await repo.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
