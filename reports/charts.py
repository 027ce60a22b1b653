"""Charts sent in chat with a summary, as PNG bytes.

`project_chart`: one project's cumulative progress (line, left axis 0-100 %) and cumulative
disbursement (bars, right axis, baht) for each month of a fiscal year, with the budget received
as a dashed line. `agency_chart`: an agency's projects' progress in one month, lowest first.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, Project
from domain.months import month_name
from domain.numbers import baht, percent
from domain.thaidate import THAI_MONTHS_ABBR
from reports.chart_style import (
    BUDGET_COLOUR,
    MISSING_COLOUR,
    MONEY_COLOUR,
    PROGRESS_COLOUR,
    clip,
    drawing,
    new_figure,
    png,
    wrap_thai,
)
from reports.summary_model import ProjectStatus

AGENCY_LIMIT = 20  # bars that fit a phone screen (and keep the chart under half a second)
TITLE_WIDTH = 60
LABEL_WIDTH = 34


def _money_ticks(value: float, _position: float) -> str:
    return f"{value:,.0f}"


def _title(figure: Figure, text: str, *, left: float, top_inches: float, height: float) -> None:
    # A figure text at a fixed place: an axes title costs a layout pass over the ticks.
    figure.text(
        left, 1 - top_inches / height, text, fontsize=12, fontweight="bold", va="top", ha="left"
    )


def project_chart(project: Project, reports: Sequence[MonthlyReport], fiscal_year: int) -> bytes:
    """PNG of a project's cumulative progress and disbursement by month across a fiscal year."""
    months = ReportMonth(fiscal_year, 1).months_of_year()
    labels = [THAI_MONTHS_ABBR[m.month - 1] for m in months]
    by_no = {r.report_no: r for r in reports if r.fiscal_year == fiscal_year}
    numbers = sorted(by_no)
    xs = [n - 1 for n in numbers]
    progress = [float(by_no[n].values.progress) for n in numbers]
    disbursed = [float(by_no[n].values.disbursed) for n in numbers]
    budget = project.budget_received
    title = [*wrap_thai(project.name, TITLE_WIDTH, max_lines=2)]
    title.append(f"รหัสโครงการ {project.code}  ปีงบประมาณ พ.ศ. {fiscal_year}")
    with drawing():
        figure = new_figure(8, 4.8)
        figure.subplots_adjust(left=0.09, right=0.86, bottom=0.2, top=0.93 - 0.06 * len(title))
        ax: Axes = figure.add_subplot()
        money: Axes = ax.twinx()
        # The line above the bars: the progress axes in front, with a see-through background.
        ax.set_zorder(money.get_zorder() + 1)
        ax.patch.set_visible(False)
        money.bar(xs, disbursed, width=0.6, color=MONEY_COLOUR, alpha=0.75)
        handles: list[Artist] = [Patch(color=MONEY_COLOUR, alpha=0.75)]
        names = ["เบิกจ่ายสะสม (บาท)"]
        top = max([*disbursed, 0.0])
        if budget is not None and budget > 0:
            line = money.axhline(float(budget), color=BUDGET_COLOUR, linestyle="--", linewidth=1.2)
            handles.append(line)
            names.append(f"งบประมาณที่ได้รับ {baht(budget)} บาท")
            top = max(top, float(budget))
        # Whole baht on the ticks, each once: no "0 0 1 1" on a small or empty axis.
        money.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        money.yaxis.set_major_formatter(FuncFormatter(_money_ticks))
        if top > 0:
            money.set_ylim(0, top * 1.12)
        else:  # nothing spent and no budget: one tick, 0
            money.set_ylim(0, 1.0)
            money.set_yticks([0])
        money.set_ylabel("บาท")
        (curve,) = ax.plot(xs, progress, marker="o", color=PROGRESS_COLOUR, linewidth=2.2)
        handles.insert(0, curve)
        names.insert(0, "ความก้าวหน้าสะสม (%)")
        if numbers:
            # The latest figure by its point, kept inside the frame: under the point near the
            # top, to its left in the last months and to its right in the first.
            high, early, late = progress[-1] > 88, xs[-1] <= 1, xs[-1] >= 10
            ax.annotate(
                f"{percent(by_no[numbers[-1]].values.progress)} %",
                (xs[-1], progress[-1]),
                textcoords="offset points",
                xytext=(-8 if late else 8 if early else 0, -12 if high else 8),
                ha="right" if late else "left" if early else "center",
                va="top" if high else "bottom",
                color=PROGRESS_COLOUR,
                fontweight="bold",
            )
        else:
            ax.text(5.5, 50, "ยังไม่มีรายงานในปีงบประมาณนี้", ha="center", color=MISSING_COLOUR)
        ax.set_ylim(0, 105)
        ax.set_xlim(-0.6, 11.6)
        ax.set_xticks(range(12), labels)
        ax.set_ylabel("ความก้าวหน้า (%)")
        ax.grid(axis="y", alpha=0.3)
        _title(figure, "\n".join(title), left=0.09, top_inches=0.15, height=4.8)
        figure.legend(handles, names, loc="lower center", ncols=len(names), frameon=False)
        return png(figure)


