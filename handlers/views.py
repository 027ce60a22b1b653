"""Read-only texts: an entry in the form's wording, an officer's status, a project's history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, Project, ReportValues
from domain.months import month_name, reportable_months, why_not
from domain.numbers import baht, percent
from domain.thaidate import format_be_date, format_thai_date
from domain.thaitext import shorten

# Long lists are cut so that one chat message stays readable on a phone.
MAX_LISTED = 30


def entry_lines(report_no: int, values: ReportValues) -> list[str]:
    """One monthly report worded as section 2 of the official form words it."""
    plan = "เป็นไปตามแผน" if values.on_plan else "ไม่เป็นไปตามแผน"
    if not values.on_plan and values.plan_reason:
        plan += f" (เหตุผล: {values.plan_reason})"
    target = "เป็นไปตามเป้าหมาย" if values.on_target else "ไม่เป็นไปตามเป้าหมาย"
    if not values.on_target and values.target_reason:
        target += f" (เหตุผล: {values.target_reason})"
    return [
        f"รายงานครั้งที่{report_no} :: {format_be_date(values.reported_on)} : {values.note}".rstrip(),
        f":: ความก้าวหน้าของงานฯ = {percent(values.progress)} %",
        f"งบประมาณที่เบิกใช้ (ครั้งที่ {report_no}) = {baht(values.disbursed)} บาท",
        f": {plan}",
        f": {target}",
    ]


def project_title(project: Project) -> str:
    """Code and name of a project on one line."""
    return f"{project.code} {project.name}"


def short_title(name: str, code: str, width: int = 40) -> str:
    """A project's name cut to fit on a button, with its code."""
    return f"{shorten(name, width)} ({code})"


def latest_line(reports: list[MonthlyReport]) -> str:
    """The most recent report of a project in one line."""
    if not reports:
        return "ยังไม่มีรายงาน"
    last = max(reports, key=lambda r: (r.fiscal_year, r.report_no))
    month = month_name(ReportMonth(last.fiscal_year, last.report_no))
    return (
        f"ล่าสุด ครั้งที่ {last.report_no} ({month}): {percent(last.values.progress)} %, "
        f"เบิกจ่าย {baht(last.values.disbursed)} บาท"
    )


def officer_status(projects: list[tuple[Project, list[MonthlyReport]]], today: date) -> str:
    """An officer's projects, the latest figures, and what is due."""
    current = ReportMonth.containing(today)
    lines = [f"โครงการของคุณ (ข้อมูล ณ {format_thai_date(today)})"]
    for number, (project, reports) in enumerate(projects[:MAX_LISTED], start=1):
        reported = {ReportMonth(r.fiscal_year, r.report_no) for r in reports}
        lines.append(f"{number}) {project_title(project)}")
        lines.append(f"   {latest_line(reports)}")
        due = reportable_months(project, reported, today)
        overdue = [o for o in due if o.overdue]
        if any(not o.overdue for o in due):
            lines.append(
                f"   ต้องส่ง: รายงานเดือน {month_name(current)} "
                f"ภายใน {format_thai_date(current.last_day)}"
            )
        elif current in reported:
            lines.append(f"   เดือน {month_name(current)}: ส่งแล้ว")
        if overdue:
            lines.append("   ค้างส่ง: " + ", ".join(month_name(o.month) for o in overdue))
    if len(projects) > MAX_LISTED:
        lines.append(f"และอีก {len(projects) - MAX_LISTED} โครงการ")
    return "\n".join(lines)


def coordinator_status(projects: list[tuple[Project, list[MonthlyReport]]], today: date) -> str:
    """For a coordinator: who has and has not reported this month, with totals."""
    current = ReportMonth.containing(today)
    sent: list[tuple[Project, MonthlyReport]] = []
    missing: list[Project] = []
    for project, reports in projects:
        this_month = [r for r in reports if ReportMonth(r.fiscal_year, r.report_no) == current]
        if this_month:
            sent.append((project, this_month[0]))
        elif why_not(project, current, set(), today) is None:
            missing.append(project)
    lines = [
        f"รายงานเดือน {month_name(current)} (ข้อมูล ณ {format_thai_date(today)})",
        f"ส่งแล้ว {len(sent)} โครงการ, ยังไม่ส่ง {len(missing)} โครงการ",
    ]
    if missing:
        lines.append("ยังไม่ส่ง:")
        lines += [f"• {project_title(p)}" for p in missing[:MAX_LISTED]]
        if len(missing) > MAX_LISTED:
            lines.append(f"และอีก {len(missing) - MAX_LISTED} โครงการ")
    if sent:
        total = sum((r.values.disbursed for _, r in sent), Decimal(0))
        lines.append("ส่งแล้ว:")
        lines += [
            f"• {p.code} {percent(r.values.progress)} %, เบิกจ่าย {baht(r.values.disbursed)} บาท"
            for p, r in sent[:MAX_LISTED]
        ]
        lines.append(f"รวมเบิกจ่ายสะสมของโครงการที่ส่งแล้ว {baht(total)} บาท")
    return "\n".join(lines)


LATEST_SHOWN = 3  # reports a history shows at first; the rest on request


def history(project: Project, reports: list[MonthlyReport], *, latest: int = LATEST_SHOWN) -> str:
    """A project's latest reports of its latest fiscal year, newest last, each in the form's
    wording, and how many more there are."""
    lines = [project_title(project)]
    if not reports:
        return "\n".join([*lines, "ยังไม่มีรายงานที่ส่งแล้ว"])
    year = max(r.fiscal_year for r in reports)
    of_year = sorted((r for r in reports if r.fiscal_year == year), key=lambda r: r.report_no)
    shown = of_year[-latest:]
    lines.append(f"ปีงบประมาณ พ.ศ. {year}: รายงาน {len(of_year)} ครั้ง")
    if len(of_year) > len(shown):
        lines.append(f"(แสดง {len(shown)} ครั้งล่าสุด)")
    for report in shown:
        lines += ["", *_report_lines(report)]
    older = sorted({r.fiscal_year for r in reports if r.fiscal_year != year})
    if older:
        years = ", ".join(str(y) for y in older)
        lines += ["", f"มีรายงานของปีงบประมาณ {years} ด้วย (ดูทั้งหมดได้จากไฟล์ส่งออกของผู้ประสานงาน)"]
    return "\n".join(lines)


def full_history(project: Project, reports: list[MonthlyReport], fiscal_year: int) -> list[str]:
    """Every report of one fiscal year, a few to a message (each short enough for a phone)."""
    of_year = sorted(
        (r for r in reports if r.fiscal_year == fiscal_year), key=lambda r: r.report_no
    )
    if not of_year:
        return [f"{project_title(project)}\nยังไม่มีรายงานของปีงบประมาณ {fiscal_year}"]
    messages = []
    for start in range(0, len(of_year), REPORTS_PER_MESSAGE):
        lines = [f"{project_title(project)} ปีงบประมาณ พ.ศ. {fiscal_year}"] if not start else []
        for report in of_year[start : start + REPORTS_PER_MESSAGE]:
            lines += ["", *_report_lines(report)] if lines else _report_lines(report)
        messages.append("\n".join(lines))
    return messages


REPORTS_PER_MESSAGE = 4


def _report_lines(report: MonthlyReport) -> list[str]:
    lines = entry_lines(report.report_no, report.values)
    if report.revision > 1:
        lines.append(
            f"(แก้ไข {report.revision - 1} ครั้ง ล่าสุด {format_be_date(report.sent_at.date())})"
        )
    return lines
