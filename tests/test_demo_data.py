"""Demo data: the seed form verbatim, three current projects, the demo people; idempotent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.models import ProjectData, Role
from reports.demo_data import SEED_PROJECT, DemoSummary, demo_projects, load_demo_data
from storage.sqlite import SqliteStorage

SEED_FORM = Path("/work/shared/seed/000_cf508a01e081a9c9.txt")
TODAY = date(2025, 1, 15)  # fiscal year 2568, report 4 (January): December is overdue
OFFICE = "สำนักงานเขตลาดกระบัง"
BANGKOK = ZoneInfo("Asia/Bangkok")


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    repository = await SqliteStorage.open(tmp_path / "t.sqlite3")
    yield repository
    await repository.close()


async def test_loads_everything_once(repo: SqliteStorage) -> None:
    first = await load_demo_data(repo, TODAY, zone=BANGKOK)

    codes = ["50140000-3629", "50140000-4681", "50140000-4682", "50140000-4683"]
    assert sorted(first.projects_created) == codes
    assert first.reports_created == 12 + 2
    assert first.people_created == ("นายณัฐพงษ์ ลาญาติ", "น.ส.รัตนา ปิยะวรสกุล")
    assert first.links_created == 4 + 1 + 2  # officer links, coordinator scope, chat accounts
    assert "รายงานรายเดือน 14 ฉบับ" in first.describe()

    second = await load_demo_data(repo, TODAY, zone=BANGKOK)

    assert second == DemoSummary()
    assert "ไม่ได้เพิ่ม" in second.describe()
    assert [p.code for p in await repo.list_projects()] == codes


async def test_seed_project_is_the_printed_form(repo: SqliteStorage) -> None:
    await load_demo_data(repo, TODAY, zone=BANGKOK)

    p = await repo.get_project("50140000-3629")

    assert p is not None
    assert p.name == "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน"
    assert (p.fiscal_year, p.start_date, p.end_date) == (2564, date(2020, 10, 1), date(2021, 9, 30))
    assert (p.budget_received, p.budget_used) == (Decimal("0"), Decimal("0"))
    assert p.agency == "สำนักงานเขตลาดกระบัง / ฝ่ายการศึกษา / ฝ่ายการศึกษา"
    assert (p.officer_name, p.officer_phone) == ("นายณัฐพงษ์ ลาญาติ", "02 3269015")
    assert (p.coordinator_name, p.coordinator_phone) == ("น.ส.รัตนา ปิยะวรสกุล", "1513")
    assert p.rationale.startswith("พระราชบัญญัติการศึกษาแห่งชาติ พ.ศ. ๒๕๔๒ แก้ไขเพิ่มเติม (ฉบับที่ 2) พ.ศ.2545")
    assert p.rationale.endswith(
        "การพัฒนาองค์ความรู้สู่การสร้างนวัตกรรมทางการบริหารและการจัดการเรียนรู้ ฯลฯ\n"
        "ทั้งนี้เพื่อการมุ่งคุณภาพและยกระดับคุณภาพของโรงเรียนให้สูงขึ้นอย่างต่อเนื่อง"
    )
    assert len(p.rationale.splitlines()) == 13
    objectives = p.objectives.splitlines()
    assert [line[:3] for line in objectives] == ["๑. ", "๒. ", "๓. "]
    assert objectives[2] == "๓. โรงเรียนมีผู้นำทางวิชาการที่มีคุณภาพ"
    assert p.target_quantity.splitlines()[1].endswith("เครือข่ายละ ๙๐,๐๐๐.- บาท")
    assert len(p.target_quality.splitlines()) == 2
    assert p.strategy == "ด้านที่ ๗ ? การบริหารจัดการเมืองมหานคร : Management Strategy"
    assert p.sub_strategy == "๗.๒ - การบริหารแผนและประเมินผล"
    assert p.goal.startswith("๗.๒.๑ กรุงเทพมหานครมีระบบการติดตาม")
    assert p.indicator == ("มิติที่1 ร้อยละของโครงการที่เป็นงานประจำของหน่วยงานดำเนินการสำเร็จตามเป้าหมาย")


@pytest.mark.skipif(not SEED_FORM.exists(), reason="the shared seed form is not on this machine")
def test_seed_text_lines_appear_verbatim_in_the_seed_form() -> None:
    printed = SEED_FORM.read_text(encoding="utf-8")
    lines = set(printed.splitlines())
    for field in ("rationale", "objectives", "target_quantity", "target_quality"):
        for line in getattr(SEED_PROJECT, field).splitlines():
            assert line in lines, (field, line)
    for field in ("name", "agency", "strategy", "sub_strategy", "goal", "indicator"):
        assert f" : {getattr(SEED_PROJECT, field)}\n" in printed, field


async def test_seed_reports(repo: SqliteStorage) -> None:
    await load_demo_data(repo, TODAY, zone=BANGKOK)

    reports = await repo.reports_of_project("50140000-3629", 2564)

    assert [r.report_no for r in reports] == list(range(1, 13))
    progress = [r.values.progress for r in reports]
    assert progress == [Decimal(x) for x in (8, 16, 25, 30, 40, 50, 55, 60, 65, 80, 80, 100)]
    assert reports[0].values.reported_on == date(2020, 10, 31)
    assert reports[0].values.note == "อยู่ระหว่างขั้นตอน..."
    assert reports[1].values.note == ""
    assert reports[3].values.reported_on == date(2021, 1, 28)
    assert reports[11].values.note == "ดำเนินตามโครงการเสร็จสิ้นแล้ว"
    for r in reports:
        assert r.values.disbursed == Decimal("0")
        assert r.values.on_plan
        assert r.values.on_target
        assert (r.channel, r.sent_by, r.revision) == ("import", None, 1)
        assert r.sent_at == datetime.combine(r.values.reported_on, time(16), tzinfo=BANGKOK)
        assert r.sent_at.utcoffset() is not None


async def test_reports_count_as_sent_at_four_in_the_given_zone(repo: SqliteStorage) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    await load_demo_data(repo, TODAY, zone=tokyo)

    first = (await repo.reports_of_project(SEED_PROJECT.code, 2564))[0]

    assert first.sent_at == datetime(2020, 10, 31, 16, tzinfo=tokyo)
    assert first.sent_at == datetime(2020, 10, 31, 14, tzinfo=BANGKOK)


async def test_demo_people(repo: SqliteStorage) -> None:
    await repo.upsert_project(
        ProjectData("50150000-0001", "โครงการเขตอื่น", 2568, agency="สำนักงานเขตบางรัก")
    )
    await load_demo_data(repo, TODAY, zone=BANGKOK)

    officer = await repo.find_person_by_identity("console", "demo-officer")
    assert officer is not None
    assert (officer.name, officer.phone) == ("นายณัฐพงษ์ ลาญาติ", "02 3269015")
    assert officer.position == "นักวิชาการศึกษาชำนาญการ"
    assert Role.OFFICER in officer.roles
    mine = [p.code for p in await repo.projects_of_officer(officer.id)]
    assert mine == ["50140000-3629", "50140000-4681", "50140000-4682", "50140000-4683"]

    coordinator = await repo.find_person_by_identity("console", "demo-coordinator")
    assert coordinator is not None
    assert (coordinator.name, coordinator.phone) == ("น.ส.รัตนา ปิยะวรสกุล", "1513")
    assert Role.COORDINATOR in coordinator.roles
    assert [s.agency for s in await repo.coordinator_scopes(coordinator.id)] == [OFFICE]
    seen = [p.code for p in await repo.projects_of_coordinator(coordinator.id)]
    assert seen == mine  # the whole district office, not the other district


async def test_invented_projects_are_of_the_current_fiscal_year(repo: SqliteStorage) -> None:
    await load_demo_data(repo, TODAY, zone=BANGKOK)

    invented = [await repo.get_project(d.code) for d in demo_projects(2568)]

    budgets = []
    for p in invented:
        assert p is not None
        assert (p.fiscal_year, p.start_date, p.end_date) == (
            2568,
            date(2024, 10, 1),
            date(2025, 9, 30),
        )
        assert p.agency.startswith(OFFICE + " / ")
        assert all((p.name, p.rationale, p.objectives, p.target_quantity, p.target_quality))
        budgets.append(p.budget_received)
    assert budgets == [Decimal("250000"), Decimal("1200000"), Decimal("85000")]
    assert len({p.agency for p in invented if p}) == 3


@pytest.mark.parametrize(
    ("today", "reported"),
    [
        (date(2024, 10, 5), []),  # October: nothing before it in the fiscal year
        (date(2024, 11, 20), []),  # November: October is the overdue one
        (TODAY, [1, 2]),
        (date(2025, 9, 30), list(range(1, 11))),
    ],
)
async def test_one_project_has_reports_up_to_an_overdue_month(
    repo: SqliteStorage, today: date, reported: list[int]
) -> None:
    await load_demo_data(repo, today, zone=BANGKOK)

    first, *others = demo_projects(2568)
    reports = await repo.reports_of_project(first.code)

    assert [r.report_no for r in reports] == reported
    assert all(r.values.reported_on < today for r in reports)
    assert all(r.values.disbursed <= Decimal("250000") for r in reports)
    progress = [r.values.progress for r in reports]
    assert progress == sorted(progress)
    for other in others:
        assert await repo.reports_of_project(other.code) == []
