"""The errors the storage raises on purpose, part of every storage contract."""

from __future__ import annotations


class StorageError(Exception):
    """Base of the errors the repository raises on purpose."""


class NotFound(StorageError):
    """A referenced project, person or report does not exist."""


class AlreadyReported(StorageError):
    """A report for that project and month exists already: correct it instead."""


class DatabaseUnusable(StorageError):
    """The database file cannot be used at all, found when it is opened: nothing was done.

    The message names the file and says what is wrong, in words meant for the administrator.
    """


class DatabaseDamaged(DatabaseUnusable):
    """The file is not a SQLite database, or it is damaged (truncated, overwritten)."""


class DatabaseReadOnly(DatabaseUnusable):
    """The file, or the folder SQLite keeps its journal in, cannot be written."""


class DatabaseFolderMissing(DatabaseUnusable):
    """The folder the database file should be in does not exist."""


class DatabaseTooNew(DatabaseUnusable):
    """The database was written by a newer version of the program, with a newer schema."""
