"""The web server LINE posts webhook events to, with every request's signature checked.

`X-Line-Signature` must be the Base64 HMAC-SHA256 of the raw body under the channel secret;
anything else is refused before the body is read as JSON (and the body is never logged). LINE's
"Verify" button sends a request with no events: it gets 200. The answer comes once the events
are handled, so a crash before that makes LINE deliver them again (with redelivery on), and the
channel recognises the ones it handled already.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from linebot.v3.webhooks import Event

from bot.line_channel import LineChannel
from bot.line_files import FileShelf

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a request carries a few events of at most 5000 characters each
SIGNATURE_HEADER = "X-Line-Signature"


def signature(secret: str, body: bytes) -> str:
    """The X-Line-Signature LINE computes for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_events(body: bytes) -> list[Any]:
    """The events of a webhook body (unknown kinds left out); ValueError if it is not one."""
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValueError("not a webhook body")
    events = []
    for raw in data["events"]:
        try:
            events.append(Event.from_dict(raw))
        except (ValueError, TypeError, KeyError, AttributeError):
            kind = raw.get("type") if isinstance(raw, dict) else None
            log.info("line webhook: skipped an event of unknown kind %r", kind)
    return events


def line_webhook(
    channel: LineChannel, secret: str, path: str, shelf: FileShelf | None = None
) -> web.Application:
    """An aiohttp app taking LINE's signed POSTs on `path` (and serving the file shelf)."""

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            log.warning("line webhook: refused a body of %d bytes", request.content_length)
            return web.Response(status=413)
        given = request.headers.get(SIGNATURE_HEADER, "")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            log.warning("line webhook: refused a body over %d bytes", MAX_BODY)
            return web.Response(status=413)
        if not given:
            log.warning("line webhook: refused a request without %s", SIGNATURE_HEADER)
            return web.Response(status=401)
        if not hmac.compare_digest(given.encode(), signature(secret, body).encode()):
            log.warning("line webhook: refused a request with a wrong signature")
            return web.Response(status=401)
        try:
            events = parse_events(body)
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.warning("line webhook: refused a signed body that is not a webhook body")
            return web.Response(status=400)
        await channel.handle_events(events)
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    if shelf is not None:
        shelf.add_routes(app)
    return app