def agency_chart(
    rows: Sequence[ProjectStatus],
    month: ReportMonth,
    *,
    agency: str | None = None,
    limit: int = AGENCY_LIMIT,
) -> bytes:
    """PNG of the projects' progress in a month as horizontal bars, lowest first, at most `limit`.

    A project that has not reported this month shows its latest earlier figure in grey.
    """
    ordered = sorted(rows, key=lambda p: (p.progress is not None, p.progress or 0, p.project.code))
    shown = ordered[:limit]
    rest = len(ordered) - len(shown)
    title = f"ความก้าวหน้าโครงการ เดือน {month_name(month)}"
    if agency:
        title += "\n" + clip(agency, TITLE_WIDTH)
    with drawing():
        bottom = 0.8 + (0.35 if rest else 0)  # inches: ticks and axis label, then "and N more"
        height = 1.0 + bottom + 0.32 * max(len(shown), 3)
        figure = new_figure(8, height)
        figure.subplots_adjust(left=0.42, right=0.92, top=1 - 0.85 / height, bottom=bottom / height)
        ax: Axes = figure.add_subplot()
        ax.spines["right"].set_visible(False)
        ys = range(len(shown))
        values = [float(p.progress or 0) for p in shown]
        colours = [PROGRESS_COLOUR if p.reported else MISSING_COLOUR for p in shown]
        ax.barh(ys, values, color=colours, height=0.65)
        for y, p in zip(ys, shown, strict=True):
            text = f"{percent(p.progress)} %" if p.progress is not None else "ยังไม่มีรายงาน"
            ax.text(float(p.progress or 0) + 1, y, text, va="center", fontsize=9)
        names = [clip(f"{p.project.code} {p.project.name}", LABEL_WIDTH) for p in shown]
        ax.set_yticks(list(ys), names, fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, 112)
        ax.set_xlabel("ความก้าวหน้าสะสม (%)  สีเทา: ยังไม่ส่งเดือนนี้ (ตัวเลขล่าสุด)")
        ax.grid(axis="x", alpha=0.3)
        _title(figure, title, left=0.02, top_inches=0.12, height=height)
        if not shown:
            ax.text(56, 1, "ไม่มีโครงการที่ดำเนินการในเดือนนี้", ha="center", color=MISSING_COLOUR)
        if rest:
            figure.text(0.02, 0.12 / height, f"และอีก {rest} โครงการ", fontsize=10)
        return png(figure)


OVERVIEW_AGENCIES = 8  # lines a reader can still tell apart


def overview_chart(shares: dict[str, list[float | None]], fiscal_year: int) -> bytes:
    """PNG of the share of projects reported (%) in each month of a fiscal year, one line per
    agency (the first OVERVIEW_AGENCIES by name); a month not yet due has no point."""
    labels = [THAI_MONTHS_ABBR[m.month - 1] for m in ReportMonth(fiscal_year, 1).months_of_year()]
    shown = sorted(shares)[:OVERVIEW_AGENCIES]
    with drawing():
        figure = new_figure(8, 4.8)
        figure.subplots_adjust(left=0.09, right=0.97, bottom=0.3, top=0.86)
        ax: Axes = figure.add_subplot()
        for agency in shown:
            xs = [n for n, share in enumerate(shares[agency]) if share is not None]
            ys = [share for share in shares[agency] if share is not None]
            ax.plot(xs, ys, marker="o", linewidth=1.8, label=clip(agency, LABEL_WIDTH))
        ax.set_ylim(0, 105)
        ax.set_xlim(-0.4, 11.4)
        ax.set_xticks(range(12), labels)
        ax.set_ylabel("ส่งรายงานแล้ว (%)")
        ax.grid(axis="y", alpha=0.3)
        if not shown:
            ax.text(5.5, 50, "ไม่มีโครงการในปีงบประมาณนี้", ha="center", color=MISSING_COLOUR)
        else:
            figure.legend(loc="lower center", ncols=2, frameon=False, fontsize=9)
        title = f"สัดส่วนโครงการที่ส่งรายงานในแต่ละเดือน ปีงบประมาณ พ.ศ. {fiscal_year}"
        _title(figure, title, left=0.09, top_inches=0.15, height=4.8)
        return png(figure)
