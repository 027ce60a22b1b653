"""A LINE channel in process: the real line-bot-sdk and webhook server against tests/fake_line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.config import LineConfig
from bot.line_channel import LineApi, LineChannel
from bot.line_files import FileShelf
from bot.line_webhook import line_webhook
from bot.web_server import serve
from domain.clock import Clock
from domain.models import ChatIdentity
from handlers.conversation import Conversation
from handlers.documents import Documents
from scheduler.planner import PUSH_CHANNELS
from storage.contracts import Storage
from tests.fake_line import FakeLine, Sent
from tests.support import NOW, World

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "fake-line-channel-access-token-0123456789"
OFFICER = "U" + "1" * 32  # linked to the world's two-project officer
SINGLE = "U" + "2" * 32  # linked to the one-project officer
STRANGER = "U" + "9" * 32


def line_config(api_host: str) -> LineConfig:
    """A LINE configuration pointed at the fake."""
    return LineConfig(
        channel_secret=SECRET, channel_access_token=TOKEN, api_host=api_host, api_data_host=api_host
    )


@dataclass
class LineBot:
    """The fake platform, the channel under test, and the webhook address."""

    fake: FakeLine
    channel: LineChannel
    url: str
    config: LineConfig

    async def say(self, user: str, text: str, expect: str) -> Sent:
        """Type a message; the first message to the user containing `expect`."""
        after = len(self.fake.sent)
        assert await self.fake.deliver(self.fake.text(user, text)) == 200
        return await self.fake.wait_for_text(user, expect, after=after)

    async def press(self, user: str, label: str, expect: str) -> Sent:
        """Press the button starting with `label` on the latest message that has one."""
        for sent in reversed(self.fake.messages_to(user)):
            for shown, data in sent.buttons():
                if shown.startswith(label) or shown.split(". ", 1)[-1].startswith(label):
                    after = len(self.fake.sent)
                    assert await self.fake.deliver(self.fake.postback(user, data)) == 200
                    return await self.fake.wait_for_text(user, expect, after=after)
        raise AssertionError(f"no button {label!r} for {user}")


async def link_line(world: World) -> None:
    """Link the world's two officers on LINE."""
    await world.repo.link_identity(ChatIdentity("line", OFFICER, world.officer.id))
    await world.repo.link_identity(ChatIdentity("line", SINGLE, world.single.id))


@asynccontextmanager
async def running_line(
    repo: Storage,
    *,
    clock: Clock = lambda: NOW,
    files: Path | None = None,
    remember: bool = False,
    documents: Documents | None = None,
) -> AsyncIterator[LineBot]:
    """The webhook server on 127.0.0.1 with the channel, against a fresh fake platform."""
    async with FakeLine(SECRET, TOKEN, clock=lambda: clock().timestamp()) as fake:
        config = line_config(fake.base_url)
        shelf = None
        if files is not None:
            shelf = FileShelf(files, "https://bot.example.go.th", timedelta(days=7), clock)
        api = LineApi(config)
        remembered = PUSH_CHANNELS if remember else ()
        conversation = Conversation(
            repo, clock, remembered_channels=remembered, documents=documents
        )
        channel = LineChannel(api, conversation, clock, shelf=shelf)
        server = await serve(line_webhook(channel, SECRET, "/line", shelf), "127.0.0.1", 0)
        fake.webhook_url = f"http://127.0.0.1:{server.port}/line"
        try:
            yield LineBot(fake, channel, f"http://127.0.0.1:{server.port}", config)
        finally:
            await server.cleanup()
            await api.close()
