"""The first steps of a report: which project, which month, and (to correct) why.

The projects offered are kept in the draft as they were shown, so a typed number always picks
what is on the person's screen.
"""

from __future__ import annotations

from dataclasses import replace

from domain.fiscal import ReportMonth
from domain.messages import Choice, Outbound
from domain.models import MonthlyReport, ProjectFile, Role
from domain.months import month_name, parse_month, reportable_months, why_not
from domain.numbers import percent
from handlers import texts
from handlers.context import Context
from handlers.draft import LOOKING, Draft, Mode, Offer
from handlers.flow import Answer, Finish, Go, Result, Stay, Step, button, read_reason, show_more
from handlers.views import LATEST_SHOWN, history, short_title

# Project names are kept in the draft as long as the list shows them (80), and one more, so
# that a longer name is still shown cut with "…".
OFFER_NAME_LIMIT = 81


def _reported(found: ProjectFile) -> set[ReportMonth]:
    return {ReportMonth(r.fiscal_year, r.report_no) for r in found.reports}


async def start(ctx: Context, mode: Mode) -> Result:
    """Begin a new report, correction, or look at a project: ask which project, unless there
    is only one to offer."""
    ctx.draft = Draft(mode=mode)
    offers: list[Offer]
    if mode in LOOKING:
        projects = await ctx.visible()
        offers = [Offer(p.id, p.code, p.name[:OFFER_NAME_LIMIT]) for p in projects]
        empty = not projects
    else:
        files = await ctx.reportable()
        empty = not files
        offers = [
            Offer(f.project.id, f.project.code, f.project.name[:OFFER_NAME_LIMIT])
            for f in files
            if (f.reports if mode is Mode.CORRECT else _open_months(ctx, f))
        ]
    if empty:
        coordinator = Role.COORDINATOR in ctx.person.roles
        return Finish((Outbound(texts.COORDINATOR_ONLY if coordinator else texts.NO_PROJECTS),))
    if not offers:
        nothing = texts.NOTHING_TO_CORRECT if mode is Mode.CORRECT else texts.NOTHING_DUE
        return Finish((Outbound(nothing),))
    if len(offers) > 1:
        return Go(Step.PROJECT, replace(ctx.draft, offered=tuple(offers)))
    found = await ctx.file_of(offers[0].project_id)
    result = await after_project(ctx, found) if found else Stay(texts.NOT_YOUR_PROJECT)
    return Finish((Outbound(result.message),)) if isinstance(result, Stay) else result


def _open_months(ctx: Context, found: ProjectFile) -> bool:
    return bool(reportable_months(found.project, _reported(found), ctx.today))


async def ask_project(ctx: Context) -> Outbound:
    """List the projects offered, as buttons."""
    offers = ctx.draft.offered
    choices = tuple(button(Step.PROJECT, o.project_id, short_title(o.name, o.code)) for o in offers)
    lines = [texts.CHOOSE_PROJECT]
    lines += [f"{i}) {short_title(o.name, o.code, 80)}" for i, o in enumerate(offers, start=1)]
    return Outbound("\n".join(lines), choices)


async def accept_project(ctx: Context, answer: Answer) -> Result:
    """Take the chosen project (a button, or its code typed), then go on."""
    offers = ctx.draft.offered
    if answer.choice is not None:
        chosen = next((o for o in offers if str(o.project_id) == answer.choice), None)
        miss = texts.NOT_YOUR_PROJECT
    else:
        typed = answer.text.strip()
        chosen = next((o for o in offers if o.code == typed), None)
        miss = texts.CHOOSE_PROJECT_HINT
    found = await ctx.file_of(chosen.project_id) if chosen is not None else None
    if found is None:
        return Stay(miss)
    return await after_project(ctx, found)


async def after_project(ctx: Context, found: ProjectFile) -> Result:
    """Where to go once the project is known, depending on what the person is doing."""
    project = found.project
    draft = replace(ctx.draft, project_id=project.id, project_code=project.code)
    ctx.draft = draft
    reports = list(found.reports)
    if draft.mode in LOOKING:
        year = max((r.fiscal_year for r in reports), default=project.fiscal_year)
        of_year = [r for r in reports if r.fiscal_year == year]
        if draft.mode is Mode.HISTORY:
            more: tuple[Choice, ...] = ()
            if len(of_year) > LATEST_SHOWN:
                more = (show_more("history", project.id, year, texts.BTN_ALL_REPORTS),)
            return Finish((Outbound(history(project, reports), more),))
        if ctx.documents is None:
            return Finish((Outbound(texts.DOCUMENTS_OFF),))
        if draft.mode is Mode.FORM:
            *texts_before, pdf = await ctx.documents.project_form(project, year, of_year)
            more = (
                show_more("form", project.id, year, texts.BTN_FORM_TEXT),
                show_more("docx", project.id, year, texts.BTN_FORM_WORD),
            )
            return Finish((*texts_before, replace(pdf, choices=(*pdf.choices, *more))))
        return Finish(tuple(await ctx.documents.project_chart(project, year, of_year)))
    if draft.mode is Mode.CORRECT:
        if not reports:
            return Stay(texts.NOTHING_TO_CORRECT)
        return Go(Step.MONTH, draft)
    reported = _reported(found)
    options = reportable_months(project, reported, ctx.today)
    if not options:
        current = ReportMonth.containing(ctx.today)
        return Stay(why_not(project, current, reported, ctx.today) or texts.NOTHING_TO_CORRECT)
    if len(options) == 1:
        month = options[0].month
        return Go(
            Step.PROGRESS, replace(draft, fiscal_year=month.fiscal_year, report_no=month.report_no)
        )
    return Go(Step.MONTH, draft)


