"""Read the two numbers of a monthly report from what an officer types on a phone.

Officers answer in whatever form is natural to them: Arabic, Thai or full-width digits,
Thai number words, unit words such as ล้าน, and percent or currency marks. Anything not
read with certainty is refused with a short, polite Thai message saying what is expected,
so the conversation can show ``str(error)`` as it is.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Context, Decimal, localcontext

from domain.numbers import arabic_digits
from domain.replies import Intent, Typed, intent_of

__all__ = [
    "MAX_INPUT_LENGTH",
    "ParseError",
    "names_a_unit",
    "parse_baht",
    "parse_percent",
    "reply_baht",
    "reply_percent",
]

MAX_INPUT_LENGTH = 200
"""Longer answers are refused before any other work, so hostile or pasted text stays cheap."""

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
# Exclusive: an amount this large is a typo or a wrong unit, not a provincial project.
_MAX_BAHT = Decimal(10) ** 12
# Inputs hold at most a few hundred digits; this precision keeps unit products and sums exact
# where the default 28 digits would round silently before the decimal-places check.
_EXACT = Context(prec=1000)
# pythainlp's numeral pattern backtracks exponentially on repeated ล้าน ("ล้าน" * 20 + "ก"
# takes seconds); two are more than any accepted amount needs.
_MAX_MILLION_WORDS = 2

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_UNITS = {"สิบ": 10, "ร้อย": 100, "พัน": 1000, "หมื่น": 10_000, "แสน": 100_000, "ล้าน": 1_000_000}
_NUMBER = r"(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)"
_PLAIN_RE = re.compile(_NUMBER)
_WHOLE_RE = re.compile(r"[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+")
_TERM_RE = re.compile(rf"\s*({_NUMBER})\s*({'|'.join(_UNITS)})?\s*")
# Thai letters and vowel/tone marks only: digits were converted and ฿ is not a word.
_THAI_WORDS_RE = re.compile(r"[\u0e01-\u0e3a\u0e40-\u0e4e]+")
_PERCENT_SUFFIXES = ("เปอร์เซ็นต์", "เปอร์เซนต์", "เปอร์เซ็น", "เปอร์เซน", "percent", "%")

_PERCENT_EXPECTED = "กรุณาพิมพ์เป็นตัวเลขร้อยละ 0 ถึง 100 เช่น 80 หรือ 80.5"
PERCENT_EMPTY = f"ขออภัย ยังไม่ได้ระบุความก้าวหน้า {_PERCENT_EXPECTED}"
PERCENT_NOT_NUMBER = f"ขออภัย ระบบอ่านค่าความก้าวหน้าไม่ได้ {_PERCENT_EXPECTED} (งานเสร็จแล้ว พิมพ์ 100)"
PERCENT_TOO_LONG = f"ขออภัย ข้อความยาวเกินไป (เกิน {MAX_INPUT_LENGTH} ตัวอักษร) {_PERCENT_EXPECTED}"
PERCENT_COMMA = "ขออภัย ทศนิยมต้องใช้จุด (.) ไม่ใช่จุลภาค (,) กรุณาพิมพ์ใหม่ เช่น 80.5"
PERCENT_DECIMALS = "ขออภัย ระบุทศนิยมได้ไม่เกิน 2 ตำแหน่ง กรุณาพิมพ์ใหม่ เช่น 80.25"
PERCENT_RANGE = "ขออภัย ความก้าวหน้าต้องอยู่ระหว่าง 0 ถึง 100 (อ่านได้ {value}) กรุณาพิมพ์ใหม่ เช่น 80"

_BAHT_EXPECTED = "กรุณาพิมพ์จำนวนเงินเป็นบาท เช่น 50,000 หรือ 1.5 ล้าน"
BAHT_EMPTY = f"ขออภัย ยังไม่ได้ระบุยอดเบิกจ่าย {_BAHT_EXPECTED}"
BAHT_NOT_NUMBER = f"ขออภัย ระบบอ่านจำนวนเงินไม่ได้ {_BAHT_EXPECTED} (ยังไม่ได้เบิกจ่าย พิมพ์ 0)"
BAHT_TOO_LONG = f"ขออภัย ข้อความยาวเกินไป (เกิน {MAX_INPUT_LENGTH} ตัวอักษร) {_BAHT_EXPECTED}"
BAHT_COMMA = "ขออภัย จุลภาค (,) อยู่ผิดตำแหน่ง กรุณาคั่นทุก 3 หลัก เช่น 1,234,567 หรือไม่ใส่เลยก็ได้"
BAHT_DECIMALS = "ขออภัย ระบุสตางค์ได้ไม่เกิน 2 ตำแหน่งทศนิยม กรุณาพิมพ์ใหม่ เช่น 50,000.50"
BAHT_SATANG = "ขออภัย กรุณาพิมพ์สตางค์เป็นทศนิยม เช่น 200,000.50"
BAHT_TOO_LARGE = "ขออภัย จำนวนเงินมากเกินไป (ต้องน้อยกว่า 1 ล้านล้านบาท) กรุณาตรวจสอบตัวเลขและหน่วยอีกครั้ง"
BAHT_NEGATIVE = "ขออภัย จำนวนเงินติดลบไม่ได้ (อ่านได้ {value} บาท) กรุณาพิมพ์ยอดสะสมตั้งแต่ 0 บาท เช่น 50,000"


class ParseError(ValueError):
    """Input could not be read; str(error) is a short polite Thai explanation
    of what was wrong and what is expected."""


def parse_percent(text: str) -> Decimal:
    """Read cumulative progress in percent (0-100, 2 places), e.g. "80", "๘๐ %", "ร้อยละแปดสิบ"."""
    body = _normalize(text, PERCENT_TOO_LONG, PERCENT_EMPTY)
    body = _strip_suffix(body.removeprefix("ร้อยละ").lstrip(), _PERCENT_SUFFIXES)
    negative, body = _split_sign(body)
    if "," in body and any(c.isdigit() for c in body):
        raise ParseError(PERCENT_COMMA)
    value = Decimal(body) if _PLAIN_RE.fullmatch(body) else _read_thai_words(body)
    if value is None:
        raise ParseError(PERCENT_NOT_NUMBER)
    value = -value if negative else value
    if not 0 <= value <= _HUNDRED:
        raise ParseError(PERCENT_RANGE.format(value=_shown(f"{value:f}")))
    return _to_cents(value, PERCENT_DECIMALS)


def parse_baht(text: str) -> Decimal:
    """Read a cumulative amount in baht (2 places), e.g. "50,000.-", "1.5 ล้าน", "ห้าหมื่นบาท"."""
    body = _normalize(text, BAHT_TOO_LONG, BAHT_EMPTY)
    if "สตางค์" in body:
        raise ParseError(BAHT_SATANG)
    body = body.removeprefix("฿").lstrip()
    # Read from the end: "50,000.- บาท", "หนึ่งหมื่นบาทถ้วน"; ".-" marks whole baht on forms.
    body = _strip_suffix(body, ("ถ้วน",))
    body = _strip_suffix(body, ("บาท", "บ.", "฿", "thb"))
    body = _strip_suffix(body, (".-",))
    negative, body = _split_sign(body)
    has_digits = any("0" <= c <= "9" for c in body)
    value = _read_terms(body) if has_digits else _read_thai_words(_spoken(body))
    if value is None:
        raise ParseError(BAHT_NOT_NUMBER)
    value = -value if negative else value
    if value < 0:
        raise ParseError(BAHT_NEGATIVE.format(value=_shown(f"{value:,f}")))
    if value >= _MAX_BAHT:
        raise ParseError(BAHT_TOO_LARGE)
    return _to_cents(value, BAHT_DECIMALS)


# Words said before a figure that do not change it: "ประมาณ 80", "เบิกไป 5 หมื่น".
_LEAD_WORDS = (
    "ความก้าวหน้า", "ยอดเบิกจ่ายสะสม", "ยอดเบิกจ่าย", "เบิกจ่ายสะสม", "เบิกจ่ายไป", "เบิกจ่าย",
    "เบิกไป", "เบิกได้", "ใช้ไป", "ใช้เงินไป", "ประมาณ", "ราวๆ", "ราว ๆ", "ราว", "คิดเป็น",
    "อยู่ที่", "ตอนนี้", "ทั้งหมด", "จำนวน", "รวม", "สะสม", "ได้",
)  # fmt: skip


def _figure_text(typed: Typed) -> str:
    """A reply's figure without the words said before it."""
    text = typed.bare
    changed = True
    while changed:
        changed = False
        for word in _LEAD_WORDS:
            if text.startswith(word) and text != word:
                text, changed = text.removeprefix(word).lstrip(), True
    return text


