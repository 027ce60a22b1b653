"""Webhook events of the plain kinds are read from their JSON, the rest by line-bot-sdk's models:
both readings must agree on every event, and the plain reading must never take an event the
models refuse."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from linebot.v3.webhooks import Event

from bot.line_events import LineEvent, from_model, plain_event, read_event
from domain.messages import InboundKind
from tests.fake_line import FakeLine
from tests.line_support import SECRET, SINGLE, TOKEN

JSON = dict[str, Any]
# What a field is changed to (... takes it away).
VALUES: tuple[Any, ...] = (..., None, 1, True, "1.5", 1.5, "", "x", [], {}, "standby", "user")


def by_models(raw: Any) -> LineEvent | None:
    """The event as the SDK's models read it (None where they refuse it)."""
    try:
        return from_model(Event.from_dict(copy.deepcopy(raw)))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def events() -> list[JSON]:
    fake = FakeLine(SECRET, TOKEN)
    text = fake.text(SINGLE, "๘๐ % ค่ะ")
    return [
        text,
        fake.again(text),
        fake.postback(SINGLE, "step:plan:yes"),
        fake.follow(SINGLE),
        fake.unfollow(SINGLE),
        fake.sticker(SINGLE),
        {**text, "mode": "standby"},
        {**text, "message": {**text["message"], "quotedMessageId": "9", "markAsReadToken": "m"}},
        {**fake.unfollow(SINGLE), "replyToken": "not-for-an-unfollow"},
        {k: v for k, v in text.items() if k != "replyToken"},
    ]


def spoiled(event: JSON) -> list[JSON]:
    """Variants of an event the plain reading must leave to the models (or both refuse)."""
    variants: list[JSON] = []

    def change(path: tuple[str, ...], value: Any) -> None:
        changed = copy.deepcopy(event)
        node = changed
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                return
            node = node[key]
        if value is ...:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
        variants.append(changed)

    for path in (
        ("type",), ("timestamp",), ("mode",), ("webhookEventId",), ("deliveryContext",),
        ("deliveryContext", "isRedelivery"), ("source",), ("source", "type"),
        ("source", "userId"), ("replyToken",), ("message",), ("message", "type"),
        ("message", "id"), ("message", "text"), ("message", "quoteToken"), ("postback",),
        ("postback", "data"), ("follow",), ("follow", "isUnblocked"),
    ):  # fmt: skip
        for value in VALUES:
            change(path, value)
    change(("source",), {"type": "group", "groupId": "C1", "userId": SINGLE})
    change(("source",), {"type": "user", "userId": SINGLE, "extra": 1})
    change(("message", "emojis"), [{"index": 0, "length": 1, "productId": "p", "emojiId": "e"}])
    change(("message", "emojis"), "not a list")
    change(("postback", "params"), {"date": "2026-11-23"})
    change(("postback", "params"), {"date": 1})
    change(("deliveryContext",), {"isRedelivery": False, "extra": 1})
    change(("type",), "beacon")
    return variants


@pytest.mark.parametrize("event", events(), ids=lambda e: f"{e['type']}")
def test_plain_events_read_as_the_models_read_them(event: JSON) -> None:
    assert read_event(event) == by_models(event)
    assert read_event(event) is not None


@pytest.mark.parametrize("make", [lambda e: e, FakeLine.again], ids=["once", "again"])
def test_the_plain_kinds_skip_the_models(make: Callable[[JSON], JSON]) -> None:
    fake = FakeLine(SECRET, TOKEN)
    for event in (fake.text(SINGLE, "x"), fake.postback(SINGLE, "d"), fake.follow(SINGLE)):
        raw = make(event)
        read = plain_event(raw)
        assert read is not None and read.inbound is not None
        assert read.reply_token == raw["replyToken"]
        assert read.redelivered == raw["deliveryContext"]["isRedelivery"]
    unfollow = plain_event(fake.unfollow(SINGLE))
    assert unfollow is not None and unfollow.inbound is not None
    assert unfollow.inbound.kind is InboundKind.UNFOLLOW


def test_a_spoiled_event_is_read_as_the_models_read_it_or_skipped() -> None:
    fake = FakeLine(SECRET, TOKEN)
    checked = 0
    for event in (
        fake.text(SINGLE, "x"), fake.postback(SINGLE, "d"), fake.follow(SINGLE),
        fake.unfollow(SINGLE), fake.sticker(SINGLE),
    ):  # fmt: skip
        for variant in spoiled(event):
            expected = by_models(variant)
            assert read_event(variant) == expected, variant
            plain = plain_event(variant)
            assert plain is None or plain == expected, variant
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("raw", [None, 1, "event", [], {}, {"type": "message"}])
def test_what_is_not_an_event_is_skipped(raw: Any) -> None:
    assert read_event(raw) is None
