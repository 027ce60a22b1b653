"""The Telegram channel in process: real python-telegram-bot, a recording request, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import TelegramConfig
from bot.telegram_channel import (
    CANNOT_SHOW,
    COMMANDS,
    SHARE_PHONE,
    TelegramChannel,
    TelegramNotifier,
    split_text,
)
from bot.telegram_limits import Lane, TelegramRateLimiter
from bot.telegram_webhook import MAX_BODY, SECRET_HEADER, telegram_webhook
from domain.messages import Outbound
from domain.models import ChatIdentity
from handlers import texts
from handlers.conversation import Conversation
from handlers.groups import PRIVATE_ONLY
from handlers.linking import issue_invite
from reports.documents import ReportDocuments
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, NOW, SCHOOL, World, build_world
from tests.telegram_support import (
    BOT_USER,
    TOKEN,
    Call,
    RecordingRequest,
    Updates,
    parse,
    unlimited,
)

OFFICER = 5001  # Telegram user id of the world's single-project officer


@dataclass
class Harness:
    world: World
    channel: TelegramChannel
    request: RecordingRequest
    updates: Updates

    async def send(self, update: dict[str, Any]) -> list[str]:
        """Process one update; return the texts sent in reply to its chat."""
        chat = (update.get("message") or update["callback_query"]["message"])["chat"]["id"]
        before = len(self.request.texts(chat))
        await self.channel.app.process_update(parse(update, self.channel.app.bot))
        return self.request.texts(chat)[before:]

    async def say(self, user: int, text: str) -> list[str]:
        return await self.send(self.updates.text(user, text))

    async def press(self, user: int, label: str) -> list[str]:
        """Press the button with this label on the last message to that chat that had buttons."""
        for call in reversed(self.request.sent(user)):
            for shown, data in self.request.buttons(call):
                if shown.startswith(label):
                    markup = call.params.get("reply_markup")
                    message_id = call.params.get("message_id", 101)
                    return await self.send(self.updates.press(user, data, message_id, markup))
        raise AssertionError(f"no button {label!r}")


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", str(OFFICER), world.single.id))
    request = RecordingRequest()
    channel = TelegramChannel(
        TelegramConfig(token=TOKEN),
        Conversation(repo, lambda: NOW),
        request=request,
        rate_limiter=unlimited(),
    )
    await channel.start()
    try:
        yield Harness(world, channel, request, Updates())
    finally:
        await channel.stop()
        await repo.close()


async def test_start_registers_the_thai_command_menu(harness: Harness) -> None:
    calls = [c for c in harness.request.calls if c.method == "setMyCommands"]
    assert len(calls) == 1
    registered = calls[0].params["commands"]
    assert isinstance(registered, list)
    assert [(c["command"], c["description"]) for c in registered] == list(COMMANDS)


async def test_a_full_report_with_buttons(harness: Harness) -> None:
    h = harness
    assert "กี่เปอร์เซ็นต์" in (await h.say(OFFICER, "/report"))[-1]
    await h.say(OFFICER, "๖๐")
    await h.say(OFFICER, "1.5 แสน")
    await h.press(OFFICER, texts.BTN_NO_NOTE)
    await h.press(OFFICER, texts.BTN_ON_PLAN)
    summary = (await h.press(OFFICER, texts.BTN_ON_TARGET))[-1]
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 150,000 บาท" in summary
    done = await h.press(OFFICER, texts.BTN_CONFIRM)
    assert "บันทึกรายงานครั้งที่ 2" in done[-1]

    report = await h.world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None
    assert report.values.progress == Decimal("60") and report.channel == "telegram"
    methods = [c.method for c in h.request.calls]
    assert methods.count("answerCallbackQuery") == 4, "every press is answered"
    # A press whose answer is the next question turns the pressed message into it (one call);
    # the confirmation keeps the summary and takes its buttons off, then says it is saved.
    edits = [c for c in h.request.calls if c.method == "editMessageText"]
    assert [c.params["text"].split("\n", 1)[0] for c in edits] == [
        f"✓ {texts.BTN_NO_NOTE}", f"✓ {texts.BTN_ON_PLAN}", f"✓ {texts.BTN_ON_TARGET}",
    ]  # fmt: skip
    assert edits[-1].params["text"].endswith(summary.split("\n", 1)[1])
    assert methods.count("editMessageReplyMarkup") == 1
    edit = next(c for c in h.request.calls if c.method == "editMessageReplyMarkup")
    assert "reply_markup" not in edit.params or edit.params["reply_markup"] is None
    sends = methods.count("sendMessage") + methods.count("editMessageText")
    assert methods.count("editMessageReplyMarkup") + sends == 8, "one call per answer, but one"


async def test_an_old_button_pressed_again_stores_nothing_twice(harness: Harness) -> None:
    h = harness
    for text in ("/report", "10", "0", "-", "ใช่", "ใช่"):
        await h.say(OFFICER, text)
    confirm = next(
        data for label, data in h.request.buttons(h.request.sent(OFFICER)[-1])
        if label == texts.BTN_CONFIRM
    )  # fmt: skip
    await h.send(h.updates.press(OFFICER, confirm))
    again = await h.send(h.updates.press(OFFICER, confirm))
    assert again == [texts.STALE_BUTTON]
    assert len(await h.world.repo.reports_of_project(SCHOOL.code)) == 1


async def test_the_same_update_delivered_twice_is_handled_once(harness: Harness) -> None:
    h = harness
    await h.say(OFFICER, "/report")
    update = h.updates.text(OFFICER, "45")
    await h.send(update)
    replayed = await h.send(update)
    assert replayed[0].startswith(texts.RESUMED), "the current question is asked again"
    session = await h.world.repo.load_session("telegram", str(OFFICER))
    assert session is not None and session.state == "disbursed"


async def test_a_deep_link_invite_links_the_account(harness: Harness) -> None:
    h = harness
    person = await h.world.repo.add_person("นายวิชัย ช่างดี", roles=frozenset())
    code, _ = await issue_invite(h.world.repo, person, NOW)
    first = h.updates.text(7001, "/start")
    await h.send(first)
    reply = h.request.sent(7001)[-1]
    assert reply.params["text"] == f"{texts.UNKNOWN_USER}\n{texts.CONTACT_HINT}"
    markup = reply.params["reply_markup"]
    assert isinstance(markup, dict)
    assert markup["keyboard"][0][0] == {"text": SHARE_PHONE, "request_contact": True}

    linked = await h.say(7001, f"/start {code}")
    assert linked[0] == texts.LINKED.format(name="นายวิชัย ช่างดี")
    removal = h.request.sent(7001)[-2].params["reply_markup"]
    assert removal == {"remove_keyboard": True}, "the share-phone button goes away"
    assert h.request.buttons(h.request.sent(7001)[-1]), "the menu comes as buttons"


async def test_a_shared_own_number_links_but_someone_elses_does_not(harness: Harness) -> None:
    h = harness
    other = await h.send(h.updates.contact(7002, "+66812345678", owner=9999))
    assert other in ([texts.NOT_TEXT], [f"{texts.UNKNOWN_USER}\n{texts.CONTACT_HINT}"])
    assert await h.world.repo.find_person_by_identity("telegram", "7002") is None
    own = await h.send(h.updates.contact(7002, "+66812345678"))
    assert own[0] == texts.LINKED.format(name=h.world.officer.name)


async def test_stickers_and_groups(harness: Harness) -> None:
    h = harness
    assert await h.send(h.updates.sticker(OFFICER)) == [texts.NOT_TEXT]

    async def in_group(update: dict[str, Any]) -> list[str]:
        before = len(h.request.texts(-100))
        await h.channel.app.process_update(parse(update, h.channel.app.bot))
        return h.request.texts(-100)[before:]

    def group_text(text: str) -> dict[str, Any]:
        update = h.updates.text(-100, text, chat_type="group")
        update["message"]["chat"]["id"] = -100
        update["message"]["from"]["id"] = OFFICER
        return update

    added = h.updates._update({
        "my_chat_member": {
            "chat": {"id": -100, "type": "group", "title": "ฝ่ายโยธา"}, "date": 0,
            "from": {"id": OFFICER, "is_bot": False, "first_name": "สมชาย"},
            "old_chat_member": {"status": "left", "user": BOT_USER},
            "new_chat_member": {"status": "member", "user": BOT_USER},
        }
    })  # fmt: skip
    assert await in_group(added) == [PRIVATE_ONLY], "added to a group: it says where it works"
    assert await in_group(group_text("/report")) == [PRIVATE_ONLY]
    assert await in_group(group_text("ส่งรายงานครับ")) == [PRIVATE_ONLY], "its Thai words too"
    assert await in_group(group_text("สวัสดีทุกคน")) == [], "the members' own talk is left alone"
    mention = group_text("@progress_bot ช่วยหน่อย")
    mention["message"]["entities"] = [{"type": "mention", "offset": 0, "length": 13}]
    assert await in_group(mention) == [PRIVATE_ONLY]
    reply = group_text("ทำยังไงครับ")
    reply["message"]["reply_to_message"] = {
        "message_id": 1, "date": 0, "chat": {"id": -100, "type": "group"}, "from": BOT_USER,
        "text": PRIVATE_ONLY,
    }  # fmt: skip
    assert await in_group(reply) == [PRIVATE_ONLY], "a reply to the bot addresses it"
    # Nothing of a group reaches the conversation: no report begins, nothing is stored.
    assert await h.world.repo.find_person_by_identity("telegram", "-100") is None


def test_long_texts_are_split_under_the_limit() -> None:
    text = "\n".join(f"บรรทัดที่ {n} " + "ก" * 80 for n in range(200))
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


async def test_the_webhook_refuses_wrong_secrets_and_handles_good_updates(
    harness: Harness,
) -> None:
    h = harness
    app = telegram_webhook(h.channel, "s3cret-Token_1", "/telegram")
    async with TestClient(TestServer(app)) as client:
        body = h.updates.text(OFFICER, "/status")
        missing = await client.post("/telegram", json=body)
        wrong = await client.post("/telegram", json=body, headers={SECRET_HEADER: "nope"})
        assert (missing.status, wrong.status) == (403, 403)
        assert h.request.texts(OFFICER) == [], "nothing handled without the secret"
        good = await client.post("/telegram", json=body, headers={SECRET_HEADER: "s3cret-Token_1"})
        assert good.status == 200
        assert "โครงการของคุณ" in h.request.texts(OFFICER)[0]
        junk = await client.post(
            "/telegram", data=b"not json", headers={SECRET_HEADER: "s3cret-Token_1"}
        )
        assert junk.status == 400
        huge = await client.post(
            "/telegram", data=b"x" * (MAX_BODY + 1), headers={SECRET_HEADER: "s3cret-Token_1"}
        )
        assert huge.status == 413


async def test_files_go_out_as_documents_and_photos_with_captions() -> None:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", str(OFFICER), world.single.id))
    request = RecordingRequest()
    conversation = Conversation(repo, lambda: NOW, documents=ReportDocuments(repo, zone=BANGKOK))
    channel = TelegramChannel(
        TelegramConfig(token=TOKEN), conversation, request=request, rate_limiter=unlimited()
    )
    await channel.start()
    h = Harness(world, channel, request, Updates())
    try:
        assert await h.say(OFFICER, "/form") == [], "the form is the PDF, with its caption"
        await h.say(OFFICER, "/chart")
    finally:
        await channel.stop()
        await repo.close()
    [document] = [c for c in request.calls if c.method == "sendDocument"]
    [photo] = [c for c in request.calls if c.method == "sendPhoto"]
    assert document.params["chat_id"] == OFFICER and SCHOOL.code in document.params["caption"]
    assert len(document.params["caption"].splitlines()) == 2
    assert request.buttons(document)[0][0] == texts.BTN_FORM_TEXT, "its buttons ride on the file"
    [(name, data)] = document.files.values()
    assert name.endswith(".pdf") and data.startswith(b"%PDF")
    [(name, data)] = photo.files.values()
    assert name.endswith(".png") and data.startswith(b"\x89PNG")
    assert "ความก้าวหน้าและการเบิกจ่าย" in photo.params["caption"]


async def test_an_update_whose_answer_was_not_delivered_is_not_acknowledged(
    harness: Harness,
) -> None:
    """Telegram unreachable while a report is confirmed: the webhook answers 503 (Telegram will
    deliver the press again), the report is stored once, and the next delivery confirms it."""
    h = harness
    for text in ("ส่งรายงาน", "35", "1000", "-", "ใช่", "ใช่"):
        await h.say(OFFICER, text)
    confirm = next(data for shown, data in h.request.buttons(h.request.sent(OFFICER)[-1])
                   if shown == texts.BTN_CONFIRM)  # fmt: skip
    press = h.updates.press(OFFICER, confirm)
    app = telegram_webhook(h.channel, "s3cret-Token_1", "/telegram")
    headers = {SECRET_HEADER: "s3cret-Token_1"}
    async with TestClient(TestServer(app)) as client:
        h.request.down = True
        first = await client.post("/telegram", json=press, headers=headers)
        assert first.status == 503, "not acknowledged: Telegram sends it again"
        assert len(await h.world.repo.reports_of_project(SCHOOL.code)) == 1, "stored once"
        h.request.down = False
        again = await client.post("/telegram", json=press, headers=headers)
        assert again.status == 200
    assert h.request.texts(OFFICER)[-1].startswith(texts.ALREADY_DONE.split("{", 1)[0])
    assert len(await h.world.repo.reports_of_project(SCHOOL.code)) == 1


async def test_polling_fetches_an_unanswered_update_again() -> None:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", str(OFFICER), world.single.id))
    request = RecordingRequest(down=True)
    channel = TelegramChannel(
        TelegramConfig(token=TOKEN, poll_timeout=0),
        Conversation(repo, lambda: NOW),
        request=request,
        rate_limiter=unlimited(max_network_retries=0),
        poll_backoff=0.0,
    )
    await channel.start()
    status = Updates().text(OFFICER, "/status")
    # Telegram hands the update out until it is acknowledged.
    request.polled = [[status], [status]]
    stop = asyncio.Event()

    def telegram(call: Call) -> None:
        sends = [c for c in request.calls if c.method == "sendMessage"]
        if len(sends) == 2:
            request.down = False  # reachable again after the first answer failed
        polls = [c for c in request.calls if c.method == "getUpdates"]
        if len(polls) == 3:
            stop.set()

    request.on_call = telegram
    try:
        await channel.poll(stop)
    finally:
        await channel.stop()
        await repo.close()
    offsets = [c.params.get("offset") for c in request.calls if c.method == "getUpdates"]
    first_id = status["update_id"]
    assert offsets[:3] == [None, first_id, first_id + 1], "acknowledged only once answered"
    answers = [t for t in request.texts(OFFICER) if "โครงการของคุณ" in t]
    assert len(answers) == 2, "the answer lost on the way is given when it comes again"


async def test_polling_stops_when_another_process_took_over() -> None:
    repo = await SqliteStorage.open(":memory:")
    request = RecordingRequest()
    channel = TelegramChannel(
        TelegramConfig(token=TOKEN, poll_timeout=0), Conversation(repo, lambda: NOW),
        request=request, rate_limiter=unlimited(), poll_backoff=0.0,
    )  # fmt: skip
    await channel.start()
    asked: list[bool] = []

    async def still_allowed() -> bool:
        asked.append(len(asked) < 2)  # the lock is lost after two rounds
        return asked[-1]

    answered = asyncio.Event()
    try:
        await asyncio.wait_for(channel.poll(asyncio.Event(), answered, still_allowed), 10)
    finally:
        await channel.stop()
        await repo.close()
    assert asked == [True, True, False] and answered.is_set()
    assert len([c for c in request.calls if c.method == "getUpdates"]) == 2


async def test_the_webhook_answers_malformed_headers_and_bodies_without_an_error(
    harness: Harness,
) -> None:
    """Bytes that are not UTF-8 in the secret header are a wrong secret (403), and a body that
    is valid JSON but no update (a list, null, a string, nesting deeper than Python parses) is a
    bad request (400): never a 500."""
    h = harness
    app = telegram_webhook(h.channel, "s3cret-Token_1", "/telegram")
    async with TestServer(app) as server:
        assert server.port is not None
        port = server.port
        for given in (b"\xff\xfe", "รหัสลับ".encode(), b"s3cret-Token_1\x80"):
            status = await raw_post(port, b"{}", {SECRET_HEADER.encode(): given})
            assert status == b"HTTP/1.1 403 Forbidden", given
        deep = b"[" * 100_000 + b"]" * 100_000
        for body in (b"[]", b"null", b'"x"', b"3", deep, b'{"a": 1}'):
            status = await raw_post(port, body, {SECRET_HEADER.encode(): b"s3cret-Token_1"})
            assert status == b"HTTP/1.1 400 Bad Request", body[:20]
    assert h.request.texts(OFFICER) == []


async def raw_post(port: int, body: bytes, headers: dict[bytes, bytes]) -> bytes:
    """POST with headers as raw bytes (aiohttp's client would encode them); the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = b"".join(b"%s: %s\r\n" % item for item in headers.items())
        writer.write(
            b"POST /telegram HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n%sConnection: close\r\n\r\n%s" % (len(body), lines, body)
        )
        await writer.drain()
        return (await reader.read()).split(b"\r\n", 1)[0]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_an_answer_telegram_refuses_is_followed_by_a_plain_apology(
    harness: Harness,
) -> None:
    h = harness
    await h.say(OFFICER, "ส่งรายงาน")
    await h.say(OFFICER, "35")
    h.request.refuse_buttons = True
    await h.say(OFFICER, "1000")  # the note question has a button, which is refused
    assert h.request.texts(OFFICER)[-1] == CANNOT_SHOW, "never a silent failure"
    h.request.refuse_buttons = False
    await h.say(OFFICER, "-")
    assert "เป็นไปตามแผน" in h.request.texts(OFFICER)[-1], "the conversation goes on"


class LaneRecorder(TelegramRateLimiter):
    """The limiter of the channel, noting the lane of every message it lets through."""

    def __init__(self) -> None:
        super().__init__(overall_rate=1e6, overall_burst=1e6, per_chat_rate=1e6, per_chat_burst=1e6)
        self.lanes: list[tuple[str, Lane | None]] = []

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> Any:
        if endpoint.startswith("send"):
            self.lanes.append((endpoint, rate_limit_args))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


async def test_reminders_go_in_the_bulk_lane_and_answers_in_the_reply_lane() -> None:
    repo = await SqliteStorage.open(":memory:")
    world = await build_world(repo)
    await repo.link_identity(ChatIdentity("telegram", str(OFFICER), world.single.id))
    limiter = LaneRecorder()
    channel = TelegramChannel(
        TelegramConfig(token=TOKEN),
        Conversation(repo, lambda: NOW),
        request=RecordingRequest(),
        rate_limiter=limiter,
    )
    await channel.start()
    try:
        await channel.app.process_update(parse(Updates().text(OFFICER, "/report"), channel.app.bot))
        await TelegramNotifier(channel).push(
            ChatIdentity("telegram", str(OFFICER), world.single.id), Outbound("เตือนส่งรายงาน")
        )
    finally:
        await channel.stop()
        await repo.close()
    assert limiter.lanes == [("sendMessage", Lane.REPLY), ("sendMessage", Lane.BULK)]
