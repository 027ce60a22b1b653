"""Charts: real PNGs with the figures drawn where they belong, the same bytes every time."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from pythainlp.tokenize import word_tokenize

from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, Project, ReportValues
from domain.thaitext import width_of
from reports import chart_style
from reports.chart_style import clip, wrap_thai
from reports.charts import agency_chart, project_chart
from reports.pdf_fonts import FontMissing, find_sarabun, sarabun
from reports.summary_model import ProjectStatus
from tests.support import ROAD

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROJECT = Project(**{f.name: getattr(ROAD, f.name) for f in dataclasses.fields(ROAD)}, id=1)
BLUE = np.array([0x1F, 0x5F, 0xA8])  # the progress line
ORANGE = np.array([0xF0, 0xA0, 0x30])  # disbursement bars (drawn at alpha 0.75 over white)
GREY = np.array([0x9E, 0x9E, 0x9E])  # projects that have not reported this month


def report(no: int, progress: int, disbursed: int, fiscal_year: int = 2570) -> MonthlyReport:
    values = ReportValues(
        date(2026, 10, 30), Decimal(progress), Decimal(disbursed), "", True, "", True, ""
    )
    return MonthlyReport(no, ROAD.code, fiscal_year, no, values, None, "import",
                         datetime(2026, 10, 30), 1)  # fmt: skip


REPORTS = [report(n, p, d) for n, p, d in ((1, 10, 0), (2, 25, 300_000), (3, 40, 600_000))]


def pixels(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    image: np.ndarray = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return image


def near(image: np.ndarray, colour: np.ndarray, tolerance: int = 40) -> np.ndarray:
    """Mask of pixels close to a colour."""
    mask: np.ndarray = np.abs(image - colour).sum(axis=2) < tolerance
    return mask


def reddish(image: np.ndarray) -> np.ndarray:
    """Mask of red pixels (the budget line, anti-aliased into its neighbours)."""
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    return (red > green + 60) & (red > blue + 60)


def test_project_chart_is_a_png_of_the_expected_size_and_deterministic() -> None:
    first = project_chart(PROJECT, REPORTS, 2570)
    second = project_chart(PROJECT, REPORTS, 2570)

    assert first == second
    image = pixels(first)
    assert image.shape == (480, 800, 3)
    assert b"Software" not in first  # no matplotlib version in the file


def test_project_chart_draws_the_line_the_bars_and_the_budget() -> None:
    image = pixels(project_chart(PROJECT, REPORTS, 2570))
    plot = image[100:380, 75:685]  # inside the axes

    assert (plot.sum(axis=2) < 3 * 250).mean() > 0.02  # something is drawn, not a blank page
    blue, orange = near(plot, BLUE), near(plot, ORANGE, 120)
    assert blue.sum() > 200
    assert orange.sum() > 500
    # Three months reported: the line and the bars stay in the first quarter of the year.
    assert np.nonzero(blue.any(axis=0))[0].max() < plot.shape[1] * 0.35
    assert np.nonzero(orange.any(axis=0))[0].max() < plot.shape[1] * 0.35
    # The budget (1,200,000 baht) is a dashed red line across the whole plot.
    assert reddish(plot).sum(axis=1).max() > plot.shape[1] * 0.4


def test_more_progress_draws_higher() -> None:
    low = near(pixels(project_chart(PROJECT, [report(1, 10, 0)], 2570)), BLUE)
    high = near(pixels(project_chart(PROJECT, [report(1, 90, 0)], 2570)), BLUE)
    # The marker's rows (the legend's sample line sits at the same place in both).
    assert np.nonzero(high[:400].any(axis=1))[0].min() < np.nonzero(low[:400].any(axis=1))[0].min()


def test_a_chart_without_reports_or_budget() -> None:
    bare = dataclasses.replace(PROJECT, budget_received=None)
    image = pixels(project_chart(bare, [report(1, 50, 0, fiscal_year=2569)], 2570))
    plot = image[100:380, 75:685]
    assert near(plot, BLUE).sum() == 0  # another year's report is not drawn
    assert reddish(plot).sum() == 0


def test_a_long_name_is_wrapped_into_the_title() -> None:
    long = dataclasses.replace(PROJECT, name="พัฒนาคุณภาพเครือข่ายโรงเรียน" * 8)
    assert pixels(project_chart(long, REPORTS, 2570)).shape == (480, 800, 3)


def status(code: str, progress: int | None, reported: bool) -> ProjectStatus:
    project = dataclasses.replace(PROJECT, code=code, name=f"โครงการ {code}")
    shown = report(3, progress, 0) if progress is not None else None
    return ProjectStatus(project, (), shown if reported else None, shown, None)


def test_agency_chart_bars_and_limit() -> None:
    rows = [status(f"P{n:02d}", n * 3, reported=n % 4 != 0) for n in range(30)]
    month = ReportMonth(2570, 3)

    png = agency_chart(rows, month, agency="สำนักงานเขตลาดกระบัง", limit=10)
    all_rows = agency_chart(rows, month, limit=30)

    assert png == agency_chart(rows, month, agency="สำนักงานเขตลาดกระบัง", limit=10)
    small, large = pixels(png), pixels(all_rows)
    assert small.shape[1] == large.shape[1] == 800
    assert large.shape[0] > small.shape[0] + 400  # one bar row each
    assert near(small, BLUE).sum() > 100 and near(small, GREY).sum() > 100


def test_agency_chart_without_projects() -> None:
    image = pixels(agency_chart([], ReportMonth(2570, 3)))
    assert near(image, BLUE).sum() == 0


def test_thai_wrapping_breaks_between_words() -> None:
    name = "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียนสังกัดกรุงเทพมหานคร"
    lines = wrap_thai(name, 16, max_lines=10)
    words = set(word_tokenize(name, engine="newmm"))
    assert "".join(lines) == name
    assert len(lines) > 2
    for line in lines:
        assert all(w in words for w in word_tokenize(line, engine="newmm")), line
        assert width_of(line) <= 16
    assert len(wrap_thai(name * 3, 16, max_lines=2)) == 2


def test_widths_and_clipping_keep_whole_words() -> None:
    assert width_of("ที่นี่") == 2  # ท ี ่ น ี ่: vowel and tone marks take no column
    assert clip("ที่นี่ที่นั่น", 4) == "ที่นี่…", "cut between the words ที่นี่ | ที่นั่น"
    assert clip("สั้น", 10) == "สั้น"
    label = clip("โครงการส่งเสริมการคัดแยกขยะมูลฝอยในชุมชน", 25)
    assert label == "โครงการส่งเสริมการคัดแยก…", "never inside a syllable (…มูลฝ)"


def test_a_missing_font_package_is_named() -> None:
    with pytest.raises(FontMissing, match="fontpkg-sarabun"):
        find_sarabun("fontpkg_no_such_family")
    fonts = sarabun()
    assert [f.name for f in (fonts.regular, fonts.bold)] == [
        "Sarabun-Regular.ttf",
        "Sarabun-Bold.ttf",
    ]


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the charts draw, kept for a look at their axes."""
    kept: list[Figure] = []

    def keep(figure: Figure) -> bytes:
        kept.append(figure)
        return chart_style.png(figure)

    monkeypatch.setattr("reports.charts.png", keep)
    return kept


