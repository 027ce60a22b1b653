"""The Thai texts of reminders and coordinator messages, with the buttons officers tap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.checks import Neighbours, check_note
from domain.fiscal import ReportMonth
from domain.messages import Choice, Outbound
from domain.models import MonthlyReport, Person, Project, ReminderKey
from domain.months import month_name
from domain.numbers import baht, percent
from domain.payloads import ReportNow, RunCommand, Snooze
from domain.thaidate import format_thai_date
from scheduler.calendar import ReminderKind

# Kinds of coordinator message, each of which a coordinator can turn off.
MISSING = "missing"
DIGEST = "digest"
SNOOZED = "snoozed"  # an owner's "remind me tomorrow", keyed by the day it was asked on
STAND_IN = "stand_in"  # a colleague told they report in an absent officer's place
NUDGE = "nudge"  # a coordinator's "remind them now" from the dashboard, keyed by its day
COORDINATOR_KINDS = {MISSING: "รายชื่อโครงการที่ยังไม่ส่งรายงาน", DIGEST: "สรุปภาพรวมประจำเดือน"}

OPENING = {
    ReminderKind.WINDOW: "ถึงเวลารายงานความก้าวหน้าประจำเดือน {month} แล้ว",
    ReminderKind.TWO_DAYS: "อีก 2 วันทำการจะถึงกำหนดส่งรายงานเดือน {month}",
    ReminderKind.DEADLINE: "วันนี้เป็นวันสุดท้ายของการส่งรายงานเดือน {month}",
    ReminderKind.OVERDUE: "รายงานเดือน {month} เลยกำหนดส่งแล้ว",
}
SNOOZE_OPENING = "เตือนอีกครั้งตามที่ขอไว้: รายงานเดือน {month} ยังไม่ได้ส่ง"
NUDGE_OPENING = "ผู้ประสานงานขอให้ส่งรายงานเดือน {month} ที่ยังค้างอยู่"


def _opening(kind: str, month: ReportMonth, asked_by: Sequence[str]) -> list[str]:
    """The first line of an owner's reminder of this kind ("nudge:<day>" and
    "snoozed:<day>" by the kind before the colon), and who asked for a nudge."""
    base = kind.split(":", 1)[0]
    kinds = {k.value: k for k in ReminderKind}
    if base == NUDGE:
        names = ", ".join(dict.fromkeys(name for name in asked_by if name))
        return [NUDGE_OPENING.format(month=month_name(month))] + (
            [f"(ขอโดย {names})"] if names else []
        )
    opening = OPENING[kinds[kind]] if kind in kinds else SNOOZE_OPENING
    return [opening.format(month=month_name(month))]


MAX_LISTED = 40  # one chat message stays readable on a phone


def report_payload(project: Project, month: ReportMonth) -> str:
    """The "report now" button of a reminder: the project's id, never its code (any length)."""
    return ReportNow(project.id, month.fiscal_year, month.report_no).encode()


def snooze_payload(project: Project) -> str:
    """The "remind me tomorrow" button of a reminder."""
    return Snooze(project.id).encode()


def owner_reminder(
    kind: str,
    project: Project,
    month: ReportMonth,
    deadline: date,
    *,
    instead_of: Person | None = None,
    away_until: date | None = None,
    asked_by: str = "",
) -> Outbound:
    """A reminder to a project's officer (or the colleague standing in) with one-tap buttons;
    `asked_by`: the coordinator who nudged."""
    lines = [
        *_opening(kind, month, [asked_by]),
        f"โครงการ: {project.name} ({project.code})",
        f"รายงานครั้งที่ {month.report_no}: ความก้าวหน้าสะสม (%), ยอดเบิกจ่ายสะสม (บาท) "
        "และสรุปผลการดำเนินงานสั้น ๆ",
        f"กำหนดส่ง: ภายใน {format_thai_date(deadline)}",
    ]
    if instead_of is not None:
        until = f" ถึง {format_thai_date(away_until)}" if away_until else ""
        lines.append(f"(คุณรายงานแทน {instead_of.name} ซึ่งไม่อยู่{until})")
    choices = (
        Choice("ส่งรายงานเลย", report_payload(project, month)),
        Choice("เตือนพรุ่งนี้", snooze_payload(project)),
        Choice("ไม่อยู่ ให้คนอื่นรายงานแทน", RunCommand("away").encode()),
    )
    return Outbound("\n".join(lines), choices)


