"""The LINE webhook over a real socket: signatures, size, redelivery, and the conversation on LINE.

The real aiohttp server and line-bot-sdk run against tests/fake_line.py on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest

from bot.line_webhook import MAX_BODY, SIGNATURE_HEADER
from domain.messages import Inbound
from domain.models import ChatIdentity
from handlers import texts
from handlers.conversation import Conversation
from handlers.groups import PRIVATE_ONLY
from handlers.linking import issue_invite, shown_code
from reports.documents import ReportDocuments
from scheduler.planner import PUSH_CHANNELS
from tests.fake_line import kinds, sign
from tests.line_support import (
    OFFICER,
    SECRET,
    SINGLE,
    STRANGER,
    LineBot,
    link_line,
    running_line,
)
from tests.memory_storage import MemoryStorage
from tests.support import BANGKOK, NOW, SCHOOL, World, build_world


@pytest.fixture
async def world() -> World:
    world = await build_world(MemoryStorage())
    await link_line(world)
    return world


@pytest.fixture
async def bot(world: World) -> AsyncIterator[LineBot]:
    async with running_line(world.repo, remember=True) as running:
        yield running


async def post(bot: LineBot, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(bot.url + "/line", data=body, headers=headers) as response,
    ):
        return response.status


# Refused requests


async def test_the_verify_button_gets_200_and_nothing_is_sent(bot: LineBot) -> None:
    assert await bot.fake.deliver() == 200
    assert bot.fake.sent == []


async def test_missing_or_wrong_signatures_are_refused_and_the_body_not_logged(
    bot: LineBot, caplog: pytest.LogCaptureFixture
) -> None:
    event = bot.fake.text(SINGLE, "ข้อความลับ /report")
    body = json.dumps({"events": [event]}).encode()
    with caplog.at_level(logging.INFO):
        assert await post(bot, body, {}) == 401
        assert await post(bot, body, {SIGNATURE_HEADER: "bm90IGl0"}) == 401
        other = sign("f" * 32, body)  # signed with another channel's secret
        assert await post(bot, body, {SIGNATURE_HEADER: other}) == 401
        tampered = body.replace(b"/report", b"/cancel")
        assert await post(bot, tampered, {SIGNATURE_HEADER: sign(SECRET, body)}) == 401
    assert bot.fake.sent == [] and bot.fake.requests == []
    assert "refused" in caplog.text
    assert "ข้อความลับ" not in caplog.text and "report" not in caplog.text
    assert SECRET not in caplog.text


async def post_raw_signature(bot: LineBot, body: bytes, given: bytes) -> bytes:
    """POST with the signature header as raw bytes (aiohttp's client would encode it); the
    status line of the answer."""
    host, port = bot.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /line HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n%s: %s\r\nConnection: close\r\n\r\n%s"
            % (len(body), SIGNATURE_HEADER.encode(), given, body)
        )
        await writer.drain()
        return (await reader.read()).split(b"\r\n", 1)[0]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_signature_that_is_not_base64_text_is_refused_not_an_error(
    bot: LineBot,
) -> None:
    body = json.dumps({"events": [bot.fake.text(SINGLE, "/report")]}).encode()
    # Bytes that are not UTF-8 reach the app as lone surrogates, which cannot be encoded again.
    for given in (b"\xff\xfe", "ลายเซ็น".encode(), b"\x80" + sign(SECRET, body).encode()):
        assert await post_raw_signature(bot, body, given) == b"HTTP/1.1 401 Unauthorized"
    assert bot.fake.sent == [] and bot.fake.requests == []


async def test_a_flood_of_forged_requests_does_not_flood_the_log(
    bot: LineBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Two hundred forged requests: every one refused, one warning line (a flood of refusals
    must not fill the disk with the log)."""
    body = json.dumps({"events": [bot.fake.text(SINGLE, "/report")]}).encode()
    with caplog.at_level(logging.INFO):
        for _ in range(200):
            assert await post(bot, body, {SIGNATURE_HEADER: "Zm9yZ2Vk"}) == 401
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len([line for line in lines if "wrong signature" in line]) == 1, lines[:5]
    assert len([line for line in lines if "POST /line… 401" in line]) == 1
    assert bot.fake.sent == []


async def test_an_oversized_body_is_refused(bot: LineBot) -> None:
    body = b'{"events": [], "pad": "' + b"x" * MAX_BODY + b'"}'
    assert await post(bot, body, {SIGNATURE_HEADER: sign(SECRET, body)}) == 413
    assert bot.fake.sent == []


async def test_a_signed_body_that_is_not_a_webhook_is_a_bad_request(bot: LineBot) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    for body in (b"not json", b'{"events": 3}', b"[]", b"\xff\xfe", b"null", b'"x"', deep, nested):
        assert await post(bot, body, {SIGNATURE_HEADER: sign(SECRET, body)}) == 400


async def test_unknown_event_kinds_are_skipped(bot: LineBot) -> None:
    assert await bot.fake.deliver(bot.fake.event(SINGLE, "somethingNew")) == 200
    assert bot.fake.sent == []


async def test_in_a_group_it_says_it_works_one_to_one_when_addressed(
    bot: LineBot, world: World
) -> None:
    group = {"type": "group", "groupId": "C1", "userId": SINGLE}

    def in_group(event: dict[str, Any]) -> dict[str, Any]:
        return {**event, "source": group}

    async def answers(event: dict[str, Any]) -> list[str]:
        before = len(bot.fake.sent)
        assert await bot.fake.deliver(in_group(event)) == 200
        return [sent.text for sent in bot.fake.sent[before:]]

    assert await answers(bot.fake.event(SINGLE, "join")) == [PRIVATE_ONLY]
    assert await answers(bot.fake.text(SINGLE, "/report")) == [PRIVATE_ONLY]
    assert await answers(bot.fake.text(SINGLE, "ส่งรายงานค่ะ")) == [PRIVATE_ONLY]
    assert await answers(bot.fake.text(SINGLE, "ประชุมบ่ายนี้นะคะ")) == [], "members' talk"
    mention = bot.fake.text(SINGLE, "@progress ช่วยหน่อย")
    mention["message"]["mention"] = {
        "mentionees": [{"index": 0, "length": 9, "type": "user", "isSelf": True}]
    }
    assert await answers(mention) == [PRIVATE_ONLY]
    assert await answers(bot.fake.postback(SINGLE, "x")) == [PRIVATE_ONLY]
    assert {s.kind for s in bot.fake.sent} == {"reply"}, "a group never spends the quota"
    # The same words as on Telegram, and nothing reached the conversation.
    assert await world.repo.load_session("line", SINGLE) is None


# The conversation on LINE


async def test_a_whole_report_through_replies_only(bot: LineBot, world: World) -> None:
    await bot.say(SINGLE, "/report", "กี่เปอร์เซ็นต์")
    await bot.say(SINGLE, "๖๐ %", "เบิกจ่ายสะสม")
    await bot.say(SINGLE, "1.5 แสน", "สรุปผลการดำเนินงาน")
    note = "ดำเนินการจัดอบรมครูและปรับปรุงห้องเรียนตามแผน " * 10  # long Thai, under 500
    await bot.say(SINGLE, note.strip(), "เป็นไปตามแผนหรือไม่")
    await bot.press(SINGLE, "เป็นไปตามแผน", "เป็นไปตามเป้าหมายหรือไม่")
    summary = await bot.press(SINGLE, "เป็นไปตามเป้าหมาย", "กรุณาตรวจสอบรายงานก่อนส่ง")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 150,000 บาท" in summary.text
    await bot.press(SINGLE, "ยืนยันส่ง", "บันทึกรายงานครั้งที่ 2")
    report = await world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None and report.channel == "line"
    assert (report.values.progress, report.values.disbursed) == (Decimal("60"), Decimal("150000"))
    assert report.values.note.startswith("ดำเนินการจัดอบรมครู")
    assert kinds(bot.fake.sent) == {"reply": len(bot.fake.sent)}, "answers cost no quota"
    assert bot.fake.used == 0
    # Using LINE makes it the channel reminders go to.
    assert await world.repo.preferred_channels() == {world.single.id: "line"}


async def test_a_report_typed_the_way_officers_type_on_line(bot: LineBot, world: World) -> None:
    """Polite endings, everyday words, a typo and emoji, and a side question answered by the
    number typed right after it: all through signed webhooks and the real SDK."""
    await bot.say(SINGLE, "สวัสดีค่ะ", "สวัสดีคุณใจงาม")
    await bot.say(SINGLE, "ส่งราบงานค่ะ", "กี่เปอร์เซ็นต์")
    await bot.say(SINGLE, "๘๐ ค่ะ", "เบิกจ่ายสะสม")
    await bot.say(SINGLE, "ส่งรายงาน", texts.DISCARD_QUESTION)
    await bot.say(SINGLE, "2", "เบิกจ่ายสะสม")  # [2] ทำต่อ: not 2 baht
    await bot.say(SINGLE, "ยังไม่ได้เบิกค่ะ", "สรุปผลการดำเนินงาน")
    await bot.say(SINGLE, "ไม่มีค่ะ", "เป็นไปตามแผนหรือไม่")
    await bot.say(SINGLE, "ล่าช้าค่ะ", "เหตุผลที่ไม่เป็นไปตามแผน")
    await bot.say(SINGLE, "รอผู้รับจ้างค่ะ", "เป็นไปตามเป้าหมายหรือไม่")
    summary = await bot.say(SINGLE, "ตามเป้าค่ะ", "กรุณาตรวจสอบรายงานก่อนส่ง")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 0 บาท" in summary.text
    await bot.say(SINGLE, "👍", "บันทึกรายงานครั้งที่ 2")
    await bot.say(SINGLE, "ขอบคุณค่ะ 🙏", texts.THANKS)
    report = await world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None
    assert (report.values.progress, report.values.disbursed) == (Decimal(80), Decimal(0))
    assert (report.values.note, report.values.on_plan, report.values.plan_reason) == (
        "", False, "รอผู้รับจ้าง",
    )  # fmt: skip


async def test_a_redelivered_event_is_handled_once(bot: LineBot, world: World) -> None:
    await bot.say(SINGLE, "/report", "กี่เปอร์เซ็นต์")
    typed = bot.fake.text(SINGLE, "40")
    assert await bot.fake.deliver(typed) == 200
    await bot.fake.wait_for_text(SINGLE, "เบิกจ่ายสะสม")
    before = len(bot.fake.sent)
    # LINE did not get our 200 in time and sends the same event (same webhookEventId) again.
    assert await bot.fake.deliver(bot.fake.again(typed)) == 200
    assert len(bot.fake.sent) == before, "nothing applied or sent twice"
    await bot.say(SINGLE, "1000", "สรุปผลการดำเนินงาน")


async def test_a_body_posted_again_never_spends_a_push(bot: LineBot, world: World) -> None:
    """One signed body captured and posted six times (same webhookEventId, not marked as a
    redelivery): handled once, answered once by its reply token, never by push."""
    await bot.say(SINGLE, "/report", "กี่เปอร์เซ็นต์")
    typed = bot.fake.text(SINGLE, "40")
    for _ in range(6):
        assert await bot.fake.deliver(typed) == 200
    await bot.fake.wait_for_text(SINGLE, "เบิกจ่ายสะสม")
    assert bot.fake.charged() == 0 and bot.fake.used == 0
    assert [s.kind for s in bot.fake.sent].count("reply") == 2  # /report, then 40 once
    session = await world.repo.load_session("line", SINGLE)
    assert session is not None and session.state == "disbursed"


async def test_a_stale_event_that_is_no_redelivery_is_refused(bot: LineBot, world: World) -> None:
    """An event sent ten minutes ago and not marked as a redelivery is a replay: refused,
    counted, nothing changed or sent. LINE's own late redelivery is handled, but answered only
    through its reply token."""
    stale = bot.fake.text(SINGLE, "/report")
    stale["timestamp"] -= 10 * 60 * 1000
    assert await bot.fake.deliver(stale) == 200
    assert bot.fake.sent == [] and bot.channel.replays_refused == 1
    assert await world.repo.load_session("line", SINGLE) is None
    bot.fake.fail_next("/v2/bot/message/reply", 400)  # the old reply token has expired
    assert await bot.fake.deliver(bot.fake.again(stale)) == 200
    session = await world.repo.load_session("line", SINGLE)
    assert session is not None and session.state == "progress", "LINE's redelivery is applied"
    assert bot.fake.charged() == 0, "but no push is spent on an old event"


async def test_an_answer_lost_with_the_bot_comes_through_the_unused_reply_token(
    bot: LineBot, world: World
) -> None:
    steps = (
        ("/report", "กี่เปอร์เซ็นต์"), ("40", "เบิกจ่ายสะสม"), ("1000", "สรุปผลการดำเนินงาน"),
        ("-", "เป็นไปตามแผนหรือไม่"), ("ใช่", "เป็นไปตามเป้าหมายหรือไม่"),
        ("ใช่", "กรุณาตรวจสอบรายงานก่อนส่ง"),
    )  # fmt: skip
    for text, expect in steps:
        await bot.say(SINGLE, text, expect)
    confirm = bot.fake.text(SINGLE, "ยืนยัน")
    bot.fake.fail_next("/v2/bot/message/reply", 500)  # stored, but the answer is lost
    assert await bot.fake.deliver(confirm) == 200
    assert len(await world.repo.reports_of_project(SCHOOL.code)) == 1
    before = len(bot.fake.sent)
    # LINE delivers the event again: applied already, so only the answer goes out, by reply.
    assert await bot.fake.deliver(bot.fake.again(confirm)) == 200
    sent = await bot.fake.wait_for_text(SINGLE, "บันทึกไว้เรียบร้อยแล้ว", after=before)
    assert sent.kind == "reply" and bot.fake.used == 0
    assert len(await world.repo.reports_of_project(SCHOOL.code)) == 1


async def test_a_redelivered_event_never_handled_is_handled_now(bot: LineBot) -> None:
    # The first delivery never reached the bot (it was down): the redelivery is the first.
    event = bot.fake.text(SINGLE, "/report")
    assert await bot.fake.deliver(bot.fake.again(event)) == 200
    await bot.fake.wait_for_text(SINGLE, "กี่เปอร์เซ็นต์")


async def test_a_refused_reply_token_falls_back_to_one_push(bot: LineBot) -> None:
    event = bot.fake.text(SINGLE, "/help")
    bot.fake.fail_next("/v2/bot/message/reply", 400)  # e.g. the token expired
    assert await bot.fake.deliver(event) == 200
    sent = await bot.fake.wait_for_text(SINGLE, "ส่งรายงาน")
    assert sent.kind == "push" and sent.retry_key
    assert bot.fake.used == 1


async def test_a_sticker_gets_a_polite_answer(bot: LineBot) -> None:
    after = len(bot.fake.sent)
    assert await bot.fake.deliver(bot.fake.sticker(SINGLE)) == 200
    await bot.fake.wait_for_text(SINGLE, texts.NOT_TEXT, after=after)


# Linking, following and blocking


async def test_a_stranger_sees_nothing_and_links_with_an_invite_code(
    bot: LineBot, world: World
) -> None:
    reply = await bot.say(STRANGER, "/status", "รหัสเชื่อมบัญชี")
    assert SCHOOL.name not in reply.text
    code, _ = await issue_invite(world.repo, world.coordinator, NOW)
    await bot.say(STRANGER, shown_code(code), "เชื่อมบัญชีกับ น.ส.รัตนา")
    person = await world.repo.find_person_by_identity("line", STRANGER)
    assert person is not None and person.id == world.coordinator.id


async def test_follow_greets_and_unfollow_stops_reminders(bot: LineBot, world: World) -> None:
    after = len(bot.fake.sent)
    assert await bot.fake.deliver(bot.fake.follow(STRANGER)) == 200
    await bot.fake.wait_for_text(STRANGER, "รหัสเชื่อมบัญชี", after=after)
    assert await bot.fake.deliver(bot.fake.unfollow(OFFICER)) == 200
    assert await world.repo.blocked_accounts() == {("line", OFFICER)}
    assert await bot.fake.deliver(bot.fake.follow(OFFICER)) == 200  # unblocked
    await bot.fake.wait_for_text(OFFICER, "ส่งรายงาน", after=after)
    assert await world.repo.blocked_accounts() == set()


async def test_events_of_one_request_from_one_user_are_handled_in_order(bot: LineBot) -> None:
    events = [bot.fake.text(SINGLE, t) for t in ("/report", "55", "2 หมื่น")]
    assert await bot.fake.deliver(*events) == 200
    await bot.fake.wait_for_text(SINGLE, "สรุปผลการดำเนินงาน")


async def test_files_are_served_from_the_shelf(world: World, tmp_path: Path) -> None:
    from bot.line_files import FILES_PATH
    from domain.messages import Attachment, Outbound

    async with running_line(world.repo, files=tmp_path) as bot:
        pdf = Attachment("แบบรายงาน.pdf", b"%PDF-1.7 fake", "application/pdf")
        await bot.channel.send(SINGLE, [Outbound("แบบรายงาน", attachment=pdf)], None)
        link = await bot.fake.wait_for_text(SINGLE, "ดาวน์โหลด")
        path = link.text.rsplit("https://bot.example.go.th", 1)[1]
        assert path.startswith(FILES_PATH)
        async with aiohttp.ClientSession() as session:
            async with session.get(bot.url + path) as response:
                assert response.status == 200
                assert await response.read() == b"%PDF-1.7 fake"
                assert "attachment" in response.headers["Content-Disposition"]
            guessed = FILES_PATH + "/" + "A" * 32 + "/แบบรายงาน.pdf"
            async with session.get(bot.url + guessed) as response:
                assert response.status == 404
            async with session.get(bot.url + FILES_PATH + "/../../etc/passwd") as response:
                assert response.status == 404


async def test_a_file_that_cannot_be_kept_is_an_apology_not_an_error(
    world: World, tmp_path: Path
) -> None:
    """The shelf's folder cannot be written (as with a full disk): the person gets a Thai
    apology in place of the link, the webhook answers 200, and the next message works."""
    from bot.line_messages import FILE_FAILED

    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")  # mkdir under a file fails, as writing to a full disk does
    await world.repo.link_identity(ChatIdentity("line", "U" + "7" * 32, world.coordinator.id))
    documents = ReportDocuments(world.repo, zone=BANGKOK)
    async with running_line(world.repo, files=blocked / "files", documents=documents) as bot:
        coordinator = "U" + "7" * 32
        answer = await bot.say(coordinator, "ส่งออก", "ขออภัย")
        assert answer.text.endswith(FILE_FAILED.format(name="รายงาน-ปีงบประมาณ-2570.xlsx"))
        await bot.say(coordinator, "สถานะ", "ส่งแล้ว")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("รายงาน-ปีงบประมาณ-2570.xlsx", "รายงาน-ปีงบประมาณ-2570.xlsx"),  # vowels and tone marks
        ("แบบรายงาน 50140000-4001 2570.pdf", "แบบรายงาน 50140000-4001 2570.pdf"),
        ('../"ลับ"\r\nปี/งบ\\2570.xlsx', "ลับ_ปี_งบ_2570.xlsx"),
        ("..", "file"),
        ("\u202eกราฟ\u200b.pdf", "กราฟ.pdf"),  # a direction override, a zero-width space
    ],
)
async def test_a_download_keeps_its_thai_name_and_its_bytes(
    world: World, tmp_path: Path, name: str, saved: str
) -> None:
    from aiohttp.multipart import content_disposition_filename, parse_content_disposition

    from domain.messages import Attachment, Outbound

    data = b"PK\x03\x04" + bytes(range(256)) * 64
    async with running_line(world.repo, files=tmp_path) as bot:
        await bot.channel.send(
            SINGLE, [Outbound("", attachment=Attachment(name, data, XLSX))], None
        )
        link = await bot.fake.wait_for_text(SINGLE, "ดาวน์โหลด")
        path = link.text.rsplit("https://bot.example.go.th", 1)[1]
        async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
            assert response.status == 200
            assert await response.read() == data
            header = response.headers["Content-Disposition"]

    assert header.isascii() and "\n" not in header and "\r" not in header
    kind, params = parse_content_disposition(header)
    assert kind == "attachment"
    assert content_disposition_filename(params, "filename") == saved
    assert params["filename"].isascii() and params["filename"].endswith(saved.rsplit(".")[-1])
    assert unquote(path.rsplit("/", 1)[1]) == saved  # the address, and so the file on disk


