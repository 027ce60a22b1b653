"""What the bot says in a group chat: the same on every channel.

Reports are made one to one (an officer's figures are not for a whole group to read), so in a
group the bot only says where it works: once when it is added, and whenever someone there
addresses it (a command such as /report or ส่งรายงาน, a mention of the bot, a reply to it, or
a button). Ordinary talk between the members is left alone: on LINE the bot receives every
message of a group, and answering each one would drown the group in the same line.
"""

from __future__ import annotations

from domain.messages import Outbound
from domain.replies import command_of, read
from handlers.commands import WORDS

PRIVATE_ONLY = "บอทนี้รับรายงานในแชทส่วนตัวเท่านั้น กรุณาเปิดแชทกับบอทโดยตรงเพื่อส่งรายงาน ดูสถานะ หรือขอแบบรายงาน"


def group_answer(text: str | None, *, addressed: bool = False) -> Outbound | None:
    """The answer to something said in a group, or None to stay out of the members' talk.

    `text` is None when the bot was added to the group or a button was pressed there;
    `addressed` when the message mentions the bot or replies to one of its messages."""
    if text is None or addressed or command_of(read(text), WORDS, typos=False) is not None:
        return Outbound(PRIVATE_ONLY)
    return None
