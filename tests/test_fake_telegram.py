"""The fake Bot API, driven by the real python-telegram-bot: what the bot's tests will rely on."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MessageEntity,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fake_telegram import FakeBotApi, Flood, Sent

USER = 501_234_567
OTHER_USER = 501_999_001
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


def bot_for(fake: FakeBotApi, token: str | None = None) -> Bot:
    return Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with bot_for(fake) as b:
        yield b


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


# PTB 22 warns, even while building RetryAfter, that retry_after will become a timedelta.
IGNORE_RETRY_AFTER_WARNING = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def test_get_me_describes_the_bot(fake: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "progress_test_bot" == bot.username
    assert me.id == 123456 and me.is_bot
    assert me.can_join_groups is True
    assert fake.requests[0][0] == "getMe"


async def test_send_message_with_inline_keyboard_is_recorded(fake: FakeBotApi, bot: Bot) -> None:
    markup = keyboard([("ต.ค. 2569", "month:2569-10"), ("พ.ย. 2569", "month:2569-11")])
    message = await bot.send_message(USER, "เลือกเดือนที่จะรายงาน", reply_markup=markup)

    assert message.chat.id == USER and message.text == "เลือกเดือนที่จะรายงาน"
    assert message.from_user is not None and message.from_user.username == "progress_test_bot"
    assert message.reply_markup == markup, "the inline keyboard is echoed"
    [sent] = fake.messages_to(USER)
    assert sent.message_id == message.message_id and sent.method == "sendMessage"
    assert fake.buttons(sent) == [("ต.ค. 2569", "month:2569-10"), ("พ.ย. 2569", "month:2569-11")]
    assert fake.last_text(USER) == "เลือกเดือนที่จะรายงาน"
    assert sent.payload["chat_id"] == USER


async def test_reply_keyboard_is_recorded_but_not_echoed(fake: FakeBotApi, bot: Bot) -> None:
    markup = ReplyKeyboardMarkup([[KeyboardButton("แชร์เบอร์โทร", request_contact=True)]])
    message = await bot.send_message(USER, "ขอเบอร์โทรศัพท์", reply_markup=markup)
    assert message.reply_markup is None, "Telegram returns only inline keyboards in a Message"
    sent = fake.messages_to(USER)[-1]
    assert sent.reply_markup is not None
    assert sent.reply_markup["keyboard"][0][0]["request_contact"] is True


async def test_message_ids_grow_per_chat(bot: Bot) -> None:
    first = await bot.send_message(USER, "หนึ่ง")
    second = await bot.send_message(USER, "สอง")
    elsewhere = await bot.send_message(OTHER_USER, "หนึ่ง")
    assert second.message_id == first.message_id + 1
    assert elsewhere.message_id == 1


async def test_pushed_command_parses_with_its_entity(fake: FakeBotApi, bot: Bot) -> None:
    update_id = fake.push_text(USER, "/start abc", first_name="สมหญิง")
    [update] = await bot.get_updates(timeout=0)

    assert isinstance(update, Update) and update.update_id == update_id == 1
    message = update.message
    assert message is not None and message.text == "/start abc"
    assert message.from_user is not None and message.from_user.id == USER
    assert message.from_user.first_name == "สมหญิง"
    assert message.chat.id == USER and message.chat.type == "private"
    assert message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
    assert message.parse_entities() == {message.entities[0]: "/start"}


async def test_only_latin_commands_get_an_entity(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_text(USER, "/report@progress_test_bot ต.ค.")
    fake.push_text(USER, "/เริ่ม")
    fake.push_text(USER, "สวัสดีครับ")
    first, thai, plain = await bot.get_updates(timeout=0)
    assert first.message is not None and thai.message is not None and plain.message is not None
    assert first.message.entities[0].length == len("/report@progress_test_bot")
    assert thai.message.entities == (), "Telegram does not see a Thai word as a command"
    assert plain.message.entities == ()


async def test_offset_acknowledges_and_drops_updates(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_text(USER, "หนึ่ง")
    second = fake.push_text(USER, "สอง")
    assert fake.pending_updates() == 2

    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [1, 2]
    assert [u.update_id for u in await bot.get_updates(offset=2, timeout=0)] == [2]
    assert fake.pending_updates() == 1
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert fake.pending_updates() == 0

    third = fake.push_text(USER, "สาม")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [third]
    old_offset = await bot.get_updates(offset=1, timeout=0)
    assert [u.update_id for u in old_offset] == [third], "acknowledged updates never come back"


async def test_limit_and_negative_offset(fake: FakeBotApi, bot: Bot) -> None:
    for word in ("ก", "ข", "ค", "ง"):
        fake.push_text(USER, word)
    assert [u.update_id for u in await bot.get_updates(limit=2, timeout=0)] == [1, 2]
    assert [u.update_id for u in await bot.get_updates(offset=-1, timeout=0)] == [4]
    assert fake.pending_updates() == 1, "a negative offset forgets all but the last updates"


async def test_long_poll_returns_when_an_update_is_pushed(fake: FakeBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    params = await fake.wait_for_request("getUpdates", timeout=5)
    assert params["timeout"] == 30
    assert not poll.done(), "nothing is pending, so the fake holds the request"

    fake.push_text(USER, "มาแล้ว")
    [update] = await asyncio.wait_for(poll, timeout=5)
    assert update.message is not None and update.message.text == "มาแล้ว"


async def test_a_newer_poll_ends_the_older_with_conflict(fake: FakeBotApi) -> None:
    async with bot_for(fake) as first, bot_for(fake) as second:
        poll = asyncio.create_task(first.get_updates(timeout=30))
        await fake.wait_for_request("getUpdates", timeout=5)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(poll, timeout=5)


async def test_stop_answers_a_waiting_poll(fake: FakeBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_request("getUpdates", timeout=5)
    await fake.stop()
    assert await asyncio.wait_for(poll, timeout=5) == ()


async def test_redelivered_update_comes_back_once(fake: FakeBotApi, bot: Bot) -> None:
    first = fake.push_text(USER, "ส่งรายงาน")
    later = fake.push_text(USER, "1")
    await bot.get_updates(timeout=0)
    assert await bot.get_updates(offset=later + 1, timeout=0) == ()

    fake.redeliver(first)
    assert fake.pending_updates() == 1
    [again] = await bot.get_updates(offset=later + 1, timeout=0)
    assert again.update_id == first
    assert again.message is not None and again.message.text == "ส่งรายงาน"
    assert await bot.get_updates(offset=first + 1, timeout=0) == ()
    assert fake.pending_updates() == 0


async def test_allowed_updates_filters_and_is_remembered(fake: FakeBotApi, bot: Bot) -> None:
    assert await bot.get_updates(timeout=0, allowed_updates=["message"]) == ()
    fake.push_callback(USER, "ok", message_id=1)
    text = fake.push_text(USER, "ข้อความ")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [text]
    assert fake.pending_updates() == 1, "the callback query was dropped, as Telegram does"


async def test_callback_query_answer_and_edits(fake: FakeBotApi, bot: Bot) -> None:
    markup = keyboard([("ยืนยัน", "confirm"), ("แก้ไข", "edit")])
    shown = await bot.send_message(USER, "ยืนยันการส่งรายงาน?", reply_markup=markup)
    fake.push_callback(USER, "confirm", message_id=shown.message_id)

    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "confirm"
    assert query.from_user.id == USER
    assert query.message is not None and query.message.message_id == shown.message_id
    assert query.message.chat.id == USER

    assert await bot.answer_callback_query(query.id, text="รับทราบ") is True
    answered = fake.sent[-1]
    assert answered.method == "answerCallbackQuery" and answered.text == "รับทราบ"
    assert answered.chat_id == USER and answered.message_id == shown.message_id

    edited = await bot.edit_message_reply_markup(USER, shown.message_id, reply_markup=None)
    assert not isinstance(edited, bool) and edited.reply_markup is None
    assert fake.sent[-1].method == "editMessageReplyMarkup"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(USER, shown.message_id, reply_markup=None)

    text = await bot.edit_message_text("ส่งแล้ว ✅", USER, shown.message_id)
    assert not isinstance(text, bool) and text.text == "ส่งแล้ว ✅"
    assert text.edit_date is not None
    assert await fake.wait_for_text(USER, "ส่งแล้ว", timeout=1) == fake.sent[-1]
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("ส่งแล้ว ✅", USER, shown.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("ไม่มี", USER, 999)


async def test_unknown_callback_query_cannot_be_answered(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="query id is invalid"):
        await bot.answer_callback_query("12345")


async def test_contact_and_sticker_parse(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_contact(USER, "+66812345678")
    fake.push_contact(USER, "0899999999", contact_user_id=OTHER_USER)
    fake.push_sticker(USER)
    own, someone, sticker = await bot.get_updates(timeout=0)
    assert own.message is not None and own.message.contact is not None
    assert own.message.contact.phone_number == "+66812345678"
    assert own.message.contact.user_id == USER
    assert someone.message is not None and someone.message.contact is not None
    assert someone.message.contact.user_id == OTHER_USER
    assert sticker.message is not None and sticker.message.sticker is not None
    assert sticker.message.text is None


async def test_long_callback_data_is_refused_as_by_telegram(fake: FakeBotApi, bot: Bot) -> None:
    thai = "ปรับปรุงถนนซอยลาดกระบัง"  # 23 characters, 69 bytes in UTF-8
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "เลือก", reply_markup=keyboard([("ถนน", thai)]))
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(USER, "ก" * 4097)
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(USER, "  ")
    assert fake.sent == []
    assert (await bot.send_message(USER, "ก" * 4096)).text == "ก" * 4096


async def test_send_document_and_photo_with_bytes(fake: FakeBotApi, bot: Bot) -> None:
    data = b"PK\x03\x04" + bytes(2000)
    message = await bot.send_document(
        USER, document=data, filename="รายงาน-ต.ค.xlsx", caption="รายงานเดือน ต.ค."
    )
    assert message.document is not None and message.document.file_name == "รายงาน-ต.ค.xlsx"
    assert message.document.file_size == len(data)
    assert message.caption == "รายงานเดือน ต.ค."
    sent = fake.sent[-1]
    assert (sent.method, sent.chat_id, sent.message_id) == ("sendDocument", USER, 1)
    assert (sent.file_name, sent.file_size, sent.text) == (
        "รายงาน-ต.ค.xlsx",
        2004,
        "รายงานเดือน ต.ค.",
    )

    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data

    photo = await bot.send_photo(USER, photo=b"\x89PNG fake", caption="กราฟ")
    assert photo.photo and photo.photo[-1].file_size == 9
    assert fake.sent[-1].method == "sendPhoto" and fake.sent[-1].text == "กราฟ"


async def test_pushed_document_can_be_downloaded(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_document(USER, b"code,name\n", "projects.csv", mime_type="text/csv")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"code,name\n"


async def test_commands_round_trip(fake: FakeBotApi, bot: Bot) -> None:
    commands = [BotCommand("start", "เริ่มต้นใช้งาน"), BotCommand("report", "ส่งรายงาน")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.get_my_commands() == tuple(commands)
    assert fake.commands() == [
        {"command": "start", "description": "เริ่มต้นใช้งาน"},
        {"command": "report", "description": "ส่งรายงาน"},
    ]
    scope = BotCommandScopeChat(USER)
    assert await bot.get_my_commands(scope=scope) == (), "each scope has its own list"
    await bot.set_my_commands([BotCommand("help", "วิธีใช้")], scope=scope, language_code="th")
    assert await bot.get_my_commands(scope=scope, language_code="th") == (
        BotCommand("help", "วิธีใช้"),
    )
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("รายงาน", "ส่งรายงาน")])


async def test_webhook_settings_are_stored(fake: FakeBotApi, bot: Bot) -> None:
    url = "https://bot.example.go.th/telegram"
    assert await bot.set_webhook(url, secret_token="s3cret-token_1") is True
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0
    assert fake.webhook_secret_token == "s3cret-token_1"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)

    fake.push_text(USER, "ก")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert (await bot.get_webhook_info()).url == ""
    assert fake.pending_updates() == 0
    assert await bot.close() is True


async def test_wrong_token_is_rejected(fake: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with bot_for(fake, "999:WRONG"):
            pass
    assert fake.requests == [], "rejected calls are not recorded"


async def test_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})


async def test_blocked_user_gives_forbidden(fake: FakeBotApi, bot: Bot) -> None:
    fake.block(USER)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(USER, "เตือนส่งรายงาน")
    fake.unblock(USER)
    await bot.send_message(USER, "เตือนส่งรายงาน")


@IGNORE_RETRY_AFTER_WARNING
async def test_flood_per_chat_rejects_and_does_not_record() -> None:
    flood = Flood(per_chat_interval=60, retry_after=3)
    async with FakeBotApi(flood=flood) as fake, bot_for(fake) as bot:
        await bot.send_message(USER, "หนึ่ง")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER, "สอง")
        assert retry_seconds(caught.value) == 3
        await bot.send_message(OTHER_USER, "อีกห้อง")
    assert [s.text for s in fake.sent] == ["หนึ่ง", "อีกห้อง"]
    assert fake.rejected_429 == 1


@IGNORE_RETRY_AFTER_WARNING
async def test_flood_overall_cap_per_second() -> None:
    flood = Flood(per_chat_interval=0, overall_per_second=2)
    async with FakeBotApi(flood=flood) as fake, bot_for(fake) as bot:
        await bot.send_message(1, "ก")
        await bot.send_message(2, "ข")
        with pytest.raises(RetryAfter):
            await bot.send_message(3, "ค")
    assert len(fake.sent) == 2 and fake.rejected_429 == 1


async def test_wait_for_text_after_an_index(fake: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(USER, "กรอกร้อยละความก้าวหน้า")
    mark = len(fake.sent)
    waiter = asyncio.create_task(fake.wait_for_text(USER, "ร้อยละ", timeout=5, after=mark))
    await bot.send_message(OTHER_USER, "ร้อยละ ของคนอื่น")
    await bot.send_message(USER, "ร้อยละต้องอยู่ระหว่าง 0 ถึง 100")
    found = await waiter
    assert found.text == "ร้อยละต้องอยู่ระหว่าง 0 ถึง 100"
    assert fake.sent.index(found) == 2


async def test_wait_for_timeout_lists_the_last_sends(fake: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(USER, "สวัสดีครับ")
    with pytest.raises(TimeoutError, match="สวัสดีครับ") as caught:
        await fake.wait_for(lambda s: s.text == "ลาก่อน", timeout=0.05)
    assert "sendMessage" in str(caught.value)


async def test_a_real_application_polls_and_answers(fake: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(
            f"สวัสดี {context.args}", reply_markup=keyboard([("ส่งรายงาน", "report")])
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"เลือก {update.callback_query.data}")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)

        fake.push_text(USER, "/start abc")
        greeting = await fake.wait_for_text(USER, "สวัสดี ['abc']", timeout=10)
        assert fake.buttons(greeting) == [("ส่งรายงาน", "report")]

        mark = len(fake.sent)
        assert greeting.message_id is not None
        fake.push_callback(USER, "report", message_id=greeting.message_id)
        edited = await fake.wait_for_text(USER, "เลือก report", timeout=10, after=mark)
        assert edited.method == "editMessageText" and edited.message_id == greeting.message_id
        assert [s.method for s in fake.sent[mark:]] == ["answerCallbackQuery", "editMessageText"]

        await app.updater.stop()
        await app.stop()
    assert fake.pending_updates() == 0, "stopping acknowledges what was fetched"


async def test_control_endpoints_for_another_process(fake: FakeBotApi, bot: Bot) -> None:
    async with aiohttp.ClientSession(fake.root_url) as http:
        async with http.post("/_fake/push_text", json={"user_id": USER, "text": "/start"}) as r:
            assert r.status == 200 and (await r.json())["update_id"] == 1
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == "/start"

        shown = await bot.send_message(USER, "เมนู", reply_markup=keyboard([("ก", "a")]))
        body = {"user_id": USER, "data": "a", "message_id": shown.message_id}
        async with http.post("/_fake/push_callback", json=body) as r:
            assert (await r.json())["update_id"] == 2
        async with http.get("/_fake/sent", params={"after": "0", "wait": "5"}) as r:
            sent = await r.json()
        assert sent["count"] == 1
        [item] = sent["sent"]
        assert item["text"] == "เมนู" and item["chat_id"] == USER and item["index"] == 0
        assert item["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"

        waiting = asyncio.create_task(http.get("/_fake/sent", params={"after": "1", "wait": "5"}))
        await bot.send_message(USER, "ถัดไป")
        async with await waiting as r:
            assert [i["text"] for i in (await r.json())["sent"]] == ["ถัดไป"]
        async with http.post("/_fake/push_text", json={"user_id": USER}) as r:
            assert r.status == 400


async def test_standalone_main_prints_base_url_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHAINLP_READ_ONLY": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fake_telegram",
        "--token",
        "42:STANDALONE",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        base_url = line.decode().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        async with Bot("42:STANDALONE", base_url=base_url) as bot:
            assert bot.id == 42
            root = base_url.removesuffix("/bot")
            async with aiohttp.ClientSession(root) as http:
                await http.post("/_fake/push_text", json={"user_id": USER, "text": "สวัสดี"})
            [update] = await bot.get_updates(timeout=0)
            assert update.message is not None and update.message.text == "สวัสดี"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=20)
    assert process.returncode == 0


def test_sent_is_a_frozen_record() -> None:
    sent = Sent("sendMessage", 1, "ก", 1, None, {"chat_id": 1, "text": "ก"}, 0.0)
    with pytest.raises(AttributeError):
        sent.text = "ข"  # type: ignore[misc]
    assert FakeBotApi.buttons(sent) == []
