"""The form as plain text for chat, and that text cut into messages under a length limit."""

from __future__ import annotations

import re

from reports.form_model import (
    Block,
    Fields,
    FormDocument,
    NumberedList,
    Paragraph,
    ReportEntry,
    Section,
)
from reports.thai_wrap import wrap

_PARAGRAPH_BREAK = re.compile(r"(\n[^\S\n]*\n\s*)")


def render_text(doc: FormDocument) -> str:
    """The whole form as text: title, sections and the signature, separated by blank lines."""
    parts = [doc.title, *(_section(section) for section in doc.sections)]
    parts.append("\n".join(doc.signature.lines()))
    return "\n\n".join(parts)


def _section(section: Section) -> str:
    text = section.heading
    for block in section.blocks:
        # Each monthly report stands apart, as on the printed form.
        text += ("\n\n" if isinstance(block, ReportEntry) else "\n") + block_text(block)
    return text


def block_text(block: Block) -> str:
    """One block of a section as lines of text."""
    if isinstance(block, Fields):
        return "\n".join(field.text() for row in block.rows for field in row)
    if isinstance(block, Paragraph):
        return "\n".join(block.lines)
    if isinstance(block, NumberedList):
        items = [f"{n} {item}" for n, item in zip(block.numbers(), block.items, strict=True)]
        return "\n".join([block.caption, *items] if block.caption else items)
    return "\n".join(block.lines())


def utf16_length(text: str) -> int:
    """Length as Telegram and LINE count it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_messages(text: str, limit: int) -> list[str]:
    """Chat messages of at most `limit` UTF-16 units each, which together are `text`.

    Cuts fall between paragraphs (blank lines) where possible, else between lines, and a line
    longer than the limit is cut at a word boundary (pythainlp newmm), never inside a Thai word.
    Only the whitespace at a cut is lost: every message is a piece of the original text.
    """
    if limit < 1:
        raise ValueError(f"a message limit must be positive, not {limit}")
    if utf16_length(text) <= limit:
        return [text] if text.strip() else []
    chunks: list[str] = []
    current: str | None = None
    for gap, piece in _pieces(text, limit):
        if current is not None and utf16_length(current + gap + piece) <= limit:
            current += gap + piece
        else:
            if current is not None and current.strip():
                chunks.append(current)
            current = piece
    if current is not None and current.strip():
        chunks.append(current)
    return chunks


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    """The text as (whitespace before, piece) pairs: whole paragraphs where they fit, else
    their lines, else the wrapped parts of a line, each within the limit."""
    pieces: list[tuple[str, str]] = []
    parts = _PARAGRAPH_BREAK.split(text)
    gaps = ["", *parts[1::2]]
    for paragraph_gap, paragraph in zip(gaps, parts[0::2], strict=True):
        if utf16_length(paragraph) <= limit:
            pieces.append((paragraph_gap, paragraph))
            continue
        for number, line in enumerate(paragraph.split("\n")):
            gap = paragraph_gap if number == 0 else "\n"
            if utf16_length(line) <= limit:
                pieces.append((gap, line))
                continue
            cursor = 0
            for part in wrap(line, limit, utf16_length):
                start = line.index(part, cursor)
                pieces.append((gap + line[cursor:start], part))
                gap, cursor = "", start + len(part)
    return pieces
