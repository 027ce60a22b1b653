"""The bot's web server against clients that hold connections open, and its access log."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from bot.web_server import serve


async def hello(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="ok")


def app() -> web.Application:
    application = web.Application()
    application.router.add_post("/line", hello)
    application.router.add_get("/line-files/{token}/{name}", hello)
    return application


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before closing the connection (bounded, in case it never does)."""
    return await asyncio.wait_for(reader.read(), timeout=10)


async def test_connections_that_trickle_their_headers_are_cut_off() -> None:
    """A slowloris: 50 connections each sending half a request line and stopping. The server
    cuts every one of them after the header deadline, and still answers a proper client."""
    server = await serve(app(), "127.0.0.1", 0, header_timeout=0.2, lifetime=5.0)
    try:
        held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(50)]
        for _, writer in held:
            writer.write(b"POST /line HTTP/1.1\r\nHost: bot\r\nX-Slow: ")
            await writer.drain()
        answers = await asyncio.gather(*(closed_by_server(reader) for reader, _ in held))
        assert answers == [b""] * 50, "cut off without an answer"
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /line HTTP/1.1\r\nHost: bot\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=10)
        assert status.startswith(b"HTTP/1.1 200"), "a proper client is served"
        writer.close()
        for _, writer in held:
            writer.close()
    finally:
        await server.cleanup()


async def test_a_connection_lives_no_longer_than_its_lifetime() -> None:
    """Headers in time, then a body that never ends: the connection is closed at its lifetime."""
    server = await serve(app(), "127.0.0.1", 0, header_timeout=5.0, lifetime=0.3)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /line HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000\r\n\r\nabc")
        await writer.drain()
        assert await closed_by_server(reader) == b""
        writer.close()
    finally:
        await server.cleanup()


async def test_the_access_log_never_holds_a_full_path(caplog: pytest.LogCaptureFixture) -> None:
    server = await serve(app(), "127.0.0.1", 0)
    token = "s3cr3t-d0wnl0ad-t0ken-0123456789"
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"GET /line-files/{token}/x.xlsx HTTP/1.1\r\nHost: bot\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            await closed_by_server(reader)
            writer.close()
    finally:
        await server.cleanup()
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("GET /line-files… 200") for line in lines), lines
    assert not any(token in line for line in lines)


async def test_the_health_check_follows_the_database() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web_server import with_health

    up = True

    async def healthy() -> bool:
        return up

    async with TestClient(TestServer(with_health(web.Application(), healthy))) as client:
        answer = await client.get("/healthz")
        assert answer.status == 200 and await answer.text() == "ok"
        up = False
        down = await client.get("/healthz")
        assert down.status == 503 and "database" in await down.text()
