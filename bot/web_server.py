"""The bot's web server (webhooks and the LINE file shelf), hardened for the open internet.

- A client must send its request headers within `header_timeout` of connecting, and a
  connection lives at most `lifetime`: a client that trickles bytes to hold connections open
  (slowloris) is cut off. Idle keep-alive connections close after `KEEPALIVE`.
- The access log names method, status and size, never a full path: the file shelf's paths
  are the only key to a coordinator's workbook.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 10.0  # seconds to send the request line and headers
LIFETIME = 120.0  # seconds a connection may stay open at all
KEEPALIVE = 15.0  # seconds an idle keep-alive connection is kept
_END_OF_HEADERS = b"\r\n\r\n"


class Refusals:
    """Logs refused requests without letting a flood of them flood the log (and fill the disk):
    the first of each kind at once, then at most one line per `interval`, saying how many came
    meanwhile. `counts` keeps every refusal, by kind."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def refuse(self, kind: str, message: str, *args: object) -> None:
        """Count a refusal of `kind`, and log it unless one was logged within the interval."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._quiet[kind] = self._quiet.get(kind, 0) + 1
            return
        self._last[kind] = now
        quiet = self._quiet.pop(kind, 0)
        suffix = f" ({quiet} more like it since the last line)" if quiet else ""
        self._logger.warning(message + suffix, *args)


class QuietAccessLogger(AbstractAccessLogger):
    """One line per request at INFO: the method, the route's first segment, status, size and
    time, so that no download token or other secret in a path reaches the log. Refused
    requests (4xx and 5xx) are throttled like any flood."""

    refusals: Refusals  # one per server (see `serve`), shared by its connections

    def log(self, request: Any, response: Any, time: float) -> None:
        """Log a handled request without its full path."""
        first = "/" + request.path.lstrip("/").split("/", 1)[0]
        line = "%s %s… %s %s bytes %.3f s"
        args = (request.method, first, response.status, response.body_length, time)
        if response.status >= 400:
            self.refusals.refuse(f"{request.method} {first} {response.status}", line, *args)
            return
        self.logger.info(line, *args)


class Deadline(asyncio.Protocol):
    """Stands in front of aiohttp's protocol for one connection and cuts it off when its
    headers take longer than `header_timeout`, or the connection outlives `lifetime`."""

    def __init__(self, inner: asyncio.Protocol, header_timeout: float, lifetime: float) -> None:
        self._inner = inner
        self._header_timeout = header_timeout
        self._lifetime = lifetime
        self._transport: asyncio.Transport | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._waiting_for_headers = True
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the clocks, then let aiohttp take the connection."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        loop = asyncio.get_running_loop()
        self._timers = [
            loop.call_later(self._header_timeout, self._cut, "sent no complete headers in time"),
            loop.call_later(self._lifetime, self._cut, "stayed open too long"),
        ]
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        """Watch for the end of the first request's headers; pass everything on."""
        if self._waiting_for_headers:
            if _END_OF_HEADERS in self._tail + data:
                self._waiting_for_headers = False
                self._timers[0].cancel()
            self._tail = (self._tail + data)[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        """Passed on."""
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clocks; passed on."""
        for timer in self._timers:
            timer.cancel()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        """Passed on (aiohttp's flow control)."""
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        """Passed on (aiohttp's flow control)."""
        self._inner.resume_writing()

    def _cut(self, why: str) -> None:
        if self._transport is not None and not self._transport.is_closing():
            peer = self._transport.get_extra_info("peername")
            log.warning("web: closed a connection from %s that %s", peer and peer[0], why)
            self._transport.abort()


class WebServer:
    """A running server: its port, and a clean stop (requests in progress are finished)."""

    def __init__(self, runner: web.AppRunner, server: asyncio.Server) -> None:
        self._runner = runner
        self._server = server

    @property
    def port(self) -> int:
        """The port it listens on (useful when asked for port 0)."""
        return int(self._server.sockets[0].getsockname()[1])

    async def cleanup(self) -> None:
        """Stop accepting, finish the requests in progress, release everything."""
        self._server.close()
        await self._runner.cleanup()


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    header_timeout: float = HEADER_TIMEOUT,
    lifetime: float = LIFETIME,
) -> WebServer:
    """Start `app` on host:port behind the deadlines and the quiet access log."""
    access_log = type(
        "ServerAccessLogger",
        (QuietAccessLogger,),
        {"refusals": Refusals(logging.getLogger("aiohttp.access"))},
    )
    runner = web.AppRunner(app, access_log_class=access_log, keepalive_timeout=KEEPALIVE)
    await runner.setup()
    handler = runner.server
    assert handler is not None

    def protocol() -> asyncio.Protocol:
        inner: Callable[[], asyncio.Protocol] = handler
        return Deadline(inner(), header_timeout, lifetime)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, host, port)
    return WebServer(runner, server)


HEALTH_PATH = "/healthz"


def with_health(app: web.Application, healthy: Callable[[], Awaitable[bool]]) -> web.Application:
    """`app` with GET /healthz for a load balancer: 200 "ok" while the database answers, 503
    otherwise (so that traffic goes to another process)."""

    async def health(_: web.Request) -> web.Response:
        if await healthy():
            return web.Response(text="ok", headers={"Cache-Control": "no-store"})
        return web.Response(status=503, text="database unavailable")

    app.router.add_get(HEALTH_PATH, health)
    return app


_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(name: str) -> str:
    """The header that makes a browser save the file under its name (RFC 6266): the name in
    UTF-8, percent-encoded (RFC 5987), and for clients that cannot read that, an ASCII name."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    ascii_stem = _ASCII_UNSAFE.sub("_", stem).strip("._-") or "file"
    ascii_suffix = _ASCII_UNSAFE.sub("", suffix)
    fallback = ascii_stem + ("." + ascii_suffix if ascii_suffix else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