def money_ticks(figure: Figure) -> list[str]:
    money = figure.axes[1]
    low, high = money.get_ylim()
    return [
        label.get_text()
        for value, label in zip(money.get_yticks(), money.get_yticklabels(), strict=True)
        if low <= value <= high
    ]


@pytest.mark.parametrize("spent", [0, 3, 40, 999])
def test_the_baht_axis_shows_each_whole_baht_tick_once(figures: list[Figure], spent: int) -> None:
    project = dataclasses.replace(PROJECT, budget_received=None)
    project_chart(project, [report(1, 10, 0), report(2, 20, spent)], 2570)
    ticks = money_ticks(figures[-1])
    assert ticks and len(ticks) == len(set(ticks)), ticks
    assert all(tick.replace(",", "").isdigit() for tick in ticks), ticks
    if spent == 0:
        assert ticks == ["0"], "nothing spent: one tick, not 0 0 1 1 1 1"


@pytest.mark.parametrize("month", [1, 6, 12])
@pytest.mark.parametrize("progress", [5, 50, 100])
def test_the_latest_figure_stays_inside_the_frame(
    figures: list[Figure], month: int, progress: int
) -> None:
    project_chart(PROJECT, [report(month, progress, 1000)], 2570)
    figure = figures[-1]
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = figure.axes[0].get_window_extent(renderer)
    [label] = [t for t in figure.axes[0].texts if t.get_text().endswith(" %")]
    box = label.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 - 2, "clear of the right axis"
    assert frame.y0 <= box.y0 and box.y1 <= frame.y1 - 2, "clear of the top"