def reply_percent(typed: Typed) -> Decimal:
    """Progress from a reply: "80 ค่ะ", "๘๐%", "ประมาณ 80", "ร้อยละแปดสิบ", 100 for
    "เสร็จแล้ว", "ครบแล้ว", 0 for "ยังไม่เริ่ม"."""
    if intent_of(typed, Intent.DONE):
        return Decimal("100.00")
    if intent_of(typed, Intent.NOT_STARTED):
        return Decimal("0.00")
    return parse_percent(_figure_text(typed))


def reply_baht(typed: Typed) -> Decimal:
    """A cumulative amount from a reply: "5 หมื่นค่ะ", "50,000.-", "เบิกไป 5 หมื่น", or 0 for
    "ยังไม่ได้เบิก", "ไม่ได้ใช้เงิน", "ไม่มี", "-"."""
    if intent_of(typed, Intent.NO_SPENDING):
        return Decimal("0.00")
    return parse_baht(_figure_text(typed))


def names_a_unit(typed: Typed) -> bool:
    """Whether a reply says its unit (บาท, ล้าน, หมื่น, %...): then it means what it says."""
    return any(
        word in typed.plain for word in (*_UNITS, "บาท", "บ.", "฿", "thb", *_PERCENT_SUFFIXES)
    )


