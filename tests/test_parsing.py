"""Reading progress percentages and baht amounts from what officers type."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# pythainlp writes a data folder at import unless told not to; tests must not write outside tmp.
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from pythainlp.util import arabic_digit_to_thai_digit

from domain import parsing
from domain.parsing import ParseError, parse_baht, parse_percent


def outcome(parse: Callable[[str], Decimal], text: str) -> Decimal | str:
    """The value read, or the message of the ParseError; any other exception fails the test."""
    try:
        return parse(text)
    except ParseError as error:
        return str(error)


PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)


def is_thai(message: str) -> bool:
    return any("\u0e01" <= char <= "\u0e5b" for char in message)


def rejection(parse: Callable[[str], Decimal], text: str) -> str:
    """The message of the ParseError that parse raises for text, checked to be short Thai."""
    with pytest.raises(ParseError) as caught:
        parse(text)
    message = str(caught.value)
    assert is_thai(message)
    assert len(message) <= 150, "read on a phone: keep it short"
    return message


PERCENTS = [
    ("80", "80"),
    ("80%", "80"),
    ("๘๐", "80"),
    ("๘๐ %", "80"),
    ("ร้อยละ 80", "80"),
    ("ร้อยละ๘๐", "80"),
    ("แปดสิบเปอร์เซ็นต์", "80"),
    ("แปดสิบ", "80"),
    ("80.5", "80.5"),
    ("๘๐.๕", "80.5"),
    ("80.50 %", "80.5"),
    ("100", "100"),
    ("0", "0"),
    (" 80 ", "80"),
    ("\t80\n", "80"),
    ("80 เปอร์เซ็นต์", "80"),
    ("80เปอร์เซ็น", "80"),
    ("80 percent", "80"),
    ("80 PERCENT", "80"),
    ("ร้อยละแปดสิบ", "80"),
    ("แปดสิบจุดห้า", "80.5"),
    ("แปดสิบ จุด ห้า", "80.5"),
    ("ยี่สิบสามจุดสองห้า", "23.25"),
    ("ศูนย์", "0"),
    ("ศูนย์จุดห้า", "0.5"),
    ("หนึ่งร้อย", "100"),
    ("ร้อย", "100"),
    ("ร้อยละร้อย", "100"),
    ("８０", "80"),
    ("８０％", "80"),
    ("0.01", "0.01"),
    ("99.99", "99.99"),
    ("100.00", "100"),
    ("80.500", "80.5"),  # more zeros than places, but nothing is rounded away
    ("80.", "80"),
    (".5", "0.5"),
    ("+80", "80"),
    ("-0", "0"),
    ("\u200b80", "80"),  # zero-width space pasted from another app
]


@pytest.mark.parametrize(("text", "expected"), PERCENTS)
def test_percent_reads(text: str, expected: str) -> None:
    value = parse_percent(text)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2
    assert str(value) == f"{Decimal(expected):.2f}"


BAHTS = [
    ("50000", "50000"),
    ("50,000", "50000"),
    ("๕๐,๐๐๐ บาท", "50000"),
    ("50,000.50", "50000.50"),
    ("50000 บ.", "50000"),
    ("5 หมื่น", "50000"),
    ("5หมื่น", "50000"),
    ("ห้าหมื่นบาท", "50000"),
    ("ห้าหมื่น", "50000"),
    ("1.5 ล้าน", "1500000"),
    ("1.5ล้านบาท", "1500000"),
    ("๑.๕ ล้าน", "1500000"),
    ("0", "0"),
    ("ศูนย์บาท", "0"),
    ("หนึ่งล้านห้าแสน", "1500000"),
    ("2 แสน 5 หมื่น", "250000"),
    ("1 ล้าน 2 แสน", "1200000"),
    ("2 ล้าน 5 แสน", "2500000"),
    ("3 พัน", "3000"),
    ("฿50,000", "50000"),
    ("฿ 50,000", "50000"),
    ("50000.-", "50000"),
    ("50,000.- บาท", "50000"),
    ("หนึ่งหมื่นสองพันบาทถ้วน", "12000"),
    ("1,234,567", "1234567"),
    ("1,234,567.89", "1234567.89"),
    ("1 ล้าน 500", "1000500"),
    ("สองแสนห้า", "250000"),  # spoken: a last lone digit counts in the unit below
    ("แสนห้า", "150000"),
    ("หมื่นห้าบาท", "15000"),
    ("ล้านห้า", "1500000"),
    ("หนึ่งล้านสองแสนห้า", "1250000"),
    ("1 แสน 5", "150000"),
    ("2 พัน 5", "2500"),
    ("สิบห้า", "15"),  # after สิบ and ร้อย a last digit is ones, as written
    ("ร้อยห้า", "105"),
    ("สามแสนสามสิบ", "300030"),
    ("1,500 ล้าน", "1500000000"),
    ("2 แสน 5 หมื่น 3 พัน 4 ร้อย 5 สิบ 6", "253456"),
    ("1.23456789 ล้าน", "1234567.89"),
    ("50000 THB", "50000"),
    ("ห้าสิบจุดห้าศูนย์บาท", "50.50"),
    ("๕๐๐๐๐", "50000"),
    ("５０，０００", "50000"),
    ("999,999,999,999.99", "999999999999.99"),
    ("-0", "0"),
]


@pytest.mark.parametrize(("text", "expected"), BAHTS)
def test_baht_reads(text: str, expected: str) -> None:
    value = parse_baht(text)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2


GARBAGE = [
    "abc",
    "\x00",
    "\x1b[31m80",
    "😀",
    "80😀",
    "'; DROP TABLE reports; --",
    "<b>80</b>",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e999",
    "1e-999",
    "1E2",
    "0x50",
    "1_000",
    "--5",
    "+-5",
    "5-",
    "8 0",
    "80.5.5",
    "..5",
    "١٢",  # Arabic-Indic digits: not a form an officer uses
    "½",
    "สวัสดี",
    "จุดห้า",
    "แปดสิบจุด",
    "แปดสิบจุดสิบ",
    "ห้าห้า",
    "ลบลบห้า",
    "ล้าน" * 40 + "ก",
    "ร้อยละ",
    "%",
    "บาท",
    "-",
]


@pytest.mark.parametrize("text", GARBAGE)
def test_percent_refuses_what_is_not_a_number(text: str) -> None:
    assert rejection(parse_percent, text) == parsing.PERCENT_NOT_NUMBER


@pytest.mark.parametrize("text", GARBAGE)
def test_baht_refuses_what_is_not_a_number(text: str) -> None:
    assert rejection(parse_baht, text) == parsing.BAHT_NOT_NUMBER


@pytest.mark.parametrize("text", ["", " ", "\n\t ", "\u200b", "\u3000"])
def test_empty_answers_get_their_own_message(text: str) -> None:
    assert rejection(parse_percent, text) == parsing.PERCENT_EMPTY
    assert rejection(parse_baht, text) == parsing.BAHT_EMPTY


@pytest.mark.parametrize(
    "text", ["1" * 201, "๘" * 300, " " * 201, "x" * 100_000, "8" * 100_000, "⑽" * 60]
)
def test_long_answers_are_refused_before_parsing(text: str) -> None:
    assert rejection(parse_percent, text) == parsing.PERCENT_TOO_LONG
    assert rejection(parse_baht, text) == parsing.BAHT_TOO_LONG


def test_two_hundred_characters_are_still_read() -> None:
    assert parse_percent("0" * 198 + "80") == Decimal(80)
    assert parse_baht(" " * 195 + "5000") == Decimal(5000)


@pytest.mark.parametrize(
    ("text", "shown"),
    [("101", "101"), ("100.01", "100.01"), ("150 %", "150"), ("-5", "-5"), ("ลบห้า", "-5")],
)
def test_percent_out_of_range_says_what_was_read(text: str, shown: str) -> None:
    message = rejection(parse_percent, text)
    assert f"(อ่านได้ {shown})" in message
    assert "0 ถึง 100" in message


def test_percent_out_of_range_keeps_huge_numbers_short() -> None:
    message = rejection(parse_percent, "9" * 150)
    assert "..." in message
    assert "0 ถึง 100" in message


@pytest.mark.parametrize("text", ["80.125", "0.001", "๘๐.๑๒๕", "แปดสิบจุดหนึ่งสองห้า"])
def test_percent_refuses_more_than_two_places(text: str) -> None:
    message = rejection(parse_percent, text)
    assert message == parsing.PERCENT_DECIMALS
    assert "ไม่เกิน 2 ตำแหน่ง" in message


@pytest.mark.parametrize("text", ["80,5", "80,50 %", "1,000"])
def test_percent_comma_asks_for_a_dot(text: str) -> None:
    message = rejection(parse_percent, text)
    assert message == parsing.PERCENT_COMMA
    assert "80.5" in message


@pytest.mark.parametrize(
    ("text", "shown"), [("-5000", "-5,000"), ("- 5 หมื่น", "-50,000"), ("ลบห้าหมื่นบาท", "-50,000")]
)
def test_baht_negative_is_refused(text: str, shown: str) -> None:
    message = rejection(parse_baht, text)
    assert message == parsing.BAHT_NEGATIVE.format(value=shown)
    assert "0 บาท" in message


@pytest.mark.parametrize("text", ["50000.505", "0.001", "1.234567891 ล้าน", "ห้าสิบจุดหนึ่งสองห้า"])
def test_baht_refuses_fractions_of_a_satang(text: str) -> None:
    message = rejection(parse_baht, text)
    assert message == parsing.BAHT_DECIMALS
    assert "สตางค์" in message


@pytest.mark.parametrize("text", ["5,0000", "50,00", "1,23,456", "0,500", "80,5", "1 ล้าน 2,00"])
def test_baht_malformed_thousands_separators(text: str) -> None:
    message = rejection(parse_baht, text)
    assert message == parsing.BAHT_COMMA
    assert "1,234,567" in message


@pytest.mark.parametrize(
    "text", ["1000000000000", "1,000,000,000,000", "1 ล้าน ล้าน", "หนึ่งล้านล้าน", "9" * 150]
)
def test_baht_refuses_absurd_amounts(text: str) -> None:
    expected = parsing.BAHT_NOT_NUMBER if "ล้าน ล้าน" in text else parsing.BAHT_TOO_LARGE
    assert rejection(parse_baht, text) == expected


def test_baht_satang_in_words_asks_for_decimals() -> None:
    message = rejection(parse_baht, "สองแสนบาท 50 สตางค์")
    assert message == parsing.BAHT_SATANG
    assert "200,000.50" in message


@pytest.mark.parametrize("text", ["5 แสน 3 ล้าน", "1 ล้าน 15 แสน", "5 หมื่น 5 หมื่น", "5 5"])
def test_baht_units_must_come_largest_first(text: str) -> None:
    assert rejection(parse_baht, text) == parsing.BAHT_NOT_NUMBER


def test_messages_are_distinct() -> None:
    messages = [
        parsing.PERCENT_EMPTY,
        parsing.PERCENT_NOT_NUMBER,
        parsing.PERCENT_TOO_LONG,
        parsing.PERCENT_COMMA,
        parsing.PERCENT_DECIMALS,
        parsing.PERCENT_RANGE,
        parsing.BAHT_EMPTY,
        parsing.BAHT_NOT_NUMBER,
        parsing.BAHT_TOO_LONG,
        parsing.BAHT_COMMA,
        parsing.BAHT_DECIMALS,
        parsing.BAHT_SATANG,
        parsing.BAHT_TOO_LARGE,
        parsing.BAHT_NEGATIVE,
    ]
    assert len(set(messages)) == len(messages)
    assert all("กรุณา" in message for message in messages)
    assert all("เช่น" in message for message in messages if message != parsing.BAHT_TOO_LARGE)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(ParseError, ValueError)


def test_repeated_million_words_stay_fast() -> None:
    # pythainlp's numeral pattern backtracks exponentially on these; the parser must not call it.
    started = time.perf_counter()
    for text in ["ล้าน" * 49 + "ก", "หนึ่งล้าน" * 22 + "x", "ห้าจุด" + "ล้าน" * 48]:
        rejection(parse_percent, text)
        rejection(parse_baht, text)
    assert time.perf_counter() - started < 1.0


# --- properties -------------------------------------------------------------------------------

MIXED_CHARS = st.one_of(
    st.characters(min_codepoint=0x0E00, max_codepoint=0x0E7F),
    st.sampled_from("0123456789๐๑๒๓๔๕๖๗๘๙.,-+%฿ \t\n"),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
    st.characters(categories=["P", "S", "Cc", "Zs", "Nd", "No"]),
)
# Number words and marks, with ล้าน twice as likely: long runs of it are the known slow input.
NUMBER_TOKENS = st.sampled_from(
    [
        "หนึ่ง",
        "สอง",
        "ห้า",
        "เก้า",
        "ศูนย์",
        "ยี่",
        "เอ็ด",
        "สิบ",
        "ร้อย",
        "พัน",
        "หมื่น",
        "แสน",
        "ล้าน",
        "ล้าน",
        "จุด",
        "ลบ",
        "บาท",
        "ร้อยละ",
        "ถ้วน",
        "เปอร์เซ็นต์",
        "ก",
        "1",
        "5",
        "0",
        ",",
        ".",
        ".-",
        "-",
        "%",
        "฿",
        " ",
    ]
)
ANY_TEXT = st.one_of(
    st.text(),
    st.text(MIXED_CHARS, max_size=300),
    st.text(min_size=180, max_size=400),
    st.lists(NUMBER_TOKENS, max_size=80).map("".join),
)


@PROPERTY
@given(ANY_TEXT)
def test_percent_reads_or_explains_anything(text: str) -> None:
    value = outcome(parse_percent, text)
    if isinstance(value, str):
        assert is_thai(value)
        return
    assert Decimal(0) <= value <= Decimal(100)
    assert value.as_tuple().exponent == -2


@PROPERTY
@given(ANY_TEXT)
def test_baht_reads_or_explains_anything(text: str) -> None:
    value = outcome(parse_baht, text)
    if isinstance(value, str):
        assert is_thai(value)
        return
    assert Decimal(0) <= value < Decimal(10) ** 12
    assert value.as_tuple().exponent == -2


@PROPERTY
@given(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False))
def test_percent_round_trips(value: Decimal) -> None:
    assert parse_percent(str(value)) == value
    assert parse_percent(arabic_digit_to_thai_digit(str(value))) == value
    assert parse_percent(f"{value} %") == value


@PROPERTY
@given(st.integers(min_value=0, max_value=10**9))
def test_baht_round_trips(amount: int) -> None:
    assert parse_baht(f"{amount:,}") == amount
    assert parse_baht(f"{amount}") == amount
    assert parse_baht(arabic_digit_to_thai_digit(f"{amount:,} บาท")) == amount
