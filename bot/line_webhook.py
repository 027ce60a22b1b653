"""The web server LINE posts webhook events to, with every request's signature checked.

`X-Line-Signature` must be the Base64 HMAC-SHA256 of the raw body under the channel secret, as
line-bot-sdk's `SignatureValidator` checks it; anything else is refused before the body is read
as JSON (and the body is never logged). The validator takes the body as text, so a body that is
not UTF-8 (LINE sends JSON, which is) is refused as a bad request, unchecked. LINE's "Verify"
button sends a request with no events: it gets 200. The answer comes once the events are
handled, so a crash before that makes LINE deliver them again (with redelivery on), and the
channel recognises the ones it handled already.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from linebot.v3 import SignatureValidator

from bot.line_channel import LineChannel
from bot.line_events import LineEvent, read_event
from bot.line_files import FileShelf
from bot.web_server import Refusals

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a request carries a few events of at most 5000 characters each
SIGNATURE_HEADER = "X-Line-Signature"


def parse_events(body: bytes) -> list[LineEvent]:
    """The events of a webhook body (unknown kinds left out); ValueError if it is not one."""
    try:
        data = json.loads(body)
    except RecursionError:  # nested deeper than Python parses: no webhook body is
        raise ValueError("not a webhook body") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValueError("not a webhook body")
    return [event for raw in data["events"] if (event := read_event(raw)) is not None]


def line_webhook(
    channel: LineChannel, secret: str, path: str, shelf: FileShelf | None = None
) -> web.Application:
    """An aiohttp app taking LINE's signed POSTs on `path` (and serving the file shelf)."""
    validator = SignatureValidator(secret)
    refusals = Refusals(log)

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            refusals.refuse(
                "size", "line webhook: refused a body of %d bytes", request.content_length
            )
            return web.Response(status=413)
        given = request.headers.get(SIGNATURE_HEADER, "")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            refusals.refuse("size", "line webhook: refused a body over %d bytes", MAX_BODY)
            return web.Response(status=413)
        if not given:
            refusals.refuse(
                "unsigned", "line webhook: refused a request without %s", SIGNATURE_HEADER
            )
            return web.Response(status=401)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            refusals.refuse("text", "line webhook: refused a body that is not UTF-8 text")
            return web.Response(status=400)
        # A signature is Base64, so ASCII; a header that is not (even one that is not UTF-8,
        # which the validator could not encode) is simply a wrong signature.
        if not (given.isascii() and validator.validate(text, given)):
            refusals.refuse("signature", "line webhook: refused a request with a wrong signature")
            return web.Response(status=401)
        try:
            events = parse_events(body)
        except ValueError:  # json.JSONDecodeError is a ValueError
            refusals.refuse(
                "body", "line webhook: refused a signed body that is not a webhook body"
            )
            return web.Response(status=400)
        await channel.handle_events(events)
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    if shelf is not None:
        shelf.add_routes(app)
    return app
