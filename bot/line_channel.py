"""The LINE channel: line-bot-sdk (async API) carries the conversation to and from LINE.

Only translation lives here: a webhook event becomes an `Inbound` (bot.line_events), the
replies become LINE messages (bot.line_messages). Replies go through the event's reply token,
which costs nothing; push, which counts against the monthly quota, only when there is no usable
token (reminders, a sixth message, a token that expired). Every push carries an
X-Line-Retry-Key, and a failed push is resent with the same key, so LINE delivers it at most
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    RichMenuBulkLinkRequest,
    RichMenuBulkUnlinkRequest,
    RichMenuRequest,
)

from bot.config import LineConfig
from bot.line_events import GroupMessage, LineEvent
from bot.line_files import FileShelf
from bot.line_messages import MAX_MESSAGES, Message, render_turn
from domain.clock import Clock
from domain.messages import Outbound, Reply
from domain.models import ChatIdentity
from handlers.conversation import Conversation
from handlers.groups import group_answer
from scheduler.delivery import DeliveryFailed
from scheduler.quota import Allowance

log = logging.getLogger(__name__)

CANNOT_SHOW = 'ขออภัย ระบบแสดงคำตอบนี้ไม่ได้ กรุณาพิมพ์ "ช่วยเหลือ" หรือแจ้งผู้ประสานงาน'
# An event older than this that LINE does not mark as a redelivery is a replay of a captured
# request, and is refused; an older redelivery is handled but answered only by reply token.
FRESHNESS = timedelta(minutes=5)
SEND_ATTEMPTS = 3  # the same request, with the same retry key, after a network error or 5xx
MAX_RECIPIENTS = 500  # per multicast request


def invite_link(basic_id: str, code: str) -> str:
    """A link that opens the chat with the account, the invite code already typed."""
    return f"https://line.me/R/oaMessage/{quote(basic_id, safe='')}/?{quote(code, safe='')}"


def _is_monthly_limit(error: ApiException) -> bool:
    return error.status == 429 and b"monthly limit" in _body(error).lower()


def _body(error: ApiException) -> bytes:
    body = error.body
    if isinstance(body, str):
        return body.encode()
    return body if isinstance(body, bytes) else b""


class LineApi:
    """The Messaging API calls the bot makes, with LINE's answers turned into outcomes.

    Replies, pushes and multicasts, made for every answer, go out as JSON through the SDK's own
    HTTP client (its connection pool, proxy settings, headers and ApiException), without its
    request and response models; the rarer calls go through the SDK's API object."""

    def __init__(self, config: LineConfig) -> None:
        configuration = Configuration(
            host=config.api_host, access_token=config.channel_access_token
        )
        self._client = AsyncApiClient(configuration)
        self._api = AsyncMessagingApi(self._client)
        self._host = config.api_host
        self._data_host = config.api_data_host
        self._token = config.channel_access_token
        self._data_client: AsyncApiClient | None = None  # made when a picture is uploaded
        # What the SDK sends with each call: the bearer token and its User-Agent.
        self._headers = {
            **self._client.default_headers,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    async def _post(self, path: str, body: dict[str, Any], retry_key: str | None = None) -> None:
        """POST a JSON body; ApiException when LINE answers anything but 2xx."""
        headers = self._headers if retry_key is None else {
            **self._headers, "X-Line-Retry-Key": retry_key
        }  # fmt: skip
        await self._client.rest_client.post_request(self._host + path, headers=headers, body=body)

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self._client.close()
        if self._data_client is not None:
            await self._data_client.close()

    # Rich menus (made by `progress-bot line rich-menu`, linked to accounts by bot.line_menus)

    async def create_rich_menu(self, body: dict[str, Any]) -> str:
        """Make a rich menu from its JSON (size, areas, name); its id."""
        made = await self._menu_call("create", self._api.create_rich_menu(
            RichMenuRequest.from_dict(body)
        ))  # fmt: skip
        return str(made.rich_menu_id)

    async def upload_rich_menu_image(self, menu_id: str, png: bytes) -> None:
        """Give a new rich menu its picture (LINE takes one, once)."""
        if self._data_client is None:
            configuration = Configuration(
                host=self._data_host, access_token=self._token
            )  # fmt: skip
            self._data_client = AsyncApiClient(configuration)
        blob = AsyncMessagingApiBlob(self._data_client)
        await self._menu_call(
            "picture",
            blob.set_rich_menu_image(menu_id, png, _headers={"Content-Type": "image/png"}),
        )

    async def rich_menu_names(self) -> dict[str, str]:
        """Every rich menu of the account: id and name."""
        found = await self._menu_call("list", self._api.get_rich_menu_list())
        return {str(m.rich_menu_id): str(m.name) for m in found.richmenus}

    async def delete_rich_menu(self, menu_id: str) -> None:
        """Delete a rich menu (accounts linked to it see the default)."""
        await self._menu_call("delete", self._api.delete_rich_menu(menu_id))

    async def set_default_rich_menu(self, menu_id: str) -> None:
        """The menu every account sees unless linked to another."""
        await self._menu_call("default", self._api.set_default_rich_menu(menu_id))

    async def link_rich_menu(self, users: Sequence[str], menu_id: str) -> None:
        """Show `menu_id` to these accounts (one request for up to 500)."""
        if len(users) == 1:
            await self._menu_call("link", self._api.link_rich_menu_id_to_user(users[0], menu_id))
            return
        request = RichMenuBulkLinkRequest(rich_menu_id=menu_id, user_ids=list(users))
        await self._menu_call("link", self._api.link_rich_menu_id_to_users(request))

    async def unlink_rich_menu(self, users: Sequence[str]) -> None:
        """These accounts see the default menu again (one request for up to 500)."""
        if len(users) == 1:
            await self._menu_call("unlink", self._api.unlink_rich_menu_id_from_user(users[0]))
            return
        request = RichMenuBulkUnlinkRequest(user_ids=list(users))
        await self._menu_call("unlink", self._api.unlink_rich_menu_id_from_users(request))

    @staticmethod
    async def _menu_call(what: str, call: Awaitable[Any]) -> Any:
        """A rich menu call, LINE's refusal or a network failure raised as DeliveryFailed."""
        try:
            return await call
        except ApiException as error:
            permanent = error.status is not None and error.status < 500 and error.status != 429
            detail = _body(error).decode(errors="replace")[:200]
            raise DeliveryFailed(
                f"rich menu {what}: HTTP {error.status} {detail}", permanent=permanent
            ) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(
                f"rich menu {what}: {type(error).__name__}", permanent=False
            ) from error

    async def reply(self, token: str, messages: Sequence[Message]) -> bool:
        """Answer through a reply token; False if LINE refused the token (used or expired)."""
        try:
            body = {"replyToken": token, "messages": list(messages), "notificationDisabled": False}
            await self._post("/v2/bot/message/reply", body)
        except ApiException as error:
            if error.status == 400:
                log.info("line: reply token refused (%s)", error.reason)
                return False
            raise DeliveryFailed(f"reply: HTTP {error.status}", permanent=False) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            # Whether LINE took it is unknown, and a reply token cannot be retried: say so.
            raise DeliveryFailed(f"reply: {type(error).__name__}", permanent=False) from error
        return True

    async def push(self, to: Sequence[str], messages: Sequence[Message], retry_key: str) -> bool:
        """Push to one user, or multicast to several, resending with the same retry key. False
        when LINE says a request under this key went through before (nothing is sent now)."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                if len(to) == 1:
                    push = {"to": to[0], "messages": list(messages), "notificationDisabled": False}
                    await self._post("/v2/bot/message/push", push, retry_key)
                else:
                    multicast = {
                        "messages": list(messages), "to": list(to), "notificationDisabled": False
                    }  # fmt: skip
                    await self._post("/v2/bot/message/multicast", multicast, retry_key)
                return True
            except ApiException as error:
                if error.status == 409:  # this retry key was accepted before: delivered once
                    log.info("line: push %s was accepted earlier; not sent again", retry_key)
                    return False
                if _is_monthly_limit(error):
                    log.error("line: the monthly message quota is spent; a push was refused")
                    raise DeliveryFailed("monthly quota spent", permanent=False) from error
                if error.status is not None and error.status < 500 and error.status != 429:
                    raise DeliveryFailed(f"HTTP {error.status}", permanent=True) from error
                failure = DeliveryFailed(f"HTTP {error.status}", permanent=False)
            except (aiohttp.ClientError, TimeoutError) as error:
                failure = DeliveryFailed(type(error).__name__, permanent=False)
            log.warning("line: push attempt %d failed (%s)", attempt, failure)
        raise failure

    async def check(self) -> str:
        """Check the access token by reading the account's basic ID (fails fast when wrong)."""
        try:
            info = await self._api.get_bot_info()
        except ApiException as error:
            raise DeliveryFailed(f"bot info: HTTP {error.status}", permanent=True) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"bot info: {type(error).__name__}", permanent=False) from error
        return str(info.basic_id)

    async def allowance(self) -> Allowance:
        """This month's message quota and what was used of it."""
        try:
            quota = await self._api.get_message_quota()
            used = await self._api.get_message_quota_consumption()
        except ApiException as error:
            raise DeliveryFailed(f"quota: HTTP {error.status}", permanent=False) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"quota: {type(error).__name__}", permanent=False) from error
        limited = str(getattr(quota.type, "value", quota.type)) == "limited"
        return Allowance(int(quota.value) if limited else None, int(used.total_usage))