async def test_an_identity_linked_elsewhere_does_not_change_line_preference(world: World) -> None:
    await world.repo.link_identity(ChatIdentity("telegram", "77", world.single.id))
    conversation = Conversation(world.repo, lambda: NOW, remembered_channels=PUSH_CHANNELS)
    await conversation.handle(Inbound.typed("telegram", "77", "/status"))
    await conversation.handle(Inbound.typed("line", SINGLE, "/status"))
    await conversation.handle(Inbound.typed("line", STRANGER, "/status"))  # not linked
    assert await world.repo.preferred_channels() == {world.single.id: "line"}


async def test_the_message_that_links_an_account_records_its_channel(world: World) -> None:
    person = await world.repo.add_person("นายวิชัย ช่างดี", roles=frozenset())
    code, _ = await issue_invite(world.repo, person, NOW)
    conversation = Conversation(world.repo, lambda: NOW, remembered_channels=PUSH_CHANNELS)
    await conversation.handle(Inbound.typed("console", "wichai", shown_code(code)))
    assert await world.repo.preferred_channels() == {}, "the console cannot be written to"
    other = await world.repo.add_person("นางสาวมานี ใจดี", roles=frozenset())
    code, _ = await issue_invite(world.repo, other, NOW)
    await conversation.handle(Inbound.typed("line", STRANGER, shown_code(code)))
    assert await world.repo.preferred_channels() == {other.id: "line"}


