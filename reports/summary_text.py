"""Summaries worded in short Thai lines that read well on a phone.

A coordinator's summary leads with the totals, then the projects that need a look (not sent,
standing still, slower, note against figures), then the others; each list is cut at
`MAX_LISTED` with "และอีก N โครงการ" so that one message stays readable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from domain.fiscal import ReportMonth
from domain.models import Project
from domain.months import month_name
from domain.numbers import baht, percent
from domain.thaidate import format_thai_date
from domain.thaitext import shorten
from reports.summary_model import AgencySummary, OfficerSummary, ProjectStatus

MAX_LISTED = 20
NAME_WIDTH = 32


def render_summary(summary: AgencySummary | OfficerSummary) -> str:
    """The summary as chat text (the caller splits it under the platform's length limit)."""
    if isinstance(summary, OfficerSummary):
        return _officer_text(summary)
    return _agency_text(summary)


def short_name(project: Project, width: int = NAME_WIDTH) -> str:
    """Code and the name cut to `width` characters."""
    return f"{project.code} {shorten(project.name, width)}"


def signed(value: Decimal) -> str:
    """A change in percentage points with its sign: +5.00, -2.50, 0.00."""
    return f"+{percent(value)}" if value > 0 else percent(value)


def share(part: Decimal, whole: Decimal) -> str:
    """Part of a whole in percent, or "-" when the whole is zero."""
    return f"{percent(part * 100 / whole)} %" if whole > 0 else "-"


def _agency_text(s: AgencySummary) -> str:
    where = s.agency or "ทุกหน่วยงาน"
    lines = [
        f"สรุปรายงานเดือน {month_name(s.month)} (ครั้งที่ {s.month.report_no})",
        f"หน่วยงาน: {where}",
    ]
    if not s.projects:
        return "\n".join([*lines, "ไม่มีโครงการที่ดำเนินการในเดือนนี้"])
    lines += [
        f"ส่งแล้ว {len(s.reported)} จาก {len(s.projects)} โครงการ ยังไม่ส่ง {len(s.missing)}",
        f"เบิกจ่ายสะสมรวม {baht(s.total_disbursed)} บาท",
        f"จากงบประมาณที่ได้รับ {baht(s.total_budget)} บาท ({share(s.total_disbursed, s.total_budget)})",
    ]
    sections: list[tuple[str, Sequence[ProjectStatus], Callable[[ProjectStatus], str]]] = [
        ("ยังไม่ส่ง", s.missing, _missing_line),
        ("ความก้าวหน้าไม่เปลี่ยนจากครั้งก่อน", [p for p in s.projects if p.standing_still], _still_line),
        ("ก้าวหน้าช้ากว่าเดือนก่อน", [p for p in s.projects if p.behind], _behind_line),
        ("บันทึกขัดกับตัวเลข", [p for p in s.projects if p.contradiction], _contradiction_line),
        ("ส่งแล้ว ไม่มีข้อสังเกต", [p for p in s.reported if not p.flagged], _figures_line),
    ]
    for title, items, line in sections:
        if items:
            lines += ["", f"{title} ({len(items)})"]
            lines += [line(p) for p in items[:MAX_LISTED]]
            if len(items) > MAX_LISTED:
                lines.append(f"และอีก {len(items) - MAX_LISTED} โครงการ")
    return "\n".join(lines)


def _figures(p: ProjectStatus) -> str:
    if p.progress is None or p.disbursed is None:
        return "ยังไม่มีรายงานในปีงบประมาณนี้"
    return f"{percent(p.progress)} % เบิกจ่าย {baht(p.disbursed)} บาท"


def _missing_line(p: ProjectStatus) -> str:
    who = ", ".join(p.officers) if p.officers else "ยังไม่มีผู้รับผิดชอบในระบบ"
    latest = ""
    if p.shown is not None:
        latest = f"\n  ล่าสุด ครั้งที่ {p.shown.report_no}: {_figures(p)}"
    elif p.progress is None:
        latest = f"\n  {_figures(p)}"
    return f"• {short_name(p.project)}\n  ผู้รับผิดชอบ: {who}{latest}"


def _still_line(p: ProjectStatus) -> str:
    return f"• {short_name(p.project)}\n  {_figures(p)} (เท่าครั้งก่อน)"


def _behind_line(p: ProjectStatus) -> str:
    change = p.progress_change
    step = f" ({signed(change)} % จากครั้งก่อน)" if change is not None else ""
    return f"• {short_name(p.project)}\n  {_figures(p)}{step}"


def _contradiction_line(p: ProjectStatus) -> str:
    return f"• {short_name(p.project)}\n  {p.contradiction}"


def _figures_line(p: ProjectStatus) -> str:
    change = p.progress_change
    step = f" ({signed(change)} %)" if change is not None else ""
    return f"• {short_name(p.project)}\n  {_figures(p)}{step}"


def _officer_text(s: OfficerSummary) -> str:
    whose = f"โครงการของ {s.person.name}" if s.person else "โครงการของคุณ"
    lines = [f"{whose} (ข้อมูล ณ {format_thai_date(s.today)})"]
    if not s.projects:
        return "\n".join([*lines, "ยังไม่มีโครงการที่รับผิดชอบในระบบ"])
    current = ReportMonth.containing(s.today)
    for number, item in enumerate(s.projects[:MAX_LISTED], start=1):
        lines.append(f"{number}) {short_name(item.project)}")
        last = item.latest
        if last is None:
            lines.append("   ยังไม่มีรายงาน")
        else:
            lines.append(
                f"   ล่าสุด {month_name(ReportMonth(last.fiscal_year, last.report_no))}: "
                f"{percent(last.values.progress)} % เบิกจ่าย {baht(last.values.disbursed)} บาท"
            )
        overdue = [o for o in item.due if o.overdue]
        if any(not o.overdue for o in item.due):
            lines.append(
                f"   ต้องส่ง: เดือน {month_name(current)} ภายใน {format_thai_date(current.last_day)}"
            )
        if overdue:
            lines.append("   ค้างส่ง: " + ", ".join(month_name(o.month) for o in overdue))
        if not item.due:
            lines.append("   ไม่มีรายงานที่ต้องส่งตอนนี้")
    if len(s.projects) > MAX_LISTED:
        lines.append(f"และอีก {len(s.projects) - MAX_LISTED} โครงการ")
    return "\n".join(lines)
