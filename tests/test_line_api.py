"""The Messaging API calls made for every answer (reply, push, multicast) are built as JSON
without line-bot-sdk's models: LINE must receive exactly what the SDK would send."""

from __future__ import annotations

import uuid
from typing import Any

from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)

from bot.line_channel import LineApi
from bot.line_messages import render_turn
from domain.messages import Choice, Outbound
from tests.fake_line import FakeLine
from tests.line_support import OFFICER, SECRET, SINGLE, TOKEN, line_config

REPLIES = [
    Outbound("บันทึกแล้ว"),
    Outbound("เลือกโครงการ", (Choice("ปรับปรุงถนนซอยลาดกระบัง 14 (50140000-4001)", "p:1"),)),
    Outbound("เป็นไปตามแผนหรือไม่", (Choice("ใช่", "yes"), Choice("ไม่", "no"))),
]
# What identifies one request rather than describes it.
OWN = {"Host", "Content-Length", "X-Line-Retry-Key"}


def described(fake: FakeLine, n: int) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Request `n` as LINE saw it: path, body (no reply token) and headers (not its own)."""
    path, body = fake.requests[n]
    headers = {k: v for k, v in fake.headers[n].items() if k not in OWN}
    return path, {k: v for k, v in body.items() if k != "replyToken"}, headers


async def test_reply_push_and_multicast_reach_line_as_the_sdk_sends_them() -> None:
    async with FakeLine(SECRET, TOKEN, quota=None) as fake:
        ours = LineApi(line_config(fake.base_url))
        client = AsyncApiClient(Configuration(host=fake.base_url, access_token=TOKEN))
        sdk = AsyncMessagingApi(client)
        try:
            messages = render_turn(REPLIES, None)
            models = [Message.from_dict(m) for m in messages]
            assert await ours.reply(fake.text(OFFICER, "ก")["replyToken"], messages)
            token = fake.text(OFFICER, "ข")["replyToken"]
            await sdk.reply_message(ReplyMessageRequest(reply_token=token, messages=models))
            ours_key, sdk_key = str(uuid.uuid4()), str(uuid.uuid4())
            await ours.push([OFFICER], messages, ours_key)
            await sdk.push_message(
                PushMessageRequest(to=OFFICER, messages=models), x_line_retry_key=sdk_key
            )
            await ours.push([OFFICER, SINGLE], messages, str(uuid.uuid4()))
            await sdk.multicast(
                MulticastRequest(to=[OFFICER, SINGLE], messages=models),
                x_line_retry_key=str(uuid.uuid4()),
            )
        finally:
            await ours.close()
            await client.close()
        assert [p for p, _ in fake.requests] == [
            "/v2/bot/message/reply", "/v2/bot/message/reply",
            "/v2/bot/message/push", "/v2/bot/message/push",
            "/v2/bot/message/multicast", "/v2/bot/message/multicast",
        ]  # fmt: skip
        for n in (0, 2, 4):
            assert described(fake, n) == described(fake, n + 1)
        assert fake.headers[2]["X-Line-Retry-Key"] == ours_key
        assert len(fake.sent) == 2 * len(messages) * (1 + 1 + 2), "every request was accepted"
        assert fake.requests[0][1]["messages"] == messages
