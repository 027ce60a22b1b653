"""Where the Sarabun font files are: the `fontpkg-sarabun` package ships them as data.

The PDF form (fpdf2) and the charts (matplotlib) both read the faces from here.

Sarabun is the Google Fonts edition of TH Sarabun New, the typeface of Thai government
documents; its OpenType tables place Thai vowels and tone marks, which HarfBuzz applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

FONT_PACKAGE = "fontpkg_sarabun"
FONT_FAMILY = "Sarabun"


class FontMissing(RuntimeError):
    """The Thai font needed for the PDF form and the charts is not installed."""


@dataclass(frozen=True, slots=True)
class FontFiles:
    """The regular and bold faces of one family."""

    family: str
    regular: Path
    bold: Path


def find_sarabun(package: str) -> FontFiles:
    """Paths of Sarabun Regular and Bold inside the installed font package `package`."""
    try:
        folder = resources.files(package) / "files"
    except ModuleNotFoundError:
        raise FontMissing(
            "the PDF form and the charts need the Sarabun font: install the Python package "
            "fontpkg-sarabun"
        ) from None
    faces: list[Path] = []
    for name in ("Sarabun-Regular.ttf", "Sarabun-Bold.ttf"):
        face = folder / name
        # An installed package is a folder on disk; fpdf2 and matplotlib read fonts from paths.
        if not isinstance(face, Path) or not face.is_file():
            raise FontMissing(f"{name} is missing from the package fontpkg-sarabun ({folder})")
        faces.append(face)
    return FontFiles(FONT_FAMILY, faces[0], faces[1])


@cache
def sarabun() -> FontFiles:
    """The Sarabun faces of the installed package (looked up once)."""
    return find_sarabun(FONT_PACKAGE)
