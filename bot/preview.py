"""`progress-bot reminders preview`: who would be reminded of what at an instant; sends nothing."""

from __future__ import annotations

import re
from datetime import datetime

from domain.fiscal import BE_OFFSET
from domain.numbers import arabic_digits
from domain.thaidate import format_thai_date, format_thai_month
from scheduler.calendar import ReportingCalendar
from scheduler.planner import PUSH_CHANNELS, PlanningReads, ReminderPlanner, base_kind

KIND_NAMES = {
    "window": "เปิดรับรายงาน",
    "two_days": "อีก 2 วันทำการ",
    "deadline": "วันกำหนดส่ง",
    "overdue": "เลยกำหนด",
    "missing": "ผู้ประสานงาน: ยังไม่ส่ง",
    "digest": "ผู้ประสานงาน: สรุป",
    "snoozed": "เตือนซ้ำตามที่ขอ",
    "stand_in": "แจ้งผู้รายงานแทน",
    "nudge": "ผู้ประสานงานขอให้ส่ง (แดชบอร์ด)",
    "quota-low": "โควตาข้อความใกล้หมด",
    "quota-out": "โควตาข้อความหมด",
}


_THAI_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:.](\d{2}))?")


def parse_instant(text: str, calendar: ReportingCalendar) -> datetime:
    """ "25/11/2569 09:00" (a Buddhist-Era day, as Thai people write it), "2026-11-25 09:00"
    (local time in the configured zone) or a full ISO instant; ValueError otherwise."""
    cleaned = arabic_digits(text.strip())
    if match := _THAI_DAY.fullmatch(cleaned):
        day, month, year, hour, minute = (int(g) if g else 0 for g in match.groups())
        if year < 2400:
            raise ValueError(f"ปี {year} ไม่ใช่ปี พ.ศ.: ใช้ เช่น 25/11/{year + BE_OFFSET} 09:00")
        cleaned = f"{year - BE_OFFSET:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}"
    moment = datetime.fromisoformat(cleaned)
    zone = calendar.settings.timezone
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


async def preview(repo: PlanningReads, calendar: ReportingCalendar, at: datetime) -> str:
    """The plan at `at` as lines of text, marking what has been sent already."""
    when = f"{format_thai_date(at.date())} {at:%H:%M}"
    if calendar.in_quiet_hours(at):
        return f"{when}: อยู่ในช่วงงดส่งข้อความ ไม่มีการเตือน (ถัดไป {calendar.next_send_time(at):%H:%M})"
    planned, unreachable = await ReminderPlanner(repo, calendar, PUSH_CHANNELS).plan(at)
    done = {r.key: r.status.value for r in await repo.reminder_records()}
    people = {p.id: p for p in await repo.all_people()}
    lines = [f"การเตือน ณ {when} ({calendar.settings.timezone.key}): {len(planned)} ข้อความ"]
    for item in sorted(planned, key=lambda p: (p.key.kind, p.key.subject, p.key.person_id)):
        key = item.key
        kind = KIND_NAMES.get(base_kind(key.kind), key.kind)
        month_text = format_thai_month(key.fiscal_year, key.report_no)
        person = people[key.person_id].name if key.person_id in people else key.person_id
        state = ", ".join(dict.fromkeys(done.get(k, "ยังไม่ส่ง") for k in item.keys))
        subjects = [k.subject for k in item.keys]
        subject = "ทุกโครงการในความดูแล" if subjects == ["*"] else ", ".join(subjects)
        lines.append(
            f"  {kind:<24} {month_text:<10} {subject:<16} -> {person} "
            f"({item.identity.channel} {item.identity.external_id}) [{state}]"
        )
    for missed in unreachable:
        lines.append(
            f"  ไม่มีบัญชีแชตให้ส่งถึง: {missed.person.name} ({missed.key.subject}, "
            f"{format_thai_month(missed.key.fiscal_year, missed.key.report_no)})"
        )
    deadline = calendar.deadline(calendar.month_of(at))
    lines.append(f"กำหนดส่งรายงานเดือนนี้: {format_thai_date(deadline)}")
    return "\n".join(lines)
