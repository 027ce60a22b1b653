"""Linking chat accounts (invites, shared phone numbers, attempt limits) and redelivered updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from domain.messages import Inbound, Outbound
from handlers import texts
from handlers.conversation import Conversation
from handlers.linking import (
    ALPHABET,
    FAILURE_LIMIT,
    code_hash,
    extract_code,
    is_mobile,
    issue_invite,
    new_code,
    phone_digits,
    shown_code,
)
from storage.sqlite import SqliteStorage
from tests.support import NOW, World, build_world


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        yield await build_world(repo)
    finally:
        await repo.close()


def texts_of(replies: list[Outbound]) -> list[str]:
    return [r.text for r in replies]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ABCD-EFGH", "ABCDEFGH"),
        ("abcd efgh", "ABCDEFGH"),
        ("/start ABCDEFGH", "ABCDEFGH"),
        ("/start@progress_bot abcd-efgh", "ABCDEFGH"),
        ("  K7QM-3XPA  ", "K7QM3XPA"),
        ("ABCD-EFG0", None),  # 0 is not in the alphabet
        ("ABCDEFG", None),
        ("ส่งรายงาน", None),
        ("/start", None),
        ("", None),
    ],
)
def test_extract_code(typed: str, code: str | None) -> None:
    assert extract_code(typed) == code


def test_new_codes_use_the_alphabet_and_hash_stably() -> None:
    code = new_code()
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    assert shown_code("ABCDEFGH") == "ABCD-EFGH"
    assert code_hash("ABCDEFGH") == code_hash("ABCDEFGH") != code_hash("ABCDEFGJ")
    assert len({new_code() for _ in range(200)}) == 200


@pytest.mark.parametrize(
    ("raw", "digits", "mobile"),
    [
        ("+66 81-234-5678", "0812345678", True),
        ("66812345678", "0812345678", True),
        ("081 234 5678", "0812345678", True),
        ("02 3269015", "023269015", False),
        ("1513", "1513", False),
    ],
)
def test_phone_digits(raw: str, digits: str, mobile: bool) -> None:
    assert phone_digits(raw) == digits
    assert is_mobile(digits) is mobile


async def test_an_invite_links_the_account_once(world: World) -> None:
    person = await world.repo.add_person("นายวิชัย ช่างดี", roles=frozenset())
    await world.repo.link_officer(person.id, "50140000-4001")
    code, expires = await issue_invite(world.repo, person, NOW)
    assert expires == NOW + timedelta(days=7)
    conversation = Conversation(world.repo, lambda: NOW)

    before = await conversation.handle(Inbound.typed("telegram", "777", "สถานะ"))
    assert texts_of(before) == [texts.UNKNOWN_USER]
    assert before[0].ask_contact

    linked = await conversation.handle(Inbound.typed("telegram", "777", f"/start {code}"))
    assert texts_of(linked) == [texts.LINKED.format(name="นายวิชัย ช่างดี")]
    status = await conversation.handle(Inbound.typed("telegram", "777", "สถานะ"))
    assert "50140000-4001" in status[0].text
    assert "50140000-4002" not in status[0].text, "only the person's own projects"

    other = await conversation.handle(Inbound.typed("telegram", "888", shown_code(code)))
    assert texts_of(other) == [texts.INVITE_USED]
    assert await world.repo.find_person_by_identity("telegram", "888") is None


async def test_an_expired_invite_links_nothing(world: World) -> None:
    person = await world.repo.add_person("นายวิชัย ช่างดี", roles=frozenset())
    code, _ = await issue_invite(world.repo, person, NOW)
    clock = Clock(NOW + timedelta(days=7, minutes=1))
    replies = await Conversation(world.repo, clock).handle(Inbound.typed("line", "U1", code))
    assert texts_of(replies) == [texts.INVITE_EXPIRED]


async def test_guessing_codes_is_stopped_for_an_hour(world: World) -> None:
    person = await world.repo.add_person("นายวิชัย ช่างดี", roles=frozenset())
    code, _ = await issue_invite(world.repo, person, NOW)
    clock = Clock(NOW)
    conversation = Conversation(world.repo, clock)
    for guess in range(FAILURE_LIMIT):
        replies = await conversation.handle(
            Inbound.typed("telegram", "666", f"AAAA-AAA{guess + 2}")
        )
        assert texts_of(replies) == [texts.INVITE_UNKNOWN]
    blocked = await conversation.handle(Inbound.typed("telegram", "666", code))
    assert texts_of(blocked) == [texts.LINK_TOO_MANY_TRIES], "even the right code must wait"
    clock.now = NOW + timedelta(hours=1, seconds=1)
    linked = await conversation.handle(Inbound.typed("telegram", "666", code))
    assert texts_of(linked) == [texts.LINKED.format(name="นายวิชัย ช่างดี")]


async def test_a_shared_mobile_number_links_its_owner(world: World) -> None:
    conversation = Conversation(world.repo, lambda: NOW)
    replies = await conversation.handle(Inbound.contact("telegram", "321", "+66812345678"))
    assert texts_of(replies) == [texts.LINKED.format(name=world.officer.name)]
    person = await world.repo.find_person_by_identity("telegram", "321")
    assert person == world.officer


async def test_office_and_shared_numbers_do_not_link(world: World) -> None:
    await world.repo.add_person("นายหนึ่ง", phone="0899999999", roles=frozenset())
    await world.repo.add_person("นายสอง", phone="089-999-9999", roles=frozenset())
    await world.repo.add_person("นายสาม", phone="02 3269015", roles=frozenset())
    conversation = Conversation(world.repo, lambda: NOW)
    for phone in ("0899999999", "023269015", "0800000000"):
        replies = await conversation.handle(Inbound.contact("telegram", "55", phone))
        assert texts_of(replies) == [texts.PHONE_NOT_FOUND]
    assert await world.repo.find_person_by_identity("telegram", "55") is None


async def test_a_redelivered_update_changes_nothing(world: World) -> None:
    conversation = Conversation(world.repo, lambda: NOW)

    async def send(text: str, event: str) -> list[str]:
        return texts_of(await conversation.handle(Inbound.typed("console", "jai", text, event)))

    await send("ส่งรายงาน", "1")
    await send("40", "2")
    again = await send("40", "2")  # the same update once more: not 40 baht!
    assert again[0].startswith(texts.RESUMED)
    assert "เบิกจ่ายสะสม" in again[0]
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "disbursed"
    for number, text in enumerate(["1000", "-", "ใช่", "ใช่", "ยืนยัน"], start=3):
        await send(text, str(number))
    await send("ยืนยัน", "7")  # the confirmation redelivered
    reports = await world.repo.reports_of_project("50140000-4002")
    assert len(reports) == 1
    assert reports[0].values.disbursed == 1000
    assert await world.repo.event_handled("console", "7")


async def test_a_linked_account_sharing_its_number_is_told_so(world: World) -> None:
    conversation = Conversation(world.repo, lambda: NOW)
    replies = await conversation.handle(Inbound.contact("console", "jai", "0812345678"))
    assert replies[0].text == texts.ALREADY_LINKED.format(name=world.single.name)
