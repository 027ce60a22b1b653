"""How long the things people type may be: one source for the conversation and the importers."""

from __future__ import annotations

TEXT_LIMIT = 2000
"""Longer messages are refused before any parsing (a note is at most NOTE_LIMIT)."""

NOTE_LIMIT = 500
"""A month's note of what was done, as the form's one line per report holds it."""

REASON_MIN, REASON_LIMIT = 3, 300
"""A reason (not on plan, a figure lower than last month's, a correction): long enough to mean
something, short enough to read on a phone."""
