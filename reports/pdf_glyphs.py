"""Thai lines shaped by HarfBuzz, measured and drawn onto an fpdf2 page.

fpdf2's own shaped `cell()` runs a bidi analysis and several Python passes per character,
about 30 µs each: some 0.2 s for the seed form's 5,500 characters. Here a line costs one
HarfBuzz call and a dictionary lookup per glyph, so a whole form draws in a few milliseconds.
The glyphs still go through fpdf2's font subset, which embeds them and writes the ToUnicode map
(so the text can be copied and searched); only the text-showing operators are written here.
This leans on fpdf2 internals (`SubsetMap`, `_set_font_for_page`, `_out`), which the PDF tests
exercise: a change there fails them rather than producing a broken file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import uharfbuzz as hb  # type: ignore[import-untyped]  # ships no type information
from fontTools.pens.basePen import BasePen  # type: ignore[import-untyped]  # no type information
from fpdf import FPDF
from fpdf.fonts import TTFFont

SARA_AM, SARA_AA = "\u0e33", "\u0e32"

# One shaped glyph, in font units: glyph id, cluster (index of its first character), advance,
# x offset, y offset. A plain tuple: a form has thousands of them.
Glyph = tuple[int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class Shaper:
    """A font face loaded into HarfBuzz once per process."""

    font: Any  # uharfbuzz.Font
    upem: int
    nominal: dict[str, int] = field(default_factory=dict, compare=False)  # char -> glyph id

    def shape(self, text: str) -> list[Glyph]:
        """Glyphs of a line after Thai shaping (marks placed and stacked by GPOS)."""
        if not text:
            return []
        buffer = hb.Buffer()
        buffer.cluster_level = 1  # monotone characters: a cluster is a character index
        buffer.add_str(text)
        buffer.guess_segment_properties()
        hb.shape(self.font, buffer, {})
        return [
            (i.codepoint, i.cluster, p.x_advance, p.x_offset, p.y_offset)
            for i, p in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True)
        ]

    def width(self, text: str, size_pt: float) -> float:
        """Advance width of a line in points."""
        return sum(glyph[2] for glyph in self.shape(text)) * size_pt / self.upem

    def glyph_of(self, char: str) -> int:
        """The glyph a character maps to before shaping (0 if none)."""
        gid = self.nominal.get(char)
        if gid is None:
            gid = self.nominal[char] = int(self.font.get_nominal_glyph(ord(char)) or 0)
        return gid

    def characters(self, text: str, glyphs: list[Glyph]) -> list[str]:
        """The characters each glyph stands for, for copying and searching the PDF.

        A cluster of one glyph stands for its characters. In a longer cluster a glyph that is
        some character's own glyph takes that character, and the cluster's first glyph takes the
        rest, so the text read back is the source, in its order. HarfBuzz draws ำ as ํ and า:
        the า glyph stands for ำ and the ํ glyph for nothing ("" is drawn as a shape, outside
        the text). A mark the font replaced by a variant (moved clear of a tall letter) also
        stands for nothing: its character goes with the cluster's first glyph.
        """
        starts = sorted({glyph[1] for glyph in glyphs})
        ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
        result: list[str] = []
        members: list[int] = []  # glyph ids of the cluster being read
        for number, glyph in enumerate(glyphs):
            members.append(glyph[0])
            if number + 1 < len(glyphs) and glyphs[number + 1][1] == glyph[1]:
                continue
            chars = text[glyph[1] : ends[glyph[1]]]
            if len(members) == 1:
                result.append(chars)
            else:
                rest = list(chars)
                own = [""] * len(members)
                for i in range(len(members) - 1, 0, -1):
                    for j in range(len(rest) - 1, -1, -1):
                        # ำ is drawn as ํ and า: the า glyph stands for it.
                        char = SARA_AA if rest[j] == SARA_AM else rest[j]
                        if self.glyph_of(char) == members[i]:
                            own[i] = rest.pop(j)
                            break
                own[0] = "".join(rest)
                result.extend(own)
            members = []
        return result


BOM = "\ufeff"


class _PathPen(BasePen):  # type: ignore[misc]  # fontTools ships no type information
    """A glyph's outline as PDF path operators, scaled and moved onto the page."""

    def __init__(self, glyphs: Any, scale: float, dx: float, dy: float) -> None:
        super().__init__(glyphs)
        self.ops: list[str] = []
        self._scale, self._dx, self._dy = scale, dx, dy

    def _point(self, point: tuple[float, float]) -> str:
        return f"{self._dx + point[0] * self._scale:.2f} {self._dy + point[1] * self._scale:.2f}"

    def _moveTo(self, point: tuple[float, float]) -> None:
        self.ops.append(f"{self._point(point)} m")

    def _lineTo(self, point: tuple[float, float]) -> None:
        self.ops.append(f"{self._point(point)} l")

    def _curveToOne(
        self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]
    ) -> None:
        self.ops.append(f"{self._point(p1)} {self._point(p2)} {self._point(p3)} c")

    def _closePath(self) -> None:
        self.ops.append("h")


