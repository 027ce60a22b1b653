"""Thai text shortened to fit a button, a chart label or a line, at a word boundary.

Thai writes no spaces between words, and its vowels and tone marks sit on their consonant, so a
cut at a fixed character count lands inside a syllable ("…โรงเ", "…มูลฝ") and can leave a mark
without its letter. Here words are found with pythainlp's newmm segmenter; a label is cut after
the last whole word that fits, with an ellipsis. A single word longer than the space (a code, a
long compound) is cut between grapheme clusters, never between a letter and its marks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

from domain.words import segment

ELLIPSIS = "…"


def width_of(text: str) -> int:
    """Columns a text takes: Thai vowels and tone marks above or below a letter take none."""
    return sum(1 for ch in text if unicodedata.category(ch) != "Mn")


def shorten(text: str, width: int, *, measure: Callable[[str], int] = width_of) -> str:
    """`text` in at most `width` (columns, or what `measure` counts, e.g. `len` where a
    platform counts characters): whole if it fits, else cut after the last whole word that
    fits, with "…"."""
    if measure(text) <= width:
        return text
    return _shortened(text, width, measure)


@lru_cache(maxsize=4096)
def _shortened(text: str, width: int, measure: Callable[[str], int]) -> str:
    room = max(1, width - measure(ELLIPSIS))
    kept = ""
    for token in segment(text):
        if measure(kept + token) > room:
            break
        kept += token
    kept = kept.rstrip(" -/,(")
    if not kept:  # the first word alone is too long: cut it between grapheme clusters
        kept = _graphemes_within(text, room, measure)
    return kept + ELLIPSIS


def _graphemes_within(text: str, room: int, measure: Callable[[str], int]) -> str:
    """The longest start of `text` within `room` that leaves no mark without its letter."""
    cut = 0
    for index in range(1, len(text) + 1):
        at_boundary = index == len(text) or unicodedata.category(text[index]) != "Mn"
        if at_boundary:
            if measure(text[:index]) > room:
                break
            cut = index
    return text[:cut]
