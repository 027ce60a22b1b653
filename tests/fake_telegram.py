"""A fake Telegram Bot API on 127.0.0.1, so tests can drive the real python-telegram-bot.

The fake answers the Bot API methods the bot uses with JSON shaped like Telegram's, records
what the bot sends, and lets a test play the user by pushing updates that the bot then fetches
with getUpdates (long polling). It behaves like Telegram where a bot could get it wrong:
acknowledged updates are gone for good, edits that change nothing are refused, callback data
longer than 64 bytes (about 21 Thai characters) is refused, texts over 4096 characters are
refused, only Latin command names get a bot_command entity, and optional flood control answers
429 with retry_after.

Webhooks: setWebhook stores the URL and makes getUpdates answer 409, as Telegram does; updates
are POSTed only once a test calls `deliver_through(backends)`, playing Telegram and a load
balancer in front of several bot processes: each update goes to a backend picked at random, one
update of a chat at a time, in order, and again (to a backend picked again) until one answers
200. Not modelled: parse_mode (texts are stored as sent, markup and all), groups beyond a bare
chat object, and every method not listed in ``FakeBotApi._methods`` (404).

All methods must be called on the event loop that runs the fake.

Standalone, for a bot in another process::

    python -m tests.fake_telegram --port 8081 --token 123456:TEST-TOKEN [--flood]

prints its base_url and serves until SIGINT or SIGTERM; drive it with POST /_fake/push_text
(JSON {"user_id": 1, "text": "/start"}), /_fake/push_callback, /_fake/push_contact,
/_fake/push_sticker, /_fake/push_raw, and read what the bot sent with GET /_fake/sent?after=N
(add &wait=5 to wait up to 5 s for something new).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import random
import re
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Self

from aiohttp import web

JSONDict = dict[str, Any]

_dumps = functools.partial(json.dumps, ensure_ascii=False)

# Form fields whose value python-telegram-bot sends as a bare string, never JSON-encoded:
# "123" here is the text "123", not a number.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "language_code",
        "message_effect_id",
        "business_connection_id",
        "file_id",
        "action",
        "emoji",
        "document",
        "photo",
        "sticker",
    }
)
# Fields holding JSON objects or arrays; a JSON body may still carry them as JSON strings.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    }
)
# Update types Telegram leaves out unless allowed_updates names them.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    }
)
# Telegram gives a bot_command entity only to Latin command names (with an optional @bot).
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FLOOD_METHODS = frozenset({"sendmessage", "editmessagetext", "senddocument", "sendphoto"})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Flood:
    """Telegram-like flood limits: per chat spacing and an overall per-second cap."""

    per_chat_interval: float = 1.0
    overall_per_second: float = 30.0
    retry_after: int = 1


@dataclass(frozen=True)
class Sent:
    """One successful outgoing call of the bot (send, edit, answer or delete)."""

    method: str
    chat_id: int | None
    text: str | None
    message_id: int | None
    reply_markup: JSONDict | None
    payload: JSONDict
    at: float
    file_name: str | None = None
    file_size: int | None = None


@dataclass(frozen=True)
class _Upload:
    """A file part of a multipart request."""

    file_name: str | None
    mime_type: str | None
    data: bytes


@dataclass(frozen=True)
class _StoredFile:
    """A file the fake can serve through getFile and the file URL."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes


@dataclass
class _Redelivery:
    """An acknowledged update put back in the queue; dropped once an offset passes it again."""

    update: JSONDict
    delivered: bool = False


