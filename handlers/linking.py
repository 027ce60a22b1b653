"""Linking a chat account to a registered person: by a single-use invite code, or by sharing a
mobile number that a coordinator registered. Unknown accounts see nothing else.

Codes are 8 characters from an alphabet without look-alikes (32^8, about 10^12 codes); only their
SHA-256 is stored, and an account that fails 5 times within an hour must wait, so guessing is
hopeless (5 tries an hour against 10^12 codes).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.messages import Choice, Inbound, InboundKind, Outbound
from domain.models import ChatIdentity, EventMark, Invite, InviteResult, Person
from handlers import texts
from storage.contracts import Accounts, Conversations, Invites, Registry

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
INVITE_LIFETIME = timedelta(days=7)
FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(hours=1)

_START = re.compile(r"^/start(?:@\w+)?\s*", re.IGNORECASE)


def new_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random invite code (8 characters, no 0/O or 1/I to confuse)."""
    return "".join(choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown_code(code: str) -> str:
    """The code as people read it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def code_hash(code: str) -> str:
    """What is stored of a code: its SHA-256 (codes are random, so no salt is needed)."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def extract_code(text: str) -> str | None:
    """The invite code in "/start CODE", "ABCD-EFGH" or "abcd efgh"; None if there is none."""
    candidate = re.sub(r"[\s\-]", "", _START.sub("", text.strip())).upper()
    if len(candidate) == CODE_LENGTH and all(ch in ALPHABET for ch in candidate):
        return candidate
    return None


def phone_digits(raw: str) -> str:
    """A Thai phone number as 10 local digits: "+66 81-234-5678" -> "0812345678"."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("66") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def is_mobile(digits: str) -> bool:
    """Thai mobile numbers: 10 digits starting 06, 08 or 09 (office lines cannot prove anyone)."""
    return len(digits) == 10 and digits[:2] in {"06", "08", "09"}


class LinkStore(Invites, Accounts, Registry, Conversations, Protocol):
    """What linking reads and writes: invites, chat accounts, the people registered."""


async def issue_invite(
    repo: Invites, person: Person, now: datetime, lifetime: timedelta = INVITE_LIFETIME
) -> tuple[str, datetime]:
    """Create a single-use invite for a person; returns the code (shown once) and its expiry."""
    code = new_code()
    expires = now + lifetime
    await repo.create_invite(Invite(code_hash(code), person.id, now, expires))
    return code, expires


def linked_welcome(person: Person, menu: tuple[Choice, ...]) -> Outbound:
    """What a person sees right after linking."""
    return Outbound(texts.LINKED.format(name=person.name), menu, close_keyboard=True)


@dataclass(frozen=True, slots=True)
class Linking:
    """What a message of an account not linked yet led to: the replies, the person it linked
    (if any), and whether a write marked its update handled."""

    replies: list[Outbound]
    person: Person | None = None
    marked: bool = False


class Linker:
    """Answers accounts that are not linked yet: only linking is possible for them."""

    def __init__(self, store: LinkStore, menu: Callable[[Person], tuple[Choice, ...]]) -> None:
        self._store = store
        self._menu = menu

    async def answer(
        self, message: Inbound, now: datetime, event: EventMark | None = None
    ) -> Linking:
        """Try to link the account from this message, or explain how to get linked. The update
        (`event`) is marked handled by the write that ends the turn, if there is one."""
        account = (message.channel, message.user_id)
        code = extract_code(message.text) if message.kind is InboundKind.TEXT else None
        if code is None and message.kind is not InboundKind.CONTACT:
            return Linking([Outbound(texts.UNKNOWN_USER, ask_contact=True)])
        recent = await self._store.link_failures_since(*account, now - FAILURE_WINDOW)
        if recent >= FAILURE_LIMIT:
            return Linking([Outbound(texts.LINK_TOO_MANY_TRIES)])
        if code is not None:
            result, person = await self._store.redeem_invite(
                code_hash(code), *account, now, event=event
            )
            if result is InviteResult.LINKED and person is not None:
                return Linking([linked_welcome(person, self._menu(person))], person, marked=True)
            reply = {
                InviteResult.EXPIRED: texts.INVITE_EXPIRED,
                InviteResult.USED: texts.INVITE_USED,
            }.get(result, texts.INVITE_UNKNOWN)
            event = None  # marked by the redeeming write
        else:
            person = await self._person_with_phone(phone_digits(message.text))
            if person is not None:
                await self._store.link_identity(ChatIdentity(*account, person.id), event=event)
                return Linking([linked_welcome(person, self._menu(person))], person, marked=True)
            reply = texts.PHONE_NOT_FOUND
        await self._store.record_link_failure(*account, now, event=event)
        return Linking([Outbound(reply, ask_contact=True)], marked=True)

    async def _person_with_phone(self, digits: str) -> Person | None:
        """The one person registered with this mobile number (none if ambiguous)."""
        if not is_mobile(digits):
            return None
        matches = [p for p in await self._store.all_people() if phone_digits(p.phone) == digits]
        return matches[0] if len(matches) == 1 else None
