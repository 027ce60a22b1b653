"""Errors of the reports package that callers catch without loading the package's libraries."""

from __future__ import annotations


class ImportFileError(Exception):
    """The file as a whole cannot be imported (format, encoding, size or missing columns)."""