@dataclass(frozen=True, slots=True)
class Owed:
    """One project a reminder is about, and the absent officer it is reported for (if the
    person reminded stands in)."""

    key: ReminderKey
    project: Project
    instead_of: Person | None = None
    away_until: date | None = None
    asked_by: str = ""  # the coordinator who nudged (for a nudge)


SNOOZE_ALL = Snooze(0)  # "remind me tomorrow" for every project the person reports on


def owner_reminders(
    kind: str, month: ReportMonth, deadline: date, owed: Sequence[Owed]
) -> Outbound:
    """One reminder for every project a person still owes this month's report of: the list,
    and a button for each project (the first MAX_LISTED), so that five projects cost one
    message, not five. A single project reads as before."""
    if len(owed) == 1:
        (one,) = owed
        return owner_reminder(
            kind, one.project, month, deadline, instead_of=one.instead_of,
            away_until=one.away_until, asked_by=one.asked_by,
        )  # fmt: skip
    shown = sorted(owed, key=lambda o: o.project.code)[:MAX_LISTED]
    lines = [
        *_opening(kind, month, [one.asked_by for one in owed]),
        f"ยังไม่ได้ส่งรายงานครั้งที่ {month.report_no} ของ {len(owed)} โครงการ:",
    ]
    for one in shown:
        instead = f" (แทน {one.instead_of.name})" if one.instead_of is not None else ""
        lines.append(f"• {one.project.name} ({one.project.code}){instead}")
    if len(owed) > len(shown):
        lines.append(f'และอีก {len(owed) - len(shown)} โครงการ (พิมพ์ "ส่งรายงาน" เพื่อเลือก)')
    lines += [
        "แต่ละโครงการ: ความก้าวหน้าสะสม (%), ยอดเบิกจ่ายสะสม (บาท) และสรุปผลการดำเนินงานสั้น ๆ",
        f"กำหนดส่ง: ภายใน {format_thai_date(deadline)}",
        "กดปุ่มของโครงการเพื่อเริ่มรายงาน",
    ]
    choices = (
        *(Choice(f"ส่ง {one.project.code}", report_payload(one.project, month)) for one in shown),
        Choice("เตือนพรุ่งนี้ทุกโครงการ", SNOOZE_ALL.encode()),
        Choice("ไม่อยู่ ให้คนอื่นรายงานแทน", RunCommand("away").encode()),
    )
    return Outbound("\n".join(lines), choices)


def stand_in_notice(
    away: Person, first_day: date, last_day: date, projects: list[Project]
) -> Outbound:
    """Tells a colleague, once, that they report in an absent officer's place for a while."""
    lines = [
        f"{away.name} แจ้งว่าไม่อยู่ระหว่าง {format_thai_date(first_day)} ถึง "
        f"{format_thai_date(last_day)} และให้คุณรายงานความก้าวหน้าแทน",
        *(f"• {project.name} ({project.code})" for project in projects),
        "ช่วงนี้คุณจะได้รับการเตือนแทน และส่งรายงานของโครงการเหล่านี้ได้",
    ]
    return Outbound("\n".join(lines), (Choice("ส่งรายงานเลย", RunCommand("report").encode()),))


@dataclass(frozen=True, slots=True)
class ProjectMonth:
    """A project, its responsible officers, and its reports around one month."""

    project: Project
    officers: tuple[Person, ...]
    report: MonthlyReport | None
    previous: MonthlyReport | None
    before_previous: MonthlyReport | None


