"""Plain values that cross the boundary between the conversation and the chat channels."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class InboundKind(enum.StrEnum):
    """What the person sent."""

    TEXT = "text"
    CHOICE = "choice"
    CONTACT = "contact"  # the person shared their own phone number; `text` holds it
    OTHER = "other"  # a sticker, photo, voice note, location...: nothing the conversation can read
    FOLLOW = "follow"  # the person added the bot (again): greet them
    UNFOLLOW = "unfollow"  # the person blocked the bot: nothing may be sent to them


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person: typed text, or the payload of a button they pressed."""

    channel: str
    user_id: str
    kind: InboundKind
    text: str = ""
    event_id: str = ""
    """The channel's id of the update that carried this message, if it has one: an update
    delivered again (after a crash, or by a retrying webhook) is then recognised."""

    @classmethod
    def typed(cls, channel: str, user_id: str, text: str, event_id: str = "") -> Inbound:
        """A typed text message."""
        return cls(channel, user_id, InboundKind.TEXT, text, event_id)

    @classmethod
    def pressed(cls, channel: str, user_id: str, payload: str, event_id: str = "") -> Inbound:
        """A button press carrying `payload`."""
        return cls(channel, user_id, InboundKind.CHOICE, payload, event_id)

    @classmethod
    def contact(cls, channel: str, user_id: str, phone: str, event_id: str = "") -> Inbound:
        """The person's own phone number, shared from the app."""
        return cls(channel, user_id, InboundKind.CONTACT, phone, event_id)

    @classmethod
    def other(cls, channel: str, user_id: str, event_id: str = "") -> Inbound:
        """Something that is not text (a sticker, a photo...)."""
        return cls(channel, user_id, InboundKind.OTHER, "", event_id)

    @classmethod
    def followed(cls, channel: str, user_id: str, event_id: str = "") -> Inbound:
        """The person added the bot as a friend, or unblocked it."""
        return cls(channel, user_id, InboundKind.FOLLOW, "", event_id)

    @classmethod
    def unfollowed(cls, channel: str, user_id: str, event_id: str = "") -> Inbound:
        """The person blocked the bot."""
        return cls(channel, user_id, InboundKind.UNFOLLOW, "", event_id)


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: what it shows and what pressing it sends back."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply: a PDF form, a chart, a spreadsheet."""

    name: str
    data: bytes = field(repr=False)
    mime: str

    @property
    def is_image(self) -> bool:
        """Shown as a picture rather than offered as a file."""
        return self.mime.startswith("image/")


@dataclass(frozen=True, slots=True)
class Outbound:
    """One reply: text, optionally with buttons.

    `numbered` says a typed number picks a button (a choice step); on steps that ask for a number
    the buttons are extras (keep the old value, go back) and a typed number is the answer.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    numbered: bool = True
    ask_contact: bool = False  # offer a "share my phone number" button where the app has one
    close_keyboard: bool = False  # the contact button is no longer needed (the account is linked)
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything the bot answers to one message, in order.

    `repeat`: the message was handled before (the channel delivered it again); the replies say
    where things stand, and a channel that pays per message need not send them at any cost.
    `in_place`: the message was a press of a question's button and the one reply is the next
    question of the same dialogue; a channel that can edit a message may show it in place of
    the pressed one (one call instead of two).
    """

    messages: tuple[Outbound, ...] = ()
    repeat: bool = False
    in_place: bool = False
