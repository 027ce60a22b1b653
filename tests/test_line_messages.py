"""How replies look on LINE: quick replies or Flex buttons, LINE's limits, and the files policy."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from linebot.v3.messaging import Message

from bot.line_files import FILES_PATH, FileShelf
from bot.line_messages import (
    FILE_UNAVAILABLE,
    MAX_TEXT,
    fit,
    render,
    render_turn,
    split_text,
)
from domain.messages import Attachment, Choice, Outbound
from tests.support import NOW

YES_NO = (Choice("ใช่", "yes"), Choice("ไม่", "no"))
PNG = Attachment("กราฟ.png", b"\x89PNG fake", "image/png")
PDF = Attachment("แบบรายงาน 2570.pdf", b"%PDF fake", "application/pdf")


def dump(message: dict[str, Any]) -> dict[str, Any]:
    """A message as line-bot-sdk's models read it and write it back: what the SDK would send."""
    model = Message.from_dict(message)
    result = model.to_dict()
    assert isinstance(result, dict)
    assert result == message, "the SDK would send something else"
    return result


def test_short_choices_of_the_last_reply_are_quick_replies() -> None:
    [message] = render(Outbound("เป็นไปตามแผนหรือไม่", YES_NO), last=True, shelf=None)
    data = dump(message)
    assert data["text"] == "เป็นไปตามแผนหรือไม่"
    items = data["quickReply"]["items"]
    assert [(i["action"]["label"], i["action"]["data"]) for i in items] == [
        ("ใช่", "yes"),
        ("ไม่", "no"),
    ]
    assert items[0]["action"]["displayText"] == "ใช่", "the chat shows what was pressed"


def test_long_labels_many_choices_or_an_earlier_reply_get_flex_buttons() -> None:
    long = (Choice("ปรับปรุงถนนซอยลาดกระบัง 14 (50140000-4001)", "p:1"), *YES_NO)
    many = tuple(Choice(f"ตัวเลือก {n}", f"c:{n}") for n in range(14))
    for reply, last in ((Outbound("เลือกโครงการ", long), True), (Outbound("x", many), True)):
        text, flex = render(reply, last=last, shelf=None)
        assert dump(text)["text"] == reply.text and "quickReply" not in dump(text)
        assert dump(flex)["type"] == "flex"
    text, flex = render(Outbound("ก่อนหน้า", YES_NO), last=False, shelf=None)
    assert dump(flex)["type"] == "flex", "quick replies would vanish under the next message"


def test_flex_button_labels_fit_40_characters() -> None:
    choices = (Choice("ก" * 60, "p:1"), Choice("สั้น", "p:2"))
    _, flex = render(Outbound("เลือก", choices), last=True, shelf=None)
    bubble = dump(flex)["contents"]
    labels = [b["action"]["label"] for b in bubble["body"]["contents"]]
    assert labels[1] == "สั้น"
    assert len(labels[0]) <= 40 and labels[0].endswith("…"), "cut at a word boundary"
    data = [b["action"]["displayText"] for b in bubble["body"]["contents"]]
    assert data == ["ก" * 60, "สั้น"], "the chat shows the whole label once pressed"


def test_more_than_ten_buttons_make_a_carousel() -> None:
    choices = tuple(Choice(f"โครงการที่ {n} ชื่อยาวมากเกินปุ่มด่วน", f"p:{n}") for n in range(23))
    _, flex = render(Outbound("เลือก", choices), last=True, shelf=None)
    carousel = dump(flex)["contents"]
    assert carousel["type"] == "carousel"
    assert [len(b["body"]["contents"]) for b in carousel["contents"]] == [10, 10, 3]


def test_a_label_is_not_cut_between_a_thai_letter_and_its_marks() -> None:
    label = "ก" * 17 + "กี่" + "ข" * 5  # "กี่" is a letter and two marks
    for limit in range(2, len(label)):
        short = fit(label, limit)
        kept = short.removesuffix("…")
        assert len(short) <= limit and short.endswith("…")
        assert label.startswith(kept)
        assert unicodedata.category(label[len(kept)]) != "Mn", f"a mark cut off at {limit}"


