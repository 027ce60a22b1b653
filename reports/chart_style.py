"""What every chart shares: the Sarabun font registered with matplotlib, one style, PNG output.

matplotlib (3.11 and later) lays text out with libraqm, that is HarfBuzz, so Thai vowels and tone
marks are placed by the font's own OpenType tables, as in the PDF. The font files come from the
`fontpkg-sarabun` package; nothing is looked up on the system, so every machine draws alike.
Charts are drawn on an explicit Agg canvas, never through pyplot, so no GUI backend is involved.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from domain.thaitext import shorten, width_of
from domain.words import segment
from reports.pdf_fonts import sarabun

DPI = 100

# Colours that stay apart for colour-blind readers and on a dim phone screen.
PROGRESS_COLOUR = "#1f5fa8"
MONEY_COLOUR = "#f0a030"
BUDGET_COLOUR = "#b03030"
MISSING_COLOUR = "#9e9e9e"

# rcParams are global: one chart is drawn at a time, whichever thread asks.
_DRAWING = threading.Lock()


@cache
def register_font() -> str:
    """Register Sarabun Regular and Bold with matplotlib (once); returns the family name."""
    fonts = sarabun()
    for face in (fonts.regular, fonts.bold):
        font_manager.fontManager.addfont(str(face))
    return fonts.family


@contextmanager
def drawing() -> Iterator[None]:
    """Hold the drawing lock with the chart style in force."""
    with (
        _DRAWING,
        matplotlib.rc_context(
            {
                "font.family": register_font(),
                "font.size": 11,
                "text.language": "th",
                "axes.unicode_minus": False,  # Sarabun has no U+2212 minus sign
                "svg.hashsalt": "progress-bot",  # fixed ids, should anyone save an SVG
                "axes.spines.top": False,
            }
        ),
    ):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure on its own Agg canvas (call inside `drawing()`)."""
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes, with no software name or date in the metadata (reproducible)."""
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def wrap_thai(text: str, width: int, max_lines: int = 3) -> list[str]:
    """Lines of at most `width` columns, broken between Thai words (never inside one)."""
    lines: list[str] = []
    line = ""
    for word in segment(" ".join(text.split())):
        if line and width_of(line + word) > width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], clip(" ".join(lines[max_lines - 1 :]), width)]
    return lines


def clip(text: str, width: int) -> str:
    """The text cut to `width` columns at a word boundary, with an ellipsis."""
    return shorten(text, width)
