"""A fake LINE platform on 127.0.0.1: the Messaging API the bot calls, and the webhook sender.

The real line-bot-sdk talks to it (its `host` pointed here). It checks what LINE checks where a
bot could get it wrong: the bearer token, reply tokens (issued with an event, usable once), at
most 5 messages a request, texts of at most 5000 characters, at most 13 quick-reply items with
labels of at most 20 characters, postback data of at most 300 bytes, multicast to at most 500
users, and X-Line-Retry-Key (a UUID; a key seen before answers 409 and delivers nothing). Push
and multicast count against a monthly quota, one message per recipient; replies are free; past
the limit LINE answers 429 "You have reached your monthly limit.".

As the platform it signs webhook bodies with the channel secret and posts them to the bot,
with fresh webhookEventIds and reply tokens, and can deliver an event again (isRedelivery).
A test can make the next calls to a path fail with a status of its choosing.

All methods must be called on the event loop that runs the fake.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import struct
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]
MONTHLY_LIMIT = b'{"message":"You have reached your monthly limit."}'


def sign(secret: str, body: bytes) -> str:
    """The X-Line-Signature LINE sends with `body`: its Base64 HMAC-SHA256 under the secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Sent:
    """One message object the bot sent, as LINE received it."""

    kind: str  # "reply", "push" or "multicast"
    to: str  # the user it reached
    message: JSONDict
    retry_key: str = ""

    @property
    def text(self) -> str:
        """The text of a text message ("" for other kinds)."""
        return str(self.message.get("text", ""))

    def buttons(self) -> list[tuple[str, str]]:
        """(label, postback data) of its quick replies and Flex buttons."""
        found = [
            (item["action"]["label"], item["action"]["data"])
            for item in self.message.get("quickReply", {}).get("items", [])
        ]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "button":
                    found.append((node["action"]["label"], node["action"]["data"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.message.get("contents"))
        return found


@dataclass
class FakeLine:
    """The fake platform. Use as `async with FakeLine(secret, token) as line:`."""

    secret: str
    token: str
    webhook_url: str = ""
    quota: int | None = 300  # None: no limit (LINE's type "none")
    used: int = 0
    sent: list[Sent] = field(default_factory=list)
    requests: list[tuple[str, JSONDict]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    """The headers of each of `requests`."""
    on_send: Callable[[Sent], None] | None = None
    clock: Callable[[], float] = time.time
    """When events happen, in seconds since the epoch (the bot under test's own clock)."""
    _failures: dict[str, list[int]] = field(default_factory=dict)
    _lost: Counter[str] = field(default_factory=Counter)  # answers lost after taking the request
    menus: dict[str, JSONDict] = field(default_factory=dict)
    """Rich menus by id, as made (the request's JSON)."""
    menu_pictures: dict[str, bytes] = field(default_factory=dict)
    default_menu: str | None = None
    user_menus: dict[str, str] = field(default_factory=dict)
    """The rich menu linked to each user (others see the default)."""
    _tokens: dict[str, str] = field(default_factory=dict)  # reply token -> user, until used
    _retry_keys: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    base_url: str = ""

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/message/multicast", self._multicast)
        app.router.add_get("/v2/bot/message/quota", self._quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self._consumption)
        app.router.add_get("/v2/bot/info", self._info)
        app.router.add_post("/v2/bot/richmenu", self._create_menu)
        app.router.add_get("/v2/bot/richmenu/list", self._list_menus)
        app.router.add_delete("/v2/bot/richmenu/{menu}", self._delete_menu)
        app.router.add_post("/v2/bot/richmenu/{menu}/content", self._menu_picture)
        app.router.add_post("/v2/bot/user/all/richmenu/{menu}", self._set_default_menu)
        app.router.add_post("/v2/bot/user/{user}/richmenu/{menu}", self._link_menu)
        app.router.add_delete("/v2/bot/user/{user}/richmenu", self._unlink_menu)
        app.router.add_post("/v2/bot/richmenu/bulk/link", self._bulk_link)
        app.router.add_post("/v2/bot/richmenu/bulk/unlink", self._bulk_unlink)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._changed = asyncio.Condition()
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # The platform side: events to the bot

    def fail_next(self, path: str, *statuses: int) -> None:
        """The next calls to `path` (e.g. "/v2/bot/message/quota") answer these statuses."""
        self._failures.setdefault(path, []).extend(statuses)

    def lose_answer_next(self, path: str, count: int = 1) -> None:
        """The next `count` pushes or multicasts to `path` are taken (delivered, their retry
        key remembered), but answered 500, as when the answer is lost on the way back."""
        self._lost[path] += count

    def event(self, user: str, kind: str, **fields: Any) -> JSONDict:
        """A webhook event from `user` with a fresh id and reply token (when LINE gives one)."""
        n = next(self._ids)
        event: JSONDict = {
            "type": kind,
            "mode": "active",
            "timestamp": int(self.clock() * 1000) + n,
            "source": {"type": "user", "userId": user},
            "webhookEventId": f"01FAKE{n:020d}",
            "deliveryContext": {"isRedelivery": False},
            **fields,
        }
        if kind != "unfollow":
            token = uuid.uuid4().hex
            self._tokens[token] = user
            event["replyToken"] = token
        return event

    def text(self, user: str, text: str) -> JSONDict:
        """A text message event."""
        message = {"type": "text", "id": str(next(self._ids)), "text": text, "quoteToken": "q"}
        return self.event(user, "message", message=message)

    def postback(self, user: str, data: str) -> JSONDict:
        """A button press."""
        return self.event(user, "postback", postback={"data": data})

    def sticker(self, user: str) -> JSONDict:
        """A sticker (nothing the conversation can read)."""
        message = {
            "type": "sticker", "id": str(next(self._ids)), "packageId": "1", "stickerId": "1",
            "stickerResourceType": "STATIC", "quoteToken": "q",
        }  # fmt: skip
        return self.event(user, "message", message=message)

    def follow(self, user: str) -> JSONDict:
        """The user added the account as a friend (or unblocked it)."""
        return self.event(user, "follow", follow={"isUnblocked": False})

    def unfollow(self, user: str) -> JSONDict:
        """The user blocked the account."""
        return self.event(user, "unfollow")

    @staticmethod
    def again(event: JSONDict) -> JSONDict:
        """The same event delivered again, as LINE redelivers it."""
        return {**event, "deliveryContext": {"isRedelivery": True}}

    def signed(self, body: bytes) -> str:
        """The X-Line-Signature of a body."""
        return sign(self.secret, body)

    async def deliver(self, *events: JSONDict, signature: str | None = None) -> int:
        """POST the events to the bot's webhook, signed (or with `signature`); the status."""
        assert self._session is not None and self.webhook_url
        body = json.dumps({"destination": "Ufake", "events": list(events)}).encode()
        headers = {"Content-Type": "application/json"}
        headers["X-Line-Signature"] = self.signed(body) if signature is None else signature
        async with self._session.post(self.webhook_url, data=body, headers=headers) as response:
            return response.status

    # Reading what the bot sent

    def messages_to(self, user: str) -> list[Sent]:
        """Every message that reached `user`, oldest first."""
        return [s for s in self.sent if s.to == user]

    def charged(self) -> int:
        """Messages counted against the quota (pushes and multicasts, per recipient)."""
        return sum(1 for s in self.sent if s.kind != "reply")

    def calls(self, path: str) -> int:
        """How many requests reached `path`."""
        return sum(1 for p, _ in self.requests if p == path)

    async def wait_for_request(
        self,
        path: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 (a helper's own deadline reads better)
        after: int = 0,
    ) -> None:
        """Wait until a request to `path` arrives (among those after the first `after`)."""
        assert self._changed is not None

        def seen() -> bool:
            return any(p == path for p, _ in self.requests[after:])

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(seen), timeout)

    async def wait_for_text(
        self,
        user: str,
        contains: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 (a helper's own deadline reads better)
        after: int = 0,
    ) -> Sent:
        """The first text to `user` containing `contains` among messages sent after `after`."""
        assert self._changed is not None

        def found() -> Sent | None:
            return next((s for s in self.sent[after:] if s.to == user and contains in s.text), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

    # The Messaging API

    async def _check(self, request: web.Request) -> tuple[JSONDict, web.Response | None]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return {}, web.json_response({"message": "Authentication failed"}, status=401)
        body: JSONDict = await request.json() if request.can_read_body else {}
        self.requests.append((request.path, body))
        self.headers.append(dict(request.headers))
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()
        failures = self._failures.get(request.path)
        if failures:
            status = failures.pop(0)
            if status == 429:
                return body, web.Response(status=429, body=MONTHLY_LIMIT)
            return body, web.json_response({"message": "fake failure"}, status=status)
        return body, None

    @staticmethod
    def _invalid(messages: Any) -> str | None:
        """Why LINE would refuse these message objects, or None."""
        if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return "messages: 1 to 5"
        for message in messages:
            if message.get("type") == "text" and not 1 <= len(message.get("text", "")) <= 5000:
                return "text: 1 to 5000 characters"
            items = message.get("quickReply", {}).get("items", [])
            if len(items) > 13:
                return "quickReply: at most 13 items"
            for item in items:
                action = item["action"]
                if len(action.get("label", "")) > 20:
                    return "quickReply label: at most 20 characters"
            for label, data in Sent("", "", message).buttons():
                if len(data.encode()) > 300 or not label or len(label) > 40:
                    return "postback: label at most 40 characters, data at most 300 bytes"
        return None

    async def _record(
        self, kind: str, users: list[str], messages: list[JSONDict], key: str
    ) -> None:
        assert self._changed is not None
        for user in users:
            for message in messages:
                sent = Sent(kind, user, message, key)
                self.sent.append(sent)
                if self.on_send is not None:
                    self.on_send(sent)
        async with self._changed:
            self._changed.notify_all()

    async def _reply(self, request: web.Request) -> web.Response:
        body, refused = await self._check(request)
        if refused is not None:
            return refused
        user = self._tokens.pop(body.get("replyToken", ""), None)
        if user is None:
            return web.json_response({"message": "Invalid reply token"}, status=400)
        if (why := self._invalid(body.get("messages"))) is not None:
            return web.json_response({"message": why}, status=400)
        await self._record("reply", [user], body["messages"], "")
        return self._sent_messages(body["messages"])

    async def _send(self, request: web.Request, kind: str) -> web.Response:
        body, refused = await self._check(request)
        if refused is not None:
            return refused
        key = request.headers.get("X-Line-Retry-Key", "")
        if key:
            try:
                uuid.UUID(key)
            except ValueError:
                return web.json_response({"message": "invalid retry key"}, status=400)
            if key in self._retry_keys:
                return web.json_response({"message": "already accepted"}, status=409)
        users = [body["to"]] if kind == "push" else list(body.get("to", []))
        if not users or len(users) > 500 or not all(isinstance(u, str) for u in users):
            return web.json_response({"message": "to: 1 to 500 user ids"}, status=400)
        if (why := self._invalid(body.get("messages"))) is not None:
            return web.json_response({"message": why}, status=400)
        if self.quota is not None and self.used + len(users) > self.quota:
            return web.Response(status=429, body=MONTHLY_LIMIT)
        if key:
            self._retry_keys.add(key)
        self.used += len(users)
        await self._record(kind, users, body["messages"], key)
        if self._lost[request.path] > 0:
            self._lost[request.path] -= 1
            return web.json_response({"message": "answer lost"}, status=500)
        if kind == "multicast":
            return web.json_response({})
        return self._sent_messages(body["messages"])

    # Rich menus

    def menu_of(self, user: str) -> JSONDict | None:
        """The rich menu `user` sees: the one linked to them, else the default."""
        menu = self.user_menus.get(user, self.default_menu)
        return None if menu is None else self.menus.get(menu)

    def tap(self, user: str, label: str) -> JSONDict:
        """The postback event of `user` tapping the area of their menu with this label."""
        menu = self.menu_of(user)
        assert menu is not None, f"{user} sees no rich menu"
        for area in menu["areas"]:
            if area["action"].get("label") == label:
                return self.postback(user, area["action"]["data"])
        raise AssertionError(
            f"no area {label!r} in {[a['action'].get('label') for a in menu['areas']]}"
        )

    @staticmethod
    def _invalid_menu(body: JSONDict) -> str | None:
        """Why LINE would refuse this rich menu, or None."""
        size = body.get("size", {})
        width, height = size.get("width", 0), size.get("height", 0)
        if not (800 <= width <= 2500 and 250 <= height <= 1686 and width / height >= 1.45):
            return "size: width 800 to 2500, height 250 to 1686, width/height at least 1.45"
        if not isinstance(body.get("selected"), bool):
            return "selected: a boolean"
        if not 1 <= len(body.get("name", "")) <= 300:
            return "name: 1 to 300 characters"
        if not 1 <= len(body.get("chatBarText", "")) <= 14:
            return "chatBarText: 1 to 14 characters"
        areas = body.get("areas", [])
        if not 1 <= len(areas) <= 20:
            return "areas: 1 to 20"
        boxes = []
        for area in areas:
            b, action = area["bounds"], area["action"]
            if (
                b["x"] < 0
                or b["y"] < 0
                or b["x"] + b["width"] > width
                or b["y"] + b["height"] > height
            ):
                return "area: outside the menu"
            boxes.append((b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]))
            if action.get("type") != "postback" or len(action.get("data", "").encode()) > 300:
                return "action: a postback with at most 300 bytes of data"
            if len(action.get("label", "")) > 20 or len(action.get("displayText", "")) > 300:
                return "action: label at most 20, displayText at most 300 characters"
        for n, (x0, y0, x1, y1) in enumerate(boxes):
            for a0, b0, a1, b1 in boxes[n + 1 :]:
                if x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1:
                    return "areas overlap"
        return None

    async def _create_menu(self, request: web.Request) -> web.Response:
        body, refused = await self._check(request)
        if refused is not None:
            return refused
        if (why := self._invalid_menu(body)) is not None:
            return web.json_response({"message": why}, status=400)
        menu = f"richmenu-{uuid.uuid4().hex}"
        self.menus[menu] = body
        return web.json_response({"richMenuId": menu})

    async def _list_menus(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        menus = [{"richMenuId": menu, **body} for menu, body in self.menus.items()]
        return web.json_response({"richmenus": menus})

    async def _delete_menu(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        menu = request.match_info["menu"]
        if self.menus.pop(menu, None) is None:
            return web.json_response({"message": "Not found"}, status=404)
        self.menu_pictures.pop(menu, None)
        self.default_menu = None if self.default_menu == menu else self.default_menu
        self.user_menus = {u: m for u, m in self.user_menus.items() if m != menu}
        return web.json_response({})

    async def _menu_picture(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"message": "Authentication failed"}, status=401)
        menu = request.match_info["menu"]
        picture = await request.read()
        self.requests.append((request.path, {"bytes": len(picture)}))
        if menu not in self.menus:
            return web.json_response({"message": "Not found"}, status=404)
        if menu in self.menu_pictures:
            return web.json_response({"message": "An image has already been uploaded"}, status=400)
        if request.content_type not in {"image/png", "image/jpeg"} or len(picture) > 1 << 20:
            return web.json_response({"message": "a PNG or JPEG of at most 1 MB"}, status=400)
        size = self.menus[menu]["size"]
        if picture[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", picture[16:24]) != (
            size["width"],
            size["height"],
        ):
            return web.json_response(
                {"message": "the picture must match the menu's size"}, status=400
            )
        self.menu_pictures[menu] = picture
        return web.json_response({})

    def _usable(self, menu: str) -> web.Response | None:
        if menu not in self.menus:
            return web.json_response({"message": "Not found"}, status=404)
        if menu not in self.menu_pictures:
            return web.json_response({"message": "must upload richmenu image"}, status=400)
        return None

    async def _set_default_menu(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        menu = request.match_info["menu"]
        if (refused := refused or self._usable(menu)) is not None:
            return refused
        self.default_menu = menu
        return web.json_response({})

    async def _link_menu(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        menu = request.match_info["menu"]
        if (refused := refused or self._usable(menu)) is not None:
            return refused
        self.user_menus[request.match_info["user"]] = menu
        return web.json_response({})

    async def _unlink_menu(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        self.user_menus.pop(request.match_info["user"], None)
        return web.json_response({})

    async def _bulk_link(self, request: web.Request) -> web.Response:
        body, refused = await self._check(request)
        users = body.get("userIds", [])
        if (refused := refused or self._usable(body.get("richMenuId", ""))) is not None:
            return refused
        if not 1 <= len(users) <= 500:
            return web.json_response({"message": "userIds: 1 to 500"}, status=400)
        for user in users:
            self.user_menus[user] = body["richMenuId"]
        return web.json_response({}, status=202)

    async def _bulk_unlink(self, request: web.Request) -> web.Response:
        body, refused = await self._check(request)
        if refused is not None:
            return refused
        users = body.get("userIds", [])
        if not 1 <= len(users) <= 500:
            return web.json_response({"message": "userIds: 1 to 500"}, status=400)
        for user in users:
            self.user_menus.pop(user, None)
        return web.json_response({}, status=202)

    def _sent_messages(self, messages: list[JSONDict]) -> web.Response:
        sent = [{"id": str(next(self._ids)), "quoteToken": "q"} for _ in messages]
        return web.json_response({"sentMessages": sent})

    async def _push(self, request: web.Request) -> web.Response:
        return await self._send(request, "push")

    async def _multicast(self, request: web.Request) -> web.Response:
        return await self._send(request, "multicast")

    async def _quota(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        if self.quota is None:
            return web.json_response({"type": "none"})
        return web.json_response({"type": "limited", "value": self.quota})

    async def _info(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        info = {
            "userId": "Ubot", "basicId": "@123abcde", "displayName": "รายงานโครงการ",
            "chatMode": "bot", "markAsReadMode": "auto",
        }  # fmt: skip
        return web.json_response(info)

    async def _consumption(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        return web.json_response({"totalUsage": self.used})


def kinds(sent: list[Sent]) -> Counter[str]:
    """How many messages went by reply, push and multicast."""
    return Counter(s.kind for s in sent)
