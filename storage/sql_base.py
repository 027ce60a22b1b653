"""What the reads shared by the SQL backends (storage.sql_shared) ask of each of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from domain.models import Person


class Tx(Protocol):
    """A transaction in progress, on either backend (statements with `?` placeholders)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the rows it changed."""

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of a query."""


class SqlBase:
    """What the shared reads ask of a backend."""

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Every row of a query (`?` placeholders)."""
        raise NotImplementedError

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """The first row of a query, or None."""
        raise NotImplementedError

    async def _people(self, where: str, params: Iterable[Any]) -> list[Person]:
        """People with their roles, by name."""
        raise NotImplementedError

    def among(self, values: Collection[Any], kind: str = "TEXT") -> tuple[str, Any]:
        """SQL for "in this list" (`x IN <sql>`) and its one parameter: texts, or with `kind`
        "BIGINT" whole numbers."""
        raise NotImplementedError

    def _tx(self) -> AbstractAsyncContextManager[Tx]:
        """One transaction: committed when the block ends, rolled back on an error (a refusal
        of the schema becomes a StorageError)."""
        raise NotImplementedError

    def _reads(self) -> AbstractAsyncContextManager[Tx]:
        """Several reads that all see one state of the database (no write comes between)."""
        raise NotImplementedError
