"""The web server for webhook mode: Telegram posts updates here, with its secret token."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.telegram_channel import TelegramChannel
from bot.web_server import Refusals

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # an update is a few KiB; anything near a MiB is not from Telegram
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_webhook(channel: TelegramChannel, secret: str, path: str) -> web.Application:
    """An aiohttp app accepting Telegram's POSTs on `path`; wrong or missing secret: 403."""

    refusals = Refusals(log)

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # Header bytes that are not UTF-8 arrive as lone surrogates: compare them as they came.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), secret.encode()):
            refusals.refuse(
                "secret", "telegram webhook: refused a request without the right secret"
            )
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise TypeError("an update is a JSON object")
            update = Update.de_json(data, channel.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            # RecursionError: JSON nested deeper than Python parses (no update is).
            refusals.refuse("body", "telegram webhook: refused a body that is not an update")
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        # Answer only once handled and answered: if the process dies first, or the answer could
        # not be sent, Telegram delivers the update again (and the conversation recognises it).
        if await channel.handle_batch([update]):
            return web.Response(status=503)
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app
