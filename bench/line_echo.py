"""A bare aiohttp LINE echo webhook: the ceiling of the web stack, for bench/line_bench.py.

It does the least a correct LINE bot must: check the signature, read the events, and answer each
text through its reply token. No line-bot-sdk, no storage, no conversation.

    python bench/line_echo.py CHANNEL_SECRET ACCESS_TOKEN API_HOST PORT
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys

import aiohttp
from aiohttp import web


def main() -> None:
    """Serve the echo webhook on 127.0.0.1:PORT/line until SIGTERM."""
    secret, token, api_host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    session: dict[str, aiohttp.ClientSession] = {}

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        given = request.headers.get("X-Line-Signature", "")
        if not hmac.compare_digest(given.encode(), base64.b64encode(digest)):
            return web.Response(status=401)
        for event in json.loads(body)["events"]:
            if event.get("type") == "message" and event["message"].get("type") == "text":
                reply = {
                    "replyToken": event["replyToken"],
                    "messages": [{"type": "text", "text": event["message"]["text"]}],
                }
                async with session["client"].post(
                    f"{api_host}/v2/bot/message/reply", json=reply, headers=headers
                ) as response:
                    await response.read()
        return web.Response(status=200)

    async def open_client(_: web.Application) -> None:
        session["client"] = aiohttp.ClientSession()

    async def close_client(_: web.Application) -> None:
        await session["client"].close()

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/line", receive)
    app.on_startup.append(open_client)
    app.on_cleanup.append(close_client)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
