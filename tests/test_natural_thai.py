"""Officers type the way Thai people type: every example of the issue through the conversation.

Polite endings, everyday words, typos, emoji; a typed reply always answers the question on
screen; doubtful figures are asked back; short answers for a phone; polite refusals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from domain.models import Role
from handlers import texts
from handlers.conversation import Conversation
from reports.documents import ReportDocuments
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK, NOW, ROAD, SCHOOL, Chat, World, build_world, stored_report

REPORT = ["ส่งรายงาน"]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        yield await build_world(repo)
    finally:
        await repo.close()


def chat(world: World, user: str = "jai") -> Chat:
    documents = ReportDocuments(world.repo, zone=BANGKOK)
    return Chat(Conversation(world.repo, lambda: NOW, documents=documents), user)


async def state(world: World, user: str = "jai") -> str:
    session = await world.repo.load_session("console", user)
    return session.state if session else "idle"


async def typed(c: Chat, *replies: str) -> None:
    for reply in replies:
        await c.say(reply)


# Polite endings


async def test_a_whole_report_with_polite_endings(world: World) -> None:
    c = chat(world)
    await typed(c, "ส่งรายงานค่ะ", "๘๐ ค่ะ", "5 หมื่น ค่ะ", "ประชุมชี้แจงผู้รับจ้างค่ะ")
    await typed(c, "ใช่ค่ะ", "ไม่ครับ", "ผู้รับจ้างส่งงานช้าครับ", "ยืนยันค่ะ")
    assert "บันทึกรายงานครั้งที่ 2" in c.last
    report = await world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None
    assert (report.values.progress, report.values.disbursed) == (Decimal(80), Decimal(50000))
    assert report.values.note == "ประชุมชี้แจงผู้รับจ้าง", "the particle is not part of the note"
    assert report.values.target_reason == "ผู้รับจ้างส่งงานช้า"
    assert (report.values.on_plan, report.values.on_target) == (True, False)


@pytest.mark.parametrize("reply", ["80ครับ", "๘๐ ค่ะ", "80 นะคะ", "80%ค่ะ", "แปดสิบค่ะ", "80 ครับผม"])
async def test_progress_with_a_polite_ending(world: World, reply: str) -> None:
    c = chat(world)
    await typed(c, *REPORT, reply, "0", "-", "ใช่", "ใช่")
    assert ":: ความก้าวหน้าของงานฯ = 80.00 %" in c.last


async def test_cancel_with_a_polite_ending(world: World) -> None:
    c = chat(world)
    await typed(c, *REPORT, "40", "ยกเลิกค่ะ")
    assert c.last == texts.CANCELLED
    assert await state(world) == "idle"


# Everyday words


@pytest.mark.parametrize(
    ("reply", "on_plan"),
    [("ตามแผน", True), ("ตามแผนค่ะ", True), ("ไม่ตามแผน", False), ("ล่าช้า", False),
     ("ล่าช้าครับ", False), ("ช้ากว่าแผน", False)],
)  # fmt: skip
async def test_on_plan_in_everyday_words(world: World, reply: str, on_plan: bool) -> None:
    c = chat(world)
    await typed(c, *REPORT, "10", "0", "-", reply)
    assert await state(world) == ("on_target" if on_plan else "plan_reason")


@pytest.mark.parametrize("reply", ["ครบแล้ว", "เสร็จแล้วค่ะ", "เสร็จ", "เสร็จเรียบร้อยแล้วครับ"])
async def test_finished_work_is_100_percent(world: World, reply: str) -> None:
    c = chat(world)
    await typed(c, *REPORT, reply, "0", "-", "ใช่", "ใช่")
    assert ":: ความก้าวหน้าของงานฯ = 100.00 %" in c.last


@pytest.mark.parametrize("reply", ["ไม่ได้ใช้เงิน", "ยังไม่ได้เบิก", "ไม่มี", "-", "ยังไม่ได้เบิกค่ะ", "ศูนย์บาท"])
async def test_no_spending_is_zero_baht(world: World, reply: str) -> None:
    c = chat(world)
    await typed(c, *REPORT, "10", reply, "-", "ใช่", "ใช่")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 0 บาท" in c.last


@pytest.mark.parametrize("reply", ["ส่ง", "โอเค", "👍", "ส่งเลยค่ะ", "ok ครับ", "ค่ะ"])
async def test_everyday_confirmations(world: World, reply: str) -> None:
    c = chat(world)
    await typed(c, *REPORT, "10", "0", "-", "ใช่", "ใช่", reply)
    assert "บันทึกรายงานครั้งที่ 2" in c.last


@pytest.mark.parametrize("command", ["ส่งรายงานค่ะ", "ส่ง รายงาน", "ส่งราบงาน", "ส่งรายงานนน"])
async def test_the_report_command_as_people_type_it(world: World, command: str) -> None:
    c = chat(world)
    await c.say(command)
    assert "กี่เปอร์เซ็นต์" in c.last


async def test_no_note_with_a_polite_ending_stores_no_note(world: World) -> None:
    c = chat(world)
    await typed(c, *REPORT, "10", "0", "ไม่มีค่ะ", "ใช่", "ใช่", "ยืนยัน")
    report = await world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None and report.values.note == ""


async def test_greetings_and_thanks_are_answered_in_kind(world: World) -> None:
    c = chat(world)
    [hello] = await c.say("สวัสดีครับ")
    assert hello.text.startswith("สวัสดีคุณใจงาม")
    assert texts.BTN_REPORT in [choice.label for choice in hello.choices]
    [thanks] = await c.say("ขอบคุณค่ะ 🙏")
    assert thanks.text == texts.THANKS and thanks.choices
    await c.say("ส่งรายงาน")
    replies = await c.say("ขอบคุณค่ะ")  # mid-report: thanks, then the question again
    assert replies[0].text == texts.THANKS and "กี่เปอร์เซ็นต์" in replies[1].text
    assert await state(world) == "progress"


# A typed reply answers the question on screen


async def test_a_number_after_the_discard_question_answers_it(world: World) -> None:
    c = chat(world)
    await typed(c, *REPORT, "40")  # at the spending question
    await c.say("ส่งรายงาน")
    assert c.last == texts.DISCARD_QUESTION
    await c.say("1")  # [1] ทิ้งแล้วเริ่มใหม่: not 1 baht
    assert "กี่เปอร์เซ็นต์" in c.last and "ใช้ค่าเดิม" not in " ".join(c.last_choices())
    await typed(c, "50")
    await c.say("ส่งรายงาน")
    await c.say("2")  # [2] ทำต่อ
    assert "เบิกจ่ายสะสม" in c.last and await state(world) == "disbursed"
    await c.say("ส่งรายงาน")
    await c.say("30000")  # neither choice: the question on screen is asked again
    assert c.last == f"{texts.CHOOSE_HINT}\n{texts.DISCARD_QUESTION}"
    await c.say("อะไรนะ")  # and again, the same way (the hint is not piled up)
    assert c.last == f"{texts.CHOOSE_HINT}\n{texts.DISCARD_QUESTION}"
    await c.say("ทำต่อค่ะ")  # a choice by its words
    await c.say("30000")
    assert await state(world) == "note", "the amount is taken only once the question is gone"


async def test_a_number_at_the_note_question_presses_its_button(world: World) -> None:
    c = chat(world)
    await typed(c, *REPORT, "10", "0", "1")  # [1] ไม่มีบันทึก
    assert c.last == texts.ASK_ON_PLAN
    await typed(c, "ใช่", "ใช่", "ยืนยัน")
    report = await world.repo.get_report(SCHOOL.code, 2570, 2)
    assert report is not None and report.values.note == ""


async def test_looking_at_a_list_is_not_an_unfinished_report(world: World) -> None:
    c = chat(world, "somchai")
    for start, then in (("ประวัติ", "สถานะ"), ("แบบรายงาน", "ส่งรายงาน"), ("ส่งรายงาน", "แก้ไข")):
        await c.say(start)
        await c.say(then)
        assert c.last != texts.DISCARD_QUESTION, f"{start} then {then}"
        await c.say("ยกเลิก")


# Doubtful figures are asked back


async def test_an_amount_far_below_the_budget_is_asked_back(world: World) -> None:
    c = chat(world, "somchai")
    await typed(c, "ส่งรายงาน", "1", "พ.ย.", "10")  # ROAD, budget 1,200,000 baht
    await c.say("1.2")
    assert "1.20 บาท น้อยมากเมื่อเทียบกับงบประมาณที่ได้รับ (1,200,000 บาท)" in c.last
    assert c.last_choices() == ["1,200,000 บาท", "1,200 บาท", "1.20 บาท", texts.BTN_RETYPE]
    await c.say("1")
    await typed(c, "-", "ใช่", "ใช่")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 1,200,000 บาท" in c.last
    await c.say("ยกเลิก")
    await typed(c, "ส่งรายงาน", "1", "พ.ย.", "10", "1.2")
    await c.press("1.20 บาท")  # as typed, after all
    assert "สรุปผล" in c.last
    await typed(c, "ยกเลิก", "ส่งรายงาน", "1", "พ.ย.", "10", "1.2 ล้าน")  # a unit: no question
    assert "สรุปผล" in c.last


async def test_a_figure_typed_again_at_its_question_back_is_taken(world: World) -> None:
    c = chat(world, "somchai")
    await typed(c, "ส่งรายงาน", "1", "พ.ย.", "10", "4")  # 4 baht of 1,200,000: asked back
    assert "4 บาท น้อยมาก" in c.last
    await c.say("40,000 บาทครับ")  # no button: the amount typed again
    assert "สรุปผลการดำเนินงานเดือนนี้" in c.last
    await typed(c, "-", "ใช่", "ใช่")
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 40,000 บาท" in c.last
    await typed(c, "ยกเลิก", "ส่งรายงาน", "1", "พ.ย.", "10", "4", "สี่หมื่น")
    assert "สรุปผลการดำเนินงานเดือนนี้" in c.last
    await typed(c, "ยกเลิก", "ส่งรายงาน", "1", "พ.ย.", "10", "4", "อะไรนะ")
    assert "อ่านจำนวนเงินไม่ได้" in c.last, "a reply that is no amount is refused as one"


async def test_progress_jumping_in_a_month_is_asked_back(world: World) -> None:
    await stored_report(world.repo, ROAD.code, 1, "10", "1000")
    c = chat(world, "somchai")
    await typed(c, "ส่งรายงาน", "1", "95")
    assert "เพิ่มจากรายงานครั้งก่อน (10.00 %) ถึง 85.00 จุด" in c.last
    await c.press(texts.BTN_RETYPE)
    assert c.last == texts.RETYPE
    await c.say("35")
    assert "เบิกจ่ายสะสม" in c.last


async def test_a_figure_asked_back_is_answered_yes_or_no_as_officers_type_it(
    world: World,
) -> None:
    """ "ถูกต้อง 95.00 %?" answered in words: a yes takes the figure, a no asks it again."""
    await stored_report(world.repo, ROAD.code, 1, "10", "1000")
    c = chat(world, "somchai")
    for yes in ("ถูกต้องค่ะ", "ใช่ครับ", "ถูกแล้วนะคะ", "ครับ"):
        await typed(c, "ยกเลิก", "ส่งรายงาน", "1", "95")
        assert "85.00 จุด" in c.last
        await c.say(yes)
        assert "เบิกจ่ายสะสม" in c.last, yes
    await typed(c, "ยกเลิก", "ส่งรายงาน", "1", "95", "ไม่ใช่ค่ะ")
    assert c.last == texts.RETYPE
    await c.say("๓๕")
    assert "เบิกจ่ายสะสม" in c.last
    # Several readings are no yes/no question: a yes picks none of them.
    await typed(c, "ยกเลิก", "ส่งรายงาน", "1", "35", "1.2")
    await c.say("ใช่ค่ะ")
    assert "เบิกจ่ายสะสม" not in c.last and "สรุปผล" not in c.last


async def test_progress_typed_as_a_fraction_is_asked_back(world: World) -> None:
    c = chat(world)
    await typed(c, *REPORT, "0.8")
    assert c.last_choices()[:2] == ["80.00 %", "0.80 %"]
    await c.say("1")
    await typed(c, "0", "-", "ใช่", "ใช่")
    assert ":: ความก้าวหน้าของงานฯ = 80.00 %" in c.last


# Menus, lists and other answers


async def test_a_coordinator_is_offered_what_a_coordinator_can_do(world: World) -> None:
    c = chat(world, "ratana")
    [menu] = await c.say("เมนู")
    labels = [choice.label for choice in menu.choices]
    assert texts.BTN_REPORT not in labels and texts.BTN_CORRECT not in labels
    assert texts.BTN_SUMMARY in labels and texts.BTN_EXPORT in labels


async def test_back_with_nothing_in_progress_shows_the_menu(world: World) -> None:
    c = chat(world)
    [reply] = await c.say("ย้อนกลับ")
    assert reply.text == texts.NOTHING_TO_CANCEL and reply.choices


async def test_correcting_lists_the_reports_oldest_first_and_names_the_project(
    world: World,
) -> None:
    await stored_report(world.repo, ROAD.code, 1, "10", "1000")
    await stored_report(world.repo, ROAD.code, 2, "20", "2000")
    c = chat(world, "somchai")
    await c.say("แก้ไข")  # only ROAD has reports: picked without asking, but named
    assert f"โครงการ: {ROAD.name} ({ROAD.code})" in c.last
    assert c.last_choices()[0].startswith("ต.ค. 2569 (ครั้งที่ 1")
    await c.say("1")
    assert "แก้ไขรายงานครั้งที่ 1" in c.last


async def test_away_without_a_colleague_says_so(world: World) -> None:
    loner = await world.repo.add_person("นายเดี่ยว", roles=frozenset({Role.OFFICER}))
    from domain.models import ChatIdentity

    await world.repo.link_identity(ChatIdentity("console", "loner", loner.id))
    c = chat(world, "loner")
    await typed(c, "ไม่อยู่", "5 ธ.ค.")
    assert c.last == texts.NO_COLLEAGUES and await state(world, "loner") == "idle"


async def test_history_shows_the_latest_three_and_the_rest_on_request(world: World) -> None:
    for month in range(1, 6):
        await stored_report(world.repo, ROAD.code, month, str(10 * month), "1000")
    c = chat(world, "somchai")
    await typed(c, "ประวัติ", "1")
    shown = c.last
    assert "รายงาน 5 ครั้ง" in shown and "(แสดง 3 ครั้งล่าสุด)" in shown
    assert "รายงานครั้งที่3 ::" in shown and "รายงานครั้งที่2 ::" not in shown
    more = await c.press(texts.BTN_ALL_REPORTS)
    assert len(more) == 2, "four reports to a message"
    assert all(f"รายงานครั้งที่{n} ::" in "\n".join(m.text for m in more) for n in range(1, 6))


async def test_refusals_are_polite_and_say_what_is_expected(world: World) -> None:
    c = chat(world)
    await typed(c, *REPORT, "10")
    await c.say("ประมาณครึ่งหนึ่ง")
    assert c.last.startswith("ขออภัย ระบบอ่านจำนวนเงินไม่ได้ กรุณาพิมพ์จำนวนเงินเป็นบาท เช่น")
