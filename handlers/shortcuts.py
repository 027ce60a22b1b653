"""Buttons that work from any state: those on reminders ("report now", "remind me tomorrow")
and a coordinator's notification switches."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from domain.fiscal import ReportMonth
from domain.messages import Choice, Outbound
from domain.models import Role
from domain.months import month_name, why_not
from handlers import texts
from handlers.draft import Draft, Mode
from handlers.flow import Context, Go, Result, Stay, Step

# Kinds of coordinator message that can be turned off, as stored (see scheduler.messages).
NOTIFICATIONS = {"missing": "รายชื่อโครงการที่ยังไม่ส่งรายงาน", "digest": "สรุปภาพรวมประจำเดือน"}


@dataclass(frozen=True, slots=True)
class Say:
    """A reply that changes no step; `reask` adds the current question after it."""

    message: Outbound
    reask: bool = True


_GO = re.compile(r"^rem:go(!?):(.+):(\d{4})-(\d{1,2})$")
_SNOOZE = re.compile(r"^rem:snooze:(.+)$")
_NOTIFY = re.compile(r"^notify:(\w+):(on|off)$")


def is_shortcut(payload: str) -> bool:
    """Whether a button payload is one of these state-independent buttons."""
    return payload.startswith(("rem:", "notify:"))


def tomorrow_at(send_time: time) -> Callable[[datetime], datetime]:
    """ "Remind me tomorrow" means the next day at the usual reminder time."""

    def until(now: datetime) -> datetime:
        return datetime.combine(now.date() + timedelta(days=1), send_time, tzinfo=now.tzinfo)

    return until


async def shortcut(
    ctx: Context, payload: str, snooze_until: Callable[[datetime], datetime]
) -> Result | Say:
    """Carry out a shortcut button: start a report, snooze, or switch a notification."""
    if match := _GO.match(payload):
        forced, code, fiscal_year, report_no = match.groups()
        return await _report_now(
            ctx, code, ReportMonth(int(fiscal_year), int(report_no)), bool(forced)
        )
    if match := _SNOOZE.match(payload):
        return await _snooze(ctx, match.group(1), snooze_until)
    if match := _NOTIFY.match(payload):
        return Say(await switch_notification(ctx, match.group(1), match.group(2) == "on"))
    return Stay(texts.STALE_BUTTON)


async def _report_now(ctx: Context, code: str, month: ReportMonth, forced: bool) -> Result | Say:
    project = next((p for p in await ctx.projects() if p.code == code), None)
    if project is None:
        return Say(Outbound(texts.NOT_YOUR_PROJECT))
    if ctx.step is not Step.IDLE and not forced:
        choices = (
            Choice(texts.BTN_DISCARD, f"rem:go!:{code}:{month.fiscal_year}-{month.report_no}"),
            Choice(texts.BTN_RESUME, "cmd:resume"),
        )
        return Say(Outbound(texts.DISCARD_QUESTION, choices), reask=False)
    reported = {
        ReportMonth(r.fiscal_year, r.report_no) for r in await ctx.repo.reports_of_project(code)
    }
    reason = why_not(project, month, reported, ctx.today)
    if reason is not None:
        return Say(Outbound(reason))
    draft = Draft(
        mode=Mode.REPORT,
        project_code=code,
        fiscal_year=month.fiscal_year,
        report_no=month.report_no,
    )
    return Go(Step.PROGRESS, draft, remember=False)


async def _snooze(ctx: Context, code: str, snooze_until: Callable[[datetime], datetime]) -> Say:
    project = next((p for p in await ctx.projects() if p.code == code), None)
    if project is None:
        return Say(Outbound(texts.NOT_YOUR_PROJECT))
    until = snooze_until(ctx.now)
    if not await ctx.repo.snooze(ctx.person.id, code, ctx.today, until):
        return Say(Outbound(texts.SNOOZE_ONCE_A_DAY))
    month = month_name(ReportMonth.containing(ctx.today))
    return Say(Outbound(texts.SNOOZED.format(code=code, time=f"{until:%H:%M}", month=month)))


async def notification_settings(ctx: Context) -> Outbound:
    """A coordinator's switches for each kind of message."""
    if Role.COORDINATOR not in ctx.person.roles:
        return Outbound(texts.NOTIFY_OFFICER)
    off = (await ctx.repo.disabled_notifications()).get(ctx.person.id, set())
    lines = [texts.NOTIFY_HEAD]
    choices = []
    for kind, label in NOTIFICATIONS.items():
        enabled = kind not in off
        lines.append(f"• {label}: {'เปิด' if enabled else 'ปิด'}")
        action = "off" if enabled else "on"
        verb = "ปิด" if enabled else "เปิด"
        choices.append(Choice(f"{verb}{label}", f"notify:{kind}:{action}"))
    return Outbound("\n".join(lines), tuple(choices))


async def switch_notification(ctx: Context, kind: str, enabled: bool) -> Outbound:
    """Turn one kind of coordinator message on or off, and show the switches again."""
    if Role.COORDINATOR not in ctx.person.roles or kind not in NOTIFICATIONS:
        return Outbound(texts.STALE_BUTTON)
    await ctx.repo.set_notification(ctx.person.id, kind, enabled)
    return await notification_settings(ctx)
