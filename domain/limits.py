"""How long the things people type may be: one source for the conversation and the importers."""

from __future__ import annotations

TEXT_LIMIT = 2000
"""Longer messages are refused before any parsing (a note is at most NOTE_LIMIT)."""

NOTE_LIMIT = 500
"""A month's note of what was done, as the form's one line per report holds it."""

REASON_MIN, REASON_LIMIT = 3, 300
"""A reason (not on plan, a figure lower than last month's, a correction): long enough to mean
something, short enough to read on a phone."""

CODE_LIMIT = 60
"""A project code: long enough for any agency's numbering (Thai codes of tens of characters
are common), short enough for a line of the form and a file name."""


def code_problem(code: str) -> str | None:
    """What is wrong with a project code, in Thai, or None."""
    if len(code) > CODE_LIMIT:
        return f"รหัสโครงการยาว {len(code)} ตัวอักษร เกินกว่าที่รับได้ ({CODE_LIMIT})"
    if any(ch in "\n\t" or not ch.isprintable() for ch in code):
        return "รหัสโครงการมีการขึ้นบรรทัดใหม่ แท็บ หรืออักขระที่มองไม่เห็น"
    return None
