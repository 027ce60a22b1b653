"""Buttons that work from any step: those on reminders ("report now", "remind me tomorrow") and
a coordinator's notification switches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from domain.fiscal import ReportMonth
from domain.messages import Choice, Outbound
from domain.models import Role
from domain.months import month_name, why_not
from domain.payloads import ChooseChannel, ReportNow, ShowMore, Snooze, SwitchNotification
from handlers import texts
from handlers.context import Context
from handlers.draft import Draft, Mode
from handlers.flow import Go, Result, Say, Step, command_button
from handlers.views import full_history

# Kinds of coordinator message that can be turned off, as stored (see scheduler.messages).
NOTIFICATIONS = {"missing": "รายชื่อโครงการที่ยังไม่ส่งรายงาน", "digest": "สรุปภาพรวมประจำเดือน"}


def tomorrow_at(send_time: time) -> Callable[[datetime], datetime]:
    """ "Remind me tomorrow" means the next day at the usual reminder time."""

    def until(now: datetime) -> datetime:
        return datetime.combine(now.date() + timedelta(days=1), send_time, tzinfo=now.tzinfo)

    return until


async def report_now(ctx: Context, press: ReportNow) -> Result:
    """A reminder's "report now": that project's report of that month, straight at the figures."""
    found = await ctx.file_of(press.project_id)
    if found is None:
        return Say((Outbound(texts.NOT_YOUR_PROJECT),))
    if not 1 <= press.report_no <= 12:
        return Say((Outbound(texts.STALE_BUTTON),))
    if ctx.step is not Step.IDLE and not press.discard:
        again = ReportNow(press.project_id, press.fiscal_year, press.report_no, discard=True)
        choices = (
            Choice(texts.BTN_DISCARD, again.encode()),
            command_button(texts.BTN_RESUME, "resume"),
        )
        return Say((Outbound(texts.DISCARD_QUESTION, choices),), reask=False)
    month = ReportMonth(press.fiscal_year, press.report_no)
    reported = {ReportMonth(r.fiscal_year, r.report_no) for r in found.reports}
    reason = why_not(found.project, month, reported, ctx.today)
    if reason is not None:
        return Say((Outbound(reason),))
    draft = Draft(
        mode=Mode.REPORT,
        project_id=found.project.id,
        project_code=found.project.code,
        fiscal_year=month.fiscal_year,
        report_no=month.report_no,
    )
    return Go(Step.PROGRESS, draft, remember=False)


def snoozer(
    until: Callable[[datetime], datetime],
) -> Callable[[Context, Snooze], Awaitable[Result]]:
    """The "remind me tomorrow" handler, with the time "tomorrow" means."""

    async def snooze(ctx: Context, press: Snooze) -> Result:
        if press.project_id == 0:
            return await snooze_all(ctx)
        found = await ctx.file_of(press.project_id)
        if found is None:
            return Say((Outbound(texts.NOT_YOUR_PROJECT),))
        code = found.project.code
        moment = until(ctx.now)
        done = await ctx.store.snooze(ctx.person.id, code, ctx.today, moment, event=ctx.event)
        ctx.marked = True
        if not done:
            return Say((Outbound(texts.SNOOZE_ONCE_A_DAY),))
        month = month_name(ReportMonth.containing(ctx.today))
        text = texts.SNOOZED.format(code=code, time=f"{moment:%H:%M}", month=month)
        return Say((Outbound(text),))

    async def snooze_all(ctx: Context) -> Result:
        """ "Remind me tomorrow" on a reminder about several projects: every project the
        person reports on, each once a day (a repeat changes nothing)."""
        codes = sorted(ctx.reach.reports_on)
        if not codes:
            return Say((Outbound(texts.NOT_YOUR_PROJECT),))
        moment = until(ctx.now)
        done = 0
        for n, code in enumerate(codes):
            last = n == len(codes) - 1  # the update is marked handled with the last write
            event = ctx.event if last else None
            done += await ctx.store.snooze(ctx.person.id, code, ctx.today, moment, event=event)
        ctx.marked = True
        if not done:
            return Say((Outbound(texts.SNOOZE_ONCE_A_DAY),))
        text = texts.SNOOZED_ALL.format(count=len(codes), time=f"{moment:%H:%M}")
        return Say((Outbound(text),))

    return snooze


async def notification_settings(ctx: Context) -> Result:
    """A coordinator's switches for each kind of message."""
    return Say((await _switches(ctx),))


