"""The web dashboard over HTTP (aiohttp's test server on 127.0.0.1): sign-in by a single-use link
from chat, the session cookie, sign-out with its form token, and the month board of each
person's scope with its filters and totals."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import unquote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from markupsafe import escape
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.config import WebConfig
from bot.web_dashboard import COOKIE, EXPIRED_LINK, NOT_SIGNED_IN, NOT_YOURS, SIGNED_OUT, Dashboard
from domain.models import Delegation, Role, Submission
from handlers.conversation import Conversation
from handlers.dashboard import DASHBOARD_LINK, DASHBOARD_OFF
from storage.sqlite import SqliteStorage
from tests.support import NOW, OTHER, ROAD, SCHOOL, Chat, World, build_world, stored_report, values
from tests.test_linking import Clock

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        world = await build_world(repo)
        await stored_report(repo, ROAD.code, 2, "30", "100000")  # November, this month
        yield world
    finally:
        await repo.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def desk(world: World, clock: Clock) -> AsyncIterator[tuple[Dashboard, Client]]:
    dashboard = Dashboard(world.repo, clock, WebConfig(port=0))
    async with TestClient(TestServer(dashboard.app())) as client:
        yield dashboard, client


def shown(text: str) -> str:
    """A text as the page shows it (HTML-escaped)."""
    return str(escape(text))


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def signed_in(desk: tuple[Dashboard, Client], person_id: int, world: World) -> str:
    """Sign `person` in through a fresh link; the board's HTML."""
    dashboard, client = desk
    person = next(p for p in await world.repo.all_people() if p.id == person_id)
    url = await dashboard.link_for(person)
    response = await client.get(f"/signin/{token_of(url)}")
    assert response.status == 200 and response.url.path == "/board"
    return await response.text()


def codes(html: str) -> set[str]:
    return set(re.findall(r'data-code="([^"]+)"', html))


async def test_in_chat_dashboard_sends_a_single_use_link(world: World, clock: Clock) -> None:
    dashboard = Dashboard(world.repo, clock, WebConfig(public_url="https://desk.example.go.th"))
    c = Chat(Conversation(world.repo, clock, dashboard=dashboard), "ratana")
    [reply] = await c.say("แดชบอร์ด")
    url = reply.text.splitlines()[-1]
    assert url.startswith("https://desk.example.go.th/signin/") and len(token_of(url)) >= 40
    assert reply.text == DASHBOARD_LINK.format(url=url)
    [off] = await Chat(Conversation(world.repo, clock), "ratana").say("/dashboard")
    assert off.text == DASHBOARD_OFF


