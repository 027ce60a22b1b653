"""The dashboard in a real browser: Debian's chromium, driven by Playwright, against the real
web server on 127.0.0.1. A coordinator follows the link from chat, filters the board, opens a
project, downloads its PDF form, nudges the officers of the project still missing (the reminder
service sends to their chats), and signs out.

With PROGRESS_BOT_SCREENSHOTS=1 the board's screenshot is also written to docs/ (the README
shows it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import WebConfig
from bot.web_dashboard import Dashboard
from bot.web_server import serve
from domain.models import ChatIdentity
from handlers.conversation import Conversation
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.delivery import ReminderService
from scheduler.planner import ReminderPlanner
from storage.sqlite import SqliteStorage
from tests.support import NOW, ROAD, SCHOOL, Chat, World, build_world, stored_report
from tests.test_web_nudges import Recorder

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard-board.png"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="chromium is not installed (Debian package chromium; .ci/run installs it)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        world = await build_world(repo)
        await stored_report(repo, ROAD.code, 2, "30", "100000")
        yield world
    finally:
        await repo.close()


async def test_a_coordinator_reviews_the_month_in_a_browser(world: World, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    port = free_port()
    calendar = ReportingCalendar(CalendarSettings(), holidays=lambda day: False)
    dashboard = Dashboard(world.repo, lambda: NOW, WebConfig(port=port), calendar=calendar)
    chats = Recorder()
    planner = ReminderPlanner(world.repo, calendar)
    reminders = ReminderService(world.repo, planner, {"telegram": chats}, lambda: NOW)
    sent = asyncio.Event()

    async def send_now() -> None:
        await reminders.tick()
        sent.set()

    dashboard.send_nudges_with(send_now)
    for external_id, person in (("1001", world.officer), ("1002", world.single)):
        await world.repo.link_identity(ChatIdentity("telegram", external_id, person.id))
    server = await serve(dashboard.app(), "127.0.0.1", port)
    try:
        [reply] = await Chat(
            Conversation(world.repo, lambda: NOW, dashboard=dashboard), "ratana"
        ).say("แดชบอร์ด")
        link = reply.text.splitlines()[-1]
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(link)
            assert page.url.endswith("/board")
            assert await page.locator("#board tbody tr").count() == 2
            await page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
            if os.environ.get("PROGRESS_BOT_SCREENSHOTS"):
                SCREENSHOT.parent.mkdir(exist_ok=True)
                await page.screenshot(path=str(SCREENSHOT), full_page=True)
            # Only what is missing this month.
            await page.select_option("select[name=state]", "missing")
            await page.click("form.filters button")
            rows = page.locator("#board tbody tr")
            assert await rows.count() == 1 and SCHOOL.code in await rows.first.inner_text()
            # A project's page, and its form as a PDF download.
            await page.select_option("select[name=state]", "all")
            await page.click("form.filters button")
            await page.click(f"text={ROAD.code}")
            assert ROAD.name in await page.locator("h1").inner_text()
            async with page.expect_download() as waiting:
                await page.click("text=แบบรายงาน (PDF)")
            download = await waiting.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            assert saved.read_bytes().startswith(b"%PDF") and ROAD.code in saved.name
            # Nudge the officers of the project still missing, after a confirmation.
            await page.click("text=← กลับไปกระดานรายงาน")
            await page.check(f"input[aria-label='เลือกเตือน {SCHOOL.code}']")
            await page.click("text=เตือนผู้รับผิดชอบโครงการที่เลือก")
            assert world.single.name in await page.locator("#picked").inner_text()
            assert chats.pushed == [], "nothing goes before the confirmation"
            await page.click("#confirm-nudge")
            assert "ส่งทันที" in await page.locator("#outcomes").inner_text()
            await asyncio.wait_for(sent.wait(), timeout=30)
            assert sorted(chat for chat, _ in chats.pushed) == ["1001", "1002"]
            # Sign out: the board is closed to this browser from then on.
            await page.click("text=ออกจากระบบ")
            assert "ออกจากระบบแล้ว" in await page.locator("main").inner_text()
            await page.goto(link.rsplit("/signin/", 1)[0] + "/board")
            assert "กรุณาเข้าสู่ระบบ" in await page.locator("main").inner_text()
            await browser.close()
    finally:
        await server.cleanup()
