"""How a reply looks on LINE: text pieces, quick-reply or Flex buttons, pictures and links.

Pure translation from `Outbound` to LINE message objects, with LINE's limits: 5000 characters a
text, 13 quick-reply buttons of 20 characters, 300 bytes of postback data, 5 messages a
request. The objects are built as the JSON the Messaging API takes, exactly what line-bot-sdk's
message models serialize to (tests/test_line_messages.py checks them against the models): they
are made for every reply, and the models' validation cost more than the rest of the reply.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from typing import Any

from bot.line_files import FileShelf
from domain.messages import Attachment, Choice, Outbound
from domain.thaidate import format_thai_date
from domain.thaitext import shorten

MAX_TEXT = 5000
MAX_MESSAGES = 5  # per reply, push or multicast request
QUICK_REPLY_ITEMS = 13
QUICK_REPLY_LABEL = 20
BUTTON_LABEL = 40
BUTTONS_PER_BUBBLE = 10
BUBBLES_PER_CAROUSEL = 12
MAX_DATA = 300  # bytes of postback data
ALT_TEXT = 400

log = logging.getLogger(__name__)

CHOOSE = "เลือกได้จากปุ่มด้านล่าง"
FILE_LINK = "ดาวน์โหลด {name} ได้ที่ลิงก์นี้ (ใช้ได้ถึง {until})\n{url}"
FILE_FAILED = "ขออภัย ระบบเตรียมไฟล์ {name} ไม่ได้ในขณะนี้ กรุณาลองใหม่อีกครั้งภายหลัง"
FILE_UNAVAILABLE = (
    "ส่งไฟล์ {name} ทาง LINE ไม่ได้ กรุณาขอรับไฟล์จากผู้ประสานงาน หรือเปิดดูทาง Telegram หากเชื่อมบัญชีไว้"
)

Message = dict[str, Any]  # a message object as the Messaging API takes it (JSON)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text into messages under LINE's limit, at line breaks where possible."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut if cut > 0 else _safe_cut(rest, limit)
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    chunks.append(rest)
    return chunks


def _safe_cut(text: str, at: int) -> int:
    """An index at or before `at` that does not separate a Thai vowel or tone mark from its base."""
    while 0 < at < len(text) and unicodedata.category(text[at]) == "Mn":
        at -= 1
    return at or 1


def fit(label: str, limit: int) -> str:
    """A button label within `limit` characters, shortened with an ellipsis."""
    return shorten(label, limit, measure=len)  # LINE counts characters, marks included


def text_message(text: str) -> Message:
    """A text message."""
    return {"type": "text", "text": text}


def _action(choice: Choice, label: str) -> dict[str, Any]:
    if len(choice.payload.encode()) > MAX_DATA:
        raise ValueError(f"postback data over {MAX_DATA} bytes: {choice.payload[:40]!r}...")
    return {
        "type": "postback",
        "label": label,
        "data": choice.payload,
        "displayText": choice.label[:300],
    }


def fits_quick_reply(choices: Sequence[Choice]) -> bool:
    """Whether the buttons can be quick replies: few, with short labels."""
    return len(choices) <= QUICK_REPLY_ITEMS and all(
        len(c.label) <= QUICK_REPLY_LABEL for c in choices
    )


def quick_reply(choices: Sequence[Choice]) -> dict[str, Any]:
    """Buttons shown above the keyboard under the latest message (they vanish once used)."""
    return {"items": [{"type": "action", "action": _action(c, c.label)} for c in choices]}


def button_message(choices: Sequence[Choice], alt: str) -> Message:
    """Buttons that stay in the chat: one Flex bubble, or a carousel of bubbles of 10."""
    buttons = [
        {
            "type": "button",
            "style": "secondary",
            "action": _action(c, fit(c.label, BUTTON_LABEL)),
            "margin": "sm",
            "height": "sm",
        }
        for c in choices
    ]
    bubbles = [
        {
            "type": "bubble",
            "body": {
                "type": "box",
                "layout": "vertical",
                "contents": buttons[i : i + BUTTONS_PER_BUBBLE],
            },
        }
        for i in range(0, len(buttons), BUTTONS_PER_BUBBLE)
    ][:BUBBLES_PER_CAROUSEL]
    contents = bubbles[0] if len(bubbles) == 1 else {"type": "carousel", "contents": bubbles}
    return {"type": "flex", "altText": fit(alt or CHOOSE, ALT_TEXT), "contents": contents}


def attachment_message(file: Attachment, shelf: FileShelf | None) -> Message:
    """A chart as a picture, a document as a link; without a public address, how to get it;
    when the file cannot be kept (a full disk), a Thai apology instead of the link."""
    if shelf is None:
        return text_message(FILE_UNAVAILABLE.format(name=file.name))
    try:
        url = shelf.put(file)
    except OSError as error:
        log.error("line: a file could not be kept for download (%s)", type(error).__name__)
        return text_message(FILE_FAILED.format(name=file.name))
    if file.is_image and file.mime in {"image/png", "image/jpeg"}:
        return {"type": "image", "originalContentUrl": url, "previewImageUrl": url}
    until = format_thai_date(shelf.expires().date())
    return text_message(FILE_LINK.format(name=file.name, until=until, url=url))


def render(reply: Outbound, *, last: bool, shelf: FileShelf | None) -> list[Message]:
    """One reply as LINE messages. Buttons of the turn's last reply are quick replies when
    they fit; otherwise (or on an earlier reply, where quick replies would vanish) Flex buttons."""
    messages: list[Message] = [text_message(t) for t in split_text(reply.text) if t]
    if reply.attachment is not None:
        messages.append(attachment_message(reply.attachment, shelf))
    if reply.choices:
        if last and fits_quick_reply(reply.choices):
            if not messages:
                messages.append(text_message(CHOOSE))
            messages[-1]["quickReply"] = quick_reply(reply.choices)
        else:
            messages.append(button_message(reply.choices, reply.text))
    return messages


def render_turn(replies: Sequence[Outbound], shelf: FileShelf | None) -> list[Message]:
    """Every reply of a turn; plain texts in a row are joined, as each message sent counts."""
    messages: list[Message] = []
    for n, reply in enumerate(replies):
        for message in render(reply, last=n == len(replies) - 1, shelf=shelf):
            previous = messages[-1] if messages else None
            if (
                previous is not None
                and previous["type"] == "text"
                and message["type"] == "text"
                and "quickReply" not in previous
                and len(previous["text"]) + 2 + len(message["text"]) <= MAX_TEXT
            ):
                message["text"] = f"{previous['text']}\n\n{message['text']}"
                messages[-1] = message
            else:
                messages.append(message)
    return messages
