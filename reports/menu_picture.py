"""The picture of a LINE rich menu: a grid of labelled tiles in Thai, drawn with Sarabun.

The text is shaped by Pillow's Raqm layout (HarfBuzz underneath), so vowels and tone marks sit
where Sarabun's own tables put them, as in the PDF and the charts. The tiles are plain and
high-contrast, to be read on a small phone in sunlight; each tile shows its Thai label large and
the matching /command small beneath. The picture is built from the same cells the menu's tap
areas are made of (see `grid`), so a tap lands on the tile drawn there.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from reports.pdf_fonts import sarabun

WIDTH, HEIGHT = 2500, 1686  # LINE's large rich menu
BACKGROUND = "#0b3d5c"
TILE = "#ffffff"
INK = "#0b3d5c"
HINT = "#4a6a80"
GAP = 18


@dataclass(frozen=True, slots=True)
class Cell:
    """One tile: where it is, and what it says."""

    x: int
    y: int
    width: int
    height: int
    label: str
    hint: str


def grid(labels: Sequence[tuple[str, str]], columns: int = 3) -> list[Cell]:
    """The tiles of a menu of `labels` (Thai label, hint) in rows of `columns`, filling the
    whole picture: every pixel belongs to exactly one tile (LINE's tap areas may not overlap)."""
    rows = -(-len(labels) // columns)
    cells = []
    for n, (label, hint) in enumerate(labels):
        row, column = divmod(n, columns)
        x0, x1 = WIDTH * column // columns, WIDTH * (column + 1) // columns
        y0, y1 = HEIGHT * row // rows, HEIGHT * (row + 1) // rows
        cells.append(Cell(x0, y0, x1 - x0, y1 - y0, label, hint))
    return cells


def draw_menu(cells: Sequence[Cell]) -> bytes:
    """The menu's picture as PNG (a few tens of kilobytes; LINE takes up to 1 MB)."""
    fonts = sarabun()
    label_font = ImageFont.truetype(str(fonts.bold), 150, layout_engine=ImageFont.Layout.RAQM)
    hint_font = ImageFont.truetype(str(fonts.regular), 80, layout_engine=ImageFont.Layout.RAQM)
    picture = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    pen = ImageDraw.Draw(picture)
    for cell in cells:
        box = (cell.x + GAP, cell.y + GAP, cell.x + cell.width - GAP, cell.y + cell.height - GAP)
        pen.rounded_rectangle(box, radius=48, fill=TILE)
        middle = cell.x + cell.width / 2
        label_font_fit = _fit(cell.label, label_font, cell.width - 6 * GAP)
        pen.text(
            (middle, cell.y + cell.height * 0.45), cell.label, font=label_font_fit, fill=INK,
            anchor="mm", language="th",
        )  # fmt: skip
        pen.text(
            (middle, cell.y + cell.height * 0.72), cell.hint, font=hint_font, fill=HINT,
            anchor="mm",
        )  # fmt: skip
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> ImageFont.FreeTypeFont:
    """The font, made smaller until `text` fits `width` pixels."""
    size = font.size
    while size > 40 and font.font_variant(size=size).getlength(text, language="th") > width:
        size -= 10
    return font if size == font.size else font.font_variant(size=size)
