"""What a LINE webhook event says, read into what the channel needs of it.

Every officer's message comes as an event of a few plain shapes: a text message, a button
press (postback), a follow or an unfollow, from a user. Those are read straight from the JSON,
with the checks line-bot-sdk's models make on them (types, required fields, known values);
anything else (another message kind, emojis or mentions in a text, a group, a field of an
unexpected type or a field the plain shapes do not have) is read by the SDK's models, as every
event was before: the models cost more than the rest of the webhook request.
tests/test_line_events.py checks both readings agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from domain.messages import Inbound

log = logging.getLogger(__name__)

CHANNEL = "line"
_MODES = frozenset({"active", "standby"})
_TEXT_FIELDS = frozenset({"type", "id", "text", "quoteToken", "quotedMessageId", "markAsReadToken"})


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """Something in a group or room the bot is in (see handlers.groups)."""

    text: str | None
    """What was typed; None when the bot was added or a button pressed."""
    addressed: bool = False
    """The text mentions the bot."""


@dataclass(frozen=True, slots=True)
class LineEvent:
    """One webhook event, as the channel uses it."""

    kind: str
    """LINE's event type ("message", "postback", "follow"...)."""
    inbound: Inbound | None
    """What the person sent, or None for events the conversation does not take."""
    reply_token: str | None
    timestamp: int
    """When it happened, in milliseconds since the epoch."""
    redelivered: bool
    """LINE delivers it again (its first delivery was not answered 200)."""
    group: GroupMessage | None = None
    """Set for what happens in a group or room (then `inbound` is None)."""


def read_event(raw: Any) -> LineEvent | None:
    """The event, or None if it is none LINE documents (then it is logged and left out)."""
    event = plain_event(raw)
    if event is not None:
        return event
    try:
        model = Event.from_dict(raw)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        kind = raw.get("type") if isinstance(raw, dict) else None
        log.info("line webhook: skipped an event of unknown kind %r", kind)
        return None
    return from_model(model)


def plain_event(raw: Any) -> LineEvent | None:
    """The event read from its JSON when it has one of the plain shapes, else None."""
    if not isinstance(raw, dict):
        return None
    kind, source, context = raw.get("type"), raw.get("source"), raw.get("deliveryContext")
    stamp, event_id, mode = raw.get("timestamp"), raw.get("webhookEventId"), raw.get("mode")
    token = raw.get("replyToken")
    if not (
        type(stamp) is int  # a JSON number without a fraction; never true or false
        and isinstance(event_id, str)
        and isinstance(mode, str)
        and mode in _MODES
        and isinstance(context, dict)
        and context.keys() == {"isRedelivery"}
        and type(context["isRedelivery"]) is bool
        and isinstance(source, dict)
        and source.keys() == {"type", "userId"}
        and source["type"] == "user"
        and isinstance(source["userId"], str)
        and source["userId"]
        and (token is None or isinstance(token, str))
    ):
        return None
    user: str = source["userId"]
    inbound: Inbound | None = None
    if kind == "message":
        message = raw.get("message")
        if (
            isinstance(message, dict)
            and message.get("type") == "text"
            and {"id", "text", "quoteToken"} <= message.keys() <= _TEXT_FIELDS
            and all(isinstance(value, str) for value in message.values())
        ):
            inbound = Inbound.typed(CHANNEL, user, message["text"], event_id)
    elif kind == "postback":
        postback = raw.get("postback")
        if (
            isinstance(postback, dict)
            and postback.keys() == {"data"}
            and isinstance(postback["data"], str)
        ):
            inbound = Inbound.pressed(CHANNEL, user, postback["data"], event_id)
    elif kind == "follow":
        follow = raw.get("follow")
        if (
            isinstance(token, str)
            and isinstance(follow, dict)
            and follow.keys() == {"isUnblocked"}
            and type(follow["isUnblocked"]) is bool
        ):
            inbound = Inbound.followed(CHANNEL, user, event_id)
    elif kind == "unfollow":
        token = None  # an unfollow has no reply token
        inbound = Inbound.unfollowed(CHANNEL, user, event_id)
    if inbound is None:
        return None
    return LineEvent(str(kind), inbound, token, stamp, context["isRedelivery"])


def from_model(event: Any) -> LineEvent:
    """An event read by line-bot-sdk's models."""
    context = getattr(event, "delivery_context", None)
    return LineEvent(
        str(getattr(event, "type", "?")),
        to_inbound(event),
        getattr(event, "reply_token", None),
        int(getattr(event, "timestamp", 0) or 0),
        bool(getattr(context, "is_redelivery", False)),
        in_group(event),
    )


def in_group(event: Any) -> GroupMessage | None:
    """What happened in a group or room that the bot answers: it was added, a text was
    typed, a button pressed; None for anything else, or outside groups."""
    if not isinstance(getattr(event, "source", None), GroupSource | RoomSource):
        return None
    if isinstance(event, JoinEvent | PostbackEvent):
        return GroupMessage(None)
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        mention = event.message.mention
        mentionees = mention.mentionees if mention is not None else []
        addressed = any(getattr(m, "is_self", False) for m in mentionees)
        return GroupMessage(event.message.text, addressed)
    return None


def to_inbound(event: Any) -> Inbound | None:
    """What a LINE user sent, or None for events the conversation does not take."""
    source = getattr(event, "source", None)
    if not isinstance(source, UserSource) or not source.user_id:
        return None  # groups and rooms: reports are made one to one
    user, event_id = source.user_id, event.webhook_event_id or ""
    if isinstance(event, MessageEvent):
        if isinstance(event.message, TextMessageContent):
            return Inbound.typed(CHANNEL, user, event.message.text, event_id)
        return Inbound.other(CHANNEL, user, event_id)
    if isinstance(event, PostbackEvent):
        return Inbound.pressed(CHANNEL, user, event.postback.data, event_id)
    if isinstance(event, FollowEvent):
        return Inbound.followed(CHANNEL, user, event_id)
    if isinstance(event, UnfollowEvent):
        return Inbound.unfollowed(CHANNEL, user, event_id)
    return None
