"""Reading what officers type in chat, the way Thai people type it.

Every reply goes through `read` once: Unicode NFC, no control or zero-width characters, spaces
collapsed, and, for matching, the polite and ending particles at its end (ครับ, ค่ะ, นะคะ, เลย...)
left off, with elongations (ครับบบ), the repeat mark ๆ, trailing punctuation and emoji, Thai
digits as Arabic. The particles are found as whole words (pythainlp's tokenizer), so a word that
merely ends like one (มูลค่า) keeps its letters. Then small lexicons give the intent of a reply
(yes, no, none, done, no spending, confirm, greeting, thanks), and commands are matched with or
without spaces and, where the step takes no free text, with one typo.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from domain.numbers import arabic_digits
from domain.words import segment

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}

# Words said at the end of a reply for politeness or tone; they never change what it means.
PARTICLES = frozenset(
    {
        "ครับ", "ครับผม", "คับ", "ค้าบ", "คร้าบ", "ขอรับ", "ฮะ", "ฮ่ะ", "ฮับ",
        "ค่ะ", "คะ", "ค่า", "คร่ะ", "ค๊ะ", "ค่ะพี่", "ครับพี่", "จ้ะ", "จ้า", "จ๊ะ", "จ๊า", "จ่ะ",
        "นะ", "นะคะ", "นะครับ", "นะค่ะ", "นะจ๊ะ", "น้า", "น่ะ", "เลย",
        "krub", "krab", "kub", "ka", "kha", "na", "naka", "nakrub", "jaa",
    }
)  # fmt: skip
# A reply made only of particles ("ครับ", "ค่ะ") says yes to a yes-or-no question.
_REPEAT_MARK = "ๆ"
_ELONGATION = re.compile(r"([\u0e01-\u0e4e])\1{2,}")  # ครับบบ, ค่าาา: a letter said long
_SPACES = re.compile(r"\s+")


def clean_text(raw: str) -> str:
    """Typed text made safe to read and store: NFC, no control or zero-width characters."""
    kept = (
        " " if ch in "\t\r" else ch
        for ch in raw
        if ch == "\n" or ch in "\t\r" or (unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE)
    )
    # Normalise after the removals, so marks once split by a zero-width space compose again.
    return unicodedata.normalize("NFC", "".join(kept)).strip()


def _is_decoration(token: str) -> bool:
    """Punctuation, symbols and emoji at the end of a reply: "!", "?", "~", "🙏", "😊"."""
    return all(
        (unicodedata.category(ch)[0] in "PSZ" and ch not in "%-.฿") or ch == "\ufe0f"
        for ch in token
    )


@dataclass(frozen=True, slots=True)
class Typed:
    """One typed reply, read once.

    `text` is what was typed, cleaned (for free text: notes and reasons keep it as typed);
    `bare` is `text` without the particles and decorations at its end (what a note stores);
    `plain` is `bare` for matching: Thai digits as Arabic, lower case, single spaces;
    `polite_only` says the whole reply was particles ("ค่ะ", "ครับผม");
    `forms` are the reply for matching with each ending taken off in turn, whole first: a
    garbled word may end in letters that read as a particle (สะถา|นะ|ค่ะ)."""

    text: str
    bare: str
    plain: str
    polite_only: bool = False
    forms: tuple[str, ...] = ()

    @property
    def squashed(self) -> str:
        """`plain` without any space: "ส่ง รายงาน" is "ส่งรายงาน"."""
        return self.plain.replace(" ", "")


def warm_up() -> None:
    """Load the word segmenter's dictionary (a few tens of milliseconds) and the tokenizer's
    patterns now, once per process, so that the first officer to write does not wait for them."""
    read("สวัสดีครับ")


def read(raw: str) -> Typed:
    """Read a typed reply (see the module's note)."""
    text = clean_text(raw)
    stages = _endings_off(text)
    bare = stages[-1]
    polite_only = False
    if not bare and text:
        # Only particles and emoji: the emoji are the message (👍, 👎ค่ะ); the particles say
        # yes to a question of yes or no ("ค่ะ", "ครับผม 🙏").
        emoji = "".join(ch for ch in text if not ch.isspace() and _is_decoration(ch))
        polite_only = len(emoji) < len(text.replace(" ", ""))
        bare = emoji
    plain = _SPACES.sub(" ", arabic_digits(bare).casefold()).strip()
    forms = tuple(
        dict.fromkeys(
            form
            for stage in stages
            if stage
            for squashed in [_squash(arabic_digits(stage))]
            for form in (squashed, _ELONGATION.sub(r"\1", squashed))  # ส่งรายงานนน
        )
    )
    return Typed(text, bare, plain, polite_only, forms)


# Endings taken off at most: a reply ends with a few particles, not hundreds (a message of
# nothing but "ครับ" repeated must not cost a pass per word).
_MOST_ENDINGS = 8


# Only the end of a reply is segmented to find its endings (a long note costs no more).
_TAIL = 60


def _endings_off(text: str) -> tuple[str, ...]:
    """`text`, then `text` with each of the particles, repeat marks, elongations and
    decorations at its end taken off in turn (at most `_MOST_ENDINGS`), down to none (the
    last)."""
    if len(text) <= _TAIL:
        return _tail_endings_off(text)
    cut = len(text) - _TAIL
    while cut < len(text) and (text[cut].isspace() or unicodedata.category(text[cut]) == "Mn"):
        cut += 1  # never a vowel or tone mark cut from its letter
    head = text[:cut]
    return tuple(
        head + stage if stage else head.rstrip() for stage in _tail_endings_off(text[cut:])
    )


@lru_cache(maxsize=4096)
def _tail_endings_off(text: str) -> tuple[str, ...]:
    tokens = segment(text)
    stages = [text.strip()]
    while tokens and len(stages) <= _MOST_ENDINGS:
        token = _ELONGATION.sub(r"\1", tokens[-1].strip().casefold())
        previous = _ELONGATION.sub(r"\1", tokens[-2].strip().casefold()) if len(tokens) > 1 else ""
        # ครับ|บบ: a particle said long, which the segmenter cut in two.
        stretched = bool(token) and previous in PARTICLES and set(token) == {previous[-1]}
        if (
            not token
            or token in PARTICLES
            or token.rstrip(_REPEAT_MARK) in PARTICLES
            or set(token) == {_REPEAT_MARK}
            or _is_decoration(token)
            or stretched
        ):
            tokens.pop()
            stages.append("".join(tokens).strip())
            continue
        break
    return tuple(dict.fromkeys(stages))


# What replies mean.


class Intent(enum.StrEnum):
    """What a short reply means, whatever the words."""

    YES = "yes"
    NO = "no"
    NONE = "none"  # nothing to say: no note
    DONE = "done"  # the work is finished: 100 %
    NOT_STARTED = "not_started"  # the work has not begun: 0 %
    NO_SPENDING = "no_spending"  # nothing disbursed: 0 baht
    CONFIRM = "confirm"
    GREETING = "greeting"
    THANKS = "thanks"


LEXICON: Mapping[Intent, frozenset[str]] = {
    Intent.YES: frozenset({
        "ใช่", "ใช่แล้ว", "ถูก", "ถูกต้อง", "ถูกแล้ว", "เป็น", "ได้", "ตกลง", "โอเค", "โอเค้", "เค",
        "ok", "okay", "okey", "yes", "y", "yep", "👍", "👌", "✅", "🙆", "แน่นอน", "จริง",
    }),
    Intent.NO: frozenset({
        "ไม่", "ไม่ใช่", "ไม่เป็น", "ไม่ได้", "ไม่ถูก", "ไม่ถูกต้อง", "ผิด", "no", "n", "nope", "👎",
        "❌", "🙅",
    }),
    Intent.NONE: frozenset({
        "-", "--", "ไม่มี", "ไม่มีบันทึก", "ไม่มีอะไร", "ข้าม", "ว่าง", "ไม่ระบุ",
        "none", "skip", "no note", "nil", "n/a",
    }),
    Intent.DONE: frozenset({
        "ครบ", "ครบแล้ว", "เสร็จ", "เสร็จแล้ว", "เสร็จสิ้น", "แล้วเสร็จ", "เสร็จเรียบร้อย",
        "เสร็จเรียบร้อยแล้ว", "ดำเนินการเสร็จแล้ว", "ดำเนินการแล้วเสร็จ", "เต็ม", "ครบร้อย",
        "ครบ100", "เสร็จ100", "100เปอร์", "เต็มร้อย", "ร้อยเปอร์เซ็นต์", "done", "finished",
        "complete", "completed",
    }),
    Intent.NOT_STARTED: frozenset({
        "ยังไม่เริ่ม", "ยังไม่ได้เริ่ม", "ยังไม่ได้ดำเนินการ", "ยังไม่ดำเนินการ", "ยังไม่มีความก้าวหน้า",
        "ยังไม่คืบหน้า", "ยังไม่เริ่มงาน", "ยังไม่ได้เริ่มงาน", "not started",
    }),
    Intent.NO_SPENDING: frozenset({
        "-", "ไม่มี", "ไม่ได้ใช้", "ไม่ได้ใช้เงิน", "ยังไม่ได้ใช้เงิน", "ยังไม่ใช้เงิน", "ไม่ได้เบิก",
        "ยังไม่ได้เบิก", "ยังไม่เบิก", "ยังไม่ได้เบิกจ่าย", "ไม่ได้เบิกจ่าย", "ยังไม่มีการเบิกจ่าย",
        "ไม่มีการเบิกจ่าย", "ไม่มีเบิกจ่าย", "ยังไม่มี", "ศูนย์", "ศูนย์บาท", "ไม่ได้ใช้งบ",
        "ยังไม่ได้ใช้งบ", "ยังไม่ได้ใช้งบประมาณ", "ไม่ได้ใช้งบประมาณ",
    }),
    Intent.CONFIRM: frozenset({
        "ยืนยัน", "ยืนยันส่ง", "ยืนยันการส่ง", "ส่ง", "ส่งเลย", "ส่งได้", "ส่งได้เลย", "บันทึก",
        "บันทึกเลย", "ตกลง", "โอเค", "ok", "okay", "ใช่", "ถูกต้อง", "ได้", "👍", "👌", "✅", "confirm",
        "yes", "y",
    }),
    Intent.GREETING: frozenset({
        "สวัสดี", "หวัดดี", "ดีจ้า", "สวัสดีตอนเช้า", "อรุณสวัสดิ์", "สวัสดีตอนบ่าย", "hello", "hi",
        "hey", "🙏สวัสดี",
    }),
    Intent.THANKS: frozenset({
        "ขอบคุณ", "ขอบคุณมาก", "ขอบพระคุณ", "ขอบพระคุณมาก", "ขอบใจ", "ขอบคุณนะ",
        "thank you", "thanks", "thx", "🙏",
    }),
}  # fmt: skip


def intent_of(typed: Typed, intent: Intent, extra: Iterable[str] = ()) -> bool:
    """Whether a reply means `intent` (words of the question itself, `extra`, count too)."""
    words = _WORDS[intent] | {_squash(word) for word in extra}
    if typed.squashed in words:
        return True
    if typed.plain and _is_decoration(typed.plain):  # only emoji: 👍🙏 says yes, 👎🙏 says no
        shown = set(typed.plain) - {"\ufe0f"}
        against = _WORDS[Intent.NO] if intent in {Intent.YES, Intent.CONFIRM} else frozenset()
        return bool(shown & words) and not shown & against
    return False


def _squash(word: str) -> str:
    return word.casefold().replace(" ", "")


_WORDS = {intent: frozenset(_squash(w) for w in words) for intent, words in LEXICON.items()}


def yes_or_no(
    typed: Typed, yes_words: Iterable[str] = (), no_words: Iterable[str] = ()
) -> bool | None:
    """A typed yes or no; the question's own words count ("ตามแผน", "ล่าช้า"); a reply of only
    particles ("ค่ะ", "ครับ") is yes. None if it is neither."""
    if intent_of(typed, Intent.NO, no_words):
        return False
    if intent_of(typed, Intent.YES, yes_words) or (typed.polite_only and not _refusing(typed)):
        return True
    return None


def is_confirmation(typed: Typed) -> bool:
    """Whether a reply confirms what was shown ("ยืนยันค่ะ", "ส่ง", "โอเค", 👍)."""
    if intent_of(typed, Intent.NO):
        return False
    return intent_of(typed, Intent.CONFIRM) or (typed.polite_only and not _refusing(typed))


def _refusing(typed: Typed) -> bool:
    """Emoji that say no or something else than yes beside the particles ("ค่ะ 😢")."""
    return (
        bool(typed.plain)
        and not intent_of(typed, Intent.YES)
        and not intent_of(typed, Intent.THANKS)
    )


# Commands


def command_of(typed: Typed, words: Mapping[str, str], *, typos: bool) -> str | None:
    """The command a reply gives, or None: "/report", "/report@SomeBot", "ส่งรายงานค่ะ",
    "ส่ง รายงาน"; with `typos`, one letter wrong, missing, extra or swapped ("ส่งราบงาน") in a
    command word of five letters or more, when that points at one command only."""
    plain = typed.plain
    if plain.startswith("/"):
        word = next(iter(plain[1:].split("@", 1)[0].split()), "")
        return words.get(word)
    found = words.get(plain) or words.get(typed.squashed)
    found = found or next((words[form] for form in typed.forms if form in words), None)
    if found is not None or not typos:
        return found
    forms = [form for form in _fuzzy_forms(typed) if len(form) >= 5]
    near = {
        name
        for word, name in words.items()
        if len(word) >= 5 and any(_one_edit(form, word) for form in forms)
    }
    return near.pop() if len(near) == 1 else None


def _fuzzy_forms(typed: Typed) -> frozenset[str]:
    """What a reply may be once its endings are off, for matching with a typo: the word
    segmenter may glue a particle to a misspelt word (ประวัต|นะครับ reads as ประ|วัตนะ|ครับ), so
    particles are also taken off the end letter by letter."""
    return _without_particle_letters((typed.squashed, *typed.forms))


@lru_cache(maxsize=4096)
def _without_particle_letters(start: tuple[str, ...]) -> frozenset[str]:
    forms = set(start)
    for _ in range(2):
        forms |= {f[: -len(p)] for f in forms for p in _SQUASHED_PARTICLES if f.endswith(p)}
    return frozenset(form for form in forms if form)


_SQUASHED_PARTICLES = frozenset(_squash(p) for p in PARTICLES)


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by one substitution, insertion, deletion or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        first, second = diff[0], diff[-1]
        return (
            len(diff) == 2
            and second == first + 1
            and a[first] == b[second]
            and a[second] == b[first]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1 :]
