"""Forms as one PDF: one project's, or every project of an agency or fiscal year, in code order."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import date

from pypdf import PdfWriter

from domain.models import Project, under_agency
from reports.form import form_document
from reports.form_model import FormDocument
from reports.pdf import render_pdf
from storage.contracts import Records

Progress = Callable[[int, int], None]


async def _document(
    repo: Records, project: Project, fiscal_year: int | None, as_of: date | None, up_to: int = 12
) -> FormDocument:
    """One project's form (of its own fiscal year unless another is given), read from storage;
    with the reports of months up to report number `up_to`."""
    year = project.fiscal_year if fiscal_year is None else fiscal_year
    reports = [r for r in await repo.reports_of_project(project.code, year) if r.report_no <= up_to]
    officers = await repo.officers_of_project(project.code)
    return form_document(project, reports, officers[0] if officers else None, year, as_of)


async def form_pdf(
    repo: Records,
    project: Project,
    fiscal_year: int | None = None,
    as_of: date | None = None,
    up_to: int = 12,
) -> bytes:
    """One project's official form as PDF (of its own fiscal year unless another is given),
    with the day its figures were read on every page; `up_to`: as at that month's end."""
    document = await _document(repo, project, fiscal_year, as_of, up_to)
    # Rendering is CPU work (~0.1 s a form): keep it off the event loop.
    return await asyncio.to_thread(render_pdf, document)


async def form_docx(
    repo: Records, project: Project, fiscal_year: int | None = None, as_of: date | None = None
) -> bytes:
    """One project's official form as a Word file, to edit before signing."""
    from reports.docx_form import render_docx

    document = await _document(repo, project, fiscal_year, as_of)
    return await asyncio.to_thread(render_docx, document)


async def export_pdf(
    repo: Records,
    *,
    fiscal_year: int | None = None,
    project_code: str | None = None,
    agency: str | None = None,
    progress: Progress | None = None,
    as_of: date | None = None,
) -> tuple[bytes, int]:
    """The forms of the chosen projects joined in one PDF; returns it and how many forms.

    One project (`project_code`) is looked up by its code, not found among every project."""
    if project_code is not None:
        projects = [p for p in [await repo.get_project(project_code)] if p is not None]
        projects = [
            p
            for p in projects
            if (fiscal_year is None or p.fiscal_year == fiscal_year)
            and (not agency or under_agency(p.agency, agency))
        ]
    else:
        projects = await repo.list_projects(fiscal_year=fiscal_year, agency=agency)
    return await forms_pdf(repo, projects, fiscal_year, as_of, progress), len(projects)


async def forms_pdf(
    repo: Records,
    projects: list[Project],
    fiscal_year: int | None,
    as_of: date | None = None,
    progress: Progress | None = None,
    up_to: int = 12,
) -> bytes:
    """The forms of exactly these projects (a person's scope, or what the CLI chose), in code
    order, as one PDF; `progress(done, total)` after each; `up_to` as in `form_pdf`."""
    writer = PdfWriter()
    ordered = sorted(projects, key=lambda p: p.code)
    for done, project in enumerate(ordered, start=1):
        writer.append(io.BytesIO(await form_pdf(repo, project, fiscal_year, as_of, up_to)))
        if progress is not None:
            progress(done, len(ordered))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