def _normalize(text: str, too_long: str, empty: str) -> str:
    if len(text) > MAX_INPUT_LENGTH:
        raise ParseError(too_long)
    # NFKC folds full-width digits and signs; it also splits SARA AM, which Thai words need whole.
    text = unicodedata.normalize("NFKC", text).replace("\u0e4d\u0e32", "\u0e33")
    text = text.translate(_INVISIBLE)
    if len(text) > MAX_INPUT_LENGTH:  # NFKC can expand a character, e.g. "⑽" -> "(10)"
        raise ParseError(too_long)
    text = arabic_digits(text).casefold().strip()
    if not text:
        raise ParseError(empty)
    return text


def _strip_suffix(body: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if body.endswith(suffix):
            return body.removesuffix(suffix).rstrip()
    return body


def _split_sign(body: str) -> tuple[bool, str]:
    # A single sign only, so "--5" stays unreadable instead of becoming 5.
    for sign, negative in (("-", True), ("+", False), ("ลบ", True)):
        if body.startswith(sign):
            return negative, body.removeprefix(sign).lstrip()
    return False, body


def _read_terms(body: str) -> Decimal | None:
    """Digits with optional units, largest first: "50,000", "1.5 ล้าน", "2 แสน 5 หมื่น"."""
    total = Decimal(0)
    previous: int | None = None
    position = 0
    with localcontext(_EXACT):
        while position < len(body):
            match = _TERM_RE.match(body, position)
            if match is None:
                return None
            number, unit_word = match.groups()
            unit = _UNITS[unit_word] if unit_word else 1
            if (
                unit_word is None
                and match.end() == len(body)
                and previous is not None
                and _is_spoken_digit(number, previous)
            ):
                unit = previous // 10  # "1 แสน 5" is said for 150,000, as in "แสนห้า"
            term = _read_grouped(number) * unit
            # Each later part must fit below the unit before it, so "5 แสน 3 ล้าน" or
            # "1 ล้าน 15 แสน" (likely typos) are refused rather than summed.
            if previous is not None and (unit >= previous or term >= previous):
                return None
            total += term
            previous = unit
            position = match.end()
    return total


# Money as it is said: after พัน, หมื่น, แสน or ล้าน, a lone last digit counts in the unit below
# ("สองแสนห้า" is 250,000 and "พันห้า" is 1,500), not as ones, which nobody means.
_SPOKEN_UNITS = {"พัน": "ร้อย", "หมื่น": "พัน", "แสน": "หมื่น", "ล้าน": "แสน"}
_SPOKEN_RE = re.compile(rf"^(.*(?:{'|'.join(_SPOKEN_UNITS)}))(\D+)$")


def _is_spoken_digit(number: str, previous: int) -> bool:
    return previous >= 1000 and len(number) == 1 and number != "0"


def _spoken(body: str) -> str:
    """Thai money words with the spoken shortening written out: "แสนห้า" -> "แสนห้าหมื่น"."""
    words = "".join(body.split())
    match = _SPOKEN_RE.match(words)
    if match is None or "จุด" in match.group(2):
        return words
    head, tail = match.groups()
    unit = next(u for u in sorted(_SPOKEN_UNITS, key=len, reverse=True) if head.endswith(u))
    digit = _thai_int(tail)
    if digit is None or not 1 <= digit <= 9:
        return words
    return f"{head}{tail}{_SPOKEN_UNITS[unit]}"


def _read_grouped(number: str) -> Decimal:
    whole, dot, fraction = number.partition(".")
    if whole and not _WHOLE_RE.fullmatch(whole):
        raise ParseError(BAHT_COMMA)
    return Decimal(whole.replace(",", "") + dot + fraction)


def _read_thai_words(body: str) -> Decimal | None:
    """Thai number words, with จุด and one word per decimal digit: "แปดสิบจุดห้า"."""
    words = "".join(body.split())
    if not _THAI_WORDS_RE.fullmatch(words):
        return None
    whole, point, fraction = words.partition("จุด")
    number = _thai_int(whole)
    if number is None:
        return None
    if not point:
        return Decimal(number)
    digits: list[str] = []
    position = 0
    while position < len(fraction):
        found = _next_digit_word(fraction, position)
        if found is None:
            return None
        digit, position = found
        digits.append(str(digit))
    return Decimal(f"{number}.{''.join(digits)}") if digits else None


def _next_digit_word(text: str, start: int) -> tuple[int, int] | None:
    # No two digit words share a prefix, so the shortest readable prefix is the digit; stopping
    # there also keeps pythainlp from ever seeing a long string of ล้าน here.
    for end in range(start + 1, len(text) + 1):
        value = _thai_int(text[start:end])
        if value is not None:
            return (value, end) if 0 <= value <= 9 else None
    return None


def _thai_int(words: str) -> int | None:
    # The sign was taken off already; a second ลบ would silently flip it back.
    if not words or words.startswith("ลบ") or words.count("ล้าน") > _MAX_MILLION_WORDS:
        return None
    from pythainlp.util import thaiword_to_num  # only for spoken numbers: keeps the start quick

    try:
        return thaiword_to_num(words)
    except ValueError:
        return None


def _to_cents(value: Decimal, too_precise: str) -> Decimal:
    cents = value.quantize(_CENT)
    if cents != value:  # refuse rather than round: 80.125 % is a typo, not 80.13 %
        raise ParseError(too_precise)
    return cents.copy_abs()  # "-0" must not come back as Decimal("-0.00")


def _shown(number: str) -> str:
    # Keep the message readable on a phone even when someone typed 150 digits.
    return number if len(number) <= 20 else f"{number[:17]}..."