class _ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram would answer with."""
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _chat_of(update: JSONDict) -> int:
    """The private chat an update comes from (the user's id)."""
    for key in ("message", "edited_message", "callback_query"):
        body = update.get(key)
        if isinstance(body, dict):
            sender = body.get("from") or body.get("chat") or {}
            return int(sender.get("id", 0))
    return 0


class _Signal:
    """A level-free wake-up: every fire() releases all current waiters (an Event per round)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def fire(self) -> None:
        """Wake everyone waiting now."""
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, seconds: float) -> None:
        """Wait for the next fire(), at most `seconds`; returns either way."""
        if seconds <= 0:
            return
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    """Unix time in whole seconds, as in Telegram's `date` fields."""
    return int(time.time())


def _decode_field(name: str, value: str) -> Any:
    """Decode one form or query field the way python-telegram-bot encoded it."""
    if name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _ok(result: Any) -> web.Response:
    """A successful Bot API answer."""
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _error(error: _ApiError) -> web.Response:
    """A failed Bot API answer."""
    return web.json_response(error.body(), status=error.code, dumps=_dumps)


def _int_param(params: JSONDict, name: str, default: int) -> int:
    """An integer parameter, or 400 if it is not one."""
    value = params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: invalid {name} specified") from None


def _float_param(params: JSONDict, name: str, default: float) -> float:
    """A number parameter, or 400 if it is not one."""
    value = params.get(name)
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: invalid {name} specified") from None


def _bool_param(params: JSONDict, name: str) -> bool:
    """A boolean parameter (absent is false)."""
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def _update_type(update: JSONDict) -> str:
    """The kind of an update: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), "")


_Handler = Callable[[JSONDict, dict[str, _Upload]], Awaitable[Any]]


class FakeBotApi:
    """An in-process fake of the Telegram Bot API for python-telegram-bot, on 127.0.0.1."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "progress_test_bot",
        flood: Flood | None = None,
        port: int = 0,
        first_update_id: int = 1,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '123456:ABC', not {token!r}")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.flood = flood
        self.sent: list[Sent] = []
        self.on_send: Callable[[Sent], None] | None = None
        """Called with every recorded send (benchmarks use it instead of scanning `sent`)."""
        self.requests: list[tuple[str, JSONDict]] = []
        self.rejected_429 = 0
        self.blocked: set[int] = set()
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None

        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False

        self._next_update_id = first_update_id
        self._pending: list[JSONDict] = []
        self._redelivered: dict[int, _Redelivery] = {}
        self._history: dict[int, JSONDict] = {}
        self._allowed_updates: list[str] = []
        self._poll_generation = 0

        self._users: dict[int, str] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._inline_messages: dict[str, JSONDict] = {}
        self._callback_queries: dict[str, tuple[int, int]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook_max_connections = 40
        self._webhook_allowed_updates: list[str] | None = None
        self._ids = itertools.count(1)

        self._send_times: deque[float] = deque()
        self._last_send_at: dict[int, float] = {}

        self._deliveries: asyncio.Task[None] | None = None
        self.webhook_posts = 0  # webhook deliveries tried (refused or failed ones included)
        self.webhook_backends: Counter[str] = Counter()  # deliveries answered 200, per backend
        self._updates_signal = _Signal()
        self._sent_signal = _Signal()
        self._request_signal = _Signal()

        self._methods: dict[str, _Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "sendchataction": self._send_chat_action,
            "deletemessage": self._delete_message,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._close,
            "logout": self._close,
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind 127.0.0.1 (the given port, or any free one) and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("POST", "/_fake/push_text", self._control_push_text)
        app.router.add_route("POST", "/_fake/push_callback", self._control_push_callback)
        app.router.add_route("POST", "/_fake/push_contact", self._control_push_contact)
        app.router.add_route("POST", "/_fake/push_sticker", self._control_push_sticker)
        app.router.add_route("POST", "/_fake/push_raw", self._control_push_raw)
        app.router.add_route("GET", "/_fake/sent", self._control_sent)
        app.router.add_route("GET", "/_fake/state", self._control_state)
        # handler_cancellation: a client that gives up a long poll frees its handler at once.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        address = runner.addresses[0]
        self._port = int(address[1])
        self._runner = runner

    async def stop(self) -> None:
        """Answer waiting long polls with no updates and shut the server down."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._updates_signal.fire()
        if self._deliveries is not None:
            self._deliveries.cancel()
            await asyncio.gather(self._deliveries, return_exceptions=True)
        await runner.cleanup()

    def deliver_through(self, backends: Sequence[str], *, seed: int = 1) -> None:
        """POST every update to one of these webhook addresses (http://host:port/path), as
        Telegram does through a load balancer: a backend picked at random for each try, one
        update of a chat at a time and in order, tried again until a backend answers 200."""
        self._deliveries = asyncio.create_task(self._deliver(list(backends), random.Random(seed)))

    async def _deliver(self, backends: list[str], rng: random.Random) -> None:
        import aiohttp

        busy: dict[int, asyncio.Task[None]] = {}  # chat -> its update in flight
        async with aiohttp.ClientSession() as session:

            async def post(chat: int, update: JSONDict) -> None:
                try:
                    while not self._closing:
                        backend = rng.choice(backends)
                        self.webhook_posts += 1
                        headers = {}
                        if self.webhook_secret_token:
                            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret_token
                        try:
                            async with session.post(
                                backend,
                                json=update,
                                headers=headers,
                                timeout=aiohttp.ClientTimeout(total=60),
                            ) as answer:
                                if answer.status == 200:
                                    self.webhook_backends[backend] += 1
                                    self._pending = [
                                        u for u in self._pending
                                        if u["update_id"] != update["update_id"]
                                    ]  # fmt: skip
                                    return
                        except (aiohttp.ClientError, TimeoutError):
                            pass  # that process is down: the balancer tries another
                        await asyncio.sleep(0.05)
                finally:
                    busy.pop(chat, None)
                    self._updates_signal.fire()

            while not self._closing:
                waiting: set[int] = set()
                for update in sorted(self._pending, key=lambda u: int(u["update_id"])):
                    chat = _chat_of(update)
                    if chat in busy or chat in waiting:
                        waiting.add(chat)  # its older update goes first
                        continue
                    waiting.add(chat)
                    busy[chat] = asyncio.create_task(post(chat, update))
                await self._updates_signal.wait(1.0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on (after start())."""
        if self._port is None:
            raise RuntimeError("FakeBotApi has not been started")
        return self._port

    @property
    def root_url(self) -> str:
        """http://127.0.0.1:PORT, where the /_fake/ control endpoints live."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's `base_url` takes; it appends the token and the method."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        """What python-telegram-bot's `base_file_url` takes."""
        return f"{self.root_url}/file/bot"

    # ----------------------------------------------------------------- the user's side

    def push_text(self, user_id: int, text: str, *, first_name: str = "สมชาย") -> int:
        """The user types `text` in their private chat with the bot; returns the update_id."""
        message = self._user_message(user_id, first_name)
        message["text"] = text
        command = _COMMAND.match(text)
        if command:
            length = _utf16_len(command.group())
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message})

    def push_callback(
        self, user_id: int, data: str, *, message_id: int, first_name: str = "สมชาย"
    ) -> int:
        """The user presses an inline button with `data` under bot message `message_id`."""
        user = self._user(user_id, first_name)
        message = self._messages.get((user_id, message_id))
        if message is None:
            message = {
                "message_id": message_id,
                "from": self._bot_user(),
                "chat": self._chat(user_id),
                "date": _now(),
            }
        query_id = str(4_000_000_000_000_000 + next(self._ids))
        self._callback_queries[query_id] = (user_id, message_id)
        query = {
            "id": query_id,
            "from": user,
            "chat_instance": str(7_000_000_000_000 + user_id),
            "message": dict(message),
            "data": data,
        }
        return self._push({"callback_query": query})

    def push_contact(
        self,
        user_id: int,
        phone: str,
        *,
        contact_user_id: int | None = None,
        first_name: str = "สมชาย",
    ) -> int:
        """The user shares a contact (their own unless `contact_user_id` says otherwise)."""
        message = self._user_message(user_id, first_name)
        message["contact"] = {
            "phone_number": phone,
            "first_name": first_name,
            "user_id": user_id if contact_user_id is None else contact_user_id,
        }
        return self._push({"message": message})

    def push_sticker(self, user_id: int, *, first_name: str = "สมชาย") -> int:
        """The user sends a sticker."""
        message = self._user_message(user_id, first_name)
        number = next(self._ids)
        message["sticker"] = {
            "file_id": f"CAACAgIAAxkBAAI{number}",
            "file_unique_id": f"AgAD{number}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": 12345,
        }
        return self._push({"message": message})

    def push_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        first_name: str = "สมชาย",
    ) -> int:
        """The user sends a file; the bot can fetch it with getFile and base_file_url."""
        message = self._user_message(user_id, first_name)
        stored = self._store_file(data, file_name, mime_type)
        message["document"] = self._document(stored)
        if caption is not None:
            message["caption"] = caption
        return self._push({"message": message})

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queue any update body; its update_id, if any, is replaced by the next one."""
        body = {key: value for key, value in update.items() if key != "update_id"}
        return self._push(body)

    def redeliver(self, update_id: int) -> None:
        """Deliver an update again (as after a lost acknowledgement), even past the offset."""
        update = self._history[update_id]
        self._pending = [u for u in self._pending if u["update_id"] != update_id]
        self._redelivered[update_id] = _Redelivery(update)
        self._updates_signal.fire()

    def pending_updates(self) -> int:
        """How many pushed updates the bot has not acknowledged yet."""
        return len(self._pending) + len(self._redelivered)

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403 Forbidden."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        self.blocked.discard(user_id)

    # ----------------------------------------------------------------- inspection

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Every message sent to `chat_id`, and every text a message was edited into (a pressed
        question turned into the next one), oldest first."""
        return [
            s
            for s in self.sent
            if s.method in {"sendMessage", "editMessageText"} and s.chat_id == chat_id
        ]

    def last_text(self, chat_id: int) -> str | None:
        """Text of the last message sent (or edited) to `chat_id`, or None."""
        messages = self.messages_to(chat_id)
        return messages[-1].text if messages else None

    @staticmethod
    def buttons(sent: Sent) -> list[tuple[str, str]]:
        """(label, callback_data) of each inline button, row by row; url buttons give the url."""
        markup = sent.reply_markup or {}
        return [
            (str(button.get("text", "")), str(button.get("callback_data", button.get("url", ""))))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The command list stored by setMyCommands for that scope and language."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    async def wait_for(
        self,
        predicate: Callable[[Sent], bool],
        timeout: float = 10,  # noqa: ASYNC109 (a helper's own deadline reads better)
        *,
        after: int = 0,
    ) -> Sent:
        """The first send from index `after` on that satisfies `predicate`, waiting if need be."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = after
        while True:
            for sent in self.sent[index:]:
                if predicate(sent):
                    return sent
            index = max(index, len(self.sent))
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._describe_wait_failure(timeout, after))
            await self._sent_signal.wait(remaining)

    async def wait_for_text(
        self,
        chat_id: int,
        contains: str,
        timeout: float = 10,  # noqa: ASYNC109
        *,
        after: int = 0,
    ) -> Sent:
        """The first send or edit to `chat_id` from index `after` whose text has `contains`."""
        return await self.wait_for(
            lambda s: s.chat_id == chat_id and s.text is not None and contains in s.text,
            timeout,
            after=after,
        )

    async def wait_for_request(
        self,
        method: str,
        timeout: float = 10,  # noqa: ASYNC109
        *,
        after: int = 0,
    ) -> JSONDict:
        """Parameters of the first call of `method` from index `after` of `requests` on."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = after
        while True:
            for name, params in self.requests[index:]:
                if name.lower() == method.lower():
                    return params
            index = max(index, len(self.requests))
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [name for name, _ in self.requests[-10:]]
                raise TimeoutError(f"no {method} request within {timeout}s; last calls: {seen}")
            await self._request_signal.wait(remaining)

    def _describe_wait_failure(self, timeout: float, after: int) -> str:
        """A timeout message listing the last few sends."""
        lines = [
            f"no matching send within {timeout}s (looked from index {after}; "
            f"{len(self.sent)} sends, {self.rejected_429} rejected with 429, "
            f"{self.pending_updates()} updates not yet fetched). Last sends:"
        ]
        start = max(0, len(self.sent) - 8)
        for index, sent in enumerate(self.sent[start:], start):
            text = (sent.text or "").replace("\n", "⏎")
            if len(text) > 100:
                text = text[:100] + "…"
            lines.append(
                f"  [{index}] {sent.method} chat={sent.chat_id} id={sent.message_id} {text!r}"
            )
        if not self.sent:
            lines.append("  (none)")
        return "\n".join(lines)

    # ----------------------------------------------------------------- HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Route /bot{token}/{method} to the method's handler."""
        if request.match_info["token"] != self.token:
            return _error(_ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            params, uploads = await self._read_params(request)
        except ValueError as exc:
            return _error(_ApiError(400, f"Bad Request: can't parse request: {exc}"))
        self.requests.append((method, params))
        self._request_signal.fire()
        handler = self._methods.get(method.lower())
        if handler is None:
            return _error(_ApiError(404, "Not Found"))
        try:
            return _ok(await handler(params, uploads))
        except _ApiError as exc:
            return _error(exc)

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, _Upload]]:
        """Parameters from the query string and a JSON, urlencoded or multipart body."""
        params: JSONDict = {key: _decode_field(key, value) for key, value in request.query.items()}
        uploads: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = _Upload(value.filename, value.content_type, value.file.read())
                        uploads[key] = upload
                        params[key] = {
                            "file_name": upload.file_name,
                            "mime_type": upload.mime_type,
                            "file_size": len(upload.data),
                        }
                    elif isinstance(value, (bytes, bytearray)):
                        params[key] = _decode_field(key, value.decode("utf-8"))
                    else:
                        params[key] = _decode_field(key, value)
            else:
                raw = await request.read()
                if raw.strip():
                    body = json.loads(raw)
                    if not isinstance(body, dict):
                        raise ValueError("the JSON body must be an object")
                    params.update(body)
        for key in _JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params, uploads

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve a stored file at base_file_url + token + '/' + file_path."""
        if request.match_info["token"] != self.token:
            return _error(_ApiError(401, "Unauthorized"))
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        stored = self._files.get(file_id)
        if stored is None:
            return _error(_ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ----------------------------------------------------------------- building blocks

    def _push(self, body: JSONDict) -> int:
        """Queue an update with the next update_id and wake waiting long polls."""
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, **body}
        self._pending.append(update)
        self._history[update_id] = update
        self._updates_signal.fire()
        return update_id

    def _user(self, user_id: int, first_name: str) -> JSONDict:
        """A (human) User object; remembers the name for the chat object."""
        self._users[user_id] = first_name
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "th"}

    def _bot_user(self) -> JSONDict:
        """The bot as a User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Progress Test Bot",
            "username": self.bot_username,
        }

    def _chat(self, chat_id: int) -> JSONDict:
        """A Chat object: private for positive ids (a user's own chat), else a group."""
        if chat_id > 0:
            return {
                "id": chat_id,
                "type": "private",
                "first_name": self._users.get(chat_id, "สมชาย"),
            }
        return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}

    def _new_message_id(self, chat_id: int) -> int:
        """Next message_id in a chat; user and bot messages share the sequence, as in Telegram."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def _user_message(self, user_id: int, first_name: str) -> JSONDict:
        """A new message from the user in their private chat, without content yet."""
        user = self._user(user_id, first_name)
        message_id = self._new_message_id(user_id)
        message = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat(user_id),
            "date": _now(),
        }
        self._messages[(user_id, message_id)] = message
        return message

    def _bot_message(self, chat_id: int, content: JSONDict) -> JSONDict:
        """A new message from the bot in `chat_id`, stored for edits and callbacks."""
        message_id = self._new_message_id(chat_id)
        message = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": _now(),
            **content,
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def _store_file(self, data: bytes, file_name: str | None, mime_type: str | None) -> _StoredFile:
        """Keep uploaded bytes under a fresh file_id."""
        number = next(self._ids)
        stored = _StoredFile(
            f"BQACAgUAAxkBAAI{number}", f"AgADfile{number}", file_name, mime_type, data
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _document(stored: _StoredFile) -> JSONDict:
        """A Document object."""
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name is not None:
            document["file_name"] = stored.file_name
        if stored.mime_type is not None:
            document["mime_type"] = stored.mime_type
        return document

    def _record(
        self,
        method: str,
        params: JSONDict,
        *,
        chat_id: int | None,
        text: str | None = None,
        message_id: int | None = None,
        reply_markup: JSONDict | None = None,
        file_name: str | None = None,
        file_size: int | None = None,
    ) -> Sent:
        """Append a successful send to `sent`, count it for flood control and wake waiters."""
        at = asyncio.get_running_loop().time()
        sent = Sent(
            method, chat_id, text, message_id, reply_markup, params, at, file_name, file_size
        )
        self.sent.append(sent)
        if method.lower() in _FLOOD_METHODS:
            self._send_times.append(at)
            if chat_id is not None:
                self._last_send_at[chat_id] = at
        self._sent_signal.fire()
        if self.on_send is not None:
            self.on_send(sent)
        return sent

    def _check_flood(self, chat_id: int | None) -> None:
        """429 if this send comes too soon after the last to the chat, or over the overall cap."""
        if self.flood is None:
            return
        now = asyncio.get_running_loop().time()
        while self._send_times and self._send_times[0] <= now - 1.0:
            self._send_times.popleft()
        last = self._last_send_at.get(chat_id) if chat_id is not None else None
        too_soon = last is not None and now - last < self.flood.per_chat_interval
        if too_soon or len(self._send_times) >= self.flood.overall_per_second:
            self.rejected_429 += 1
            seconds = self.flood.retry_after
            raise _ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )

    def _chat_id(self, params: JSONDict) -> int:
        """The chat_id parameter as an int; 400 if missing or not a known kind of chat."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _text(params: JSONDict) -> str:
        """The text parameter, refused as Telegram does when empty or too long."""
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _caption(params: JSONDict) -> str | None:
        """The optional caption, refused when too long."""
        caption = params.get("caption")
        if caption is None:
            return None
        caption = str(caption)
        if _utf16_len(caption) > MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return caption

    @staticmethod
    def _markup(params: JSONDict) -> JSONDict | None:
        """The reply_markup parameter, with inline keyboards checked as Telegram checks them."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not _INLINE_BUTTON_ACTIONS & button.keys():
                        raise _ApiError(
                            400, "Bad Request: text buttons are unallowed in the inline keyboard"
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _inline_only(markup: JSONDict | None) -> JSONDict | None:
        """What Telegram echoes in Message.reply_markup: inline keyboards only."""
        return markup if markup is not None and "inline_keyboard" in markup else None

    def _editable(self, chat_id: int, params: JSONDict) -> tuple[int, JSONDict]:
        """The bot message that chat_id + message_id point at, or the 400 Telegram gives."""
        message_id = _int_param(params, "message_id", 0)
        if message_id == 0:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message["from"].get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message_id, message

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        """Where a command list is kept: per scope and language, as in Telegram."""
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _allowed(self, update: JSONDict) -> bool:
        """Whether the current allowed_updates setting lets this update through."""
        kind = _update_type(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATE_TYPES

    # ----------------------------------------------------------------- Bot API methods

    async def _get_me(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """getMe."""
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """getUpdates: acknowledge below `offset`, then long-poll up to `timeout` seconds."""
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_float_param(params, "timeout", 0.0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self._acknowledge(offset)

        # A newer getUpdates ends this one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._take(offset, limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            await self._updates_signal.wait(remaining)

    def _acknowledge(self, offset: int) -> None:
        """Forget updates the offset confirms; a negative offset keeps only the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._redelivered = {
                uid: r for uid, r in self._redelivered.items() if not (r.delivered and uid < offset)
            }
        elif offset < 0:
            everything = sorted(
                [*self._pending, *(r.update for r in self._redelivered.values())],
                key=lambda u: int(u["update_id"]),
            )
            keep = {u["update_id"] for u in everything[offset:]}
            self._pending = [u for u in self._pending if u["update_id"] in keep]
            self._redelivered = {uid: r for uid, r in self._redelivered.items() if uid in keep}

    def _take(self, offset: int, limit: int) -> list[JSONDict]:
        """Up to `limit` deliverable updates in update_id order; drops disallowed types."""
        self._pending = [u for u in self._pending if self._allowed(u)]
        self._redelivered = {
            uid: r for uid, r in self._redelivered.items() if self._allowed(r.update)
        }
        candidates = [u for u in self._pending if offset <= 0 or u["update_id"] >= offset]
        candidates += [r.update for r in self._redelivered.values()]
        batch = sorted(candidates, key=lambda u: int(u["update_id"]))[:limit]
        for update in batch:
            redelivery = self._redelivered.get(update["update_id"])
            if redelivery is not None:
                redelivery.delivered = True
        return batch

    async def _send_message(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """sendMessage."""
        chat_id = self._chat_id(params)
        text = self._text(params)
        markup = self._markup(params)
        self._check_flood(chat_id)
        content: JSONDict = {"text": text}
        if isinstance(params.get("entities"), list):
            content["entities"] = params["entities"]
        inline = self._inline_only(markup)
        if inline is not None:
            content["reply_markup"] = inline
        message = self._bot_message(chat_id, content)
        self._record(
            "sendMessage",
            params,
            chat_id=chat_id,
            text=text,
            message_id=message["message_id"],
            reply_markup=markup,
        )
        return message

    async def _edit_message_text(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """editMessageText; `true` for inline messages."""
        text = self._text(params)
        markup = self._markup(params)
        inline = self._inline_only(markup)
        inline_id = params.get("inline_message_id")
        if inline_id:
            self._check_flood(None)
            self._record("editMessageText", params, chat_id=None, text=text, reply_markup=markup)
            return True
        chat_id = self._chat_id(params)
        message_id, message = self._editable(chat_id, params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if message["text"] == text and message.get("reply_markup") == inline:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        self._check_flood(chat_id)
        edited = {k: v for k, v in message.items() if k not in ("reply_markup", "entities")}
        edited.update(text=text, edit_date=_now())
        if isinstance(params.get("entities"), list):
            edited["entities"] = params["entities"]
        if inline is not None:
            edited["reply_markup"] = inline
        self._messages[(chat_id, message_id)] = edited
        self._record(
            "editMessageText",
            params,
            chat_id=chat_id,
            text=text,
            message_id=message_id,
            reply_markup=markup,
        )
        return edited

    async def _edit_message_reply_markup(
        self, params: JSONDict, uploads: dict[str, _Upload]
    ) -> Any:
        """editMessageReplyMarkup; `true` for inline messages."""
        markup = self._markup(params)
        inline = self._inline_only(markup)
        if params.get("inline_message_id"):
            self._record("editMessageReplyMarkup", params, chat_id=None, reply_markup=markup)
            return True
        chat_id = self._chat_id(params)
        message_id, message = self._editable(chat_id, params)
        if message.get("reply_markup") == inline:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        edited["edit_date"] = _now()
        if inline is not None:
            edited["reply_markup"] = inline
        self._messages[(chat_id, message_id)] = edited
        self._record(
            "editMessageReplyMarkup",
            params,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=markup,
        )
        return edited

    async def _answer_callback_query(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """answerCallbackQuery; recorded with the chat and message of the pressed button."""
        query_id = str(params.get("callback_query_id") or "")
        where = self._callback_queries.get(query_id)
        if where is None:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        self._record(
            "answerCallbackQuery",
            params,
            chat_id=where[0],
            text=None if text is None else str(text),
            message_id=where[1],
        )
        return True

    def _file_for_send(
        self, field: str, params: JSONDict, uploads: dict[str, _Upload]
    ) -> tuple[int, _StoredFile, str | None, JSONDict | None]:
        """Common checks of sendDocument and sendPhoto; returns chat, file, caption, markup."""
        chat_id = self._chat_id(params)
        caption = self._caption(params)
        markup = self._markup(params)
        upload = uploads.get(field)
        if upload is not None:
            if not upload.data:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            stored = self._store_file(upload.data, upload.file_name, upload.mime_type)
        else:
            reference = params.get(field)
            if not isinstance(reference, str) or not reference:
                raise _ApiError(400, f"Bad Request: there is no {field} in the request")
            known = self._files.get(reference)
            if known is not None:
                stored = known
            else:  # a URL: Telegram would download it; the fake has no bytes for it
                name = reference.rsplit("/", 1)[-1] or None
                stored = self._store_file(b"", name, None)
        self._check_flood(chat_id)
        return chat_id, stored, caption, markup

    async def _send_document(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """sendDocument (multipart upload, a known file_id, or a URL)."""
        chat_id, stored, caption, markup = self._file_for_send("document", params, uploads)
        content: JSONDict = {"document": self._document(stored)}
        return self._finish_file_send(
            "sendDocument", params, chat_id, stored, caption, markup, content
        )

    async def _send_photo(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """sendPhoto; the photo comes back as two PhotoSize objects."""
        chat_id, stored, caption, markup = self._file_for_send("photo", params, uploads)
        sizes = [
            {
                "file_id": f"{stored.file_id}s",
                "file_unique_id": f"{stored.file_unique_id}s",
                "width": 90,
                "height": 90,
                "file_size": min(len(stored.data), 2048),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 800,
                "height": 800,
                "file_size": len(stored.data),
            },
        ]
        content: JSONDict = {"photo": sizes}
        return self._finish_file_send(
            "sendPhoto", params, chat_id, stored, caption, markup, content
        )

    def _finish_file_send(
        self,
        method: str,
        params: JSONDict,
        chat_id: int,
        stored: _StoredFile,
        caption: str | None,
        markup: JSONDict | None,
        content: JSONDict,
    ) -> JSONDict:
        """Store and record a document or photo message and return it."""
        if caption is not None:
            content["caption"] = caption
        inline = self._inline_only(markup)
        if inline is not None:
            content["reply_markup"] = inline
        message = self._bot_message(chat_id, content)
        self._record(
            method,
            params,
            chat_id=chat_id,
            text=caption,
            message_id=message["message_id"],
            reply_markup=markup,
            file_name=stored.file_name,
            file_size=len(stored.data),
        )
        return message

    async def _send_chat_action(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """sendChatAction ("typing…"): accepted, not recorded as a send."""
        self._chat_id(params)
        return True

    async def _delete_message(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """deleteMessage."""
        chat_id = self._chat_id(params)
        message_id = _int_param(params, "message_id", 0)
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self._record("deleteMessage", params, chat_id=chat_id, message_id=message_id)
        return True

    async def _get_file(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """getFile: a relative file_path that python-telegram-bot joins to base_file_url."""
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": f"documents/{stored.file_id}",
        }

    async def _set_my_commands(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """setMyCommands, checking names and descriptions as Telegram does."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, 'Bad Request: parameter "commands" is invalid')
        stored: list[JSONDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            command = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not _BOT_COMMAND_NAME.fullmatch(command):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": command, "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = stored
        return True

    async def _get_my_commands(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """getMyCommands."""
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return list(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """deleteMyCommands."""
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    async def _set_webhook(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """setWebhook: stores the URL and secret (an empty URL removes the webhook)."""
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith("https://"):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.webhook_url = url
        self.webhook_secret_token = None if secret is None else str(secret)
        self._webhook_max_connections = _int_param(params, "max_connections", 40)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._webhook_allowed_updates = [str(kind) for kind in allowed]
        if _bool_param(params, "drop_pending_updates"):
            self._drop_pending()
        return True

    async def _delete_webhook(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """deleteWebhook."""
        self.webhook_url = ""
        self.webhook_secret_token = None
        if _bool_param(params, "drop_pending_updates"):
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        """Forget every unacknowledged update."""
        self._pending.clear()
        self._redelivered.clear()

    async def _get_webhook_info(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """getWebhookInfo."""
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates(),
        }
        if self.webhook_url:
            info["max_connections"] = self._webhook_max_connections
            if self._webhook_allowed_updates is not None:
                info["allowed_updates"] = self._webhook_allowed_updates
        return info

    async def _close(self, params: JSONDict, uploads: dict[str, _Upload]) -> Any:
        """close and logOut: accepted."""
        return True

    # ----------------------------------------------------------------- /_fake/ control

    async def _control_body(self, request: web.Request) -> JSONDict:
        """The JSON object a control request carries."""
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        return body

    async def _control(self, request: web.Request, push: Callable[[JSONDict], int]) -> web.Response:
        """Run a push with the request's JSON; answer its update_id."""
        try:
            update_id = push(await self._control_body(request))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response(
                {"ok": False, "description": f"bad push: {exc!r}"}, status=400, dumps=_dumps
            )
        return web.json_response({"ok": True, "update_id": update_id}, dumps=_dumps)

    async def _control_push_text(self, request: web.Request) -> web.Response:
        """POST /_fake/push_text {user_id, text[, first_name]}."""
        return await self._control(
            request,
            lambda b: self.push_text(
                int(b["user_id"]), str(b["text"]), first_name=str(b.get("first_name", "สมชาย"))
            ),
        )

    async def _control_push_callback(self, request: web.Request) -> web.Response:
        """POST /_fake/push_callback {user_id, data, message_id}."""
        return await self._control(
            request,
            lambda b: self.push_callback(
                int(b["user_id"]), str(b["data"]), message_id=int(b["message_id"])
            ),
        )

    async def _control_push_contact(self, request: web.Request) -> web.Response:
        """POST /_fake/push_contact {user_id, phone[, contact_user_id]}."""
        return await self._control(
            request,
            lambda b: self.push_contact(
                int(b["user_id"]),
                str(b["phone"]),
                contact_user_id=None
                if b.get("contact_user_id") is None
                else int(b["contact_user_id"]),
            ),
        )

    async def _control_push_sticker(self, request: web.Request) -> web.Response:
        """POST /_fake/push_sticker {user_id}."""
        return await self._control(request, lambda b: self.push_sticker(int(b["user_id"])))

    async def _control_push_raw(self, request: web.Request) -> web.Response:
        """POST /_fake/push_raw {<update body>}."""
        return await self._control(request, self.push_raw)

    async def _control_sent(self, request: web.Request) -> web.Response:
        """GET /_fake/sent?after=N[&wait=S]: sends from index N, waiting up to S s for one."""
        try:
            after = int(request.query.get("after", "0"))
            wait = float(request.query.get("wait", "0"))
        except ValueError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait, 60.0)
        while len(self.sent) <= after and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._sent_signal.wait(remaining)
        items = [
            {"index": index, **asdict(sent)} for index, sent in enumerate(self.sent[after:], after)
        ]
        return web.json_response({"ok": True, "count": len(self.sent), "sent": items}, dumps=_dumps)

    async def _control_state(self, request: web.Request) -> web.Response:
        """GET /_fake/state: counters for a driver in another process."""
        state = {
            "ok": True,
            "sent": len(self.sent),
            "requests": len(self.requests),
            "pending_updates": self.pending_updates(),
            "rejected_429": self.rejected_429,
            "next_update_id": self._next_update_id,
        }
        return web.json_response(state, dumps=_dumps)


async def _serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGINT or SIGTERM."""
    flood = (
        Flood(args.per_chat_interval, args.overall_per_second, args.retry_after)
        if args.flood
        else None
    )
    fake = FakeBotApi(args.token, bot_username=args.bot_username, flood=flood, port=args.port)
    async with fake:
        print(fake.base_url, flush=True)
        print(
            f"fake Telegram Bot API for token {fake.token}; files at {fake.base_file_url}; "
            f"control at {fake.root_url}/_fake/",
            file=sys.stderr,
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve a fake Bot API on 127.0.0.1 and print its base_url."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="progress_test_bot")
    parser.add_argument("--flood", action="store_true", help="answer 429 like Telegram")
    parser.add_argument("--per-chat-interval", type=float, default=1.0)
    parser.add_argument("--overall-per-second", type=float, default=30.0)
    parser.add_argument("--retry-after", type=int, default=1)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
