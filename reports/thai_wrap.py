"""Breaking Thai text into lines at word boundaries, for chat messages and for the PDF alike.

Thai puts no spaces between words, so a break at a space alone would leave whole sentences
unbreakable, and a break anywhere would cut words in half. Words are found with pythainlp's
newmm segmenter. A line may break:
1. at whitespace, or between two Thai words (preferred);
2. failing that, at any other newmm token boundary (inside "1/2564" or "50140000-3629");
3. failing that, between grapheme clusters, so a vowel or tone mark stays on its consonant.
Breaks never come before ฯ, ฯลฯ or ๆ, which belong to the word they follow, nor between a
number and its unit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from domain.words import segment

Measure = Callable[[str], float]

# Units that stay on the line of the number before them.
_UNITS = frozenset({"บาท", "%", "ล้านบาท", "คน", "เมตร"})

# A Thai letter that can begin a word: consonants and the leading vowels เ แ โ ใ ไ.
_WORD_START = re.compile(r"[\u0e01-\u0e2e\u0e40-\u0e44]")
# Any Thai letter, vowel or mark (not digits, not ฯ ๆ ๏): such a character can end a word.
_THAI = re.compile(r"[\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e]")


def tokens(text: str) -> list[str]:
    """The newmm word tokens of a text, whitespace kept as tokens of its own."""
    return [t for t in segment(text) if t]


def _may_break_between(left: str, right: str) -> bool:
    # A preferred break: two Thai words meet, e.g. "ความก้าวหน้า|ของ", never "งาน|ฯ".
    return bool(_THAI.fullmatch(left[-1]) and _WORD_START.fullmatch(right[0]))


def words(text: str) -> list[list[str]]:
    """Tokens grouped into unbreakable words (each a list of its newmm tokens); a whitespace
    run is a word of its own, except before ฯลฯ and between a number and its unit ("0 บาท")."""
    grouped: list[list[str]] = []
    for token in tokens(text):
        if (
            grouped
            and not token.isspace()
            and not grouped[-1][-1].isspace()
            and not _may_break_between(grouped[-1][-1], token)
        ):
            grouped[-1].append(token)
        elif (
            len(grouped) >= 2
            and grouped[-1][-1].isspace()
            and (token.startswith("ฯ") or (token in _UNITS and grouped[-2][-1][-1].isdigit()))
        ):
            space = grouped.pop()
            grouped[-1].extend([*space, token])
        else:
            grouped.append([token])
    return grouped


def graphemes(text: str) -> list[str]:
    """Characters with their combining vowels and tone marks attached (ก่ี stays whole)."""
    clusters: list[str] = []
    for char in text:
        if clusters and (unicodedata.category(char) in ("Mn", "Mc", "Me") or char == "\u0e33"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _pack(units: list[str], limit: float, measure: Measure) -> list[str]:
    # Greedy: as many units per piece as fit; a unit too wide alone becomes its own piece.
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and measure(current + unit) > limit:
            pieces.append(current)
            current = unit
        else:
            current += unit
    if current:
        pieces.append(current)
    return pieces


def _split_word(word: list[str], limit: float, measure: Measure) -> list[str]:
    # Break an over-wide word at its newmm tokens, and an over-wide token between graphemes.
    units: list[str] = []
    for token in word:
        units.extend(graphemes(token) if measure(token) > limit else [token])
    # A glued word may hold a space ("0 บาท"): a cut there drops it like any other.
    return [piece.strip() for piece in _pack(units, limit, measure) if piece.strip()]


def wrap(
    text: str, limit: float, measure: Measure = len, first_limit: float | None = None
) -> list[str]:
    """Lines of `text` no wider than `limit` by `measure` (the first no wider than
    `first_limit`), broken at word boundaries; whitespace at a break is dropped.

    Widths are summed word by word, so `measure` is called once per word (cache it if it is
    slow). A single grapheme wider than the limit still gets a line of its own.
    """
    whole = text.rstrip()
    if measure(whole) <= (limit if first_limit is None else min(first_limit, limit)):
        return [whole]  # most lines fit: no need to find the words
    lines: list[str] = []
    current, width = "", 0.0  # the line being filled, without trailing whitespace
    space = ""  # whitespace waiting between `current` and the next word
    for word in words(text):
        joined = "".join(word)
        if joined.isspace():
            space = joined  # kept inside a line and before the first word, dropped at a break
            continue
        room = limit if lines or first_limit is None else min(first_limit, limit)
        # Widths add up word by word; the first word carries any leading whitespace.
        wider = width + measure(space) + measure(joined) if current else measure(space + joined)
        if wider <= room:
            current, width = current + space + joined, wider
        else:
            if current:
                lines.append(current)
                room = limit
            pieces = [joined] if measure(joined) <= room else _split_word(word, room, measure)
            lines.extend(pieces[:-1])
            current, width = pieces[-1], measure(pieces[-1])
        space = ""
    if current or not lines:
        lines.append(current)
    return lines
