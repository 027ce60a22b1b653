"""The web dashboard for coordinators (and officers), served by `run` beside the chat channels.

Nobody has a password. `แดชบอร์ด` (/dashboard) in chat sends a link that signs its person in
once, within 10 minutes (`LINK_LIFETIME`); it opens a session kept in a cookie (HttpOnly,
SameSite=Strict, Secure behind https) for a working day. Links and sessions are stored as
SHA-256 hashes of their secrets. Every form posts a token tied to the session (CSRF).

The month board shows the person's scope (an officer their own projects, a coordinator their
agencies and projects, an admin everything) for any month and fiscal year: each project's state
(reported, missing, behind last month's pace, standing still, figures to check against the
note), filters by agency and state, a search by code or name, and the totals. Pages are rendered
on the server (Jinja2) and need no JavaScript; the font and the style sheet are served here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from multidict import MultiDict, MultiMapping

from bot.config import WebConfig
from bot.web_server import content_disposition
from domain.clock import Clock
from domain.fiscal import ReportMonth
from domain.models import DeliveryStatus, Nudge, Person, Project, Reach
from domain.months import month_name
from domain.numbers import baht, percent
from domain.thaidate import format_thai_date
from reports.pdf_fonts import sarabun
from reports.summary import coordinator_summary
from reports.summary_model import ProjectStatus, running_in
from reports.xlsx_export import runs_within
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.messages import NUDGE
from scheduler.planner import NUDGE_LIFETIME, PUSH_CHANNELS
from storage.contracts import Storage

log = logging.getLogger(__name__)
BANGKOK = ZoneInfo("Asia/Bangkok")
LINK_LIFETIME = timedelta(minutes=10)
PAGE_SIZE = 100  # projects on one page of the board
SESSION_LIFETIME = timedelta(hours=9)  # a working day
COOKIE = "desk_session"
TEMPLATES = Path(__file__).parent / "templates"
STATES = (
    ("all", "ทุกสถานะ"),
    ("missing", "ยังไม่ส่ง"),
    ("late", "เลยกำหนดหรือส่งช้า"),
    ("reported", "ส่งแล้ว"),
    ("behind", "ช้ากว่าเดือนก่อน"),
    ("check", "ตัวเลขควรตรวจสอบ"),
)
EXPIRED_LINK = 'ลิงก์นี้ใช้ไม่ได้แล้ว (ใช้ไปแล้ว หมดอายุ หรือไม่ถูกต้อง) ขอลิงก์ใหม่ได้โดยพิมพ์ "แดชบอร์ด" ในแชทกับบอท'
SIGNED_OUT = 'ออกจากระบบแล้ว เข้าใหม่ได้โดยพิมพ์ "แดชบอร์ด" ในแชทกับบอท'
NOT_SIGNED_IN = 'กรุณาเข้าสู่ระบบด้วยลิงก์จากแชท: พิมพ์ "แดชบอร์ด" ในแชทกับบอท'
NOT_YOURS = "ไม่พบโครงการนี้ในความดูแลของคุณ"
CHANNEL_NAMES = {"line": "LINE", "telegram": "Telegram", "console": "คอนโซล", "import": "นำเข้าไฟล์"}
PRIVATE = {"Cache-Control": "private, no-store"}
# What can be downloaded, and the Thai stem of each file's name.
DOWNLOADS = {"reports.xlsx": "รายงาน", "reports.csv": "รายงาน", "forms.pdf": "แบบรายงาน"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_SUCH_FILE = "ไม่มีไฟล์นี้ในแดชบอร์ด"
MAX_NUDGED = 200  # projects in one nudge
FORM_EXPIRED = "แบบฟอร์มนี้ใช้ไม่ได้แล้ว กรุณาเปิดกระดานรายงานใหม่แล้วลองอีกครั้ง"
NUDGES_OFF = "ระบบแจ้งเตือนปิดอยู่ จึงส่งเตือนจากแดชบอร์ดไม่ได้ (ตั้งค่า [reminders] enabled)"
NOTHING_TO_NUDGE = (
    "ไม่มีผู้รับผิดชอบที่เตือนได้ในรายการที่เลือก: เลือกโครงการที่ยังไม่ส่งรายงานของเดือนนี้หรือเดือนที่ผ่านมา "
    "ในหน่วยงานที่คุณประสานงาน และเลือกผู้รับผิดชอบอย่างน้อยหนึ่งคน"
)
UNREACHABLE = "ไม่ได้ส่ง: ยังไม่ได้เชื่อมบัญชีแชท หรือบล็อกบอทไว้"
NUDGE_STATUS = {
    DeliveryStatus.SENT: "ส่งแล้ว",
    DeliveryStatus.SENDING: "กำลังส่ง",
    DeliveryStatus.RETRY: "ส่งไม่สำเร็จ จะลองใหม่",
    DeliveryStatus.FAILED: "ส่งไม่สำเร็จ",
    DeliveryStatus.UNKNOWN: "ไม่ทราบผล (บอทหยุดระหว่างส่ง)",
}
ProjectHandler = Callable[[Person, str, Project, int], Awaitable[web.StreamResponse]]
SendNow = Callable[[], Awaitable[object]]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Row:
    """One project on the board, as shown."""

    code: str
    name: str
    agency: str
    officers: str
    reported: bool
    flags: tuple[tuple[str, str], ...]
    progress: str
    disbursed: str
    project_id: int = 0
    nudge: bool = False  # the person may pick it to nudge its officers


@dataclass(frozen=True, slots=True)
class Picked:
    """A project picked to nudge, with its officers."""

    project: Project
    officers: list[Person]


class Dashboard:
    """Sign-in links for the chat, and the web application they open."""

    def __init__(
        self,
        repo: Storage,
        clock: Clock,
        config: WebConfig,
        zone: ZoneInfo = BANGKOK,
        calendar: ReportingCalendar | None = None,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._config = config
        self._zone = zone  # of the times in downloads and on pages
        # The deadlines of months (a project is late after its month's) and the quiet hours.
        self._calendar = calendar or ReportingCalendar(CalendarSettings(timezone=zone))
        self._send_now: SendNow | None = None  # nudges are off until the reminders run
        self._sending: set[asyncio.Task[object]] = set()
        self._pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, enable_async=False
        )

    async def link_for(self, person: Person) -> str:
        """A new link that signs `person` in once, within LINK_LIFETIME."""
        token = secrets.token_urlsafe(32)
        await self._repo.create_web_link(_hash(token), person.id, self._clock() + LINK_LIFETIME)
        return f"{self._config.base_url}/signin/{token}"

    def send_nudges_with(self, send_now: SendNow) -> None:
        """Turn nudges on: they are stored for the reminder service, and `send_now` (its tick)
        sends what is due at once."""
        self._send_now = send_now

    def app(self) -> web.Application:
        """The dashboard's routes."""
        app = web.Application()
        app.router.add_get("/signin/{token}", self._sign_in)
        app.router.add_get("/board", self._signed(self._board))
        app.router.add_get("/", self._signed(self._board))
        app.router.add_post("/signout", self._sign_out)
        app.router.add_post("/nudge", self._signed(self._picking(self._nudge_confirm)))
        app.router.add_post("/nudge/send", self._signed(self._picking(self._nudge_send)))
        app.router.add_get("/download/{name}", self._signed(self._download))
        app.router.add_get("/overview", self._signed(self._overview))
        app.router.add_get("/overview/chart.png", self._signed(self._overview_chart))
        for path, handler in (
            ("/project/{code}", self._project),
            ("/project/{code}/chart.png", self._chart),
            ("/project/{code}/form.pdf", self._form_pdf),
            ("/project/{code}/form.docx", self._form_docx),
        ):
            app.router.add_get(path, self._signed(self._of_project(handler)))
        app.router.add_get("/static/desk.css", self._style)
        app.router.add_get("/static/sarabun.ttf", self._font(bold=False))
        app.router.add_get("/static/sarabun-bold.ttf", self._font(bold=True))
        return app

    # Sign-in, sessions, sign-out

    async def _sign_in(self, request: web.Request) -> web.StreamResponse:
        person_id = await self._repo.redeem_web_link(
            _hash(request.match_info["token"]), self._clock()
        )
        if person_id is None:
            return self._page("message.html", 403, title="เข้าสู่ระบบไม่ได้", text=EXPIRED_LINK)
        session = secrets.token_urlsafe(32)
        await self._repo.create_web_session(
            _hash(session), person_id, self._clock() + SESSION_LIFETIME
        )
        response = web.Response(status=303, headers={"Location": "/board"})
        response.set_cookie(
            COOKIE,
            session,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            secure=self._config.secure,
            samesite="Strict",
            path="/",
        )
        return response

    async def _person(self, request: web.Request) -> tuple[Person, str] | None:
        session = request.cookies.get(COOKIE, "")
        if not session:
            return None
        person_id = await self._repo.web_session_person(_hash(session), self._clock())
        if person_id is None:
            return None
        person = await self._repo.get_person(person_id)
        return None if person is None else (person, session)

    def _signed(
        self, handler: Callable[[web.Request, Person, str], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            found = await self._person(request)
            if found is None:
                return self._page("message.html", 401, title="ยังไม่ได้เข้าสู่ระบบ", text=NOT_SIGNED_IN)
            person, session = found
            return await handler(request, person, session)

        return guarded

    async def _sign_out(self, request: web.Request) -> web.StreamResponse:
        found = await self._person(request)
        form = await _form(request)
        if found is None or not hmac.compare_digest(str(form.get("csrf", "")), _csrf(found[1])):
            return self._page("message.html", 403, title="ทำรายการไม่ได้", text=NOT_SIGNED_IN)
        await self._repo.end_web_session(_hash(found[1]))
        response = self._page("message.html", 200, title="ออกจากระบบแล้ว", text=SIGNED_OUT)
        response.del_cookie(COOKIE, path="/")
        return response

    # The board

    async def _board(
        self, request: web.Request, person: Person, session: str
    ) -> web.StreamResponse:
        today = self._clock().date()
        current = ReportMonth.containing(today)
        month = _month(request.query, current)
        reach = await self._repo.reach_of(person.id, today)
        projects = await self._repo.projects_within(reach)
        nudging = self._send_now is not None and _nudgeable(month, today)
        summary = await coordinator_summary(self._repo, agency=None, month=month, projects=projects)
        agencies = sorted({s.project.agency for s in summary.projects if s.project.agency})
        agency = request.query.get("agency", "")
        state = request.query.get("state", "all")
        query = request.query.get("q", "").strip()
        deadline = await asyncio.to_thread(self._calendar.deadline, month)
        # Late: still missing after the deadline, or first sent after it (by chat: a report
        # imported from the old system came when it was imported, not when it was written).
        came = await self._repo.first_sent(month.fiscal_year, month.report_no)
        sent_late = {
            code
            for code, (at, channel) in came.items()
            if channel != "import" and at.astimezone(self._zone).date() > deadline
        }
        overdue = today > deadline

        def is_late(status: ProjectStatus) -> bool:
            return status.project.code in sent_late or (overdue and not status.reported)

        shown = [
            s
            for s in summary.projects
            if (not agency or s.project.agency == agency)
            and _in_state(s, state, late=is_late(s))
            and (not query or query in s.project.code or query in s.project.name)
        ]
        # Long boards (an admin's thousands of projects) come a page at a time; the counts and
        # totals are of every project shown by the filters.
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        try:
            page = min(max(1, int(request.query.get("page", "1"))), pages)
        except ValueError:
            page = 1
        first = (page - 1) * PAGE_SIZE
        budget = sum((s.project.budget_received or Decimal(0) for s in shown), Decimal(0))
        disbursed = sum((s.disbursed or Decimal(0) for s in shown if s.reported), Decimal(0))
        years = sorted({current.fiscal_year, *(p.fiscal_year for p in projects)}, reverse=True)
        return self._page(
            "board.html",
            200,
            title=f"กระดานรายงานเดือน {month_name(month)}",
            person=person,
            csrf=_csrf(session),
            month=month,
            years=years,
            months=[
                (m.report_no, month_name(m))
                for m in ReportMonth(month.fiscal_year, 1).months_of_year()
            ],
            agencies=agencies,
            agency=agency,
            states=STATES,
            state=state,
            query=query,
            rows=[
                _row(s, late=is_late(s), nudge=nudging and reach.coordinates(s.project))
                for s in shown[first : first + PAGE_SIZE]
            ],
            deadline=format_thai_date(deadline),
            month_title=month_name(month),
            page=page,
            pages=pages,
            paging={k: v for k, v in request.query.items() if k != "page"},
            counts={
                "reported": sum(1 for s in shown if s.reported),
                "missing": sum(1 for s in shown if not s.reported),
                "late": sum(1 for s in shown if is_late(s)),
                "all": len(shown),
            },
            totals={"budget": baht(budget), "disbursed": baht(disbursed)},
        )

    # The fiscal year at a glance: the share of projects reported per month and agency

    async def _year_at_a_glance(
        self, request: web.Request, person: Person
    ) -> tuple[list[Project], int, dict[str, list[tuple[int, int] | None]]]:
        """The person's scope, the fiscal year asked for, and its shares (see `_shares`)."""
        scope = await _scope(self._repo, person, self._clock().date())
        today = self._clock().date()
        year = _month(request.query, ReportMonth.containing(today)).fiscal_year
        codes = {p.code for p in scope}
        done = {
            (project.code, report.report_no)
            for project, report in await self._repo.report_rows(fiscal_year=year)
            if project.code in codes
        }
        return scope, year, _shares(scope, year, done, today)

    async def _overview(
        self, request: web.Request, person: Person, session: str
    ) -> web.StreamResponse:
        scope, year, table = await self._year_at_a_glance(request, person)
        current = ReportMonth.containing(self._clock().date()).fiscal_year
        rows = [
            (agency, [_share_text(cell) for cell in cells])
            for agency, cells in sorted(table.items())
        ]
        return self._page(
            "overview.html", 200, title=f"ภาพรวมการส่งรายงาน ปีงบประมาณ {year}", person=person,
            csrf=_csrf(session), year=year, rows=rows,
            years=sorted({current, *(p.fiscal_year for p in scope)}, reverse=True),
            months=[month_name(m) for m in ReportMonth(year, 1).months_of_year()],
        )  # fmt: skip

    async def _overview_chart(
        self, request: web.Request, person: Person, session: str
    ) -> web.StreamResponse:
        _, year, table = await self._year_at_a_glance(request, person)
        from reports.charts import overview_chart  # matplotlib, loaded on the first chart

        shares = {
            agency: [_share(cell) for cell in cells] for agency, cells in table.items()
        }  # fmt: skip
        png = await asyncio.to_thread(overview_chart, shares, year)
        return web.Response(body=png, content_type="image/png", headers=PRIVATE)

    # Downloads of the person's scope: a fiscal year, optionally one agency

    async def _download(
        self, request: web.Request, person: Person, session: str
    ) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in DOWNLOADS:
            return self._page(
                "message.html", 404, title="ไม่พบไฟล์", text=NO_SUCH_FILE, person=person,
                csrf=_csrf(session),
            )  # fmt: skip
        today = self._clock().date()
        current = ReportMonth.containing(today)
        year = _month(request.query, current).fiscal_year
        # A month (?month=2): the year as it stood at that month's end; none: the whole year.
        up_to = _month(request.query, current).report_no if "month" in request.query else 12
        as_of = min(today, ReportMonth(year, up_to).last_day)
        agency = request.query.get("agency", "")
        projects = [
            p
            for p in await _scope(self._repo, person, self._clock().date())
            if (not agency or p.agency == agency) and runs_within(p, year)
        ]
        if not projects:
            return self._page(
                "message.html", 404, title="ไม่มีข้อมูล", person=person, csrf=_csrf(session),
                text=f"ไม่มีโครงการในความดูแลของคุณในปีงบประมาณ {year}"
                + (f" ของหน่วยงาน {agency}" if agency else ""),
            )  # fmt: skip
        codes = frozenset(p.code for p in projects)
        if name == "reports.xlsx":
            from reports.xlsx_export import export_xlsx

            buffer = io.BytesIO()
            await export_xlsx(
                self._repo, buffer, zone=self._zone, fiscal_year=year, project_codes=codes,
                up_to=up_to,
            )  # fmt: skip
            body, kind = buffer.getvalue(), XLSX
        elif name == "reports.csv":
            from reports.csv_export import export_csv

            text = io.StringIO()
            await export_csv(
                self._repo, text, fiscal_year=year, project_code=None, project_codes=codes,
                up_to=up_to,
            )  # fmt: skip
            body, kind = ("\ufeff" + text.getvalue()).encode(), "text/csv; charset=utf-8"
        else:
            from reports.pdf_export import forms_pdf

            body = await forms_pdf(self._repo, projects, year, as_of, up_to=up_to)
            kind = "application/pdf"
        suffix = name.rsplit(".", 1)[1]
        until = f"-ถึง{month_name(ReportMonth(year, up_to))}" if up_to < 12 else ""
        filename = f"{DOWNLOADS[name]}-{year}{until}{'-' + agency if agency else ''}.{suffix}"
        headers = {**PRIVATE, "Content-Disposition": content_disposition(filename)}
        return web.Response(body=body, headers={**headers, "Content-Type": kind})

    # Nudges: pick missing projects on the board, confirm, and their officers are reminded now

    def _picking(
        self, handler: Callable[[Person, str, ReportMonth, list[Picked]], Awaitable[web.Response]]
    ) -> Callable[[web.Request, Person, str], Awaitable[web.StreamResponse]]:
        """A handler given the checked month and projects of a nudge form (see `_picked`), or
        the page saying what was wrong with the form."""

        async def checked(request: web.Request, person: Person, session: str) -> web.StreamResponse:
            picked = await self._picked(request, person, session)
            if isinstance(picked, web.StreamResponse):
                return picked
            return await handler(person, session, *picked)

        return checked

    async def _nudge_confirm(
        self, person: Person, session: str, month: ReportMonth, projects: list[Picked]
    ) -> web.Response:
        send_after = self._calendar.next_send_time(self._clock())
        return self._page(
            "nudge_confirm.html", 200, title="ยืนยันการส่งเตือน", person=person,
            csrf=_csrf(session), month=month, month_title=month_name(month), picked=projects,
            when=self._when(send_after),
        )  # fmt: skip

    async def _nudge_send(
        self, person: Person, session: str, month: ReportMonth, projects: list[Picked]
    ) -> web.Response:
        now = self._clock()
        send_after = self._calendar.next_send_time(now)
        day = send_after.astimezone(self._calendar.settings.timezone).date()
        outcomes: list[tuple[str, str, str]] = []  # officer, project, what happens
        stored = 0
        # Who the reminder service will write to: the stand-in of an officer away that day, on
        # a chat account that has not blocked the bot.
        blocked = await self._repo.blocked_accounts()
        stand_ins = {d.person_id: d.delegate_id for d in await self._repo.delegations_on(day)}
        for one in projects:
            for officer in one.officers:
                accounts = await self._repo.identities_of(stand_ins.get(officer.id, officer.id))
                if not any(
                    a.channel in PUSH_CHANNELS and (a.channel, a.external_id) not in blocked
                    for a in accounts
                ):
                    outcomes.append((officer.name, one.project.code, UNREACHABLE))
                    continue
                nudge = Nudge(
                    person.id, officer.id, one.project.code, month.fiscal_year, month.report_no,
                    day, now, send_after,
                )  # fmt: skip
                if await self._repo.add_nudge(nudge):
                    stored += 1
                    outcomes.append((officer.name, one.project.code, self._when(send_after)))
                else:
                    outcomes.append((officer.name, one.project.code, "เตือนไปแล้ววันนี้ จึงไม่ส่งซ้ำ"))
        log.info(
            "web: person %d nudged %d officers (%d projects)", person.id, stored, len(projects)
        )
        if stored and send_after <= now and self._send_now is not None:
            task = asyncio.ensure_future(self._send_now())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return self._page(
            "nudge_done.html", 200, title="บันทึกการเตือนแล้ว", person=person,
            csrf=_csrf(session), month=month, month_title=month_name(month),
            outcomes=outcomes, stored=stored,
        )  # fmt: skip

    async def _picked(
        self, request: web.Request, person: Person, session: str
    ) -> tuple[ReportMonth, list[Picked]] | web.StreamResponse:
        """The month and projects of a nudge form, checked: the form token, the month (this
        one or an earlier one of this or the last fiscal year), and each project (one the
        person coordinates, running that month and still missing its report) with its officers
        (on the confirmation, those left ticked); or the page that says what was wrong."""
        form = await _form(request)
        if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(session)):
            return self._page(
                "message.html", 403, title="ทำรายการไม่ได้", text=FORM_EXPIRED, person=person,
                csrf=_csrf(session),
            )  # fmt: skip
        if self._send_now is None:
            return self._page(
                "message.html", 409, title="ส่งเตือนไม่ได้", text=NUDGES_OFF, person=person,
                csrf=_csrf(session),
            )  # fmt: skip
        today = self._clock().date()
        month = _month(form, ReportMonth.containing(today))
        ids = {int(v) for v in form.getall("p", []) if isinstance(v, str) and v.isdigit()}
        reach = await self._repo.reach_of(person.id, today)
        picked: list[Picked] = []
        if _nudgeable(month, today) and len(ids) <= MAX_NUDGED:
            came = await self._repo.first_sent(month.fiscal_year, month.report_no)
            for project in await self._coordinated(reach, ids):
                if not running_in(project, month) or project.code in came:
                    continue  # not due that month, or reported already
                officers = await self._repo.officers_of_project(project.code)
                if "officers" in form:  # the confirmation: only the officers left ticked
                    ticked = {str(v) for v in form.getall("o", [])}
                    officers = [o for o in officers if f"{project.id}-{o.id}" in ticked]
                if officers:
                    picked.append(Picked(project, officers))
        if not picked:
            return self._page(
                "message.html", 403, title="ส่งเตือนไม่ได้", text=NOTHING_TO_NUDGE, person=person,
                csrf=_csrf(session),
            )  # fmt: skip
        return month, picked

    async def _coordinated(self, reach: Reach, ids: set[int]) -> list[Project]:
        """Of these project ids, the projects the reach coordinates, by code."""
        if not ids:
            return []
        return [
            p for p in await self._repo.projects_within(reach)
            if p.id in ids and reach.coordinates(p)
        ]  # fmt: skip

    def _when(self, moment: datetime) -> str:
        """When a nudge goes: now, or the time it waits for outside quiet hours."""
        if moment <= self._clock():
            return "ส่งทันที"
        local = moment.astimezone(self._zone)
        return f"จะส่ง {format_thai_date(local.date())} {local:%H:%M} น. (พ้นช่วงงดส่งข้อความ)"

    async def _names(self, ids: Iterable[int | None]) -> dict[int, str]:
        """The names of these people (a page names a few: read one by one, not everyone)."""
        names = {}
        for person_id in {i for i in ids if i is not None}:
            person = await self._repo.get_person(person_id)
            if person is not None:
                names[person_id] = person.name
        return names

    async def _nudge_record(self, project: Project) -> list[dict[str, str]]:
        """Who nudged whom about the project, when, and what became of it."""
        nudges = await self._repo.nudges_of_project(project.code)
        if not nudges:
            return []
        records = await self._repo.reminder_records(subject=project.code)
        people = await self._names(
            who for nudge in nudges[:50] for who in (nudge.by_person, nudge.person_id)
        )
        reported = {
            (r.fiscal_year, r.report_no) for r in await self._repo.reports_of_project(project.code)
        }
        now = self._clock()
        shown = []
        for nudge in nudges[:50]:
            kind = f"{NUDGE}:{nudge.day.isoformat()}"
            month = (nudge.fiscal_year, nudge.report_no)
            same = [
                r for r in records
                if r.key.kind.split("@", 1)[0] == kind
                and (r.key.fiscal_year, r.key.report_no) == month
            ]  # fmt: skip
            # The officer's own record; else, while they were away, their stand-in's: a record
            # of someone nudged that day in their own right is not it.
            that_day = (nudge.day, *month)
            nudged = {
                n.person_id for n in nudges if (n.day, n.fiscal_year, n.report_no) == that_day
            }
            found = [r.status for r in same if r.key.person_id == nudge.person_id] or [
                r.status for r in same if r.key.person_id not in nudged
            ]
            if found:
                status = NUDGE_STATUS[min(found, key=list(NUDGE_STATUS).index)]
            elif (nudge.fiscal_year, nudge.report_no) in reported:
                status = "ไม่ต้องส่ง: รายงานเข้ามาแล้ว"
            elif nudge.send_after > now:
                status = self._when(nudge.send_after)
            elif now - nudge.send_after > NUDGE_LIFETIME:
                status = "ไม่ได้ส่ง (หมดเวลา)"
            else:
                status = "รอส่ง (รอรอบส่งถัดไปหรือโควตาข้อความ)"
            asked = nudge.asked_at.astimezone(self._zone)
            shown.append(
                {
                    "when": f"{format_thai_date(asked.date())} {asked:%H:%M} น.",
                    "by": people.get(nudge.by_person, "-"),
                    "to": people.get(nudge.person_id, "-"),
                    "month": month_name(ReportMonth(nudge.fiscal_year, nudge.report_no)),
                    "status": status,
                }
            )
        return shown

    # A project: its page, chart and forms, for people whose scope holds it

    async def _visible(self, request: web.Request, person: Person) -> tuple[Project, int] | None:
        """The project of the path and the fiscal year asked for, if the person may see it."""
        code = request.match_info["code"]
        if code not in {p.code for p in await _scope(self._repo, person, self._clock().date())}:
            return None  # unknown or another scope's: the same answer, so nothing is revealed
        project = await self._repo.get_project(code)
        if project is None:
            return None
        try:
            year = int(request.query.get("fy", project.fiscal_year))
        except ValueError:
            year = project.fiscal_year
        return project, year if 2400 < year < 2700 else project.fiscal_year

    def _of_project(
        self, handler: ProjectHandler
    ) -> Callable[[web.Request, Person, str], Awaitable[web.StreamResponse]]:
        """A handler given the project of the path and the year, or "not found" for the
        person (the same for a project of another scope as for none)."""

        async def guarded(request: web.Request, person: Person, session: str) -> web.StreamResponse:
            found = await self._visible(request, person)
            if found is None:
                return self._page(
                    "message.html", 404, title="ไม่พบโครงการ", text=NOT_YOURS, person=person,
                    csrf=_csrf(session),
                )  # fmt: skip
            return await handler(person, session, *found)

        return guarded

    async def _project(
        self, person: Person, session: str, project: Project, year: int
    ) -> web.StreamResponse:
        reports = await self._repo.reports_of_project(project.code, year)
        history = [
            (report, await self._repo.revisions(report.id))
            for report in sorted(reports, key=lambda r: r.report_no)
        ]
        people = await self._names(
            revision.changed_by for _, revisions in history for revision in revisions
        )
        zone = self._zone
        shown = []
        for report, versions in history:
            revisions = []
            for revision in versions:
                moment = revision.changed_at.astimezone(zone)
                revisions.append(
                    {
                        "number": revision.revision,
                        "progress": percent(revision.values.progress),
                        "disbursed": baht(revision.values.disbursed),
                        "note": revision.values.note or "-",
                        "by": people.get(revision.changed_by or -1, "นำเข้าจากไฟล์"),
                        "when": f"{format_thai_date(moment.date())} {moment:%H:%M} น.",
                        "channel": CHANNEL_NAMES.get(revision.channel, revision.channel),
                        "reason": revision.reason or "-",
                    }
                )
            month = month_name(ReportMonth(report.fiscal_year, report.report_no))
            shown.append({"number": report.report_no, "month": month, "revisions": revisions})
        officers = await self._repo.officers_of_project(project.code)
        start, end = project.start_date, project.end_date
        span = " ถึง ".join(format_thai_date(d) for d in (start, end) if d is not None) or "-"
        budget = project.budget_received
        return self._page(
            "project.html", 200, title=project.name, person=person, csrf=_csrf(session),
            project=project, year=year, reports=shown, span=span,
            officers=", ".join(p.name for p in officers) or project.officer_name or "-",
            budget=f"{baht(budget)} บาท" if budget is not None else "-",
            nudges=await self._nudge_record(project),
        )  # fmt: skip

    async def _chart(
        self, person: Person, session: str, project: Project, year: int
    ) -> web.StreamResponse:
        from reports.charts import project_chart  # matplotlib, loaded on the first chart

        reports = await self._repo.reports_of_project(project.code, year)
        png = await asyncio.to_thread(project_chart, project, reports, year)
        return web.Response(body=png, content_type="image/png", headers=PRIVATE)

    async def _form_pdf(
        self, person: Person, session: str, project: Project, year: int
    ) -> web.StreamResponse:
        return await self._form(project, year, word=False)

    async def _form_docx(
        self, person: Person, session: str, project: Project, year: int
    ) -> web.StreamResponse:
        return await self._form(project, year, word=True)

    async def _form(self, project: Project, year: int, *, word: bool) -> web.StreamResponse:
        from reports.docx_form import DOCX
        from reports.pdf_export import form_docx, form_pdf

        today = self._clock().date()
        render = form_docx if word else form_pdf
        data = await render(self._repo, project, year, today)
        name = f"แบบรายงาน-{project.code}-{year}.{'docx' if word else 'pdf'}"
        return web.Response(
            body=data,
            content_type=DOCX if word else "application/pdf",
            headers={**PRIVATE, "Content-Disposition": content_disposition(name)},
        )

    # Pages and assets

    def _page(self, name: str, status: int, **values: Any) -> web.Response:
        values.setdefault("person", None)
        html = self._pages.get_template(name).render(**values)
        response = web.Response(text=html, status=status, content_type="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"  # the link's token never leaks on
        return response

    async def _style(self, _: web.Request) -> web.StreamResponse:
        return web.FileResponse(TEMPLATES / "desk.css", headers={"Content-Type": "text/css"})

    def _font(self, *, bold: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def font(_: web.Request) -> web.StreamResponse:
            fonts = sarabun()
            return web.FileResponse(fonts.bold if bold else fonts.regular)

        return font


def _shares(
    scope: list[Project], year: int, done: set[tuple[str, int]], today: date
) -> dict[str, list[tuple[int, int] | None]]:
    """Per agency of the scope, per month of the fiscal year: (reported, due) of the projects
    running that month, None for a month not yet begun. `done`: (code, report number) of the
    year's stored reports."""
    months = ReportMonth(year, 1).months_of_year()
    table: dict[str, list[tuple[int, int] | None]] = {}
    for project in scope:
        if not runs_within(project, year):
            continue
        cells = table.setdefault(
            project.agency or "-", [None if m.first_day > today else (0, 0) for m in months]
        )
        for n, (month, cell) in enumerate(zip(months, cells, strict=True)):
            if cell is not None and running_in(project, month):
                got = (project.code, month.report_no) in done
                cells[n] = (cell[0] + got, cell[1] + 1)
    return table


def _share(cell: tuple[int, int] | None) -> float | None:
    """The share reported (%) of a month's cell; None when nothing was due."""
    if cell is None or cell[1] == 0:
        return None
    return 100 * cell[0] / cell[1]


def _share_text(cell: tuple[int, int] | None) -> str:
    share = _share(cell)
    return "-" if share is None or cell is None else f"{share:.0f}% ({cell[0]}/{cell[1]})"


async def _form(request: web.Request) -> MultiMapping[str | bytes | bytearray | web.FileField]:
    """The posted form; one that cannot be read (not UTF-8) is an empty one, which holds no
    form token and is refused as such."""
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError):
        return MultiDict()


def _nudgeable(month: ReportMonth, today: date) -> bool:
    """Whether reports of the month can be nudged for: begun, and of this fiscal year or the
    last (the reminder service reads those years' reports)."""
    current = ReportMonth.containing(today)
    return month.first_day <= today and month.fiscal_year >= current.fiscal_year - 1


def _csrf(session: str) -> str:
    """The form token of a session: derived from its secret, never stored."""
    return hmac.new(session.encode(), b"csrf", hashlib.sha256).hexdigest()


def _month(query: Any, current: ReportMonth) -> ReportMonth:
    """The month asked for (?fy=2570&month=2), else this one; nonsense is this one too."""
    try:
        year = int(query.get("fy", current.fiscal_year))
        number = int(query.get("month", current.report_no if year == current.fiscal_year else 12))
    except (TypeError, ValueError):  # nonsense, or a file where a number belongs
        return current
    if not (2400 < year < 2700 and 1 <= number <= 12):
        return current
    return ReportMonth(year, number)


async def _scope(repo: Storage, person: Person, day: date) -> list[Project]:
    """The projects a person sees on `day`, by the policy of the chat (`Storage.reach_of`):
    everything for an admin; their own, those of colleagues they stand in for, and for a
    coordinator those of their agencies and the projects given to them."""
    return await repo.projects_within(await repo.reach_of(person.id, day))


def _in_state(status: ProjectStatus, state: str, *, late: bool) -> bool:
    return {
        "missing": not status.reported,
        "late": late,
        "reported": status.reported,
        "behind": status.behind or status.standing_still,
        "check": status.contradiction is not None,
    }.get(state, True)


def _row(status: ProjectStatus, *, late: bool, nudge: bool = False) -> Row:
    """The project as shown; `late`: missing after the month's deadline, or sent after it;
    `nudge`: the person may nudge its officers (if it is missing)."""
    if status.reported:
        flags = [("reported", "ส่งแล้ว")] + ([("late", "ส่งหลังกำหนด")] if late else [])
    else:
        flags = [("late", "เลยกำหนดส่ง") if late else ("missing", "ยังไม่ส่ง")]
    if status.behind:
        flags.append(("behind", "ช้ากว่าเดือนก่อน"))
    if status.standing_still:
        flags.append(("still", "ไม่คืบหน้า"))
    if status.contradiction:
        flags.append(("check", f"ตรวจสอบ: {status.contradiction}"))
    return Row(
        status.project.code,
        status.project.name,
        status.project.agency,
        ", ".join(status.officers) or "-",
        status.reported,
        tuple(flags),
        percent(status.progress) if status.progress is not None else "-",
        baht(status.disbursed) if status.disbursed is not None else "-",
        status.project.id,
        nudge and not status.reported,
    )
