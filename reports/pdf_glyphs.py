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
from fpdf import FPDF
from fpdf.fonts import TTFFont

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

        A cluster of one glyph stands for its characters. HarfBuzz splits ำ into ํ and า:
        a glyph of a longer cluster that is some character's own glyph takes that character
        (from the decomposed text), and the cluster's first glyph takes the rest, so the text
        read back is the source in its compatibility-decomposed form (NFKC: สำ -> สํา).
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
                rest = list(chars.replace("\u0e33", "\u0e4d\u0e32"))
                own = [""] * len(members)
                for i in range(len(members) - 1, 0, -1):
                    for j in range(len(rest) - 1, -1, -1):
                        if self.glyph_of(rest[j]) == members[i]:
                            own[i] = rest.pop(j)
                            break
                own[0] = "".join(rest)
                result.extend(own)
            members = []
        return result


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
        run: list[str] = []
        pen, placed = 0, False
        characters = face.characters(text, glyphs)
        for (gid, _, advance, x_offset, y_offset), own in zip(glyphs, characters, strict=True):
            if gid == 0:  # a character Sarabun lacks: leave its space blank
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
        pdf._out(f"BT {' '.join(ops)} ET")