def outline(font: TTFFont, gid: int, x: float, y: float, scale: float) -> str:
    """A glyph drawn as a filled shape at (x, y) in points (the text's fill colour)."""
    glyphs = font.ttfont.getGlyphSet()
    pen = _PathPen(glyphs, scale, x, y)
    glyphs[font.ttfont.getGlyphName(gid)].draw(pen)
    return f"{' '.join(pen.ops)} f" if pen.ops else ""


def _box(x: float, baseline: float, advance: float, size: float) -> str:
    """The box drawn for a character the font lacks (its text stays in /ActualText)."""
    width, height = advance * 0.8, size * 0.7
    return f"q 0.6 w {x + advance * 0.1:.2f} {baseline:.2f} {width:.2f} {height:.2f} re S Q"


@cache
def shaper(path: Path) -> Shaper:
    """The HarfBuzz face of a font file (cached for the process)."""
    face = hb.Face(hb.Blob.from_file_path(str(path)))
    return Shaper(hb.Font(face), int(face.upem))


class GlyphWriter:
    """Draws lines in the FPDF's current TrueType font and size."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        # (font number, glyph id, characters) -> (code in this document's subset, advance)
        self.codes: dict[tuple[int, int, tuple[int, ...]], tuple[str, int]] = {}

    def _font(self) -> TTFFont:
        font = self.pdf.current_font
        if not isinstance(font, TTFFont):
            raise TypeError("select a TrueType font before drawing shaped text")
        return font

    def width(self, text: str) -> float:
        """Width of a line in the current font, in the document's unit."""
        return shaper(self._font().ttffile).width(text, self.pdf.font_size_pt) / self.pdf.k

    def _code(self, font: TTFFont, gid: int, chars: tuple[int, ...]) -> tuple[str, int]:
        """The glyph's code in the embedded subset (hex) and its advance there."""
        key = (font.i, gid, chars)
        known = self.codes.get(key)
        if known is None:
            name = font.ttfont.getGlyphName(gid)
            advance = font.ttfont["hmtx"].metrics[name][0]
            subset_glyph = font.subset.get_glyph(gid, chars, name, round(font.scale * advance))
            code = font.subset.pick_glyph(subset_glyph)
            if code is None:
                raise ValueError(f"glyph {gid} of {font.fontkey} cannot be embedded")
            known = self.codes[key] = (f"{code:04X}", advance)
        return known

    def draw(self, x: float, baseline: float, text: str) -> None:
        """Draw one line with its left end at `x` on `baseline` (document units from the top)."""
        if not text:
            return
        pdf, font = self.pdf, self._font()
        size = pdf.font_size_pt
        face = shaper(font.ttffile)
        glyphs = face.shape(text)
        scale = size / face.upem  # font units -> points
        left, base = x * pdf.k, (pdf.h - baseline) * pdf.k
        ops = [pdf._set_font_for_page(font, size, wrap_in_text_object=False)]
        shapes: list[str] = []  # glyphs that stand for no character, drawn as outlines
        run: list[str] = []
        pen, placed = 0, False
        characters = face.characters(text, glyphs)
        for (gid, _, advance, x_offset, y_offset), own in zip(glyphs, characters, strict=True):
            if gid == 0 or not own:
                # Drawn apart from the text: a character Sarabun lacks (an emoji) as an empty
                # box, never nothing; a glyph that stands for no character as its outline.
                if gid == 0:
                    shapes.append(_box(left + pen * scale, base, advance * scale, size))
                else:
                    gx, gy = left + (pen + x_offset) * scale, base + y_offset * scale
                    shapes.append(outline(font, gid, gx, gy, scale))
                if run:
                    ops.append(f"<{''.join(run)}> Tj")
                    run = []
                placed = False  # the next glyph is placed anew, after this one's advance
                pen += advance
                continue
            chars = tuple(map(ord, own))
            code, default = self._code(font, gid, chars)
            if x_offset or y_offset or advance != default:
                # A mark placed by GPOS, or a kerned glyph: positioned on its own.
                if run:
                    ops.append(f"<{''.join(run)}> Tj")
                    run = []
                gx, gy = left + (pen + x_offset) * scale, base + y_offset * scale
                ops.append(f"1 0 0 1 {gx:.2f} {gy:.2f} Tm <{code}> Tj")
                placed = False
            else:
                if not placed:
                    ops.append(f"1 0 0 1 {left + pen * scale:.2f} {base:.2f} Tm")
                    placed = True
                run.append(code)
            pen += advance
        if run:
            ops.append(f"<{''.join(run)}> Tj")
        # The line's own text for readers that take it (pdftotext, screen readers, search in
        # viewers): marks placed apart are otherwise read in the order of their positions.
        actual = (BOM + text).encode("utf-16-be").hex().upper()
        pdf._out(f"/Span << /ActualText <{actual}> >> BDC BT {' '.join(ops)} ET")
        if shapes:
            pdf._out(" ".join(shapes))
        pdf._out("EMC")
