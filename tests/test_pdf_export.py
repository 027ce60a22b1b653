"""Forms exported as one PDF: which projects are read, and how."""

from __future__ import annotations

import io

from pypdf import PdfReader

from domain.models import Project, ProjectData
from reports.pdf_export import export_pdf
from tests.memory_storage import MemoryStorage

LAT_KRABANG = "สำนักงานเขตลาดกระบัง"


class Listing(MemoryStorage):
    """Counts the reads of the whole project list."""

    listed = 0

    async def list_projects(
        self, *, fiscal_year: int | None = None, agency: str | None = None
    ) -> list[Project]:
        self.listed += 1
        return await super().list_projects(fiscal_year=fiscal_year, agency=agency)


async def test_one_project_is_looked_up_by_code_not_found_among_all() -> None:
    repo = Listing()
    for n, agency in enumerate((f"{LAT_KRABANG} / ฝ่ายโยธา", "สำนักงานเขตบางรัก")):
        await repo.upsert_project(
            ProjectData(f"50140000-000{n}", f"โครงการ {n}", 2570, agency=agency)
        )

    pdf, count = await export_pdf(repo, project_code="50140000-0001")
    assert count == 1 and repo.listed == 0
    assert "50140000-0001" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    # The other filters still hold for the one project.
    assert (await export_pdf(repo, project_code="50140000-0001", fiscal_year=2569))[1] == 0
    assert (await export_pdf(repo, project_code="50140000-0001", agency=LAT_KRABANG))[1] == 0
    assert (await export_pdf(repo, project_code="50140000-0000", agency=LAT_KRABANG))[1] == 1
    assert (await export_pdf(repo, project_code="50149999-9999"))[1] == 0
    assert repo.listed == 0
    assert (await export_pdf(repo, agency=LAT_KRABANG))[1] == 1
    assert repo.listed == 1