class AfterEvent(Protocol):
    """Something done for an account after its event was answered (bot.line_menus)."""

    async def after_event(self, user: str) -> None:
        """Never raises."""


class LineChannel:
    """Runs the conversation on LINE: webhook events in, replies (or pushes) out."""

    def __init__(
        self,
        api: LineApi,
        conversation: Conversation,
        clock: Clock,
        *,
        shelf: FileShelf | None = None,
    ) -> None:
        self.api = api
        self._conversation = conversation
        self._clock = clock
        self._shelf = shelf
        self.replays_refused = 0
        """Events refused as stale replays (old, and not a redelivery by LINE)."""
        self.menus: AfterEvent | None = None
        """Links the account's rich menu after its first event (set by the runner)."""

    async def handle_events(self, events: Sequence[LineEvent]) -> None:
        """Handle the events of one webhook request fully."""
        if len(events) == 1:  # nearly always: no task to start
            await self.handle(events[0])
            return
        await asyncio.gather(*(self.handle(event) for event in events))

    async def handle(self, event: LineEvent) -> None:
        """One event, answered through its reply token (or by push when that is spent).

        An event handled already (LINE delivered it again, or someone posted it again) changes
        nothing; its answer, saying where things stand, goes only through an unused reply token,
        never by push: a repeat never spends the paid quota.
        """
        inbound = event.inbound
        if event.group is not None:
            await self._in_group(event, event.group)
            return
        if inbound is None:
            log.debug("line: ignored a %s event", event.kind)
            return
        token, redelivered = event.reply_token, event.redelivered
        fresh = self._fresh(event)
        if not fresh and not redelivered:
            # Old, and LINE does not say it delivers it again: someone posts a captured body.
            self.replays_refused += 1
            log.warning(
                "line: refused event %s: sent %s ago and not a redelivery (%d refused so far)",
                inbound.event_id, self._age(event), self.replays_refused,
            )  # fmt: skip
            return

        async def send(reply: Reply) -> None:
            if reply.repeat:
                log.info("line: event %s was handled already", inbound.event_id)
            # A repeat, or an old event, is answered only through its reply token: it never
            # spends the paid quota.
            push = fresh and not reply.repeat
            await self.send(inbound.user_id, reply.messages, token, push=push)

        # The conversation keeps one person's events in order, each answer sent before the next.
        await self._conversation.serve(inbound, send)
        if self.menus is not None:
            await self.menus.after_event(inbound.user_id)

    async def _in_group(self, event: LineEvent, said: GroupMessage) -> None:
        """In a group the bot says it works one to one, when addressed (handlers.groups);
        only through the event's reply token, which is free: a group never spends quota."""
        answer = group_answer(said.text, addressed=said.addressed)
        if answer is None or not event.reply_token or not self._fresh(event):
            return
        with contextlib.suppress(DeliveryFailed):
            await self.api.reply(event.reply_token, render_turn([answer], None))

    def _age(self, event: LineEvent) -> timedelta:
        sent = datetime.fromtimestamp(event.timestamp / 1000, UTC)
        return self._clock() - sent

    def _fresh(self, event: LineEvent) -> bool:
        """Whether the event happened within FRESHNESS of now (either way: clocks differ)."""
        return abs(self._age(event)) <= FRESHNESS

    async def send(
        self,
        user: str,
        replies: Sequence[Outbound],
        reply_token: str | None,
        *,
        push: bool = True,
    ) -> None:
        """Send a turn's replies: the first 5 messages through the reply token, the rest (or
        all, without a usable token) by push, unless `push` is off. A failure is logged, never
        raised."""
        try:
            messages = render_turn(replies, self._shelf)
        except ValueError as error:  # an answer LINE would refuse (too long a button's data)
            log.error("line: an answer could not be built (%s)", error)
            messages = render_turn([Outbound(CANNOT_SHOW)], None)
        if not push:
            if messages and reply_token:
                with contextlib.suppress(DeliveryFailed):  # a repeat: nothing more to do
                    await self.api.reply(reply_token, messages[:MAX_MESSAGES])
            return
        try:
            if (
                messages
                and reply_token
                and await self.api.reply(reply_token, messages[:MAX_MESSAGES])
            ):
                messages = messages[MAX_MESSAGES:]
            for start in range(0, len(messages), MAX_MESSAGES):
                chunk = messages[start : start + MAX_MESSAGES]
                await self.api.push([user], chunk, str(uuid.uuid4()))
        except DeliveryFailed as error:
            log.error("line: an answer to a user was not delivered (%s)", error)