async def test_a_link_signs_in_once_within_ten_minutes(
    desk: tuple[Dashboard, Client], world: World, clock: Clock
) -> None:
    dashboard, client = desk
    url = await dashboard.link_for(world.coordinator)
    first = await client.get(f"/signin/{token_of(url)}", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"] == "/board"
    cookie = first.headers["Set-Cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Max-Age=32400" in cookie, "a working day"
    again = await client.get(f"/signin/{token_of(url)}", allow_redirects=False)
    assert again.status == 403 and shown(EXPIRED_LINK) in await again.text(), "used once only"
    late = await dashboard.link_for(world.coordinator)
    clock.now += timedelta(minutes=11)
    expired = await client.get(f"/signin/{token_of(late)}", allow_redirects=False)
    assert expired.status == 403
    forged = await client.get("/signin/" + "x" * 43, allow_redirects=False)
    assert forged.status == 403


async def test_behind_https_the_cookie_is_secure(world: World, clock: Clock) -> None:
    dashboard = Dashboard(world.repo, clock, WebConfig(public_url="https://desk.example.go.th"))
    async with TestClient(TestServer(dashboard.app())) as client:
        url = await dashboard.link_for(world.coordinator)
        response = await client.get(f"/signin/{token_of(url)}", allow_redirects=False)
        assert "Secure" in response.headers["Set-Cookie"]


async def test_without_a_session_nothing_is_shown(desk: tuple[Dashboard, Client]) -> None:
    _, client = desk
    response = await client.get("/board")
    assert response.status == 401 and shown(NOT_SIGNED_IN) in await response.text()
    client.session.cookie_jar.update_cookies({COOKIE: "forged"})
    assert (await client.get("/board")).status == 401


async def test_each_person_sees_their_scope(desk: tuple[Dashboard, Client], world: World) -> None:
    coordinator = await signed_in(desk, world.coordinator.id, world)
    assert codes(coordinator) == {ROAD.code, SCHOOL.code}, "their agency, not another district"
    assert OTHER.code not in coordinator
    officer = await signed_in(desk, world.single.id, world)
    assert codes(officer) == {SCHOOL.code}, "an officer their own projects"
    await world.repo.add_person(world.single.name, roles=frozenset({Role.ADMIN}))
    admin = await signed_in(desk, world.single.id, world)
    assert codes(admin) == {ROAD.code, SCHOOL.code, OTHER.code}


async def test_a_stand_in_sees_the_projects_they_report_on_while_the_officer_is_away(
    desk: tuple[Dashboard, Client], world: World, clock: Clock
) -> None:
    """The same policy as the chat (`reach_of`): standing in gives the absent officer's
    projects for the days of the absence, and nothing after."""
    today = NOW.date()
    away = Delegation(world.officer.id, world.single.id, today, today + timedelta(days=1))
    await world.repo.add_delegation(away)
    assert codes(await signed_in(desk, world.single.id, world)) == {ROAD.code, SCHOOL.code}
    clock.now += timedelta(days=2)
    assert codes(await signed_in(desk, world.single.id, world)) == {SCHOOL.code}


async def test_a_report_still_missing_after_the_months_deadline_is_late(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    board = await signed_in(desk, world.coordinator.id, world)
    assert "กำหนดส่ง 30 พ.ย. 2569" in board
    late_now = await (await client.get("/board", params={"state": "late"})).text()
    assert codes(late_now) == set(), "November's deadline has not come (it is the 23rd)"
    october = {"fy": "2570", "month": "1"}
    late = await (await client.get("/board", params={**october, "state": "late"})).text()
    assert codes(late) == {ROAD.code}, "the school project starts in November"
    assert 'id="late">1<' in late and shown("เลยกำหนดส่ง") in late
    # Sent in chat on 5 November, after October's deadline (Friday 30 October): reported, late.
    sent = Submission(
        ROAD.code, 2570, 1, values("10", "5000"), world.officer.id, "telegram",
        NOW.replace(day=5),
    )  # fmt: skip
    await world.repo.submit_report(sent)
    late = await (await client.get("/board", params={**october, "state": "late"})).text()
    assert codes(late) == {ROAD.code} and shown("ส่งหลังกำหนด") in late
    assert 'id="reported">1<' in late
    on_time = await (await client.get("/board", params={"fy": "2570", "month": "2"})).text()
    assert shown("ส่งหลังกำหนด") not in on_time, "an imported report is not judged late"


async def test_downloads_of_a_month_hold_the_year_up_to_that_month(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    await stored_report(world.repo, ROAD.code, 1, "10", "5000")  # October; November's is 2
    board = await signed_in(desk, world.coordinator.id, world)
    assert "/download/reports.csv?fy=2570&amp;agency=&amp;month=2" in board
    october = {"fy": "2570", "month": "1"}
    csv = await client.get("/download/reports.csv", params=october)
    rows = (await csv.read()).decode("utf-8-sig").splitlines()[1:]
    assert len(rows) == 1 and ROAD.code in rows[0], "October's report, not November's"
    name = unquote(csv.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name == "รายงาน-2570-ถึงต.ค. 2569.csv"
    xlsx = await client.get("/download/reports.xlsx", params=october)
    book = load_workbook(io.BytesIO(await xlsx.read()), read_only=True)
    main = [row[4] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert main == [1] and len(book.worksheets) == 2, "the first sheet and October's"
    whole = await client.get("/download/reports.csv", params={"fy": "2570"})
    assert len((await whole.read()).decode("utf-8-sig").splitlines()) == 3


async def test_the_board_filters_searches_and_totals(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    board = await signed_in(desk, world.coordinator.id, world)
    assert 'id="reported">1<' in board and 'id="missing">1<' in board
    assert 'id="disbursed">100,000<' in board
    missing = await (await client.get("/board", params={"state": "missing"})).text()
    assert codes(missing) == {SCHOOL.code}
    found = await (await client.get("/board", params={"q": ROAD.code})).text()
    assert codes(found) == {ROAD.code}
    october = await (await client.get("/board", params={"fy": "2570", "month": "1"})).text()
    assert "ต.ค. 2569" in october and 'id="reported">0<' in october
    nonsense = await client.get("/board", params={"fy": "abc", "month": "99"})
    assert nonsense.status == 200, "a wrong query shows this month, never an error"


async def test_sign_out_needs_the_form_token_and_ends_the_session(
    desk: tuple[Dashboard, Client], world: World, clock: Clock
) -> None:
    _, client = desk
    board = await signed_in(desk, world.coordinator.id, world)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', board)
    assert token is not None
    refused = await client.post("/signout", data={"csrf": "0" * 64})
    assert refused.status == 403
    assert (await client.get("/board")).status == 200, "still signed in"
    out = await client.post("/signout", data={"csrf": token.group(1)})
    assert out.status == 200 and shown(SIGNED_OUT) in await out.text()
    assert (await client.get("/board")).status == 401
    await signed_in(desk, world.coordinator.id, world)
    clock.now += timedelta(hours=9)
    assert (await client.get("/board")).status == 401, "a session lasts a working day"


async def test_a_project_page_shows_every_revision_the_chart_and_the_forms(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    await world.repo.correct_report(
        Submission(
            ROAD.code, 2570, 2, values("35", "120000"), world.officer.id, "line",
            NOW + timedelta(hours=1), reason="แก้ยอดเบิกจ่ายที่พิมพ์ผิด",
        )
    )  # fmt: skip
    board = await signed_in(desk, world.coordinator.id, world)
    assert f'href="/project/{ROAD.code}?fy=2570"' in board
    page = await client.get(f"/project/{ROAD.code}", params={"fy": "2570"})
    html = await page.text()
    assert page.status == 200 and ROAD.name in html
    assert html.count('class="revision"') == 2, "the first version and the correction"
    assert "แก้ยอดเบิกจ่ายที่พิมพ์ผิด" in html and world.officer.name in html and "LINE" in html
    chart = await client.get(f"/project/{ROAD.code}/chart.png", params={"fy": "2570"})
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    pdf = await client.get(f"/project/{ROAD.code}/form.pdf")
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    docx = await client.get(f"/project/{ROAD.code}/form.docx")
    assert docx.status == 200 and (await docx.read()).startswith(b"PK")


async def test_a_project_outside_the_scope_is_not_found_like_one_that_does_not_exist(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    await signed_in(desk, world.single.id, world)  # SCHOOL only
    for path in (f"/project/{ROAD.code}", f"/project/{OTHER.code}/form.pdf", "/project/ไม่มี"):
        response = await client.get(path)
        assert response.status == 404 and shown(NOT_YOURS) in await response.text(), path
    assert (await client.get(f"/project/{SCHOOL.code}")).status == 200


async def test_downloads_hold_the_scope_of_the_year_and_agency_asked_for(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    await stored_report(world.repo, SCHOOL.code, 2, "10", "5000")
    await stored_report(world.repo, OTHER.code, 2, "50", "0")  # another district's
    board = await signed_in(desk, world.coordinator.id, world)
    assert 'href="/download/reports.xlsx?fy=2570&amp;agency="' in board
    xlsx = await client.get("/download/reports.xlsx", params={"fy": "2570"})
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(await xlsx.read()), read_only=True).worksheets[0]
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        ROAD.code, SCHOOL.code,
    }, "the coordinator's projects, not another district's"  # fmt: skip
    assert "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    csv = await client.get("/download/reports.csv", params={"fy": "2570"})
    text = (await csv.read()).decode("utf-8-sig")
    assert ROAD.code in text and OTHER.code not in text
    forms = await client.get("/download/forms.pdf", params={"fy": "2570"})
    pdf = PdfReader(io.BytesIO(await forms.read()))
    every = "".join(page.extract_text() for page in pdf.pages)
    assert ROAD.code in every and SCHOOL.code in every and OTHER.code not in every
    none = await client.get("/download/reports.xlsx", params={"fy": "2564"})
    assert none.status == 404 and "2564" in await none.text()
    assert (await client.get("/download/secrets.txt")).status == 404
    await client.post("/signout", data={"csrf": csrf_of(board)})
    assert (await client.get("/download/reports.csv")).status == 401, "signed out: nothing"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


async def test_the_year_overview_shows_each_agencys_share_reported_per_month(
    desk: tuple[Dashboard, Client], world: World
) -> None:
    _, client = desk
    board = await signed_in(desk, world.coordinator.id, world)
    assert 'href="/overview?fy=2570"' in board
    page = await client.get("/overview", params={"fy": "2570"})
    html = await page.text()
    assert page.status == 200 and "ภาพรวมการส่งรายงาน ปีงบประมาณ 2570" in html
    # One row per agency of the scope (another district's is not there); a month counts the
    # projects running in it; December has not begun.
    assert OTHER.agency not in html
    rows = dict(
        (agency, re.findall(r'<td class="number">([^<]*)</td>', cells))
        for agency, cells in re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", html, re.S)
    )
    assert rows[ROAD.agency][:3] == ["0% (0/1)", "100% (1/1)", "-"], "ROAD reported November"
    assert rows[SCHOOL.agency][:3] == ["-", "0% (0/1)", "-"], "SCHOOL starts in November"
    chart = await client.get("/overview/chart.png", params={"fy": "2570"})
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")


async def test_a_long_board_comes_a_page_at_a_time(
    desk: tuple[Dashboard, Client], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = desk
    monkeypatch.setattr("bot.web_dashboard.PAGE_SIZE", 1)
    first = await signed_in(desk, world.coordinator.id, world)
    assert len(codes(first)) == 1 and 'id="reported">1<' in first and 'id="missing">1<' in first
    assert "page=2" in first, "a link to the next page"
    second = await (await client.get("/board", params={"page": "2"})).text()
    assert len(codes(second)) == 1 and codes(first) != codes(second)
    beyond = await (await client.get("/board", params={"page": "99"})).text()
    assert codes(beyond) == codes(second), "past the end: the last page"