def test_a_file_that_cannot_be_written_leaves_no_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while a file is written: the error reaches the caller (who apologises), and no
    empty or half-written token folder stays on the disk."""
    from bot.line_files import FileShelf
    from domain.messages import Attachment

    def full_disk(path: Path, data: bytes) -> int:
        path.write_text("half")  # part of it was written, then the disk filled
        raise OSError(28, "No space left on device")

    shelf = FileShelf(tmp_path, "https://bot.example.go.th", timedelta(days=7), lambda: NOW)
    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_bytes", full_disk)
        with pytest.raises(OSError, match="No space"):
            shelf.put(Attachment("รายงาน.xlsx", b"PK", "application/zip"))
    assert list(tmp_path.iterdir()) == [], "no token folder left"
    shelf.put(Attachment("รายงาน.xlsx", b"PK", "application/zip"))
    assert len(list(tmp_path.iterdir())) == 1


def test_two_processes_sharing_the_files_folder_serve_and_prune_each_others_files(
    tmp_path: Path,
) -> None:
    """With several processes (PostgreSQL behind a load balancer) the folder is shared: a link
    one process made is served by another, and both pruning at once lose nothing else."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.line_files import FileShelf
    from domain.messages import Attachment

    now = [NOW]
    one, other = (
        FileShelf(tmp_path, "https://bot.example.go.th", timedelta(days=7), lambda: now[0])
        for _ in range(2)
    )
    link = one.put(Attachment("รายงาน.pdf", b"%PDF-1.7", "application/pdf"))
    path = link.removeprefix("https://bot.example.go.th")

    async def fetch() -> tuple[int, bytes]:
        app = web.Application()
        other.add_routes(app)
        async with TestClient(TestServer(app)) as client:
            response = await client.get(path)
            return response.status, await response.read()

    assert asyncio.run(fetch()) == (200, b"%PDF-1.7")
    now[0] = NOW + timedelta(days=3)
    kept = other.put(Attachment("ใหม่.pdf", b"%PDF-new", "application/pdf"))
    now[0] = NOW + timedelta(days=8)
    assert one.prune() + other.prune() == 1, "the old file went once, the newer one stays"
    assert len(list(tmp_path.iterdir())) == 1 and kept
