"""Demo data for newcomers: the seed form's project with its twelve reports, three projects of the
current fiscal year (one with an overdue month), a demo officer and a demo coordinator."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.fiscal import BE_OFFSET, ReportMonth
from domain.models import (
    ChatIdentity,
    CoordinatorScope,
    Person,
    ProjectData,
    ReportValues,
    Role,
    Submission,
)
from storage.contracts import Accounts, Records

OFFICE = "สำนักงานเขตลาดกระบัง"
OFFICER_NAME = "นายณัฐพงษ์ ลาญาติ"
OFFICER_PHONE = "02 3269015"
OFFICER_POSITION = "นักวิชาการศึกษาชำนาญการ"  # invented: the seed leaves the position blank
COORDINATOR_NAME = "น.ส.รัตนา ปิยะวรสกุล"
COORDINATOR_PHONE = "1513"
OFFICER_IDENTITY = ("console", "demo-officer")
COORDINATOR_IDENTITY = ("console", "demo-coordinator")

# Section 1 of the seed form, verbatim; the rationale keeps the printed lines.
_SEED_RATIONALE_LINES = (
    (
        "พระราชบัญญัติการศึกษาแห่งชาติ พ.ศ. ๒๕๔๒ แก้ไขเพิ่มเติม (ฉบับที่ 2) พ.ศ.2545"
        " และ(ฉบับที่ 3) พ.ศ.2553 มาตรา ๔๘"
    ),
    "กำหนดให้หน่วยงานต้นสังกัดและสถานศึกษาจัดให้มีระบบประกันคุณภาพภายในสถานศึกษา",
    ("และให้ถือว่าการประกันคุณภาพภายในเป็นส่วนหนึ่งของกระบวนการบริหารการศึกษา ที่ต้องดำเนินการอย่างต่อเนื่อง"),
    ("เพื่อนำไปสู่การพัฒนาคุณภาพและมาตรฐานการศึกษา และเพื่อรองรับการประกันคุณภาพภายนอก ตามมาตราที่ ๕๐ และ ๕๑"),
    "แห่งพระราชบัญญัติฉบับเดียวกัน",
    (
        "สำนักงานเขตลาดกระบังได้ดำเนินการส่งเสริมสนับสนุนเร่งพัฒนาคุณภาพการศึกษาให้ทุกโรงเรียนมีระดับคุณภาพมาตรฐานที่สูงยิ่งขึ้นในทุกปี"
        " ด้วยกระบวนการของระบบประกันคุณภาพภายในอย่างต่อเนื่อง ตั้งแต่ปี พ.ศ.๒๕๔๒"
        " เป็นต้นมา"
    ),
    (
        "จนสามารถทำให้โรงเรียนสังกัดกรุงเทพมหานครทุกโรงเรียนรับการประเมินภายนอกจากสำนักงานรับรองมาตรฐานและประเมินคุณภาพการศึกษาของกรมการศึกษาระดับชาติ"
        " (ส.ศ.) และผลการประเมินโดยรวมอยู่ในระดับดี"
        " แต่เนื่องจากการพัฒนาคุณภาพการศึกษาจำเป็นต้องทำอย่างต่อเนื่อง"
    ),
    ("โรงเรียนในสังกัดกรุงเทพมหานครต้องมีกระบวนการพัฒนาด้านคุณภาพที่เข้มแข็ง มีคุณภาพสูง จึงจะทำให้คุณภาพยั่งยืน"),
    "และที่สำคัญคือคุณภาพผู้เรียนเป็นที่ยอมรับศรัทธาของสังคมได้ตลอดไป",
    "กรุงเทพมหานครจึงได้กำหนดนโยบายการพัฒนาคุณภาพโรงเรียนให้มีคุณภาพสูงทัดเทียมกัน",
    (
        "โดยใช้ระบบเครือข่ายทางการศึกษาเป็นกลยุทธในการให้กลุ่มโรงเรียนช่วยเหลือเกื้อกูลในการพัฒนาคุณภาพการศึกษาระหว่างโรงเรียนในสังกัดกรุงเทพมหานคร"
        " ตามโครงการพัฒนาคุณภาพของโรงเรียน"
        " ซึ่งเป็นโครงการที่เน้นการพัฒนาด้วยระบบคุณภาพภายใน การสร้างผู้นำทางวิชาการ"
        " การแลกเปลี่ยนเรียนรู้"
    ),
    "การพัฒนาองค์ความรู้สู่การสร้างนวัตกรรมทางการบริหารและการจัดการเรียนรู้ ฯลฯ",
    "ทั้งนี้เพื่อการมุ่งคุณภาพและยกระดับคุณภาพของโรงเรียนให้สูงขึ้นอย่างต่อเนื่อง",
)

SEED_PROJECT = ProjectData(
    code="50140000-3629",
    name="ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน",
    fiscal_year=2564,
    start_date=date(2020, 10, 1),
    end_date=date(2021, 9, 30),
    budget_received=Decimal("0.00"),
    budget_used=Decimal("0.00"),
    agency=f"{OFFICE} / ฝ่ายการศึกษา / ฝ่ายการศึกษา",
    officer_name=OFFICER_NAME,
    officer_phone=OFFICER_PHONE,
    coordinator_name=COORDINATOR_NAME,
    coordinator_phone=COORDINATOR_PHONE,
    rationale="\n".join(_SEED_RATIONALE_LINES),
    objectives=(
        "๑. เพื่อพัฒนาคุณภาพโรงเรียนสังกัดกรุงเทพมหานคร ด้วยระบบเครือข่ายโรงเรียนที่ยั่งยืน\n"
        "๒. เครือข่ายโรงเรียนมีผลงานเชิงวิชาการที่สามารถแลกเปลี่ยนเรียนรู้ร่วมกัน\n"
        "๓. โรงเรียนมีผู้นำทางวิชาการที่มีคุณภาพ"
    ),
    target_quantity=(
        "๑. เครือข่ายโรงเรียน ๔ เครือข่ายมีผลงานนำเสนอต่อสาธารณชน\n"
        "๒. เครือข่ายโรงเรียน ได้รับงบประมาณในการพัฒนาคุณภาพในโรงเรียนเครือข่ายละ ๙๐,๐๐๐.- บาท"
    ),
    target_quality=(
        "๑. ผลงานของเครือข่ายโรงเรียนมีคุณภาพสามารถเป็นแบบอย่างได้\n"
        "๒. โรงเรียนในสังกัดมีเวทีแสดงผลงานทางวิชาการในรูปแบบของผลงานเครือข่ายโรงเรียน"
    ),
    # "?" is verbatim: the PDF extraction lost the dash that stood there.
    strategy="ด้านที่ ๗ ? การบริหารจัดการเมืองมหานคร : Management Strategy",
    sub_strategy="๗.๒ - การบริหารแผนและประเมินผล",
    goal=("๗.๒.๑ กรุงเทพมหานครมีระบบการติดตามและรายงานความก้าวหน้าผลการดำเนินงานตามแผนพัฒนากรุงเทพ"),
    indicator="มิติที่1 ร้อยละของโครงการที่เป็นงานประจำของหน่วยงานดำเนินการสำเร็จตามเป้าหมาย",
)

# The seed's twelve reports of fiscal year 2564 (report N is the Nth month from October):
# the date reported, cumulative progress and note; all 0 baht, on plan and on target.
SEED_REPORTS: tuple[tuple[date, str, str], ...] = (
    (date(2020, 10, 31), "8.00", "อยู่ระหว่างขั้นตอน..."),
    (date(2020, 11, 30), "16.00", ""),
    (date(2020, 12, 30), "25.00", "ประชุมเพื่อเตรียมความพร้อม และแบ่งงาน"),
    (date(2021, 1, 28), "30.00", "ประชุมเตรียมความพร้อมในการดำเนินการตามโครงการภายใต้สถานการณ์โควิด"),
    (date(2021, 2, 28), "40.00", ""),
    (date(2021, 3, 24), "50.00", "เร่งรัดแต่ละเครือข่ายให้เบิกจ่ายค่าวัสดุตามโครงการ"),
    (date(2021, 4, 26), "55.00", "เตรียมความพร้อมเนื่องจากสถานการณ์แพร่ระบาดของไวรัสโคโรน่า 2019"),
    (date(2021, 5, 29), "60.00", "เตรียมความพร้อมเปิดภาคเรียน1/2564"),
    (date(2021, 6, 29), "65.00", "เร่งรัดโรงเรียนจัดส่งฎีกาเบิกจ่าย"),
    (date(2021, 7, 31), "80.00", ""),
    (date(2021, 8, 29), "80.00", "เบิกจ่ายได้ 1 เครือข่าย อีก 3เครือข่ายส่งเงินงบประมาณคืน"),
    (date(2021, 9, 27), "100.00", "ดำเนินตามโครงการเสร็จสิ้นแล้ว"),
)


def demo_projects(fiscal_year: int) -> tuple[ProjectData, ...]:
    """Three invented district-office projects of a fiscal year; the first gets reports."""
    start, end = date(fiscal_year - BE_OFFSET - 1, 10, 1), date(fiscal_year - BE_OFFSET, 9, 30)
    prefix = f"50140000-4{fiscal_year % 100:02d}"
    base = ProjectData(
        code="",
        name="",
        fiscal_year=fiscal_year,
        start_date=start,
        end_date=end,
        budget_used=Decimal("0.00"),
        officer_name=OFFICER_NAME,
        officer_phone=OFFICER_PHONE,
        coordinator_name=COORDINATOR_NAME,
        coordinator_phone=COORDINATOR_PHONE,
    )
    return (
        replace(
            base,
            code=f"{prefix}1",
            name="โครงการส่งเสริมการคัดแยกขยะมูลฝอยในชุมชน",
            budget_received=Decimal("250000.00"),
            agency=f"{OFFICE} / ฝ่ายรักษาความสะอาดและสวนสาธารณะ / ฝ่ายรักษาความสะอาดและสวนสาธารณะ",
            rationale="ปริมาณขยะในพื้นที่เขตเพิ่มขึ้นทุกปี การคัดแยกขยะที่ต้นทางช่วยลดภาระการจัดเก็บ",
            objectives="๑. เพื่อให้ชุมชนคัดแยกขยะที่ต้นทาง\n๒. เพื่อลดปริมาณขยะที่ส่งกำจัด",
            target_quantity="๑. ชุมชนในเขตเข้าร่วม ๒๐ ชุมชน",
            target_quality="๑. ปริมาณขยะของชุมชนที่เข้าร่วมลดลงร้อยละ ๑๐",
            strategy="ด้านที่ ๒ มหานครสีเขียว สะดวกสบาย",
        ),
        replace(
            base,
            code=f"{prefix}2",
            name="โครงการปรับปรุงระบบระบายน้ำและทางเท้าซอยลาดกระบัง ๕๔",
            budget_received=Decimal("1200000.00"),
            agency=f"{OFFICE} / ฝ่ายโยธา / ฝ่ายโยธา",
            rationale="ซอยลาดกระบัง ๕๔ มีน้ำท่วมขังทุกฤดูฝน ท่อระบายน้ำเดิมมีขนาดเล็กและชำรุด",
            objectives="๑. เพื่อแก้ไขปัญหาน้ำท่วมขัง\n๒. เพื่อให้ประชาชนสัญจรได้สะดวกและปลอดภัย",
            target_quantity="๑. วางท่อระบายน้ำใหม่ยาว ๘๐๐ เมตร",
            target_quality="๑. ไม่มีน้ำท่วมขังเกิน ๓ ชั่วโมงหลังฝนหยุดตก",
            strategy="ด้านที่ ๑ มหานครปลอดภัย",
        ),
        replace(
            base,
            code=f"{prefix}3",
            name="โครงการฝึกอบรมอาสาสมัครป้องกันภัยฝ่ายพลเรือน (อปพร.)",
            budget_received=Decimal("85000.00"),
            agency=f"{OFFICE} / ฝ่ายปกครอง / ฝ่ายปกครอง",
            rationale="เขตต้องการอาสาสมัครที่พร้อมช่วยเหลือประชาชนเมื่อเกิดอัคคีภัยและสาธารณภัย",
            objectives="๑. เพื่อเพิ่มจำนวนอาสาสมัครป้องกันภัยในเขต\n๒. เพื่อทบทวนทักษะการระงับเหตุเบื้องต้น",
            target_quantity="๑. ผู้เข้ารับการอบรม ๕๐ คน",
            target_quality="๑. ผู้ผ่านการอบรมร้อยละ ๘๐ ผ่านการทดสอบภาคปฏิบัติ",
            strategy="ด้านที่ ๑ มหานครปลอดภัย",
        ),
    )


_DEMO_NOTES = (
    "ประชุมชี้แจงผู้นำชุมชน",
    "สำรวจชุมชนที่สมัครเข้าร่วม",
    "จัดซื้อถังคัดแยกขยะ",
    "อบรมแกนนำชุมชน",
    "ส่งมอบถังคัดแยกขยะให้ชุมชน",
    "ติดตามการคัดแยกขยะในชุมชน",
    "ชั่งน้ำหนักขยะรีไซเคิล",
    "จัดกิจกรรมตลาดนัดขยะ",
    "สรุปผลการคัดแยกขยะรายชุมชน",
    "ประเมินผลกลางปี",
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What one run of the demo loader added (nothing on a second run)."""

    projects_created: tuple[str, ...] = ()
    reports_created: int = 0
    people_created: tuple[str, ...] = ()
    links_created: int = 0

    @property
    def created_anything(self) -> bool:
        """Whether this run added anything at all."""
        return bool(
            self.projects_created
            or self.reports_created
            or self.people_created
            or self.links_created
        )

    def describe(self) -> str:
        """A short Thai account for the CLI."""
        if not self.created_anything:
            lines = ["ข้อมูลตัวอย่างมีครบอยู่แล้ว ไม่ได้เพิ่มอะไร"]
        else:
            lines = [
                "เพิ่มข้อมูลตัวอย่างแล้ว:",
                f"- โครงการ {len(self.projects_created)} โครงการ {' '.join(self.projects_created)}",
                f"- รายงานรายเดือน {self.reports_created} ฉบับ",
                f"- บุคคล {len(self.people_created)} คน {', '.join(self.people_created)}",
                f"- การเชื่อมโยงผู้รับผิดชอบ ผู้ประสานงาน และบัญชีแชต {self.links_created} รายการ",
            ]
        lines.append(
            f"ลองใช้คอนโซลในฐานะเจ้าหน้าที่ ({OFFICER_IDENTITY[1]}) "
            f"หรือผู้ประสานงาน ({COORDINATOR_IDENTITY[1]})"
        )
        return "\n".join(lines)


