"""In-process Telegram test helpers: a request object that answers like the Bot API without any
socket, and builders of the updates Telegram sends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import BadRequest, NetworkError
from telegram.request import BaseRequest, RequestData

from bot.telegram_limits import TelegramRateLimiter

TOKEN = "123456:TEST-TOKEN"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Progress", "username": "progress_bot"}


async def _no_wait(_: float) -> None:
    """The backoff's sleep on fake time: it only lets the other tasks run."""
    await asyncio.sleep(0)


def unlimited(max_network_retries: int = 5) -> TelegramRateLimiter:
    """A rate limiter that never waits (in-process tests do not test the limits), and retries
    a failed call at once (its backoff on fake time)."""
    return TelegramRateLimiter(
        overall_rate=1e6,
        overall_burst=1e6,
        per_chat_rate=1e6,
        per_chat_burst=1e6,
        max_network_retries=max_network_retries,
        sleep=_no_wait,
    )


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # part: (name, content)


@dataclass
class RecordingRequest(BaseRequest):
    """Answers every Bot API call from memory and records it."""

    calls: list[Call] = field(default_factory=list)
    _next_message_id: int = 100
    down: bool = False
    """While set, every send fails as if Telegram were unreachable."""
    polled: list[list[dict[str, Any]]] = field(default_factory=list)
    """Batches getUpdates returns, one per call (then none)."""
    refuse_buttons: bool = False
    """While set, a message with inline buttons is refused (as Telegram refuses bad ones)."""
    on_call: Callable[[Call], None] | None = None
    """Called with every call before it is answered (a test's hook)."""

    @property
    def read_timeout(self) -> float | None:
        """No real I/O, so no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Record the call and return what Telegram would."""
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        for part, upload in ((request_data and request_data.multipart_data) or {}).items():
            content = upload[1]
            files[part] = (
                str(upload[0]),
                content if isinstance(content, bytes) else content.read(),
            )
        self.calls.append(Call(api_method, params, files))
        if self.on_call is not None:
            self.on_call(self.calls[-1])
        if self.down and api_method.startswith("send"):
            raise NetworkError("Telegram unreachable (simulated)")
        if self.refuse_buttons and self.buttons(self.calls[-1]):
            raise BadRequest("Button_data_invalid")
        result: Any = True
        if api_method == "getMe":
            result = BOT_USER
        elif api_method in {"sendMessage", "editMessageReplyMarkup", "editMessageText"}:
            self._next_message_id += 1
            result = {
                "message_id": params.get("message_id", self._next_message_id),
                "date": 0,
                "chat": {"id": params.get("chat_id", 0), "type": "private"},
                "text": params.get("text", ""),
            }
        elif api_method in {"sendDocument", "sendPhoto"}:
            self._next_message_id += 1
            result = {
                "message_id": self._next_message_id,
                "date": 0,
                "chat": {"id": params.get("chat_id", 0), "type": "private"},
            }
        elif api_method == "getUpdates":
            result = self.polled.pop(0) if self.polled else []
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """sendMessage calls, and the editMessageText calls that turn a pressed question into
        the next (to one chat if given)."""
        return [
            c
            for c in self.calls
            if c.method in {"sendMessage", "editMessageText"}
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def texts(self, chat_id: int) -> list[str]:
        """Texts sent to a chat, in order."""
        return [str(c.params["text"]) for c in self.sent(chat_id)]

    def buttons(self, call: Call) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard of a sendMessage (or file) call."""
        markup = call.params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return []
        return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


class Updates:
    """Builds Bot API updates as Telegram would send them, with increasing update ids."""

    def __init__(self, first_id: int = 1) -> None:
        self.next_id = first_id

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_id, **body}
        self.next_id += 1
        return update

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "สมชาย"}

    def text(self, user_id: int, text: str, *, chat_type: str = "private") -> dict[str, Any]:
        """A typed message; a leading /command gets its bot_command entity, as Telegram does."""
        message: dict[str, Any] = {
            "message_id": self.next_id,
            "date": 0,
            "chat": {"id": user_id, "type": chat_type},
            "from": self._user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._update({"message": message})

    def press(
        self,
        user_id: int,
        data: str,
        message_id: int = 101,
        markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A press of an inline button on one of the bot's messages (Telegram sends the
        message with its keyboard, `markup`)."""
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": BOT_USER,
            "text": "…",
        }
        if markup is not None:
            message["reply_markup"] = markup
        return self._update(
            {
                "callback_query": {
                    "id": f"cb{self.next_id}",
                    "from": self._user(user_id),
                    "chat_instance": "1",
                    "data": data,
                    "message": message,
                }
            }
        )

    def contact(self, user_id: int, phone: str, owner: int | None = None) -> dict[str, Any]:
        """A shared contact card (the person's own unless `owner` says otherwise)."""
        return self._update(
            {
                "message": {
                    "message_id": self.next_id,
                    "date": 0,
                    "chat": {"id": user_id, "type": "private"},
                    "from": self._user(user_id),
                    "contact": {
                        "phone_number": phone,
                        "first_name": "สมชาย",
                        "user_id": owner if owner is not None else user_id,
                    },
                }
            }
        )

    def sticker(self, user_id: int) -> dict[str, Any]:
        """A sticker: nothing the bot can read."""
        return self._update(
            {
                "message": {
                    "message_id": self.next_id,
                    "date": 0,
                    "chat": {"id": user_id, "type": "private"},
                    "from": self._user(user_id),
                    "sticker": {
                        "file_id": "s",
                        "file_unique_id": "s",
                        "width": 1,
                        "height": 1,
                        "is_animated": False,
                        "is_video": False,
                        "type": "regular",
                    },
                }
            }
        )


def parse(data: dict[str, Any], bot: Any) -> Update:
    """A Bot API update dict as python-telegram-bot's Update."""
    update = Update.de_json(data, bot)
    assert update is not None
    return update
