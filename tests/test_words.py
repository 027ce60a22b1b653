"""The quick-to-load dictionary cuts Thai text exactly as newmm's own trie does."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pythainlp.corpus import thai_words
from pythainlp.tokenize import word_tokenize

from domain.words import WordSet, segment

CORPUS = Path(__file__).parent / "corpus" / "replies.tsv"
WORDS = sorted(thai_words())


def newmm(text: str) -> list[str]:
    return list(word_tokenize(text, engine="newmm", keep_whitespace=True))


def test_every_reply_of_the_corpus_is_cut_as_newmm_cuts_it() -> None:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    replies = [line.split("\t")[0] for line in lines if line and not line.startswith("#")]
    assert len(replies) > 400
    for reply in replies:
        assert segment(reply) == newmm(reply), reply


def test_prefixes_are_the_words_at_a_position_shortest_first() -> None:
    found = WordSet(["ก", "กา", "การ", "การบ้าน", "บ้าน"])
    assert found.prefixes("การบ้านดี", 0) == ["ก", "กา", "การ", "การบ้าน"]
    assert found.prefixes("การบ้านดี", 3) == ["บ้าน"]
    assert found.prefixes("การบ้านดี", 7) == []
    assert found.prefixes("กา", 0) == ["ก", "กา"]
    assert "การ" in found and "ดี" not in found
    assert len(found) == 5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.sampled_from(["", " ", "ครับ"]))
def test_words_run_together_are_cut_as_newmm_cuts_them(parts: list[str], end: str) -> None:
    text = "".join(parts) + end
    assert segment(text) == newmm(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x0E01, max_codepoint=0x0E5B) | st.sampled_from(" a1.")
    )
)
def test_any_thai_letters_are_cut_as_newmm_cuts_them(text: str) -> None:
    assert segment(text) == newmm(text)