def test_long_text_is_split_under_5000_characters_at_line_breaks() -> None:
    text = "\n".join(f"บรรทัดที่ {n} " + "ข้อความ" * 40 for n in range(60))
    pieces = split_text(text)
    assert len(pieces) > 1 and all(len(p) <= MAX_TEXT for p in pieces)
    assert "\n".join(pieces) == text
    unbroken = "ก่" * 4000
    assert "".join(split_text(unbroken)) == unbroken
    assert all(not p.startswith("\u0e48") for p in split_text(unbroken))


def test_plain_texts_of_a_turn_are_joined_into_one_message() -> None:
    messages = render_turn([Outbound("บันทึกแล้ว"), Outbound("ต่อไป"), Outbound("ถาม?", YES_NO)], None)
    assert len(messages) == 1
    data = dump(messages[0])
    assert data["text"] == "บันทึกแล้ว\n\nต่อไป\n\nถาม?"
    assert "quickReply" in data


MANY = tuple(Choice(f"โครงการที่ {n} ชื่อยาวมากเกินปุ่มด่วน", f"p:{n}") for n in range(23))


@pytest.mark.parametrize(
    "replies",
    [
        [Outbound("บันทึกแล้ว")],
        [Outbound("ถาม?", YES_NO)],
        [Outbound("", YES_NO)],
        [Outbound("ก่อนหน้า", YES_NO), Outbound("ต่อไป", YES_NO)],
        [Outbound("เลือก", MANY)],
        [Outbound("เลือก", (Choice("ก" * 60, "p:1"),))],
        [Outbound("แบบรายงาน", attachment=PDF), Outbound("", attachment=PNG)],
        [Outbound("\n".join("ข้อความ" * 40 for _ in range(60)), YES_NO)],
    ],
)
def test_messages_are_exactly_what_the_sdk_models_send(replies: list[Outbound]) -> None:
    """Messages are built as JSON, not as the SDK's models: each must be one the models take
    and write back unchanged (`dump`)."""
    messages = render_turn(replies, None)
    assert messages
    for message in messages:
        dump(message)


# The files policy


def test_without_a_public_address_a_file_becomes_a_note_on_how_to_get_it() -> None:
    messages = render(Outbound("แบบรายงาน", attachment=PDF), last=True, shelf=None)
    assert [dump(m)["text"] for m in messages] == [
        "แบบรายงาน",
        FILE_UNAVAILABLE.format(name=PDF.name),
    ]
    chart = render(Outbound("", attachment=PNG), last=True, shelf=None)
    assert [dump(m)["text"] for m in chart] == [FILE_UNAVAILABLE.format(name=PNG.name)]


def test_with_a_public_address_charts_are_pictures_and_documents_links(tmp_path: Path) -> None:
    shelf = FileShelf(tmp_path, "https://bot.example.go.th", timedelta(days=7), lambda: NOW)
    image, link = (
        dump(m)
        for reply in (Outbound("", attachment=PNG), Outbound("", attachment=PDF))
        for m in render(reply, last=False, shelf=shelf)
    )
    assert image["type"] == "image"
    url = str(image["originalContentUrl"])
    assert url.startswith(f"https://bot.example.go.th{FILES_PATH}/")
    assert image["previewImageUrl"] == url
    text = str(link["text"])
    assert "ดาวน์โหลด แบบรายงาน 2570.pdf" in text and "30 พ.ย. 2569" in text
    assert f"https://bot.example.go.th{FILES_PATH}/" in text
    stored = sorted(p.name for p in tmp_path.glob("*/*"))
    assert stored == ["กราฟ.png", "แบบรายงาน 2570.pdf"]


def test_an_invite_link_opens_the_chat_with_the_code_typed() -> None:
    from bot.line_channel import invite_link

    link = invite_link("@123abcde", "K7QM3XPA")
    assert link == "https://line.me/R/oaMessage/%40123abcde/?K7QM3XPA"
