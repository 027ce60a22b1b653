"""The errors the storage raises on purpose, part of every storage contract."""

from __future__ import annotations


class StorageError(Exception):
    """Base of the errors the repository raises on purpose."""


class NotFound(StorageError):
    """A referenced project, person or report does not exist."""


class AlreadyReported(StorageError):
    """A report for that project and month exists already: correct it instead."""