class LineNotifier:
    """Lets the reminder service write to LINE users unasked, within the monthly quota."""

    max_recipients = MAX_RECIPIENTS

    def __init__(self, channel: LineChannel, config: LineConfig) -> None:
        self._channel = channel
        self.quota_reserve = config.quota_reserve
        self.quota_warning = config.quota_warning

    async def allowance(self) -> Allowance:
        """This month's quota and consumption, read from the API."""
        return await self._channel.api.allowance()

    async def push(self, identity: ChatIdentity, message: Outbound) -> None:
        """Send one message to one user."""
        await self.push_many([identity], message, str(uuid.uuid4()))

    async def push_many(
        self, identities: Sequence[ChatIdentity], message: Outbound, retry_key: str
    ) -> bool:
        """One message to every user, in one push or multicast request (more past LINE's
        limits, each under a key made from `retry_key`). False when LINE says the first request
        under `retry_key` went through before: then nothing more is sent."""
        messages = render_turn([message], None)
        users = [identity.external_id for identity in identities]
        requests = [
            (to, chunk)
            for to in (users[i : i + MAX_RECIPIENTS] for i in range(0, len(users), MAX_RECIPIENTS))
            for chunk in (
                messages[i : i + MAX_MESSAGES] for i in range(0, len(messages), MAX_MESSAGES)
            )
        ]
        fresh = True
        for n, (to, chunk) in enumerate(requests):
            # Each request needs a key of its own, the same one whenever it is sent again.
            key = retry_key if n == 0 else str(uuid.uuid5(uuid.UUID(retry_key), str(n)))
            sent = await self._channel.api.push(to, chunk, key)
            if n == 0 and not sent:
                return False  # the whole request went through before
            fresh = fresh and sent
        return fresh
