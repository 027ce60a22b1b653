"""Thai text cut into words: pythainlp's newmm segmenter over a dictionary that is quick to load.

newmm's default dictionary is a trie of pythainlp's 62,000 Thai words, built in Python one
letter at a time: about 0.7 s of CPU on the first word cut in a process, which the first
officer to write after a start would wait for. newmm only ever asks its dictionary for the
words that start at a position of the text, so here the same words are held in a set, with the
lengths of the words that start with each pair of letters: built in a few tens of
milliseconds, it answers the same (tests/test_words.py compares the cuts), a little slower per
call on the short texts it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from pythainlp.util import Trie


class WordSet:
    """A word list that newmm can segment with: `prefixes` as pythainlp's `Trie` has it."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(map(str.strip, words)) - {""}
        self._single = frozenset(word for word in self._words if len(word) == 1)
        by_start: dict[str, list[int]] = {}
        for start, length in {(word[:2], len(word)) for word in self._words if len(word) > 1}:
            by_start.setdefault(start, []).append(length)
        self._lengths = {start: tuple(sorted(found)) for start, found in by_start.items()}

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        """The words of the list that `text` has at `start`, shortest first."""
        found = [text[start]] if text[start : start + 1] in self._single else []
        words, room = self._words, len(text) - start
        for length in self._lengths.get(text[start : start + 2], ()):
            if length > room:
                break
            word = text[start : start + length]
            if word in words:
                found.append(word)
        return found


@cache
def dictionary() -> Trie:
    """pythainlp's Thai word list, loaded once per process."""
    from pythainlp.corpus import thai_words  # pythainlp on first use: keeps the start quick

    # Not a Trie, but all that newmm asks of one (`prefixes` and a length).
    return cast("Trie", WordSet(thai_words()))


def segment(text: str) -> list[str]:
    """`text` cut into words by newmm, spaces kept as tokens of their own."""
    if not text:
        return []  # without loading the dictionary
    from pythainlp.tokenize import word_tokenize

    return word_tokenize(text, custom_dict=dictionary(), engine="newmm", keep_whitespace=True)
