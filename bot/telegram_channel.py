"""The Telegram channel: python-telegram-bot carries the conversation to and from Telegram.

Only translation lives here: an Update becomes an `Inbound`, each `Outbound` becomes a message
with an inline keyboard. Everything the bot decides is in handlers/.

Updates are fetched by our own long-polling loop (or received by the webhook server) and each
batch is fully handled before Telegram is told it may forget it: after a crash, Telegram sends
the unacknowledged updates again, and the conversation recognises any it already handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.config import TelegramConfig
from bot.telegram_http import AiohttpRequest
from bot.telegram_limits import Lane, TelegramRateLimiter
from domain.messages import Inbound, Outbound, Reply
from domain.models import ChatIdentity
from handlers import texts
from handlers.conversation import Conversation
from handlers.groups import group_answer
from scheduler.delivery import DeliveryFailed

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# my_chat_member: the bot was added to a group (it then says it works in private chats).
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SHARE_PHONE = "📱 แชร์เบอร์โทรศัพท์"

# The commands Telegram shows in its menu, with Thai descriptions (names must be Latin).
COMMANDS = (
    ("report", "ส่งรายงานความก้าวหน้าประจำเดือน"),
    ("status", "ดูโครงการและรายงานที่ต้องส่ง"),
    ("history", "ดูรายงานที่ส่งแล้ว"),
    ("correct", "แก้ไขรายงานที่ส่งแล้ว"),
    ("form", "แบบรายงานความก้าวหน้าของโครงการ (PDF)"),
    ("chart", "กราฟความก้าวหน้าและการเบิกจ่าย"),
    ("summary", "สรุปโครงการและรายงานประจำเดือน"),
    ("export", "ไฟล์ Excel ของรายงาน (ผู้ประสานงาน)"),
    ("back", "ย้อนกลับหนึ่งขั้น"),
    ("cancel", "ยกเลิกรายงานที่กำลังกรอก"),
    ("away", "แจ้งไม่อยู่และให้เพื่อนร่วมงานรายงานแทน"),
    ("present", "กลับมาแล้ว ยกเลิกการรายงานแทน"),
    ("notify", "ตั้งค่าการแจ้งเตือน (ผู้ประสานงาน)"),
    ("channel", "เลือกช่องทางรับการแจ้งเตือน: LINE, Telegram หรือทั้งสอง"),
    ("dashboard", "ลิงก์เข้าแดชบอร์ดบนเว็บ (ใช้ได้ครั้งเดียว)"),
    ("help", "วิธีใช้งาน"),
)

Chat = int
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
MENU_PROMPT = "เลือกคำสั่งได้จากปุ่มด้านล่าง"
CANNOT_SHOW = 'ขออภัย ระบบแสดงคำตอบนี้ไม่ได้ กรุณาพิมพ์ "ช่วยเหลือ" หรือแจ้งผู้ประสานงาน'


def to_inbound(update: Update) -> tuple[Chat, Inbound] | None:
    """The chat to answer and what the person sent; None for updates the bot does not handle."""
    event = str(update.update_id)
    if (query := update.callback_query) is not None:
        if query.message is None or query.data is None:
            return None
        user = str(query.from_user.id)
        return query.message.chat.id, Inbound.pressed(CHANNEL, user, query.data, event)
    message = update.message
    if message is None or message.from_user is None:
        return None
    chat, user = message.chat.id, str(message.from_user.id)
    if message.text is not None:
        return chat, Inbound.typed(CHANNEL, user, message.text, event)
    contact = message.contact
    if contact is not None and contact.user_id == message.from_user.id:
        # Only the person's own number proves anything; a forwarded card of someone else does not.
        return chat, Inbound.contact(CHANNEL, user, contact.phone_number, event)
    return chat, Inbound.other(CHANNEL, user, event)


def passing(error: TelegramError) -> bool:
    """Whether a failed call may succeed later: Telegram unreachable or slow, or asking to
    wait. A refusal (BadRequest, Forbidden) will not pass; BadRequest is a NetworkError in
    python-telegram-bot, hence the order."""
    if isinstance(error, BadRequest | Forbidden):
        return False
    return isinstance(error, NetworkError | RetryAfter)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into messages under Telegram's limit, at line breaks where possible."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    chunks.append(rest)
    return chunks


def keyboard(reply: Outbound) -> InlineKeyboardMarkup | None:
    """Buttons under a message: short ones side by side, long ones one per row."""
    if not reply.choices:
        return None
    buttons = [InlineKeyboardButton(c.label, callback_data=c.payload) for c in reply.choices]
    if len(buttons) <= 3 and all(len(c.label) <= 14 for c in reply.choices):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[b] for b in buttons])


class TelegramChannel:
    """Runs the conversation on Telegram through python-telegram-bot's Application."""

    def __init__(
        self,
        config: TelegramConfig,
        conversation: Conversation,
        *,
        request: BaseRequest | None = None,
        rate_limiter: BaseRateLimiter[Any] | None = None,
        poll_backoff: float = 0.5,
    ) -> None:
        self._config = config
        self._backoff = poll_backoff  # seconds before a failed poll is tried again, doubling
        self._conversation = conversation
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            Application.builder()
            .token(config.token)
            .base_url(config.api_base_url)
            .base_file_url(config.api_file_url)
            .updater(None)
            .rate_limiter(
                rate_limiter
                or TelegramRateLimiter(
                    # Evenly spaced, no burst: Telegram counts any 1-second window, and a 429
                    # pauses every chat, so a burst costs more than it gains. One message a
                    # second below the limit, with half a message of slack: a sleep that
                    # wakes late then loses nothing, and no second holds more than the limit.
                    overall_rate=_steady_rate(config.messages_per_second),
                    overall_burst=1.5,
                    per_chat_rate=config.messages_per_chat_per_second,
                    per_chat_burst=max(3.0, config.messages_per_chat_per_second),
                )
            )
        )
        if request is not None:
            builder = builder.request(request).get_updates_request(request)
        else:
            # aiohttp rather than httpx: a fraction of the CPU per call (bot.telegram_http).
            builder = builder.request(AiohttpRequest(connection_pool_size=8)).get_updates_request(
                AiohttpRequest(connection_pool_size=1, read_timeout=config.poll_timeout + 10.0)
            )
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self._unanswered: set[int] = set()

    async def start(self) -> None:
        """Connect (getMe) and register the command menu in Thai."""
        await self.app.initialize()
        commands = [BotCommand(name, description) for name, description in COMMANDS]
        await self.app.bot.set_my_commands(commands)
        log.info("telegram: connected as @%s", self.app.bot.username)

    async def stop(self) -> None:
        """Release the HTTP connections."""
        await self.app.shutdown()

    async def handle_batch(self, updates: Sequence[Update]) -> list[int]:
        """Handle a batch of updates fully (in parallel across chats); returns the ids of those
        whose answer could not be sent for a reason that may pass (Telegram unreachable): they
        must not be acknowledged, so that Telegram delivers them again. Their turns are stored
        already; the next delivery is recognised and answered with where things stand."""
        await asyncio.gather(*(self.app.process_update(u) for u in updates))
        failed = sorted(u.update_id for u in updates if u.update_id in self._unanswered)
        self._unanswered.difference_update(failed)
        return failed

    async def poll(
        self,
        stop: asyncio.Event,
        answered: asyncio.Event | None = None,
        still_allowed: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Long-poll getUpdates until `stop` is set, acknowledging only handled batches;
        `answered` is set once the updates waiting at the start are handled (or the first
        fetch failed). `still_allowed`, asked before each fetch, ends the polling when it says
        no (another process polls now)."""
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            if still_allowed is not None and not await still_allowed():
                log.error("telegram: another process polls now; this one stops polling")
                if answered is not None:
                    answered.set()
                break
            fetch = asyncio.ensure_future(
                self.app.bot.get_updates(
                    offset=offset,
                    timeout=self._config.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                break
            try:
                updates = fetch.result()
            except NetworkError as error:
                failures += 1
                delay = min(30.0, self._backoff * 2**failures)
                log.warning("telegram: getUpdates failed (%s); retrying in %.1f s", error, delay)
                if answered is not None:
                    answered.set()  # nothing waiting can be fetched now: go on with the rest
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            if updates:
                unanswered = await self.handle_batch(updates)
                if unanswered:
                    # Not acknowledged: fetched again (from the first unanswered one) after a
                    # pause; those handled meanwhile are recognised and not applied twice.
                    offset = unanswered[0]
                    if answered is not None:
                        answered.set()  # tried: the rest of the start need not wait for them
                    failures += 1
                    delay = min(30.0, self._backoff * 2**failures)
                    log.warning(
                        "telegram: %d answers not delivered; fetching them again in %.1f s",
                        len(unanswered), delay,
                    )  # fmt: skip
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    continue
                offset = updates[-1].update_id + 1
            failures = 0
            if answered is not None:
                answered.set()
        if offset is not None:
            # Acknowledge the last handled batch, so a clean restart does not fetch it again.
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=offset, timeout=0, limit=1)

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        place = update.effective_chat
        if place is not None and place.type != ChatType.PRIVATE:
            await self._in_group(update, place.id)
            return
        translated = to_inbound(update)
        if translated is None:
            return
        chat, inbound = translated
        message = update.effective_message
        if update.callback_query is not None:
            # Stop the spinner on the pressed button at once, whatever happens next.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()

        async def send(reply: Reply) -> None:
            log.debug(
                "telegram: update %s (%s) in chat %s: %d replies",
                update.update_id, inbound.kind.value, chat, len(reply.messages),
            )  # fmt: skip
            if update.callback_query is not None and isinstance(message, Message):
                if reply.in_place and await self._edit_in_place(message, inbound.text, reply):
                    return
                await self._remove_keyboard(message)
            for outbound in reply.messages:
                await self.send(chat, outbound)

        # The conversation keeps one person's updates in order, each answer sent before the next.
        try:
            await self._conversation.serve(inbound, send)
        except TelegramError as error:
            if not passing(error):
                # Refused for good (the person blocked the bot, a message Telegram will not
                # take): acknowledged, as sending it again cannot help; a plain apology is
                # tried, so that a refused answer is never a silent one.
                log.error(
                    "telegram: update %s could not be answered: %s",
                    update.update_id, type(error).__name__,
                )  # fmt: skip
                with contextlib.suppress(TelegramError):
                    await self.app.bot.send_message(chat, CANNOT_SHOW)
                return
            self._unanswered.add(update.update_id)
            log.warning(
                "telegram: the answer to update %s was not delivered (%s); not acknowledged",
                update.update_id, type(error).__name__,
            )  # fmt: skip

    async def _in_group(self, update: Update, chat: Chat) -> None:
        """In a group or channel the bot says it works one to one, when it is added and when
        someone addresses it (handlers.groups); the members' own talk is left alone."""
        answer: Outbound | None = None
        if (change := update.my_chat_member) is not None:
            joined = change.new_chat_member.status in _PRESENT
            if joined and change.old_chat_member.status not in _PRESENT:
                answer = group_answer(None)
        elif (query := update.callback_query) is not None:
            with contextlib.suppress(TelegramError):
                await query.answer()
            answer = group_answer(None)
        elif (message := update.message) is not None and message.text is not None:
            answer = group_answer(message.text, addressed=self._addresses_bot(message))
        if answer is not None:
            try:
                await self.send(chat, answer)
            except TelegramError as error:  # removed from the group meanwhile, or muted there
                log.info("telegram: could not answer in group %s (%s)", chat, type(error).__name__)

    def _addresses_bot(self, message: Message) -> bool:
        """The message mentions the bot by name, or replies to one of its messages."""
        bot = self.app.bot
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        mentions = message.parse_entities(
            [MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION]
        )
        name = f"@{bot.username}".casefold()
        return any(
            text.casefold() == name or (entity.user is not None and entity.user.id == bot.id)
            for entity, text in mentions.items()
        )

    async def _edit_in_place(self, message: Message, pressed: str, reply: Reply) -> bool:
        """Turn the pressed question into the next one (the answer given shown on top): one
        call instead of taking the buttons off and sending a new message. False if it cannot
        be done (a text too long, a message too old to edit): then the usual way is taken."""
        (outbound,) = reply.messages
        label = next(
            (
                button.text
                for row in (message.reply_markup.inline_keyboard if message.reply_markup else ())
                for button in row
                if button.callback_data == pressed
            ),
            "",
        )
        text = f"✓ {label}\n\n{outbound.text}" if label else outbound.text
        if (
            outbound.ask_contact
            or outbound.close_keyboard
            or len(text) > MessageLimit.MAX_TEXT_LENGTH
        ):
            return False
        try:
            await self.app.bot.edit_message_text(
                text,
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=keyboard(outbound),
            )
        except BadRequest:  # too old to edit, or deleted: send it as a new message instead
            return False
        return True

    async def _remove_keyboard(self, message: Message) -> None:
        """Take the keyboard off a pressed message, so an old button cannot be pressed again."""
        with contextlib.suppress(BadRequest):  # already removed, or the message is too old
            await self.app.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
            )

    async def send(self, chat: Chat, reply: Outbound, lane: Lane = Lane.REPLY) -> None:
        """Send one reply: text in pieces under the limit, the buttons under the last piece;
        in the bulk `lane` (reminders), every reply to someone waiting goes first."""
        markup: Markup
        if reply.ask_contact:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(SHARE_PHONE, request_contact=True)]],
                one_time_keyboard=True,
                resize_keyboard=True,
            )
        else:
            markup = keyboard(reply)
        text = f"{reply.text}\n{texts.CONTACT_HINT}" if reply.ask_contact else reply.text
        messages: list[tuple[str, Markup]] = [(piece, None) for piece in split_text(text)]
        if reply.close_keyboard:
            # A message carries one keyboard: the text takes the contact button away, and the
            # inline buttons (if any) come on a short message of their own.
            messages[0] = (messages[0][0], ReplyKeyboardRemove())
            if markup is not None:
                messages.append((MENU_PROMPT, markup))
        elif markup is not None:
            messages[-1] = (messages[-1][0], markup)
        file = reply.attachment
        caption: str | None = None
        file_markup: Markup = None
        single = len(messages) == 1 and not reply.close_keyboard
        if file is not None and single and len(reply.text) <= MessageLimit.CAPTION_LENGTH:
            # A short text rides on the file, and its buttons with it: one message.
            caption, file_markup, messages = reply.text or None, messages[0][1], []
        for text, attached in messages:
            await self.app.bot.send_message(chat, text, reply_markup=attached, rate_limit_args=lane)
        if file is not None:
            upload = InputFile(file.data, filename=file.name)
            if file.is_image:
                await self.app.bot.send_photo(
                    chat, upload, caption=caption, reply_markup=file_markup, rate_limit_args=lane
                )
            else:
                await self.app.bot.send_document(
                    chat, upload, caption=caption, reply_markup=file_markup, rate_limit_args=lane
                )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The conversation never raises; what arrives here failed while talking to Telegram.
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram: update %s failed: %s: %s", update_id, type(error).__name__, error)


_PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


def _steady_rate(limit: float) -> float:
    """The overall rate kept under a limit of `limit` messages in any second: with a burst
    of 1.5, at most ``rate + 1.5`` go in one second, which is `limit` and a half."""
    return max(limit - 1.0, limit / 2)


class TelegramNotifier:
    """Lets the reminder service write to Telegram accounts unasked, in the bulk lane of the
    rate limiter unless told otherwise: answers to people waiting go first."""

    def __init__(self, channel: TelegramChannel, lane: Lane = Lane.BULK) -> None:
        self._channel = channel
        self._lane = lane

    async def push(self, identity: ChatIdentity, message: Outbound) -> None:
        """Send one reminder; a blocked bot or a vanished chat is a failure for good."""
        try:
            await self._channel.send(int(identity.external_id), message, self._lane)
        except (Forbidden, BadRequest) as error:
            raise DeliveryFailed(type(error).__name__, permanent=True) from error
        except TelegramError as error:  # network trouble: the next tick tries again
            raise DeliveryFailed(type(error).__name__, permanent=False) from error