async def _switches(ctx: Context) -> Outbound:
    if Role.COORDINATOR not in ctx.person.roles:
        return Outbound(texts.NOTIFY_OFFICER)
    off = (await ctx.store.disabled_notifications()).get(ctx.person.id, set())
    lines = [texts.NOTIFY_HEAD]
    choices = []
    for kind, label in NOTIFICATIONS.items():
        enabled = kind not in off
        lines.append(f"• {label}: {'เปิด' if enabled else 'ปิด'}")
        verb = "ปิด" if enabled else "เปิด"
        choices.append(Choice(f"{verb}{label}", SwitchNotification(kind, not enabled).encode()))
    return Outbound("\n".join(lines), tuple(choices))


async def switch_notification(ctx: Context, press: SwitchNotification) -> Result:
    """Turn one kind of coordinator message on or off, and show the switches again."""
    if Role.COORDINATOR not in ctx.person.roles or press.notification not in NOTIFICATIONS:
        return Say((Outbound(texts.STALE_BUTTON),))
    await ctx.store.set_notification(
        ctx.person.id, press.notification, press.enabled, event=ctx.event
    )
    ctx.marked = True
    return Say((await _switches(ctx),))


# What a person may choose reminders on (the button's label), as the choice is stored.
CHANNEL_CHOICES = {
    "line": "LINE",
    "telegram": "Telegram",
    "both": "ทั้งสองช่องทาง",
    "auto": "ช่องทางที่ใช้ล่าสุด",
}
_APPS = {"line": "LINE", "telegram": "Telegram"}


async def reminder_channel(ctx: Context) -> Result:
    """ "ช่องทางแจ้งเตือน": where reminders go now, and buttons to choose."""
    return Say((await _channels(ctx),))


async def _channels(ctx: Context) -> Outbound:
    linked = sorted({i.channel for i in await ctx.store.identities_of(ctx.person.id)} & {*_APPS})
    if len(linked) < 2:
        name = _APPS[linked[0]] if linked else _APPS.get(ctx.channel, ctx.channel)
        return Outbound(texts.CHANNEL_ONLY_ONE.format(name=name))
    chosen = (await ctx.store.reminder_channels()).get(ctx.person.id, "auto")
    choices = tuple(
        Choice(("✓ " if option == chosen else "") + label, ChooseChannel(option).encode())
        for option, label in CHANNEL_CHOICES.items()
    )
    return Outbound(texts.CHANNEL_HEAD.format(current=texts.CHANNEL_SET[chosen]), choices)


async def choose_channel(ctx: Context, press: ChooseChannel) -> Result:
    """Keep the channel chosen for reminders, and say so."""
    if press.choice not in CHANNEL_CHOICES:
        return Say((Outbound(texts.STALE_BUTTON),))
    linked = {i.channel for i in await ctx.store.identities_of(ctx.person.id)}
    missing = [app for app in _APPS if app not in linked and press.choice in {app, "both"}]
    if missing:
        return Say((Outbound(texts.CHANNEL_NOT_LINKED.format(name=_APPS[missing[0]])),))
    choice = None if press.choice == "auto" else press.choice
    await ctx.store.set_reminder_channel(ctx.person.id, choice, event=ctx.event)
    ctx.marked = True
    return Say((Outbound(f"ตั้งค่าแล้ว {texts.CHANNEL_SET[press.choice]}"),))


async def show_more(ctx: Context, press: ShowMore) -> Result:
    """The rest of a shortened answer: a project's whole year of reports, or its form as text
    or as a Word file to edit before signing."""
    found = await ctx.file_of(press.project_id, looking=True)
    if found is None:
        return Say((Outbound(texts.NOT_YOUR_PROJECT),))
    reports = [r for r in found.reports if r.fiscal_year == press.fiscal_year]
    if press.what == "history":
        pieces = full_history(found.project, list(found.reports), press.fiscal_year)
        return Say(tuple(Outbound(piece) for piece in pieces))
    if press.what == "form" and ctx.documents is not None:
        return Say(
            tuple(await ctx.documents.project_form_text(found.project, press.fiscal_year, reports))
        )
    if press.what == "docx" and ctx.documents is not None:
        return Say(
            tuple(await ctx.documents.project_form_docx(found.project, press.fiscal_year, reports))
        )
    if press.what in {"form", "docx"}:
        return Say((Outbound(texts.DOCUMENTS_OFF),))
    return Say((Outbound(texts.STALE_BUTTON),))