def _month_key(month: ReportMonth) -> str:
    return f"{month.fiscal_year}-{month.report_no}"


async def _month_choices(ctx: Context) -> list[tuple[ReportMonth, str]]:
    found = await ctx.file()
    if found is None:
        return []
    if ctx.draft.mode is Mode.CORRECT:
        # The latest twelve, oldest first: "1)" is then ครั้งที่ 1 whenever a year is shown whole.
        latest = sorted(found.reports, key=lambda r: (r.fiscal_year, r.report_no))[-12:]
        return [(_month_of(r), _sent_label(r)) for r in latest]
    options = reportable_months(found.project, _reported(found), ctx.today)
    return [(o.month, o.label) for o in options]


def _month_of(report: MonthlyReport) -> ReportMonth:
    return ReportMonth(report.fiscal_year, report.report_no)


def _sent_label(report: MonthlyReport) -> str:
    month = month_name(_month_of(report))
    return f"{month} (ครั้งที่ {report.report_no}, {percent(report.values.progress)} %)"


async def ask_month(ctx: Context) -> Outbound:
    """Offer the months: overdue first, then this month; or the sent ones when correcting."""
    options = await _month_choices(ctx)
    found = await ctx.file()
    head = texts.CHOOSE_REPORTED_MONTH if ctx.draft.mode is Mode.CORRECT else texts.CHOOSE_MONTH
    lines = [head]
    if found is not None:  # say which project, also when it was the only one and not asked
        lines.append(f"โครงการ: {short_title(found.project.name, found.project.code, 80)}")
    lines += [f"{i}) {label}" for i, (_, label) in enumerate(options, start=1)]
    choices = tuple(button(Step.MONTH, _month_key(m), label) for m, label in options)
    return Outbound("\n".join(lines), choices)


async def accept_month(ctx: Context, answer: Answer) -> Result:
    """Take a month from a button or typed text; refuse one that cannot be reported, saying why."""
    options = [m for m, _ in await _month_choices(ctx)]
    if answer.choice is not None:
        month = next((m for m in options if _month_key(m) == answer.choice), None)
    else:
        month = parse_month(answer.text, ctx.today)
    if month is None:
        return Stay(texts.CHOOSE_MONTH_HINT)
    found = await ctx.file()
    if found is None:
        return Stay(texts.NOT_YOUR_PROJECT)
    if ctx.draft.mode is Mode.CORRECT:
        # The buttons show the latest twelve; any sent month may be typed.
        current = found.report(month.fiscal_year, month.report_no)
        if current is None:
            return Stay(f"เดือน {month_name(month)} ยังไม่มีรายงานให้แก้ไข กรุณาเลือกจากปุ่ม")
        draft = prefill(
            replace(ctx.draft, fiscal_year=month.fiscal_year, report_no=month.report_no), current
        )
        return Go(Step.CORRECTION_REASON, draft)
    if month not in options:
        return Stay(
            why_not(found.project, month, _reported(found), ctx.today) or texts.CHOOSE_MONTH_HINT
        )
    return Go(
        Step.PROGRESS, replace(ctx.draft, fiscal_year=month.fiscal_year, report_no=month.report_no)
    )


def prefill(draft: Draft, report: MonthlyReport) -> Draft:
    """Start a correction from the stored values, so that each can be kept with one tap."""
    values = report.values
    return replace(
        draft,
        progress=replace(draft.progress, value=values.progress),
        disbursed=replace(draft.disbursed, value=values.disbursed),
        note=values.note,
        on_plan=values.on_plan,
        plan_reason=values.plan_reason,
        on_target=values.on_target,
        target_reason=values.target_reason,
    )


async def ask_correction_reason(ctx: Context) -> Outbound:
    """Ask why the sent report is being corrected."""
    text = texts.ASK_CORRECTION_REASON.format(
        report_no=ctx.draft.report_no, month=month_name(ctx.month)
    )
    return Outbound(text)


async def accept_correction_reason(ctx: Context, answer: Answer) -> Result:
    """Keep the correction's reason and go on to the figures."""
    reason = read_reason(answer.text)
    if isinstance(reason, Stay):
        return reason
    return Go(Step.PROGRESS, replace(ctx.draft, correction_reason=reason))
