"""The aiohttp request backend under python-telegram-bot (bot.telegram_http), driven by the real
Bot class against the fake Bot API on 127.0.0.1: calls, buttons, uploads, and failures that
never show the token."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut

from bot.telegram_http import AiohttpRequest
from tests.fake_telegram import FakeBotApi

TOKEN = "4321:HTTP-BACKEND-SECRET"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN) as api:
        yield api


def bot_on(base_url: str) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=AiohttpRequest())


async def test_calls_buttons_and_uploads_reach_the_bot_api(fake: FakeBotApi) -> None:
    async with bot_on(fake.base_url) as bot:
        me = await bot.get_me()
        assert me.username == "progress_test_bot"
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton("ยืนยันส่ง", callback_data="a:c:y")]])
        sent = await bot.send_message(7001, "สรุปรายงาน ๘๐ %", reply_markup=buttons)
        assert sent.text == "สรุปรายงาน ๘๐ %"
        data = "โครงการ,ความก้าวหน้า\nB-1,80\n".encode()
        upload = InputFile(data, filename="รายงาน-2570.csv")
        await bot.send_document(7001, upload, caption="ไฟล์รายงาน")
    message, document = [s for s in fake.sent if s.chat_id == 7001]
    assert FakeBotApi.buttons(message) == [("ยืนยันส่ง", "a:c:y")]
    assert document.file_name == "รายงาน-2570.csv"
    assert document.file_size == len(data)


async def test_a_call_that_is_never_answered_times_out() -> None:
    async def hang(_: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    # The handler never ends: shut it down at once, not after aiohttp's default minute.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(read_timeout=0.05, write_timeout=0.05)
    await request.initialize()
    try:
        with pytest.raises(TimedOut) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage", None)
        assert TOKEN not in str(caught.value)
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_an_unreachable_bot_api_is_a_network_error_without_the_token() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert TOKEN not in str(caught.value)
    assert "aiohttp.ClientConnectorError" in str(caught.value)


async def test_it_must_be_initialized_before_use() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/x", "POST")
