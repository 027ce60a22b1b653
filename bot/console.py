"""The terminal channel: the conversation in a terminal or over a pipe, one message per line.

Buttons are shown numbered [1], [2]...: type the number, or `*N` to press button N on any step
(where the question asks for a number, a typed number is the answer, and the reply says so).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from domain.messages import Choice, Inbound, Outbound
from handlers.conversation import Conversation

CHANNEL = "console"
FILES = Path("progress-bot-files")  # where the terminal puts the PDFs, charts and workbooks
PROMPT = "คุณ> "
# Where the question asks for a number, a typed number is the answer: buttons take a star.
NUMBER_ASKED = "(คำถามนี้ตอบเป็นตัวเลข: กดปุ่มด้วย *หมายเลข เช่น *1)"
BANNER = (
    "progress-bot: ช่องทางทดลองในเทอร์มินัล พิมพ์ข้อความแล้วกด Enter "
    "(เลือกปุ่มด้วยหมายเลข หรือ *หมายเลข) กด Ctrl-D เพื่อออก"
)


def save_attachment(reply: Outbound, folder: Path) -> Path | None:
    """Write a reply's file into `folder` (a terminal cannot show it); returns where."""
    if reply.attachment is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(reply.attachment.name).name  # never a path chosen by the sender
    target.write_bytes(reply.attachment.data)
    return target


def render(reply: Outbound, saved: Path | None = None) -> str:
    """A reply as terminal text: its lines, then its buttons."""
    lines = [
        f"บอท> {line}" if i == 0 else f"     {line}"
        for i, line in enumerate(reply.text.split("\n"))
    ]
    for number, choice in enumerate(reply.choices, start=1):
        lines.append(f"  [{number}] {choice.label}")
    if reply.choices and not reply.numbered:
        lines.append(f"  {NUMBER_ASKED}")
    if saved is not None:
        lines.append(f"  (ไฟล์: {saved})")
    return "\n".join(lines)


def to_inbound(user_id: str, line: str, buttons: tuple[Choice, ...]) -> Inbound:
    """A typed line as the conversation sees it; `*N` presses button N of the last reply."""
    stripped = line.strip()
    if stripped.startswith("*") and stripped[1:].isdigit():
        index = int(stripped[1:]) - 1
        if 0 <= index < len(buttons):
            return Inbound.pressed(CHANNEL, user_id, buttons[index].payload)
    return Inbound.typed(CHANNEL, user_id, line.rstrip("\n"))


async def run_console(
    conversation: Conversation,
    user_id: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    files: Path = FILES,
) -> None:
    """Hold the conversation until end of input."""
    interactive = stdin.isatty()
    buttons: tuple[Choice, ...] = ()

    async def send(inbound: Inbound) -> None:
        nonlocal buttons
        for reply in await conversation.handle(inbound):
            saved = save_attachment(reply, files)
            print(render(reply, saved), file=stdout, flush=True)
            buttons = reply.choices or buttons

    if interactive:
        print(BANNER, file=stdout)
        await send(Inbound.typed(CHANNEL, user_id, "ช่วยเหลือ"))
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        buttons_before = buttons
        buttons = ()
        await send(to_inbound(user_id, line, buttons_before))
