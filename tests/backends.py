"""The database an end-to-end test runs the bot on: a SQLite file, or PostgreSQL (a real server,
tests/pg_server.py). The `database` fixture (tests/conftest.py) gives each in turn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.contracts import Storage
from storage.sqlite import SqliteStorage


@dataclass(frozen=True)
class Database:
    """Where the bot keeps its data in this test: `url` for PostgreSQL, else the file."""

    path: Path
    url: str | None = None

    async def open(self) -> Storage:
        """The storage, as the test reads and prepares it (the bot opens it on its own)."""
        if self.url is None:
            return await SqliteStorage.open(self.path)
        from storage.postgres import PostgresStorage

        return await PostgresStorage.open(self.url)

    async def empty(self) -> None:
        """PostgreSQL: every table emptied, ids from 1 (a SQLite file here is made fresh)."""
        if self.url is None:
            return
        from storage.postgres import PostgresStorage, empty_every_table

        repo = await PostgresStorage.open(self.url)
        try:
            await empty_every_table(repo)
        finally:
            await repo.close()

    def config(self) -> str:
        """The [database] table of the bot's config file."""
        if self.url is None:
            return f'[database]\npath = "{self.path}"\n'
        return f'[database]\nurl = "{self.url}"\n'
