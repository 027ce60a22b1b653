"""Shared fixtures: a fixed clock in Bangkok time and fresh repositories."""

from __future__ import annotations

import os

# pythainlp writes a data folder at import unless told not to; tests must not write outside tmp.
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.backends import Database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database for the whole run (see tests/pg_server.py): started on first use."""
    given = os.environ.get("PROGRESS_BOT_TEST_POSTGRES")
    if given:
        yield given
        return
    from tests import pg_server

    try:
        server = pg_server.start()
    except FileNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database for an end-to-end run, on each backend in turn (tests/backends.py)."""
    if request.param == "sqlite":
        yield Database(tmp_path / "bot.sqlite3")
        return
    emptied = Database(tmp_path / "unused.sqlite3", request.getfixturevalue("postgres_url"))
    await emptied.empty()
    yield emptied