class DemoStore(Records, Accounts, Protocol):
    """What loading the demo writes: projects, people, their chat accounts and reports."""


class _Loader:
    """Adds what is missing and counts it; never changes what exists."""

    def __init__(self, repo: DemoStore, zone: ZoneInfo) -> None:
        self.repo = repo
        self.zone = zone
        self.projects: list[str] = []
        self.people: list[str] = []
        self.reports = 0
        self.links = 0

    async def project(self, data: ProjectData) -> None:
        if await self.repo.get_project(data.code) is None:
            await self.repo.upsert_project(data)
            self.projects.append(data.code)

    async def person(
        self, name: str, phone: str, position: str, role: Role, identity: tuple[str, str]
    ) -> Person:
        person = await self.repo.find_person(name)
        if person is None:
            roles = frozenset({role})
            person = await self.repo.add_person(name, phone=phone, position=position, roles=roles)
            self.people.append(name)
        # An account already linked, even to someone else, is left alone.
        if await self.repo.find_person_by_identity(*identity) is None:
            await self.repo.link_identity(ChatIdentity(*identity, person_id=person.id))
            self.links += 1
        return person

    async def report(
        self, code: str, month: ReportMonth, values: ReportValues, channel: str, sent_by: int | None
    ) -> None:
        if await self.repo.get_report(code, month.fiscal_year, month.report_no) is not None:
            return
        sent_at = datetime.combine(values.reported_on, time(16, 0), tzinfo=self.zone)
        await self.repo.submit_report(
            Submission(code, month.fiscal_year, month.report_no, values, sent_by, channel, sent_at)
        )
        self.reports += 1


