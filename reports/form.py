"""The official form "แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ" built from a stored
project and its monthly reports, in the form's order and wording (see shared/FORM.md).

Dates are shown in the Buddhist Era: the project's start and end as `1 ต.ค. 2563`, each report's
date as the form prints it, `31/10/2563`. Money carries thousands separators.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from domain.models import MonthlyReport, Person, Project
from domain.numbers import baht, percent
from domain.thaidate import format_be_date, format_thai_date
from reports.form_model import (
    EMPTY,
    Block,
    Field,
    Fields,
    FormDocument,
    NumberedList,
    Paragraph,
    ReportEntry,
    Section,
    Signature,
)
from reports.form_text import render_text, split_messages

__all__ = ["FormDocument", "form_document", "render_text", "split_messages"]

TITLE = "แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ"
CERTIFICATION = "ขอรับรองว่า ข้อมูลที่ปรากฏในเอกสารฉบับนี้ หน่วยงานได้จัดพิมพ์จากระบบงานจริง เพื่อเป็นหลักฐานไว้ตรวจสอบ"
PART_1 = "1. ชื่อโครงการและหน่วยงานที่รับผิดชอบโครงการ"
PART_2 = "2. รายงานความก้าวหน้าของโครงการและการใช้จ่ายงบประมาณ"
PLAN_HEADING = "1.6 สนับสนุนแผนพัฒนา กทม. ระยะ 20 ปี (ยุทธศาสตร์-ประเด็นยุทธศาสตร์-กลยุทธ์ตามแผนฯ /ตัวชี้วัด)"

# "๑. " "1) " "- " opening a list item; not "๗.๒" or "1.5", which are numbers.
_MARKER = re.compile(r"(?:[0-9๐-๙]{1,2}[.)](?![0-9๐-๙])|[-•*](?=\s))\s*")


def form_document(
    project: Project,
    reports: list[MonthlyReport],
    officer: Person | None,
    fiscal_year: int | None = None,
    as_of: date | None = None,
) -> FormDocument:
    """The form of one project for one fiscal year (by default the project's own): section 1
    from the project, section 2 from that year's reports in order, the officer's signature.
    `as_of` is the day the figures were read."""
    year = project.fiscal_year if fiscal_year is None else fiscal_year
    strangers = sorted({r.project_code for r in reports} - {project.code})
    if strangers:
        raise ValueError(f"reports of other projects given for {project.code}: {strangers}")
    of_year = sorted((r for r in reports if r.fiscal_year == year), key=lambda r: r.report_no)
    spent = _spent(project, of_year)

    def fields(*rows: tuple[Field, ...]) -> tuple[Block, ...]:
        return (Fields(rows),)

    sections = (
        Section(PART_1, level=1),
        Section(
            "1.1 รหัสโครงการและชื่อโครงการ",
            fields(
                (Field("ชื่อโครงการ/กิจกรรม", _line(project.name)),),
                (Field("รหัสโครงการ", _line(project.code)),),
                (Field("ปีงบประมาณ พ.ศ.", str(year)),),
                (
                    Field("เริ่มต้นโครงการ", _date(project.start_date)),
                    Field("งบประมาณที่ได้รับ", _money(project.budget_received)),
                ),
                (
                    Field("สิ้นสุดโครงการ", _date(project.end_date)),
                    Field("งบประมาณที่ใช้ไป", spent),
                ),
            ),
        ),
        Section(
            "1.2 หน่วยงานที่รับผิดชอบ",
            fields(
                (Field("หน่วยงานที่รับผิดชอบ", _line(project.agency)),),
                (Field("ชื่อผู้รับผิดชอบ", _person(project.officer_name, project.officer_phone)),),
                (
                    Field(
                        "ผู้ประสานงาน สยป",
                        _person(project.coordinator_name, project.coordinator_phone),
                    ),
                ),
            ),
        ),
        Section("1.3 หลักการและเหตุผล", (_paragraph(project.rationale),)),
        Section("1.4 วัตถุประสงค์ของโครงการ", (_list(project.objectives),)),
        Section(
            "1.5 เป้าหมายของโครงการ",
            (
                _list(project.target_quantity, "ด้านปริมาณ"),
                _list(project.target_quality, "ด้านคุณภาพ"),
            ),
        ),
        Section(
            PLAN_HEADING,
            fields(
                (Field("ประเด็นยุทธศาสตร์", _line(project.strategy)),),
                (Field("ประเด็นยุทธศาสตร์ย่อย", _line(project.sub_strategy)),),
                (Field("เป้าหมายที่", _line(project.goal)),),
                (Field("ตัวชี้วัด", _line(project.indicator)),),
            ),
        ),
        Section(PART_2, _progress(of_year, year), level=1),
    )
    if officer is not None:
        signature = Signature(CERTIFICATION, officer.name.strip(), officer.position.strip())
    else:
        signature = Signature(CERTIFICATION, project.officer_name.strip(), "")
    return FormDocument(
        TITLE, project.code, year, sections, signature, as_of, project.agency, project.name
    )


def _spent(project: Project, reports: list[MonthlyReport]) -> str:
    """Section 1.1's spent budget: the latest report's cumulative disbursement (what the
    reports below say); when the project's register says otherwise, both, so that the
    difference shows instead of a figure that contradicts the reports."""
    if not reports:
        return _money(project.budget_used)
    latest = reports[-1]
    text = f"{_money(latest.values.disbursed)} (รายงานครั้งที่ {latest.report_no})"
    if project.budget_used is not None and project.budget_used != latest.values.disbursed:
        text += f" ทะเบียนโครงการระบุ {_money(project.budget_used)}"
    return text


def _progress(reports: list[MonthlyReport], year: int) -> tuple[Block, ...]:
    if not reports:
        return (Paragraph((f"ยังไม่มีรายงานความก้าวหน้าในปีงบประมาณ พ.ศ. {year}",)),)
    return tuple(
        ReportEntry(
            number=r.report_no,
            reported_on=format_be_date(r.values.reported_on),
            note=r.values.note,
            progress=percent(r.values.progress),
            disbursed=baht(r.values.disbursed),
            on_plan=r.values.on_plan,
            plan_reason=r.values.plan_reason,
            on_target=r.values.on_target,
            target_reason=r.values.target_reason,
        )
        for r in reports
    )


def _line(text: str) -> str:
    """A one-line value with its whitespace tidied, or the empty mark."""
    return " ".join(text.split()) or EMPTY


def _person(name: str, phone: str) -> str:
    return _line(f"{name} {phone}")


def _date(day: date | None) -> str:
    return EMPTY if day is None else format_thai_date(day)


def _money(amount: Decimal | None) -> str:
    return EMPTY if amount is None else f"{baht(amount)} บาท"


def _paragraph(text: str) -> Paragraph:
    """The author's lines, with runs of blank lines made one paragraph break."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return Paragraph(tuple(lines) or (EMPTY,))


def _list(text: str, caption: str = "") -> NumberedList | Paragraph:
    """Numbered items: the author's own numbers (๑. 1. 1) -) are replaced by ๑. ๒. ...; when
    some lines are numbered, an unnumbered line continues the item above it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return Paragraph(((caption + " : " if caption else "") + EMPTY,))
    if not any(_MARKER.match(line) for line in lines):
        return NumberedList(tuple(lines), caption)
    items: list[str] = []
    for line in lines:
        marker = _MARKER.match(line)
        if marker or not items:
            items.append(line[marker.end() :] if marker else line)
        else:
            items[-1] += " " + line
    return NumberedList(tuple(items), caption)
