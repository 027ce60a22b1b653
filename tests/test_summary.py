"""Summaries: who has reported, figures, standing still, behind, contradictions, totals, text."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, Project, ProjectData, ReportValues, Role, Submission
from reports.summary import coordinator_summary, officer_names, officer_summary, render_summary
from reports.summary_model import (
    ProjectStatus,
    group_reports,
    project_status,
    running_in,
    summarize_month,
)
from storage.contracts import Storage
from storage.sqlite import SqliteStorage
from tests.memory_storage import MemoryStorage
from tests.support import OTHER, ROAD, SCHOOL, World, build_world

BANGKOK = ZoneInfo("Asia/Bangkok")
OFFICE = "สำนักงานเขตลาดกระบัง"
DEC, JAN = ReportMonth(2570, 3), ReportMonth(2570, 4)


async def put(
    repo: Storage, code: str, no: int, progress: str, disbursed: str, note: str = ""
) -> None:
    month = ReportMonth(2570, no)
    values = ReportValues(month.last_day, Decimal(progress), Decimal(disbursed), note, True, "",
                          True, "")  # fmt: skip
    at = datetime(month.year, month.month, 25, 10, tzinfo=BANGKOK)
    await repo.submit_report(Submission(code, 2570, no, values, None, "telegram", at))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    repo = await SqliteStorage.open(tmp_path / "t.sqlite3")
    world = await build_world(repo)
    # ROAD: 10, 30, 30 (still in December), nothing in January.
    for no, progress, paid in ((1, "10", "100000"), (2, "30", "250000"), (3, "30", "250000")):
        await put(repo, ROAD.code, no, progress, paid)
    # SCHOOL starts in November: 10, 30 (+20), then 35 in January (+5: behind) and a note
    # saying the work is finished at 35 %.
    await put(repo, SCHOOL.code, 2, "10", "0")
    await put(repo, SCHOOL.code, 3, "30", "50000")
    await put(repo, SCHOOL.code, 4, "35", "60000", note="ดำเนินการเสร็จสิ้นแล้ว")
    await put(repo, OTHER.code, 3, "50", "0")
    yield world
    await repo.close()


def by_code(statuses: tuple[ProjectStatus, ...]) -> dict[str, ProjectStatus]:
    return {s.project.code: s for s in statuses}


async def test_a_month_in_december(world: World) -> None:
    summary = await coordinator_summary(world.repo, agency=OFFICE, month=DEC)

    found = by_code(summary.projects)
    assert sorted(found) == [ROAD.code, SCHOOL.code]  # OTHER is another district
    road, school = found[ROAD.code], found[SCHOOL.code]
    assert road.reported and road.standing_still and not road.behind
    assert road.progress_change == 0 and road.disbursed_change == 0
    assert road.officers == ("นายสมชาย ใจดี",)
    assert school.officers == ("นางสาวใจงาม ตั้งใจ", "นายสมชาย ใจดี")
    assert school.progress_change == 20 and not school.standing_still and not school.behind
    assert (len(summary.reported), len(summary.missing)) == (2, 0)
    assert summary.total_budget == Decimal(1_560_000)
    assert summary.total_disbursed == Decimal(300_000)


async def test_a_month_in_january(world: World) -> None:
    summary = await coordinator_summary(world.repo, agency=OFFICE, month=JAN)

    road, school = by_code(summary.projects)[ROAD.code], by_code(summary.projects)[SCHOOL.code]
    # ROAD has not reported: its December figures are shown, and nothing is flagged but that.
    assert not road.reported and road.shown is not None and road.shown.report_no == 3
    assert (road.progress, road.disbursed) == (Decimal(30), Decimal(250_000))
    assert road.progress_change is None and not road.standing_still
    assert school.behind and not school.standing_still
    assert school.contradiction == "บันทึกระบุว่างานเสร็จแล้ว แต่ความก้าวหน้าเป็น 35.00 %"
    assert [s.project.code for s in summary.missing] == [ROAD.code]
    assert summary.total_disbursed == Decimal(310_000)


async def test_every_agency_and_projects_not_yet_running(world: World) -> None:
    everyone = await coordinator_summary(world.repo, agency=None, month=DEC)
    october = await coordinator_summary(world.repo, agency=OFFICE, month=ReportMonth(2570, 1))

    assert [s.project.code for s in everyone.projects] == [ROAD.code, SCHOOL.code, OTHER.code]
    assert [s.project.code for s in october.projects] == [ROAD.code]  # SCHOOL starts in Nov


class CountingRepo:
    """Passes every call to the real repository, counting them by name."""

    def __init__(self, repo: Storage) -> None:
        self.repo = repo
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        self.calls[name] = self.calls.get(name, 0) + 1
        return getattr(self.repo, name)


async def test_the_summary_reads_storage_in_bulk(world: World) -> None:
    counting = CountingRepo(world.repo)

    await coordinator_summary(counting, agency=None, month=JAN)

    assert counting.calls == {
        "recent_figures": 1,
        "list_projects": 1,
        "officer_names": 1,
    }


def report(no: int, progress: int) -> MonthlyReport:
    values = ReportValues(date(2027, 1, 1), Decimal(progress), Decimal(0), "", True, "", True, "")
    return MonthlyReport(no, "X", 2570, no, values, None, "import", datetime(2027, 1, 1), 1)


@pytest.mark.parametrize(
    ("history", "behind"),
    [
        ([(1, 10), (2, 20), (3, 25)], True),  # +10 then +5
        ([(1, 10), (2, 20), (3, 30)], False),  # the same pace
        ([(1, 10), (2, 20), (4, 35)], True),  # +7.5 a month over two months, after +10
        ([(1, 10), (3, 30), (4, 40)], False),  # +10 a month after +10 a month
        ([(2, 20), (3, 25)], False),  # two reports only: no earlier pace to compare
        ([(1, 10), (2, 90), (3, 100)], False),  # finished is never behind
    ],
)
def test_behind_compares_the_pace_per_month(history: list[tuple[int, int]], behind: bool) -> None:
    project = Project("X", "x", 2570)
    month = ReportMonth(2570, history[-1][0])
    status = project_status(project, [report(n, p) for n, p in history], month)
    assert status.behind is behind


def test_running_in_uses_the_project_dates_or_its_fiscal_year() -> None:
    school = Project(**{f.name: getattr(SCHOOL, f.name) for f in dataclasses.fields(SCHOOL)})
    assert not running_in(school, ReportMonth(2570, 1))
    assert running_in(school, ReportMonth(2570, 2))
    undated = Project("Y", "y", 2570)
    assert running_in(undated, ReportMonth(2570, 12))
    assert not running_in(undated, ReportMonth(2571, 1))


async def test_the_coordinator_text(world: World) -> None:
    text = render_summary(await coordinator_summary(world.repo, agency=OFFICE, month=JAN))

    lines = text.splitlines()
    assert lines[:5] == [
        "สรุปรายงานเดือน ม.ค. 2570 (ครั้งที่ 4)",
        "หน่วยงาน: สำนักงานเขตลาดกระบัง",
        "ส่งแล้ว 1 จาก 2 โครงการ ยังไม่ส่ง 1",
        "เบิกจ่ายสะสมรวม 310,000 บาท",
        "จากงบประมาณที่ได้รับ 1,560,000 บาท (19.87 %)",
    ]
    assert "ยังไม่ส่ง (1)" in lines
    assert "  ผู้รับผิดชอบ: นายสมชาย ใจดี" in lines
    assert "  ล่าสุด ครั้งที่ 3: 30.00 % เบิกจ่าย 250,000 บาท" in lines
    assert "ก้าวหน้าช้ากว่าเดือนก่อน (1)" in lines
    assert "  35.00 % เบิกจ่าย 60,000 บาท (+5.00 % จากครั้งก่อน)" in lines
    assert "บันทึกขัดกับตัวเลข (1)" in lines
    assert max(len(line) for line in lines) < 80  # short lines for a phone


async def test_long_lists_are_cut(tmp_path: Path) -> None:
    repo = await SqliteStorage.open(tmp_path / "t.sqlite3")
    for n in range(25):
        await repo.upsert_project(Project(f"P-{n:02d}", f"โครงการ {n}", 2570, agency=OFFICE))
    text = render_summary(await coordinator_summary(repo, agency=OFFICE, month=DEC))
    await repo.close()
    assert "ยังไม่ส่ง (25)" in text and "และอีก 5 โครงการ" in text
    assert "P-19" in text and "P-20" not in text


async def test_an_empty_agency(world: World) -> None:
    text = render_summary(await coordinator_summary(world.repo, agency="ไม่มีเขตนี้", month=DEC))
    assert text.endswith("ไม่มีโครงการที่ดำเนินการในเดือนนี้")


async def test_the_officer_summary(world: World) -> None:
    summary = await officer_summary(world.repo, world.officer.id, date(2027, 1, 20))

    road, school = summary.projects
    assert road.latest is not None and road.latest.report_no == 3
    assert [o.month.report_no for o in road.due] == [4]  # January, this month
    assert school.latest is not None and school.latest.report_no == 4
    assert school.due == ()
    text = render_summary(summary)
    assert text.splitlines()[0] == "โครงการของ นายสมชาย ใจดี (ข้อมูล ณ 20 ม.ค. 2570)"
    assert "   ต้องส่ง: เดือน ม.ค. 2570 ภายใน 31 ม.ค. 2570" in text
    assert "   ล่าสุด ม.ค. 2570: 35.00 % เบิกจ่าย 60,000 บาท" in text
    assert "   ไม่มีรายงานที่ต้องส่งตอนนี้" in text


async def test_an_officer_without_projects(world: World) -> None:
    summary = await officer_summary(world.repo, world.coordinator.id, date(2027, 1, 20))
    assert render_summary(summary).endswith("ยังไม่มีโครงการที่รับผิดชอบในระบบ")


NOTES = (
    "",
    "ดำเนินการตามแผน",
    "เบิกจ่ายแล้ว",
    "ไม่สามารถเบิกจ่ายได้",
    "ดำเนินการเสร็จสิ้น",
    "ยังไม่ได้ดำเนินการ",
    "ยังไม่ได้ดำเนินการเสร็จ",
)

STEPS = (Decimal(0), Decimal(0), Decimal(5), Decimal(10), Decimal("12.5"))
PAID = (Decimal(0), Decimal("1000.25"), Decimal(25000))


async def generated(repo: Storage, seed: int) -> list[str]:
    """Projects with gaps, repeats, finished work, notes for and against their figures, with or
    without dates and officers, under two agencies; their agency paths."""
    rng = random.Random(seed)
    agencies = [f"{OFFICE} / ฝ่ายโยธา", "สำนักงานเขตบางเขน / ฝ่ายโยธา"]
    officer = await repo.add_person("นายสมชาย ใจดี", roles=frozenset({Role.OFFICER}))
    for n in range(40):
        start = date(2026, 10 + n % 3, 1) if n % 4 else None
        code = f"G-{n:03d}"
        budget = Decimal(rng.randrange(0, 5_000_000)) / 100 if n % 5 else None
        await repo.upsert_project(
            ProjectData(
                code, f"โครงการทดสอบ {n}", 2570, start, None, budget, agency=agencies[n % 2]
            )
        )
        if n % 3:
            await repo.link_officer(officer.id, code)
        progress, paid = Decimal(0), Decimal(0)
        for no in range(1, 13):
            if rng.random() < 0.3:
                continue  # not sent that month
            progress = min(Decimal(100), progress + rng.choice(STEPS))
            paid += rng.choice(PAID)
            await put(repo, code, no, str(progress), str(paid), note=rng.choice(NOTES))
    return agencies


async def test_the_summary_from_figures_is_the_summary_from_whole_reports(tmp_path: Path) -> None:
    sqlite = await SqliteStorage.open(tmp_path / "t.sqlite3")
    repos: list[Storage] = [sqlite, MemoryStorage()]
    try:
        for repo in repos:
            agencies = await generated(repo, seed=7)
            for agency in (None, OFFICE, agencies[1]):
                for no in range(1, 13):
                    month = ReportMonth(2570, no)
                    summary = await coordinator_summary(repo, agency=agency, month=month)
                    # The summary as built before from whole reports, which the figures replace.
                    whole = await repo.recent_reports(2570, no, count=3, agency=agency)
                    projects = await repo.list_projects(agency=agency)
                    officers = await officer_names(repo, agency=agency)
                    before = summarize_month(
                        projects, group_reports(whole), officers, month, agency
                    )
                    assert render_summary(summary) == render_summary(before)
                    assert [facts(s) for s in summary.projects] == [
                        facts(s) for s in before.projects
                    ]
                    assert summary.total_disbursed == before.total_disbursed
    finally:
        await sqlite.close()


def facts(s: ProjectStatus) -> tuple[object, ...]:
    shown = s.shown.report_no if s.shown else None
    return (s.project, s.officers, shown, s.progress, s.disbursed, s.progress_change,
            s.disbursed_change, s.standing_still, s.behind, s.contradiction)  # fmt: skip
