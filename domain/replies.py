"""Reading what officers type in chat: clean text, and yes or no."""

from __future__ import annotations

import unicodedata

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}

YES_WORDS = frozenset({"ใช่", "เป็น", "ตาม", "yes", "y", "ok", "ตกลง", "ถูกต้อง"})
NO_WORDS = frozenset({"ไม่", "ไม่ใช่", "ไม่เป็น", "no", "n"})
CONFIRM_WORDS = frozenset({"ยืนยัน", *YES_WORDS})


def clean_text(raw: str) -> str:
    """Typed text made safe to read and store: NFC, no control or zero-width characters."""
    kept = (
        " " if ch in "\t\r" else ch
        for ch in raw
        if ch == "\n" or ch in "\t\r" or (unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE)
    )
    # Normalise after the removals, so marks once split by a zero-width space compose again.
    return unicodedata.normalize("NFC", "".join(kept)).strip()


def read_yes_no(text: str, yes_label: str = "", no_label: str = "") -> bool | None:
    """A typed yes or no (a button's label counts too); None if it is neither."""
    typed = text.strip().lower()
    if typed in NO_WORDS or (no_label and typed == no_label.lower()):
        return False
    if typed in YES_WORDS or (yes_label and typed == yes_label.lower()):
        return True
    return None


def is_confirmation(text: str) -> bool:
    """Whether typed text confirms what was shown ("ยืนยัน", "ใช่", "ตกลง"...)."""
    return text.strip().lower() in CONFIRM_WORDS
