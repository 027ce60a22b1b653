"""Who may see and do what on the dashboard: every route and action, for every role.

The six people of the chat's matrix (`tests/test_authorization.py`): nobody signed in, the
officers of project A (district X) and of project B (district Y), the coordinators of X and of
Y, and an admin. Each opens every page, chart, form and download, for both projects, and tries
to nudge both; every page, file name, workbook cell and PDF page is searched for the codes and
names of the projects, and must mention only those the person may see. Nudging is for the
coordinators of a project and admins. Then the ways in that must fail: expired, reused and
forged links, forged and expired cookies, forms without their token or with another session's.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pypdf import PdfReader

from bot.config import WebConfig
from bot.web_dashboard import COOKIE, Dashboard
from domain.models import ChatIdentity
from storage.contracts import Storage
from tests.support import NOW
from tests.test_authorization import ALLOWED, MARKS, A, B
from tests.test_authorization import repo as repo  # the six people and two projects
from tests.test_linking import Clock

Client = TestClient[web.Request, web.Application]
# Who may nudge each project's officers: its coordinators and admins.
NUDGES = {
    "officer_a": set(),
    "officer_b": set(),
    "coordinator_x": {A.code},
    "coordinator_y": {B.code},
    "admin": {A.code, B.code},
}


@pytest.fixture
async def desk(repo: Storage) -> AsyncIterator[tuple[Dashboard, Client, Clock]]:
    clock = Clock(NOW)
    dashboard = Dashboard(repo, clock, WebConfig(port=0))

    async def send_now() -> None:
        return None  # delivery is another test's; here only who may ask for it

    dashboard.send_nudges_with(send_now)
    for n, officer in enumerate(("officer_a", "officer_b")):  # reachable, so nudges are kept
        await repo.link_identity(ChatIdentity("telegram", str(n), await person_id(repo, officer)))
    async with TestClient(TestServer(dashboard.app())) as client:
        yield dashboard, client, clock


async def person_id(repo: Storage, user: str) -> int:
    person = next(p for p in await repo.all_people() if p.name == f"คุณ {user}")
    return person.id


async def sign_in(desk: tuple[Dashboard, Client, Clock], repo: Storage, user: str) -> str:
    """A fresh session for `user` (the client's cookie); the board's form token."""
    dashboard, client, _ = desk
    client.session.cookie_jar.clear()
    person = await repo.get_person(await person_id(repo, user))
    assert person is not None
    link = await dashboard.link_for(person)
    response = await client.get(f"/signin/{link.rsplit('/', 1)[-1]}")
    assert response.status == 200
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', await response.text())
    assert found is not None
    return found.group(1)


def readable(body: bytes, kind: str, disposition: str) -> str:
    """Everything a person could read in a response: its file name and its contents."""
    found = [disposition]
    if kind == "application/pdf":
        found += [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]
    elif kind.startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            found += [archive.read(n).decode() for n in archive.namelist() if n.endswith(".xml")]
    elif not kind.startswith("image/"):
        found.append(body.decode("utf-8-sig"))
    return "\n".join(found)


def codes_in(text: str) -> set[str]:
    return {code for code, marks in MARKS.items() if any(m in text for m in marks)}


def get_paths() -> list[str]:
    """Every page, chart, form and download, for both projects, several months and years."""
    paths = ["/", "/board", "/board?fy=2570&month=1", "/board?state=missing&q=0000",
             "/overview", "/overview?fy=2570", "/overview/chart.png"]  # fmt: skip
    for name in ("reports.xlsx", "reports.csv", "forms.pdf"):
        paths += [f"/download/{name}?fy=2570", f"/download/{name}?fy=2570&month=1"]
    for code in (A.code, B.code):
        for tail in ("", "/chart.png", "/form.pdf", "/form.docx"):
            paths.append(f"/project/{code}{tail}?fy=2570")
    return paths


@pytest.mark.parametrize("user", sorted(ALLOWED))
async def test_every_route_shows_only_what_the_role_may_see(
    desk: tuple[Dashboard, Client, Clock], repo: Storage, user: str
) -> None:
    _, client, _ = desk
    if user != "unknown":
        await sign_in(desk, repo, user)
    seen: set[str] = set()
    for path in get_paths():
        response = await client.get(path)
        body = await response.read()
        if user == "unknown":
            assert response.status == 401, path
        text = readable(
            body, response.content_type, response.headers.get("Content-Disposition", "")
        )
        found = codes_in(text)
        assert found <= ALLOWED[user], f"{user} saw {found - ALLOWED[user]} at {path}"
        seen |= found
        for code in (A.code, B.code):
            if path.startswith(f"/project/{code}"):
                expected = 200 if code in ALLOWED[user] else (401 if user == "unknown" else 404)
                assert response.status == expected, (user, path)
    assert seen == ALLOWED[user], f"{user} could not reach all of their own"


@pytest.mark.parametrize("user", sorted(NUDGES))
async def test_only_a_projects_coordinators_and_admins_may_nudge(
    desk: tuple[Dashboard, Client, Clock], repo: Storage, user: str
) -> None:
    _, client, _ = desk
    csrf = await sign_in(desk, repo, user)
    board = await (await client.get("/board")).text()
    ids = {code: (await repo.get_project(code)) for code in (A.code, B.code)}
    offered = {
        code for code, project in ids.items()
        if project is not None and f'name="p" value="{project.id}" form="nudge"' in board
    }  # fmt: skip
    assert offered == NUDGES[user]
    for code, project in ids.items():
        assert project is not None
        for path in ("/nudge", "/nudge/send"):
            data = {"csrf": csrf, "fy": "2570", "month": "2", "p": str(project.id)}
            response = await client.post(path, data=data)
            text = await response.text()
            assert codes_in(text) <= ALLOWED[user]
            allowed = code in NUDGES[user]
            assert response.status == (200 if allowed else 403), (user, path, code)
    nudged = {n.project_code for code in ids for n in await repo.nudges_of_project(code)}
    assert nudged == NUDGES[user]


async def test_nobody_signed_in_can_post_anything(desk: tuple[Dashboard, Client, Clock]) -> None:
    _, client, _ = desk
    for path in ("/nudge", "/nudge/send"):
        assert (await client.post(path, data={"csrf": "0" * 64, "p": "1"})).status == 401
    assert (await client.post("/signout", data={"csrf": "0" * 64})).status == 403


async def test_links_work_once_within_ten_minutes_and_forged_ones_never(
    desk: tuple[Dashboard, Client, Clock], repo: Storage
) -> None:
    dashboard, client, clock = desk
    person = await repo.get_person(await person_id(repo, "admin"))
    assert person is not None
    token = (await dashboard.link_for(person)).rsplit("/", 1)[-1]
    late = (await dashboard.link_for(person)).rsplit("/", 1)[-1]
    assert (await client.get(f"/signin/{token}")).status == 200
    client.session.cookie_jar.clear()
    assert (await client.get(f"/signin/{token}")).status == 403, "reused"
    assert (await client.get(f"/signin/{secrets.token_urlsafe(32)}")).status == 403, "forged"
    assert (await client.get(f"/signin/{token[:-1]}")).status == 403, "altered"
    clock.now += timedelta(minutes=10, seconds=1)
    assert (await client.get(f"/signin/{late}")).status == 403, "expired"
    assert (await client.get("/board")).status == 401, "no failed link opens a session"


async def test_forged_and_expired_cookies_open_nothing(
    desk: tuple[Dashboard, Client, Clock], repo: Storage
) -> None:
    _, client, clock = desk
    await sign_in(desk, repo, "admin")
    assert (await client.get("/board")).status == 200
    real = next(c.value for c in client.session.cookie_jar if c.key == COOKIE)
    for forged in (secrets.token_urlsafe(32), real[:-2], "", "' OR 1=1 --"):
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({COOKIE: forged})
        assert (await client.get("/board")).status == 401, forged
    client.session.cookie_jar.update_cookies({COOKIE: real})
    assert (await client.get("/board")).status == 200
    clock.now += timedelta(hours=9)
    assert (await client.get("/board")).status == 401, "a session lasts a working day"


async def test_every_form_needs_its_own_sessions_token(
    desk: tuple[Dashboard, Client, Clock], repo: Storage
) -> None:
    _, client, _ = desk
    theirs = await sign_in(desk, repo, "coordinator_x")
    mine = await sign_in(desk, repo, "admin")
    assert theirs != mine
    project = await repo.get_project(A.code)
    assert project is not None
    nudge = {"fy": "2570", "month": "2", "p": str(project.id)}
    for path in ("/nudge", "/nudge/send", "/signout"):
        altered = mine[:-1] + ("1" if mine[-1] == "0" else "0")
        for token in (None, "", theirs, altered):
            data = dict(nudge) if token is None else {**nudge, "csrf": token}
            response = await client.post(path, data=data)
            assert response.status == 403, (path, token)
    garbled = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/nudge", "/nudge/send", "/signout"):  # a body that is not UTF-8
        answer = await client.post(path, data=b"csrf=\xff\xfe&p=1", headers=garbled)
        assert answer.status == 403, path
    assert await repo.nudges_of_project(A.code) == []
    assert (await client.get("/board")).status == 200, "still signed in"
