"""The documents people ask for in chat, as replies with attached files (handlers.Documents).

Rendering is CPU work (a PDF ~0.1 s, a chart ~0.3 s), so it runs in a worker thread and the
event loop keeps serving other chats meanwhile. The renderers (fpdf2, matplotlib) are imported
on first use: a process that never draws (most CLI commands) does not pay seconds to load them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from datetime import date
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.fiscal import ReportMonth
from domain.messages import Attachment, Outbound
from domain.models import MonthlyReport, Project
from domain.months import month_name
from domain.numbers import baht, percent
from reports.form import FormDocument, form_document, render_text, split_messages
from reports.summary import coordinator_summary, officer_summary, render_summary
from storage.contracts import Records

PDF = "application/pdf"
PNG = "image/png"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_LIMIT = 4000  # under Telegram's 4096; LINE's 5000


class ReportDocuments:
    """Forms, charts, summaries and workbooks from the stored reports; the times in workbooks are
    wall-clock time in `zone` (the bot's time zone)."""

    def __init__(
        self,
        repo: Records,
        *,
        zone: ZoneInfo,
        text_limit: int = TEXT_LIMIT,
        clock: Clock | None = None,
    ) -> None:
        self._repo = repo
        self._zone = zone
        self._limit = text_limit
        self._clock = clock  # the day a form's figures are read, printed on its pages

    async def officer_summary(self, person_id: int, today: date) -> list[Outbound]:
        """An officer's projects with the latest figures and what is due."""
        text = render_summary(await officer_summary(self._repo, person_id, today))
        return [Outbound(piece) for piece in split_messages(text, self._limit)]

    async def project_form(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """The official form of one project (its `reports` of the fiscal year, already read by
        the conversation) as a PDF with a two-line caption; the text is sent on request."""
        from reports.pdf import render_pdf

        pdf = await asyncio.to_thread(render_pdf, await self._form(project, fiscal_year, reports))
        name = f"แบบรายงาน-{project.code}-{fiscal_year}.pdf"
        return [
            Outbound(
                form_caption(project, fiscal_year, reports), attachment=Attachment(name, pdf, PDF)
            )
        ]

    async def project_form_docx(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """The official form of one project as a Word file, to edit before signing."""
        from reports.docx_form import DOCX, render_docx

        docx = await asyncio.to_thread(
            render_docx, await self._form(project, fiscal_year, reports)
        )  # fmt: skip
        name = f"แบบรายงาน-{project.code}-{fiscal_year}.docx"
        caption = f"แบบรายงานโครงการ {project.code} ปีงบประมาณ {fiscal_year} (Word แก้ไขได้)"
        return [Outbound(caption, attachment=Attachment(name, docx, DOCX))]

    async def project_form_text(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """The official form of one project as chat text, in messages under the length limit."""
        text = render_text(await self._form(project, fiscal_year, reports))
        return [Outbound(piece) for piece in split_messages(text, self._limit)]

    async def _form(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> FormDocument:
        officers = await self._repo.officers_of_project(project.code)
        as_of = self._clock().astimezone(self._zone).date() if self._clock else None
        officer = officers[0] if officers else None
        return form_document(project, reports, officer, fiscal_year, as_of)

    async def project_chart(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """A picture of one project's progress and disbursement across the fiscal year."""
        from reports.charts import project_chart

        png = await asyncio.to_thread(project_chart, project, reports, fiscal_year)
        caption = f"ความก้าวหน้าและการเบิกจ่าย {project.code} ปีงบประมาณ {fiscal_year}"
        name = f"กราฟ-{project.code}-{fiscal_year}.png"
        return [Outbound(caption, attachment=Attachment(name, png, PNG))]

    async def agency_summary(
        self, projects: list[Project], month: ReportMonth, scope: str
    ) -> list[Outbound]:
        """A coordinator's month over their projects (`scope` names them): the summary text
        with a chart."""
        summary = await coordinator_summary(self._repo, agency=None, month=month, projects=projects)
        summary = dataclasses.replace(summary, agency=scope)
        from reports.charts import agency_chart

        png = await asyncio.to_thread(agency_chart, summary.projects, month)
        replies = [
            Outbound(piece) for piece in split_messages(render_summary(summary), self._limit)
        ]
        name = f"สรุป-{month.fiscal_year}-{month.report_no:02d}.png"
        caption = f"ความก้าวหน้าโครงการ เดือน {month_name(month)}"
        return [*replies, Outbound(caption, attachment=Attachment(name, png, PNG))]

    async def agency_workbook(self, projects: list[Project], fiscal_year: int) -> list[Outbound]:
        """Every project-month of exactly these projects (a coordinator's scope) as XLSX."""
        # Loaded with the first workbook asked for.
        from reports.xlsx_export import export_xlsx, runs_within

        within = [p for p in projects if runs_within(p, fiscal_year)]
        if not within:
            return [Outbound(NO_PROJECTS_IN_YEAR.format(year=fiscal_year))]
        buffer = io.BytesIO()
        codes = frozenset(p.code for p in within)
        count = await export_xlsx(
            self._repo, buffer, zone=self._zone, fiscal_year=fiscal_year, project_codes=codes
        )
        name = f"รายงาน-ปีงบประมาณ-{fiscal_year}.xlsx"
        # What the file holds: its rows, and the projects that run in that year.
        caption = f"ไฟล์ Excel รายงานปีงบประมาณ {fiscal_year}: {count} แถว ({len(within)} โครงการ)"
        return [Outbound(caption, attachment=Attachment(name, buffer.getvalue(), XLSX))]


NO_PROJECTS_IN_YEAR = "ไม่มีโครงการในความดูแลของคุณที่ดำเนินการในปีงบประมาณ {year} จึงไม่มีไฟล์ให้ส่ง"


def form_caption(project: Project, fiscal_year: int, reports: list[MonthlyReport]) -> str:
    """Two lines under the PDF: which form, and where the project stands."""
    head = f"แบบรายงานความก้าวหน้า {project.code} ปีงบประมาณ {fiscal_year}"
    if not reports:
        return f"{head}\nยังไม่มีรายงานของปีงบประมาณนี้"
    last = max(reports, key=lambda r: r.report_no)
    month = month_name(ReportMonth(last.fiscal_year, last.report_no))
    return (
        f"{head}\nรายงาน {len(reports)} ครั้ง ล่าสุด {month}: "
        f"{percent(last.values.progress)} %, เบิกจ่าย {baht(last.values.disbursed)} บาท"
    )
