"""The corpus of replies as officers write them (tests/corpus/replies.tsv): each read at its
question by the very readers the steps use, and read the same with a polite ending or spaces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.months import parse_month
from domain.parsing import ParseError
from domain.replies import command_of, is_confirmation, read
from domain.thaidate import parse_day
from handlers import texts
from handlers.closing import read_note, read_on_plan, read_on_target
from handlers.commands import WORDS
from handlers.conversation import Conversation
from handlers.figures import DISBURSED, PROGRESS, Figure
from storage.sqlite import SqliteStorage
from tests.support import NOW, Chat, build_world

CORPUS_FILE = Path(__file__).parent / "corpus" / "replies.tsv"
TODAY = NOW.date()
ENDINGS = ["ค่ะ", " ค่ะ", "ครับ", " ครับ", "ครับผม", " นะคะ", "นะครับ", " ค่ะ 🙏", " จ้า", "คับ"]


def load() -> list[tuple[str, str, str]]:
    """(step, reply, reading) of every line of the corpus."""
    rows = []
    for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            step, reply, expected = line.split("\t")
            rows.append((step, reply, expected))
    return rows


CORPUS = load()
STEPS = {step for step, _, _ in CORPUS}


def _figure(figure: Figure, text: str) -> str:
    try:
        return f"{figure.read(read(text)):.2f}"
    except ParseError:
        return "refused"


def _yes_no(value: bool | None) -> str:
    return "refused" if value is None else ("yes" if value else "no")


def _month(text: str) -> str:
    month = parse_month(read(text).bare, TODAY)
    return "refused" if month is None else f"{month.fiscal_year}-{month.report_no}"


def _day(text: str) -> str:
    day: date | None = parse_day(read(text).plain, TODAY)
    return "refused" if day is None else day.isoformat()


def _note(text: str) -> str:
    note = read_note(read(text))
    return f"note:{note}" if note else "none"


READERS = {
    "progress": lambda text: _figure(PROGRESS, text),
    "disbursed": lambda text: _figure(DISBURSED, text),
    "on_plan": lambda text: _yes_no(read_on_plan(read(text))),
    "on_target": lambda text: _yes_no(read_on_target(read(text))),
    "confirm": lambda text: "confirm" if is_confirmation(read(text)) else "refused",
    "note": _note,
    "command": lambda text: command_of(read(text), WORDS, typos=True) or "-",
    "month": _month,
    "away_until": _day,
}


def test_the_corpus_is_large_and_covers_every_question() -> None:
    assert len(CORPUS) >= 400
    assert {*READERS, "idle"} == STEPS
    assert len({(step, reply) for step, reply, _ in CORPUS}) == len(CORPUS), "no duplicates"


@pytest.mark.parametrize(
    ("step", "reply", "expected"),
    [row for row in CORPUS if row[0] != "idle"],
    ids=[f"{step}:{reply}" for step, reply, _ in CORPUS if step != "idle"],
)
def test_each_reply_reads_as_meant(step: str, reply: str, expected: str) -> None:
    assert READERS[step](reply) == expected


@pytest.fixture
async def conversation() -> AsyncIterator[Conversation]:
    repo = await SqliteStorage.open(":memory:")
    try:
        await build_world(repo)
        yield Conversation(repo, lambda: NOW)
    finally:
        await repo.close()


def _idle_reading(text: str, first: str) -> str:
    if first.startswith("สวัสดี"):
        return "greeting"
    if first == texts.THANKS:
        return "thanks"
    if first == texts.MENU:
        return "menu"
    if "กี่เปอร์เซ็นต์" in first:
        return "command:report"
    if first.startswith("โครงการของคุณ"):
        return "command:status"
    return f"unread: {first[:40]}"


async def test_idle_replies_through_the_conversation(conversation: Conversation) -> None:
    """With nothing in progress, a greeting, thanks, a command or the menu: through the engine."""
    wrong = {}
    for step, reply, expected in CORPUS:
        if step != "idle":
            continue
        chat = Chat(conversation, "jai")
        await chat.say("ยกเลิก")
        first = (await chat.say(reply))[0].text
        if (got := _idle_reading(reply, first)) != expected:
            wrong[reply] = got
    assert wrong == {}


PROPERTY = settings(derandomize=True, max_examples=600, deadline=None)


@PROPERTY
@given(
    row=st.sampled_from([row for row in CORPUS if row[0] != "idle"]),
    ending=st.sampled_from(ENDINGS),
    before=st.sampled_from(["", " ", "  "]),
    after=st.sampled_from(["", " ", "   "]),
)
def test_a_polite_ending_or_spaces_never_change_a_reading(
    row: tuple[str, str, str], ending: str, before: str, after: str
) -> None:
    step, reply, expected = row
    assert READERS[step](f"{before}{reply}{after}") == expected
    assert READERS[step](f"{before}{reply}{ending}{after}") == expected