def _on_plan(reported_on: date, progress: Decimal, disbursed: Decimal, note: str) -> ReportValues:
    return ReportValues(reported_on, progress, disbursed, note, True, "", True, "")


async def load_demo_data(repo: DemoStore, today: date, *, zone: ZoneInfo) -> DemoSummary:
    """Add the demo projects, reports and people that are missing; running it twice adds nothing.
    Reports count as sent at 16:00 on their date, wall-clock time in `zone` (the bot's)."""
    load = _Loader(repo, zone)
    current = ReportMonth.containing(today)
    invented = demo_projects(current.fiscal_year)
    for data in (SEED_PROJECT, *invented):
        await load.project(data)

    officer = await load.person(
        OFFICER_NAME, OFFICER_PHONE, OFFICER_POSITION, Role.OFFICER, OFFICER_IDENTITY
    )
    for data in (SEED_PROJECT, *invented):
        load.links += await repo.link_officer(officer.id, data.code)
    coordinator = await load.person(
        COORDINATOR_NAME, COORDINATOR_PHONE, "", Role.COORDINATOR, COORDINATOR_IDENTITY
    )
    load.links += await repo.add_coordinator_scope(CoordinatorScope(coordinator.id, OFFICE))

    for number, (reported_on, progress, note) in enumerate(SEED_REPORTS, start=1):
        values = _on_plan(reported_on, Decimal(progress), Decimal("0.00"), note)
        await load.report(SEED_PROJECT.code, ReportMonth(2564, number), values, "import", None)

    # Every month before the current one is reported except the last: that one is overdue.
    for number in range(1, current.report_no - 1):
        month = ReportMonth(current.fiscal_year, number)
        values = _on_plan(
            month.last_day - timedelta(days=2),
            Decimal(8 * number).quantize(Decimal("0.01")),
            Decimal(20000 * number).quantize(Decimal("0.01")),
            _DEMO_NOTES[number - 1],
        )
        await load.report(invented[0].code, month, values, "console", officer.id)

    return DemoSummary(tuple(load.projects), load.reports, tuple(load.people), load.links)
