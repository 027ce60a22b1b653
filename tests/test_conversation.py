"""Dialogue scripts through the conversation, with a real SQLite store and a fixed clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.limits import TEXT_LIMIT
from domain.messages import Inbound, Reply
from domain.models import ChatIdentity, EventMark, SessionState, Submission
from handlers import texts
from handlers.conversation import INTERNAL_ERROR, Conversation, Send
from storage.sqlite import SqliteStorage
from tests.support import (
    BANGKOK,
    NOW,
    ROAD,
    SCHOOL,
    Chat,
    Counting,
    World,
    build_world,
    stored_report,
    values,
)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        yield await build_world(repo)
    finally:
        await repo.close()


def chat(world: World, user: str = "somchai") -> Chat:
    return Chat(Conversation(world.repo, lambda: NOW), user)


async def to_progress_step(c: Chat) -> None:
    """Officer with two projects starts the ROAD report for November."""
    await c.say("ส่งรายงาน")
    await c.say("1")  # ROAD, listed first by code
    assert "ต.ค. 2569" in c.last_choices()[0], "the overdue month is offered first"
    await c.press("พ.ย. 2569")
    assert "กี่เปอร์เซ็นต์" in c.last


async def test_unknown_user_learns_how_to_link_and_sees_nothing(world: World) -> None:
    c = chat(world, "stranger")
    for text in ("ส่งรายงาน", "/status", "สวัสดี"):
        replies = await c.say(text)
        assert [r.text for r in replies] == [texts.UNKNOWN_USER]
    assert await world.repo.load_session("console", "stranger") is None


async def test_full_report_with_thai_digits_and_words(world: World) -> None:
    c = chat(world)
    await to_progress_step(c)
    await c.say("๘๐ %")
    assert "เบิกจ่ายสะสม" in c.last
    await c.say("5 หมื่น")
    await c.say("ประชุมชี้แจงผู้รับจ้าง")
    assert c.last == texts.ASK_ON_PLAN
    await c.press(texts.BTN_ON_PLAN)
    await c.say("ไม่")  # not on target: the reason is asked
    assert c.last == texts.ASK_TARGET_REASON
    await c.say("ผู้รับจ้างส่งมอบงานล่าช้า")
    summary = c.last
    assert "รายงานครั้งที่2 :: 23/11/2569 : ประชุมชี้แจงผู้รับจ้าง" in summary
    assert ":: ความก้าวหน้าของงานฯ = 80.00 %" in summary
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 50,000 บาท" in summary
    assert ": เป็นไปตามแผน" in summary
    assert ": ไม่เป็นไปตามเป้าหมาย (เหตุผล: ผู้รับจ้างส่งมอบงานล่าช้า)" in summary
    await c.press(texts.BTN_CONFIRM)
    assert "บันทึกรายงานครั้งที่ 2" in c.last

    report = await world.repo.get_report(ROAD.code, 2570, 2)
    assert report is not None
    assert report.values.progress == Decimal("80.00")
    assert report.values.disbursed == Decimal("50000.00")
    assert report.values.reported_on == date(2026, 11, 23)
    assert (report.values.on_plan, report.values.on_target) == (True, False)
    assert report.values.target_reason == "ผู้รับจ้างส่งมอบงานล่าช้า"
    assert report.sent_by == world.officer.id and report.channel == "console"
    assert await world.repo.load_session("console", "somchai") is None


async def test_single_project_and_month_go_straight_to_progress(world: World) -> None:
    c = chat(world, "jai")
    await c.say("/report")
    assert "รายงานครั้งที่ 2 (พ.ย. 2569) โครงการ 50140000-4002" in c.last


async def test_bad_figures_are_explained_and_the_step_stays(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    for bad in ("150", "ห้าสิบบาท?", "", "   ", "x" * 5000, "'; DROP TABLE projects; --"):
        replies = await c.say(bad)
        assert len(replies) == 1
        assert replies[0].text, "a Thai explanation is given"
        session = await world.repo.load_session("console", "jai")
        assert session is not None and session.state == "progress"
    await c.say("40")
    await c.say("400000")  # the budget is 360,000
    assert "มากกว่างบประมาณที่ได้รับ" in c.last
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "disbursed"
    await c.say("<b>1000</b>")
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "disbursed"


async def test_progress_lower_than_last_month_needs_a_reason(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    c = chat(world)
    await c.say("ส่งรายงาน")
    await c.say("1")
    assert "(รายงานครั้งก่อน: 30.00 %)" in c.last
    await c.say("25")
    assert "ต่ำกว่ารายงานครั้งก่อน" in c.last
    assert texts.BTN_DROP in c.last_choices()
    await c.press(texts.BTN_DROP)
    assert c.last == texts.ASK_DROP_REASON
    await c.say("เดือนก่อนประเมินเกินจริง")
    assert "เบิกจ่ายสะสม" in c.last
    await c.say("100000")
    await c.press(texts.BTN_NO_NOTE)
    await c.say("ใช่")
    await c.say("ใช่")
    assert "หมายเหตุ: ความก้าวหน้าลดลง: เดือนก่อนประเมินเกินจริง" in c.last
    await c.say("ยืนยัน")
    report = await world.repo.get_report(ROAD.code, 2570, 2)
    assert report is not None and report.values.progress == Decimal("25.00")
    revisions = await world.repo.revisions(report.id)
    assert revisions[0].reason == "ความก้าวหน้าลดลง: เดือนก่อนประเมินเกินจริง"


async def test_disbursed_lower_than_last_month_is_refused_until_explained(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    c = chat(world)
    await c.say("ส่งรายงาน")
    await c.say("1")
    await c.say("40")
    await c.say("90000")
    assert "ต่ำกว่ารายงานครั้งก่อน (100,000 บาท)" in c.last
    await c.say("120000")
    assert "ผลการดำเนินงาน" in c.last or "สรุปผล" in c.last


async def test_note_that_contradicts_the_money_is_asked_about(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.say("10")
    await c.say("0")
    await c.say("เบิกจ่ายได้ 1 เครือข่าย")
    assert "บันทึกกล่าวถึงการเบิกจ่ายเงิน แต่ยอดเบิกจ่ายสะสมเป็น 0 บาท" in c.last
    await c.press(texts.BTN_FIX_DISBURSED)
    assert "เบิกจ่ายสะสม" in c.last
    await c.say("90,000")
    assert c.last_choices()[0].startswith("ใช้ค่าเดิม: เบิกจ่ายได้ 1 เครือข่าย")
    await c.press("ใช้ค่าเดิม")
    assert c.last == texts.ASK_ON_PLAN


async def test_back_returns_to_the_previous_step_keeping_the_answer(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.say("35.5")
    await c.say("ย้อนกลับ")
    assert "กี่เปอร์เซ็นต์" in c.last
    assert c.last_choices() == ["ใช้ค่าเดิม: 35.50 %"]
    await c.press("ใช้ค่าเดิม")
    assert "เบิกจ่ายสะสม" in c.last


async def test_cancel_forgets_the_draft_and_stores_nothing(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.say("35")
    await c.say("/cancel")
    assert c.last == texts.CANCELLED
    assert await world.repo.load_session("console", "jai") is None
    assert await world.repo.reports_of_project(SCHOOL.code) == []


async def test_a_restart_resumes_the_conversation(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.say("35")
    restarted = chat(world, "jai")  # a new process: nothing in memory
    await restarted.say("10000")
    assert "สรุปผลการดำเนินงาน" in restarted.last


async def test_stale_buttons_and_stickers_change_nothing(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.send_payload("confirm:yes")
    assert c.last.startswith(f"{texts.STALE_BUTTON}\n"), "an old button: said so"
    assert "กี่เปอร์เซ็นต์" in c.last, "with the question asked now"
    await c._send(Inbound.other("console", "jai"))
    assert c.last == texts.NOT_TEXT
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "progress"


async def test_confirming_twice_stores_once(world: World) -> None:
    c = chat(world, "jai")
    for text in ("ส่งรายงาน", "35", "1000", "-", "ใช่", "ใช่"):
        await c.say(text)
    confirm = next(ch.payload for ch in c.replies[-1].choices if ch.label == texts.BTN_CONFIRM)
    await c.send_payload(confirm)
    await c.send_payload(confirm)  # redelivered
    assert c.last == texts.STALE_BUTTON
    assert len(await world.repo.reports_of_project(SCHOOL.code)) == 1


async def test_a_confirmation_lost_in_a_crash_is_given_when_the_press_comes_again(
    world: World,
) -> None:
    c = chat(world, "jai")
    for text in ("ส่งรายงาน", "35", "1000", "-", "ใช่", "ใช่"):
        await c.say(text)
    confirm = next(ch.payload for ch in c.replies[-1].choices if ch.label == texts.BTN_CONFIRM)
    press = Inbound.pressed("console", "jai", confirm, event_id="update-77")
    await c.conversation.handle(press)  # stored; say the bot died before the answer went out
    again = await c.conversation.handle(press)  # the platform delivers the press again
    assert again[0].text == texts.ALREADY_DONE.format(
        report_no=2, month="พ.ย. 2569", code=SCHOOL.code
    )
    assert len(await world.repo.reports_of_project(SCHOOL.code)) == 1
    later = Conversation(world.repo, lambda: NOW + timedelta(hours=1))
    replayed = await later.handle(press)  # long after: only the menu, as for any old update
    assert replayed[0].text == texts.MENU


async def test_a_month_outside_the_project_is_refused_saying_why(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "0")
    c = chat(world)
    await c.say("ส่งรายงาน")
    await c.say("2")  # SCHOOL starts in November: only November is open, no month choice
    await c.say("ย้อนกลับ")
    await c.say("1")
    # ROAD has October sent and November open: straight to progress
    assert "พ.ย. 2569" in c.last
    c2 = chat(world)
    await c2.say("แก้ไข")
    assert c2.last == texts.DISCARD_QUESTION, "the November draft is not thrown away unasked"
    await c2.press(texts.BTN_DISCARD)  # only ROAD has reports: straight to its months
    await c2.say("ธันวาคม")
    assert "ยังไม่มีรายงานให้แก้ไข" in c2.last


async def test_typed_month_outside_dates(world: World) -> None:
    c = chat(world)
    await c.say("ส่งรายงาน")
    await c.say("1")
    await c.say("ก.ย. 2569")
    assert "โครงการเริ่มเมื่อ 1 ต.ค. 2569" in c.last
    await c.say("มกราคม 2570")
    assert "ยังไม่ถึงเดือน ม.ค. 2570" in c.last
    await c.say("ตุลาคม")
    assert "รายงานครั้งที่ 1 (ต.ค. 2569)" in c.last


async def test_correction_keeps_the_first_version(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    c = chat(world)
    await c.say("แก้ไข")  # only ROAD has reports: straight to its months
    await c.say("1")  # the only sent month
    assert "เหตุผลของการแก้ไข" in c.last
    await c.say("พิมพ์ยอดเบิกจ่ายผิด")
    await c.press("ใช้ค่าเดิม")
    await c.say("120000")
    await c.press(texts.BTN_NO_NOTE)
    await c.say("ใช่")
    await c.say("ใช่")
    assert "การแก้ไข เหตุผล: พิมพ์ยอดเบิกจ่ายผิด" in c.last
    await c.press(texts.BTN_CONFIRM)
    assert "ฉบับแก้ไขที่ 2" in c.last
    report = await world.repo.get_report(ROAD.code, 2570, 1)
    assert report is not None and report.values.disbursed == Decimal("120000")
    assert report.values.reported_on == date(2026, 10, 30), "a correction keeps the report date"
    first, second = await world.repo.revisions(report.id)
    assert first.values.disbursed == Decimal("100000") and first.reason == ""
    assert second.reason == "พิมพ์ยอดเบิกจ่ายผิด" and second.changed_by == world.officer.id


async def test_status_for_officer_and_coordinator(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    c = chat(world)
    await c.say("สถานะ")
    text = c.replies[-1].text
    assert "50140000-4001" in text and "ล่าสุด ครั้งที่ 1 (ต.ค. 2569): 30.00 %" in text
    assert "ต้องส่ง: รายงานเดือน พ.ย. 2569 ภายใน 30 พ.ย. 2569" in text
    coordinator = chat(world, "ratana")
    await coordinator.say("/status")
    text = coordinator.last
    assert "ส่งแล้ว 0 โครงการ, ยังไม่ส่ง 2 โครงการ" in text
    assert "50150000-1001" not in text, "another district is not this coordinator's"


async def test_history_lists_sent_reports(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    c = chat(world)
    await c.say("ประวัติ")
    await c.say("1")
    assert "รายงานครั้งที่1 :: 30/10/2569 :\n:: ความก้าวหน้าของงานฯ = 30.00 %" in c.last
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 1) = 100,000 บาท" in c.last


async def test_help_in_the_middle_keeps_the_step(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    replies = await c.say("ช่วยเหลือ")
    assert replies[0].text == texts.HELP
    assert "กี่เปอร์เซ็นต์" in replies[1].text


async def test_too_long_message_is_refused_politely(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.say("35")
    await c.say("1000")
    await c.say("ก" * (TEXT_LIMIT + 1))
    assert "ยาว" in c.last
    await c.say("ข" * 600)
    assert "เกินกำหนด 500 ตัวอักษร" in c.last
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "note"


async def test_only_projects_with_something_due_are_offered(world: World) -> None:
    for month in (1, 2):
        await stored_report(world.repo, ROAD.code, month, "30", "0")
    c = chat(world)
    await c.say("ส่งรายงาน")
    # ROAD has October and November sent: only SCHOOL is left, so no project question.
    assert "โครงการ 50140000-4002" in c.last
    await stored_report(world.repo, SCHOOL.code, 2, "10", "0")
    await c.say("ส่งรายงาน")
    await c.press(texts.BTN_DISCARD)
    assert c.last == texts.NOTHING_DUE


async def test_correction_offers_only_projects_with_reports(world: World) -> None:
    c = chat(world, "jai")
    await c.say("แก้ไข")
    assert c.last == texts.NOTHING_TO_CORRECT
    assert await world.repo.load_session("console", "jai") is None


async def test_a_pending_lower_figure_never_lands_in_the_other_field(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    await world.repo.submit_report(
        Submission(ROAD.code, 2570, 2, values("40", "200000"), None, "import", NOW)
    )
    c = chat(world)
    await c.say("แก้ไข")
    await c.say("พ.ย.")
    await c.say("ตัวเลขเดิมผิด")
    await c.say("20")  # below October's 30 %: waits for a reason
    assert texts.BTN_DROP in c.last_choices()
    await c.press("ใช้ค่าเดิม")  # keeps 40 % instead
    assert texts.BTN_DROP not in c.last_choices(), "the waiting 20 is forgotten"
    await c.say("50000")  # below October's 100,000: this one waits for a reason
    await c.press(texts.BTN_DROP)
    await c.say("คืนเงินให้สำนักการคลัง")
    await c.press(texts.BTN_NO_NOTE)
    await c.say("ใช่")
    await c.say("ใช่")
    assert ":: ความก้าวหน้าของงานฯ = 40.00 %" in c.last
    assert "= 50,000 บาท" in c.last
    assert "หมายเหตุ: ยอดเบิกจ่ายลดลง: คืนเงินให้สำนักการคลัง" in c.last
    assert "ความก้าวหน้าลดลง" not in c.last
    await c.press(texts.BTN_CONFIRM)
    report = await world.repo.get_report(ROAD.code, 2570, 2)
    assert report is not None
    assert (report.values.progress, report.values.disbursed) == (Decimal(40), Decimal(50000))


async def test_an_explanation_goes_away_when_the_figure_is_typed_again(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "30", "100000")
    c = chat(world)
    await c.say("ส่งรายงาน")
    await c.say("1")
    await c.say("20")
    await c.press(texts.BTN_DROP)
    await c.say("พิมพ์ผิดเดือนก่อน")
    await c.say("ย้อนกลับ")  # back to the progress question
    await c.say("50")  # now above October's: no explanation needed any more
    await c.say("100000")
    await c.press(texts.BTN_NO_NOTE)
    await c.say("ใช่")
    await c.say("ใช่")
    assert "หมายเหตุ" not in c.last
    await c.say("ยืนยัน")
    report = await world.repo.get_report(ROAD.code, 2570, 2)
    assert report is not None
    first = (await world.repo.revisions(report.id))[0]
    assert first.reason == ""


async def test_the_stored_date_is_the_date_shown(world: World) -> None:
    clock = [datetime(2026, 11, 30, 23, 58, tzinfo=BANGKOK)]
    c = Chat(Conversation(world.repo, lambda: clock[0]), "jai")
    for text in ("ส่งรายงาน", "35", "1000", "-", "ใช่", "ใช่"):
        await c.say(text)
    assert "รายงานครั้งที่2 :: 30/11/2569" in c.last
    clock[0] = datetime(2026, 12, 1, 0, 3, tzinfo=BANGKOK)
    replies = await c.say("ยืนยัน")
    assert replies[0].text == texts.DATE_CHANGED
    assert "รายงานครั้งที่2 :: 01/12/2569" in replies[1].text
    await c.say("ยืนยัน")
    report = await world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None and report.values.reported_on == date(2026, 12, 1)


async def test_starting_again_mid_report_asks_before_discarding(world: World) -> None:
    c = chat(world, "jai")
    await c.say("ส่งรายงาน")
    await c.say("35")
    for word in ("ส่งรายงาน", "ประวัติ", "/correct"):
        await c.say(word)
        assert c.last == texts.DISCARD_QUESTION
        await c.press(texts.BTN_RESUME)
        assert "เบิกจ่ายสะสม" in c.last, "the draft goes on where it was"
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "disbursed"
    await c.say("ส่งรายงาน")
    await c.press(texts.BTN_DISCARD)
    assert "กี่เปอร์เซ็นต์" in c.last
    assert "ใช้ค่าเดิม" not in " ".join(c.last_choices()), "a fresh draft"


async def test_the_menu_numbers_work_when_idle(world: World) -> None:
    c = chat(world, "jai")
    await c.say("อะไรนะ")
    assert c.last == texts.MENU
    await c.say("2")  # [2] สถานะ
    assert "โครงการของคุณ" in c.last
    await c.say("๑")  # [1] ส่งรายงาน, in Thai digits
    assert "กี่เปอร์เซ็นต์" in c.last


async def test_a_forged_command_button_is_refused_politely(world: World) -> None:
    c = chat(world, "jai")
    await c.send_payload("cmd:nonsense")
    assert c.last == texts.STALE_BUTTON
    await c.send_payload("cmd:__class__")
    assert c.last == texts.STALE_BUTTON


async def test_typed_answers_at_the_note_question(world: World) -> None:
    c = chat(world, "jai")
    for text in ("ส่งรายงาน", "10", "0", "เบิกจ่ายได้แล้ว"):
        await c.say(text)
    assert "ข้อมูลถูกต้องหรือไม่" in c.last
    await c.say("ไม่")
    assert "สรุปผลการดำเนินงาน" in c.last, "no: write the note again"
    await c.say("เบิกจ่ายได้แล้ว")
    await c.say("อะไรนะ")
    assert c.last == texts.NOTE_CHECK_HINT
    await c.say("ใช่")
    assert c.last == texts.ASK_ON_PLAN


async def test_a_correction_may_name_any_sent_month(world: World) -> None:
    for fiscal_year in (2569, 2570):
        for month in range(1, 13) if fiscal_year == 2569 else (1,):
            await world.repo.submit_report(
                Submission(ROAD.code, fiscal_year, month, values("10", "0"), None, "import", NOW)
            )
    c = chat(world)
    await c.say("แก้ไข")
    assert len(c.last_choices()) == 12, "the buttons show the latest twelve"
    await c.say("ต.ค. 68")  # October 2025, report 1 of 2569, not on a button
    assert "แก้ไขรายงานครั้งที่ 1 (ต.ค. 2568)" in c.last


async def test_a_coordinator_is_pointed_to_the_status(world: World) -> None:
    c = chat(world, "ratana")
    await c.say("ส่งรายงาน")
    assert c.last == texts.COORDINATOR_ONLY


# Turns: one person at a time, and events that are not messages


async def test_a_person_waits_for_the_answer_before_the_next_message(world: World) -> None:
    counting = Counting(world.repo)
    conversation = Conversation(counting.as_storage(), lambda: NOW)
    order: list[str] = []
    first_answered, release = asyncio.Event(), asyncio.Event()

    async def slow_send(reply: Reply) -> None:
        order.append("first answered")
        first_answered.set()
        await release.wait()  # say the channel is slow to deliver the first answer
        order.append("first sent")

    def recorder(name: str) -> Send:
        async def record(reply: Reply) -> None:
            order.append(f"{name} answered")

        return record

    first = asyncio.create_task(
        conversation.serve(Inbound.typed("console", "jai", "ส่งรายงาน"), slow_send)
    )
    await first_answered.wait()
    second = asyncio.create_task(
        conversation.serve(Inbound.typed("console", "jai", "35"), recorder("second"))
    )
    await asyncio.sleep(0)  # one pass of the loop: the second message starts as far as it may
    assert counting.calls["open_turn"] == 1, "the second turn has not even begun"
    await conversation.serve(Inbound.typed("console", "somchai", "สถานะ"), recorder("other"))
    assert order == ["first answered", "other answered"], "another person is not held up"
    assert not second.done(), "the same person waits"
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first answered", "other answered", "first sent", "second answered"]
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "disbursed", "35 answered the progress"


async def test_a_message_handled_before_is_answered_as_a_repeat(world: World) -> None:
    conversation = Conversation(world.repo, lambda: NOW)
    replies: list[Reply] = []

    async def keep(reply: Reply) -> None:
        replies.append(reply)

    typed = Inbound.typed("console", "jai", "ส่งรายงาน", event_id="u-1")
    await conversation.serve(typed, keep)
    await conversation.serve(typed, keep)
    assert [r.repeat for r in replies] == [False, True]
    assert "กี่เปอร์เซ็นต์" in replies[1].messages[0].text, "where things stand"
    session = await world.repo.load_session("console", "jai")
    assert session is not None and session.state == "progress", "nothing changed"


async def test_unfollow_blocks_and_follow_unblocks_and_greets(world: World) -> None:
    conversation = Conversation(world.repo, lambda: NOW)
    gone = Inbound.unfollowed("line", "U-jai", event_id="f-1")
    await world.repo.link_identity(ChatIdentity("line", "U-jai", world.single.id))
    assert await conversation.handle(gone) == []
    assert await world.repo.blocked_accounts() == {("line", "U-jai")}
    assert await world.repo.event_handled("line", "f-1")
    assert await conversation.handle(gone) == [], "delivered again: still nothing to say"
    back = await conversation.handle(Inbound.followed("line", "U-jai", event_id="f-2"))
    assert back[0].text == texts.HELP
    assert await world.repo.blocked_accounts() == set()
    stranger = await conversation.handle(Inbound.followed("line", "U-new", event_id="f-3"))
    assert stranger[0].text == texts.UNKNOWN_USER
    assert await world.repo.event_handled("line", "f-3")


async def test_a_past_day_without_a_year_is_said_to_be_past(world: World) -> None:
    c = chat(world)
    await c.say("ไม่อยู่")
    await c.say("20 พ.ย.")  # three days before NOW
    assert c.last == texts.AWAY_DAY_PAST.format(day="20 พ.ย. 2569")


async def test_any_colleague_of_the_office_can_be_found_by_name(world: World) -> None:
    """Eleven colleagues: the buttons show the first ten by name, and the eleventh (last by
    name) is found by typing part of the name."""
    for n in range(11):
        colleague = await world.repo.add_person(f"นายเพื่อน{n:02d} ร่วมเขต", roles=frozenset())
        await world.repo.link_officer(colleague.id, SCHOOL.code)
    c = chat(world)
    await c.say("ไม่อยู่")
    await c.say("5 ธ.ค.")
    assert len(c.last_choices()) == 10 and texts.DELEGATE_SEARCH in c.last
    await c.say("เพื่อน")
    assert c.last == texts.DELEGATE_MANY
    await c.say("เพื่อน10")  # not among the buttons
    assert "นายเพื่อน10 ร่วมเขต" in c.last
    await c.say("ยืนยัน")
    (stand_in,) = await world.repo.delegations_on(NOW.date())
    person = await world.repo.get_person(stand_in.delegate_id)
    assert person is not None and person.name == "นายเพื่อน10 ร่วมเขต"


class FullDisk(SqliteStorage):
    """The SQLite store, whose session writes fail while `full` is set (as on a full disk)."""

    full = False

    async def save_session(self, session: SessionState, *, event: EventMark | None = None) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        await super().save_session(session, event=event)


async def test_a_failed_storage_write_is_answered_politely_and_the_next_message_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = await FullDisk.open(":memory:")
    assert isinstance(repo, FullDisk)
    try:
        c = chat(await build_world(repo))
        await to_progress_step(c)
        repo.full = True
        with caplog.at_level(logging.ERROR, logger="handlers.conversation"):
            replies = await c.say("80")
        assert [r.text for r in replies] == [INTERNAL_ERROR], "a polite Thai apology, no raise"
        assert "database or disk is full" in caplog.text, "the fault is logged for the admin"
        session = await repo.load_session("console", "somchai")
        assert session is not None and session.state == "progress", "the step is kept"

        repo.full = False
        await c.say("80")  # the same conversation, as the same process, goes on
        assert "เบิกจ่ายสะสม" in c.last
    finally:
        await repo.close()


class Unreachable(SqliteStorage):
    """A database whose person's turn cannot be taken (PostgreSQL down, as another process
    would find it) while `down`."""

    down = False

    @contextlib.asynccontextmanager
    async def person_turn(self, channel: str, external_id: str) -> AsyncIterator[None]:
        if self.down:
            raise ConnectionRefusedError("the database server is not answering")
        yield


async def test_a_turn_that_cannot_be_taken_is_answered_politely(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = await Unreachable.open(":memory:")
    assert isinstance(repo, Unreachable)
    try:
        c = chat(await build_world(repo))
        await to_progress_step(c)
        repo.down = True
        with caplog.at_level(logging.ERROR, logger="handlers.conversation"):
            replies = await c.say("80")
        assert [r.text for r in replies] == [INTERNAL_ERROR], "an apology, not silence"
        assert "not answering" in caplog.text
        repo.down = False
        await c.say("80")  # nothing was lost: the step goes on
        assert "เบิกจ่ายสะสม" in c.last
    finally:
        await repo.close()
