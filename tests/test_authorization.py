"""Who may see what: every chat command, for every role, shows only that role's projects.

Six people: an unknown account, the officers of project A (district X) and of project B
(district Y), the coordinators of X and of Y, and an admin. Each gives every command, picks
every project by button, by a forged button payload and by typing its code, and answers the
next question; every text, file name, PDF page and workbook cell the bot sends back is searched
for the codes and names of the projects, and must mention only those the person may see.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from domain.messages import Outbound
from domain.models import ChatIdentity, CoordinatorScope, ProjectData, Role
from domain.payloads import StepAnswer
from handlers.commands import COMMANDS
from handlers.conversation import Conversation
from reports.documents import ReportDocuments
from storage.contracts import Storage
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, NOW, Chat, stored_report

A = ProjectData(
    code="11110000-0001", name="ปรับปรุงสวนสาธารณะอัลฟา", fiscal_year=2570,
    start_date=date(2026, 10, 1), end_date=date(2027, 9, 30), budget_received=Decimal(900000),
    agency="สำนักงานเขตเอกซ์ / ฝ่ายโยธา",
)  # fmt: skip
B = ProjectData(
    code="22220000-0002", name="ก่อสร้างลานกีฬาเบต้า", fiscal_year=2570,
    start_date=date(2026, 10, 1), end_date=date(2027, 9, 30), budget_received=Decimal(500000),
    agency="สำนักงานเขตวาย / ฝ่ายโยธา",
)  # fmt: skip
MARKS = {A.code: (A.code, A.name), B.code: (B.code, B.name)}
ALLOWED = {
    "unknown": set(),
    "officer_a": {A.code},
    "officer_b": {B.code},
    "coordinator_x": {A.code},
    "coordinator_y": {B.code},
    "admin": {A.code, B.code},
}
NEXT_ANSWERS = ("1", "๕๐", "ใช่")  # whatever step follows the choice of project


@dataclass
class Seen:
    texts: list[str]

    def codes(self) -> set[str]:
        blob = "\n".join(self.texts)
        return {code for code, marks in MARKS.items() if any(m in blob for m in marks)}


def contents(reply: Outbound) -> list[str]:
    """Everything a person could read in a reply: its text, the file's name and contents."""
    found = [reply.text, *(f"{c.label} {c.payload}" for c in reply.choices)]
    file = reply.attachment
    if file is None:
        return found
    found.append(file.name)
    if file.mime == "application/pdf":
        found += [page.extract_text() for page in PdfReader(io.BytesIO(file.data)).pages]
    elif file.name.endswith(".xlsx"):
        with zipfile.ZipFile(io.BytesIO(file.data)) as archive:
            found += [archive.read(n).decode() for n in archive.namelist() if n.endswith(".xml")]
    return found


@pytest.fixture
async def repo() -> AsyncIterator[Storage]:
    repository = await SqliteStorage.open(":memory:")
    for data in (A, B):
        await repository.upsert_project(data)
        await stored_report(repository, data.code, 1, "20", "1000")
    people = {
        "officer_a": (Role.OFFICER,), "officer_b": (Role.OFFICER,),
        "coordinator_x": (Role.COORDINATOR,), "coordinator_y": (Role.COORDINATOR,),
        "admin": (Role.ADMIN,),
    }  # fmt: skip
    for key, roles in people.items():
        person = await repository.add_person(f"คุณ {key}", roles=frozenset(roles))
        await repository.link_identity(ChatIdentity("console", key, person.id))
        if key == "officer_a":
            await repository.link_officer(person.id, A.code)
        if key == "officer_b":
            await repository.link_officer(person.id, B.code)
        if key == "coordinator_x":
            await repository.add_coordinator_scope(CoordinatorScope(person.id, "สำนักงานเขตเอกซ์"))
        if key == "coordinator_y":
            await repository.add_coordinator_scope(CoordinatorScope(person.id, "สำนักงานเขตวาย"))
    try:
        yield repository
    finally:
        await repository.close()


def conversation(repo: Storage) -> Conversation:
    return Conversation(repo, lambda: NOW, documents=ReportDocuments(repo, zone=BANGKOK))


async def forged_pick(repo: Storage, code: str) -> str:
    """A press of the project button of `code`, made up rather than sent by the bot."""
    project = await repo.get_project(code)
    assert project is not None
    return StepAnswer("project", str(project.id)).encode()


async def attempts(repo: Storage, user: str, command: str) -> Seen:
    """The command, then each way of naming each project, each from a fresh start."""
    seen = Seen([])
    ways = [None] + [(how, code) for code in MARKS for how in ("payload", "typed")]
    for way in ways:
        chat = Chat(conversation(repo), user)
        await chat.say("/cancel")
        replies = await chat.say(command)
        if way is not None:
            how, code = way
            if how == "payload":
                replies += await chat.send_payload(await forged_pick(repo, code))
            else:
                replies += await chat.say(code)
            for answer in NEXT_ANSWERS:
                replies += await chat.say(answer)
        for reply in replies:
            seen.texts += contents(reply)
    return seen


@pytest.mark.parametrize("user", sorted(ALLOWED))
async def test_every_command_shows_only_what_the_role_may_see(repo: Storage, user: str) -> None:
    commands = sorted(f"/{name}" for name in COMMANDS)
    leaks = {}
    for command in commands:
        seen = (await attempts(repo, user, command)).codes()
        if not seen <= ALLOWED[user]:
            leaks[command] = sorted(seen - ALLOWED[user])
    assert leaks == {}, f"{user} saw projects that are not theirs"


async def test_each_role_does_see_its_own(repo: Storage) -> None:
    """The matrix above is not vacuous: each role can reach what it may see."""
    for user, allowed in ALLOWED.items():
        seen: set[str] = set()
        for command in ("/status", "/form", "/summary", "/history"):
            seen |= (await attempts(repo, user, command)).codes()
        assert seen == allowed, user


async def test_only_confirmed_reports_of_ones_own_projects_are_stored(repo: Storage) -> None:
    """Reporting on a project that is not theirs, by any means, stores nothing."""
    for user in ("unknown", "officer_b", "coordinator_x", "coordinator_y"):
        chat = Chat(conversation(repo), user)
        forged = await forged_pick(repo, A.code)
        for step in ("/report", forged, A.code, "1", "50", "1000", "-", "ใช่", "ใช่"):
            if step == forged:
                await chat.send_payload(step)
            else:
                await chat.say(step)
        for step in ("ยืนยัน", StepAnswer("confirm", "yes").encode()):
            await chat.say(step)
    assert [r.report_no for r in await repo.reports_of_project(A.code)] == [1]
