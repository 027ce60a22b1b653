"""Forms, charts, summaries and workbooks asked for in chat: what each person may get, as files."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.app import open_services
from bot.config import Config
from domain.messages import Outbound
from domain.months import GREGORIAN_YEAR, NOT_A_PERIOD
from handlers import texts
from handlers.conversation import Conversation
from reports.documents import NO_PROJECTS_IN_YEAR, PDF, PNG, XLSX, ReportDocuments
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, NOW, OTHER, ROAD, SCHOOL, Chat, World, build_world, stored_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        world = await build_world(repo)
        await stored_report(repo, ROAD.code, 1, "30", "100000")
        await stored_report(repo, SCHOOL.code, 2, "10", "5000")
        await stored_report(repo, OTHER.code, 1, "50", "0")
        yield world
    finally:
        await repo.close()


def chat(world: World, user: str, *, documents: bool = True) -> Chat:
    found = ReportDocuments(world.repo, zone=BANGKOK) if documents else None
    return Chat(Conversation(world.repo, lambda: NOW, documents=found), user)


def files(replies: list[Outbound]) -> list[tuple[str, str, bytes]]:
    return [
        (r.attachment.name, r.attachment.mime, r.attachment.data) for r in replies if r.attachment
    ]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_an_officer_gets_the_form_of_their_project_as_text_and_pdf(world: World) -> None:
    c = chat(world, "somchai")
    await c.say("แบบรายงาน")
    assert c.last_choices() == [f"{ROAD.name} ({ROAD.code})", f"{SCHOOL.name} ({SCHOOL.code})"]
    [pdf] = await c.press(ROAD.name)  # the form is the PDF, with a two-line caption
    assert pdf.text.splitlines() == [
        f"แบบรายงานความก้าวหน้า {ROAD.code} ปีงบประมาณ 2570",
        "รายงาน 1 ครั้ง ล่าสุด ต.ค. 2569: 30.00 %, เบิกจ่าย 100,000 บาท",
    ]
    [(name, mime, data)] = files([pdf])
    assert name == f"แบบรายงาน-{ROAD.code}-2570.pdf" and mime == PDF
    assert ROAD.code in pdf_text(data)
    text = await c.press(texts.BTN_FORM_TEXT)  # the whole form as text, on request
    assert "แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ" in text[0].text
    assert "ความก้าวหน้าของงานฯ = 30.00 %" in "\n".join(r.text for r in text)
    session = await world.repo.load_session("console", "somchai")
    assert session is None or session.state == "idle", "looking leaves nothing half-done"


async def test_an_officer_of_one_project_goes_straight_to_it(world: World) -> None:
    c = chat(world, "jai")
    replies = await c.say("/form")
    [(name, _, _)] = files(replies)
    assert SCHOOL.code in name


async def test_an_officer_cannot_get_another_project_or_agency(world: World) -> None:
    c = chat(world, "somchai")  # ROAD and SCHOOL, not OTHER of another district
    await c.say("กราฟ")
    replies = await c.say(OTHER.code)
    assert replies[-1].text == texts.CHOOSE_PROJECT_HINT and not files(replies)
    replies = await c.send_payload(f"project:{OTHER.code}")
    assert not files(replies) and OTHER.name not in replies[-1].text
    assert files(await c.say(ROAD.code)), "the step stays: their own project still works"
    single = chat(world, "jai")  # SCHOOL only
    await single.say("แบบรายงาน")
    for payload in (f"project:{ROAD.code}", f"project:{OTHER.code}"):
        assert not files(await single.send_payload(payload))


async def test_a_chart_is_a_png(world: World) -> None:
    c = chat(world, "somchai")
    await c.say("/chart")
    replies = await c.press(SCHOOL.name)
    [(name, mime, data)] = files(replies)
    assert mime == PNG and data.startswith(PNG_MAGIC) and name.endswith(".png")
    assert SCHOOL.code in replies[-1].text


async def test_a_coordinator_sees_their_agency_only(world: World) -> None:
    c = chat(world, "ratana")  # coordinator of สำนักงานเขตลาดกระบัง
    await c.say("แบบรายงาน")
    assert [label[-14:-1] for label in c.last_choices()] == [ROAD.code, SCHOOL.code]
    replies = await c.say(OTHER.code)
    assert replies[-1].text == texts.CHOOSE_PROJECT_HINT and not files(replies)
    [(_, _, data)] = files(await c.say(ROAD.code))
    assert ROAD.code in pdf_text(data)


async def test_a_coordinator_gets_the_month_summary_with_a_chart(world: World) -> None:
    c = chat(world, "ratana")
    replies = await c.say("สรุป")
    text = "\n".join(r.text for r in replies)
    assert ROAD.code in text and SCHOOL.code in text
    assert OTHER.code not in text, "another district is not this coordinator's"
    assert "หน่วยงาน: สำนักงานเขตลาดกระบัง" in text
    [(_, mime, data)] = files(replies)
    assert mime == PNG and data.startswith(PNG_MAGIC)


async def test_a_coordinator_exports_only_their_scope(world: World) -> None:
    c = chat(world, "ratana")
    replies = await c.say("ส่งออก")
    [(name, mime, data)] = files(replies)
    assert mime == XLSX and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {ROAD.code, SCHOOL.code}


async def test_the_workbook_shows_times_in_the_configured_zone(
    world: World, tmp_path: Path
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    config = Config(database=tmp_path / "unused.sqlite3", timezone=tokyo)
    async with open_services(config, clock=lambda: NOW, repo=world.repo) as services:
        replies = await Chat(services.conversation, "ratana").say("ส่งออก")
    [(_, _, data)] = files(replies)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    sent = {row[0]: row[16] for row in sheet.iter_rows(min_row=2, values_only=True)}
    # Stored as sent at 10:00 in Bangkok: 12:00 in Tokyo.
    assert sent[ROAD.code] == datetime(2026, 10, 30, 12, 0)


async def test_officers_and_strangers_get_no_agency_files(world: World) -> None:
    officer = chat(world, "somchai")
    assert (await officer.say("/export"))[0].text == texts.COORDINATORS_ONLY
    summary = await officer.say("/summary")
    assert not files(summary) and summary[0].text.startswith("โครงการของ นายสมชาย ใจดี")
    assert ROAD.code in summary[0].text and "ล่าสุด ต.ค. 2569: 30.00 %" in summary[0].text
    stranger = chat(world, "nobody")
    for command in ("/form", "/chart", "/summary", "/export", "แบบรายงาน", "ส่งออก"):
        replies = await stranger.say(command)
        assert not files(replies)
        assert all(code not in r.text for r in replies for code in (ROAD.code, OTHER.code))


async def test_without_documents_the_bot_says_so(world: World) -> None:
    c = chat(world, "ratana", documents=False)
    assert (await c.say("/export"))[0].text == texts.DOCUMENTS_OFF
    replies = await chat(world, "jai", documents=False).say("/form")
    assert replies[-1].text == texts.DOCUMENTS_OFF


async def test_asking_for_a_file_mid_report_keeps_the_report(world: World) -> None:
    c = chat(world, "somchai")
    await c.say("ส่งรายงาน")
    assert "กี่เปอร์เซ็นต์" in c.last, "only ROAD has a month due: straight to its figure"
    replies = await c.say("/summary")
    assert ROAD.code in replies[0].text, "an officer's summary: their projects"
    assert "กี่เปอร์เซ็นต์" in replies[-1].text, "then the question is asked again"


async def test_a_coordinator_asks_for_another_month_or_year_as_people_type_them(
    world: World,
) -> None:
    c = chat(world, "ratana")
    # A fiscal year in which none of the coordinator's projects ran: said so, no empty file.
    for typed in ("ส่งออก 2564", "/export 2564", "ส่งออก ปีงบ 64 ครับ"):
        [reply] = await c.say(typed)
        assert reply.text == NO_PROJECTS_IN_YEAR.format(year=2564) and reply.attachment is None
    # This year's workbook: the caption counts what the file holds.
    [workbook] = await c.say("ส่งออก ปีงบประมาณ 2570")
    assert workbook.attachment is not None
    sheet = load_workbook(io.BytesIO(workbook.attachment.data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    projects = {row[0] for row in rows}
    assert f": {len(rows)} แถว ({len(projects)} โครงการ)" in workbook.text
    # Buttons for the years before; pressing one asks for that year.
    assert "ปีงบประมาณ 2569" in [choice.label for choice in workbook.choices]
    [earlier] = await c.press("ปีงบประมาณ 2569")
    assert earlier.text == NO_PROJECTS_IN_YEAR.format(year=2569)
    # A month, typed the ways people type it, for the summary.
    for typed in ("สรุป ต.ค.", "สรุปต.ค.", "สรุป ตุลาคม 2569", "สรุป 10/2569"):
        replies = await c.say(typed)
        assert "ต.ค. 2569" in "\n".join(r.text for r in replies), typed
    months = [choice.label for choice in replies[-1].choices]
    assert months[0] == "พ.ย. 2569" and "ก.ย. 2569" in months, "now, and the months before"
    # A Gregorian year, or something else: what to type instead.
    [hint] = await c.say("ส่งออก 2021")
    assert hint.text == GREGORIAN_YEAR.format(year=2021, thai=2564)
    [hint] = await c.say("สรุป เมื่อวาน")
    assert hint.text == NOT_A_PERIOD