def missing_list(month: ReportMonth, deadline: date, rows: list[ProjectMonth]) -> Outbound:
    """For a coordinator after the deadline: which projects of their agency have not reported."""
    missing = [r for r in rows if r.report is None]
    lines = [
        f"รายงานเดือน {month_name(month)} (กำหนด {format_thai_date(deadline)}) "
        f"ยังไม่ส่ง {len(missing)} จาก {len(rows)} โครงการ"
    ]
    for row in missing[:MAX_LISTED]:
        names = ", ".join(p.name for p in row.officers) or "ยังไม่มีผู้รับผิดชอบในระบบ"
        lines.append(f"• {row.project.code} {row.project.name} – {names}")
    if len(missing) > MAX_LISTED:
        lines.append(f"และอีก {len(missing) - MAX_LISTED} โครงการ")
    return Outbound("\n".join(lines))


def _behind(row: ProjectMonth) -> bool:
    """Progress grew less this month than the month before (or stood still while it had grown)."""
    if row.report is None or row.previous is None or row.before_previous is None:
        return False
    now = row.report.values.progress - row.previous.values.progress
    before = row.previous.values.progress - row.before_previous.values.progress
    return now < before


def _contradicts(row: ProjectMonth) -> str | None:
    if row.report is None:
        return None
    v = row.report.values
    return check_note(v.note, v.progress, v.disbursed, Neighbours(row.previous, None))


def digest(month: ReportMonth, rows: list[ProjectMonth]) -> Outbound:
    """A coordinator's monthly digest: counts, pace, contradictions, money against budget."""
    sent = [r for r in rows if r.report is not None]
    behind = [r for r in sent if _behind(r)]
    contradictions = [(r, why) for r in sent if (why := _contradicts(r)) is not None]
    disbursed = sum((r.report.values.disbursed for r in sent if r.report), Decimal(0))
    budget = sum((r.project.budget_received or Decimal(0) for r in rows), Decimal(0))
    lines = [
        f"สรุปรายงานเดือน {month_name(month)}",
        f"ส่งแล้ว {len(sent)} โครงการ, ยังไม่ส่ง {len(rows) - len(sent)} โครงการ",
        f"เบิกจ่ายสะสมรวม {baht(disbursed)} บาท จากงบประมาณที่ได้รับ {baht(budget)} บาท"
        + (f" ({percent(disbursed * 100 / budget)} %)" if budget else ""),
    ]
    if behind:
        lines.append(f"ความก้าวหน้าช้ากว่าเดือนก่อน {len(behind)} โครงการ:")
        lines += [
            f"• {r.project.code} {percent(r.report.values.progress)} %"
            for r in behind[:MAX_LISTED]
            if r.report
        ]
    if contradictions:
        lines.append(f"ข้อมูลที่ควรตรวจสอบ {len(contradictions)} โครงการ:")
        lines += [f"• {r.project.code}: {why}" for r, why in contradictions[:MAX_LISTED]]
    return Outbound("\n".join(lines))


CHANNEL_NAMES = {"line": "LINE", "telegram": "Telegram"}


def quota_running_out(channel: str, limit: int, left: int) -> Outbound:
    """For coordinators: the channel's monthly message quota is nearly spent."""
    name = CHANNEL_NAMES.get(channel, channel)
    return Outbound(
        f"โควตาข้อความ {name} ของเดือนนี้ใกล้หมดแล้ว: เหลือ {left} จาก {limit} ข้อความ\n"
        "การแจ้งเตือนที่เร่งด่วนที่สุดจะส่งก่อน หากโควตาหมด ผู้ที่ใช้ "
        f"{name} อย่างเดียวจะไม่ได้รับการแจ้งเตือนจนถึงเดือนหน้า หรือจนกว่าจะเพิ่มโควตา"
    )


def quota_exhausted(channel: str, limit: int, waiting: int) -> Outbound:
    """For coordinators: reminders wait because the channel's monthly quota is spent."""
    name = CHANNEL_NAMES.get(channel, channel)
    return Outbound(
        f"โควตาข้อความ {name} ของเดือนนี้ ({limit} ข้อความ) หมดแล้ว "
        f"มีการแจ้งเตือน {waiting} รายการที่ยังส่งไม่ได้\n"
        "โปรดแจ้งเจ้าหน้าที่ที่ยังไม่ส่งรายงานโดยตรง หรือเพิ่มโควตาใน LINE Official Account Manager"
    )
