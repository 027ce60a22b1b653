"""What the conversation asks of the document side (the form, summaries, charts, files).

The conversation only knows this protocol; reports/ implements it (without importing it: the two
are peers) and bot/ plugs it in, so the dialogue stays free of PDF, chart and spreadsheet
libraries.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from domain.fiscal import ReportMonth
from domain.messages import Outbound
from domain.models import MonthlyReport, Person, Project


class Documents(Protocol):
    """Renders what people ask for in chat, as replies with attached files."""

    async def officer_summary(self, person_id: int, today: date) -> list[Outbound]:
        """An officer's projects with the latest figures and what is due."""

    async def project_form(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """The official form of one project: the PDF, with a two-line caption."""

    async def project_form_text(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """The official form of one project as chat text (asked for after the PDF)."""

    async def project_form_docx(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """The official form of one project as a Word file (asked for after the PDF)."""

    async def project_chart(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        """A picture of one project's progress and disbursement across the fiscal year."""

    async def agency_summary(
        self, projects: list[Project], month: ReportMonth, scope: str
    ) -> list[Outbound]:
        """A coordinator's month over their projects (`scope` names them, e.g. the agency):
        the summary text with a chart."""

    async def agency_workbook(self, projects: list[Project], fiscal_year: int) -> list[Outbound]:
        """Every project-month of the projects as an XLSX file."""


class DashboardLinks(Protocol):
    """Makes single-use sign-in links to the web dashboard."""

    async def link_for(self, person: Person) -> str:
        """A new link that signs `person` in once, within a few minutes."""
