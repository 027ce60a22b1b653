"""Property tests: whatever arrives, in whatever state, the conversation answers and stores only
what the person confirmed after seeing it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.fiscal import ReportMonth
from domain.messages import Attachment, Inbound, Outbound
from domain.models import MonthlyReport, Project
from domain.numbers import baht, percent
from handlers import texts
from handlers.conversation import INTERNAL_ERROR, Conversation
from storage.sqlite import SqliteStorage
from tests.support import NOW, build_world


@dataclass(frozen=True)
class Typed:
    text: str


@dataclass(frozen=True)
class Press:
    """Press button `index` of the reply `age` turns back (0: the latest; older are stale)."""

    age: int
    index: int


@dataclass(frozen=True)
class Sticker:
    pass


@dataclass(frozen=True)
class Forged:
    """A button payload the bot never sent (a crafted callback, or one from another chat)."""

    payload: str


class FakeDocuments:
    """Answers document requests with a small file, so scripts reach those paths cheaply."""

    async def officer_summary(self, person_id: int, today: date) -> list[Outbound]:
        return [Outbound(f"summary of {person_id}")]

    async def project_form(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        return [Outbound(project.code, attachment=Attachment("f.pdf", b"%PDF", "application/pdf"))]

    async def project_form_text(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        return [Outbound(f"{project.code} {project.name}")]

    async def project_form_docx(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        return [Outbound(f"{project.code} Word")]

    async def project_chart(
        self, project: Project, fiscal_year: int, reports: list[MonthlyReport]
    ) -> list[Outbound]:
        return [Outbound(project.code, attachment=Attachment("c.png", b"png", "image/png"))]

    async def agency_summary(
        self, projects: list[Project], month: ReportMonth, scope: str
    ) -> list[Outbound]:
        return [Outbound(f"{scope}: {len(projects)}")]

    async def agency_workbook(self, projects: list[Project], fiscal_year: int) -> list[Outbound]:
        return [Outbound("x", attachment=Attachment("w.xlsx", b"PK", "application/zip"))]


INPUTS = [0]  # messages handled by the property tests in this module


@pytest.fixture(scope="module", autouse=True)
def count_inputs() -> Iterator[None]:
    """Print how many inputs the properties were tried on (seen with `pytest -s`)."""
    yield
    print(f"\nconversation properties: {INPUTS[0]} inputs handled")


USEFUL = [
    "ส่งรายงาน", "/report", "ยกเลิก", "ย้อนกลับ", "สถานะ", "ประวัติ", "แก้ไข", "ช่วยเหลือ",
    "ยืนยัน", "ใช่", "ไม่", "1", "2", "3", "80", "๘๐ %", "120", "-5", "๕๐,๐๐๐", "5 หมื่น", "0",
    "1.5 ล้าน", "-", "เบิกจ่ายได้แล้ว", "ดำเนินการเสร็จสิ้น", "ตุลาคม", "พ.ย.", "ครั้งที่ 13",
    "<script>alert(1)</script>", "'; DROP TABLE monthly_reports; --", "🙂🙂", "\x00\x1b[31m",
    "เหตุผลที่ยาวพอสมควร", "แบบรายงาน", "/form", "กราฟ", "/chart", "สรุป", "/summary", "ส่งออก",
    "/export", "ไม่อยู่", "/away", "กลับมาแล้ว", "/notify", "/start", "/start ABCD2345",
    "ABCD-2345", "\u202e\u200b", "<b>ตัวหนา</b>", "%s%s%n", "{{7*7}}", "../../etc/passwd",
]  # fmt: skip
PAYLOADS = [
    "project:99999999-0000", "project:50150000-1001", "cmd:report!", "cmd:export", "cmd:nope",
    "confirm:yes", "month:2570:13", "month:2570:0", "month:x:y", "progress:drop", "remind:1:2",
    "snooze:", "", ":", "project:", "notify:digest:off", "away:9999",
    # Made in today's shape, but never sent: unknown ids, months and words, wrong steps.
    "a:project:999999", "a:project:1", "a:month:2570-13", "a:month:2570-0", "a:confirm:yes",
    "a:progress:drop", "a:away_delegate:999999", "c:nope:0", "c:report:1", "c:export:0",
    "r:1:2570:13:0", "r:999999:2570:2:1", "r:1:2570:2:0", "s:999999", "s:1", "n:digest:0",
    "n:nope:1", "a:" + "x" * 70, "c:report:2", "r:1:2570:2",
]  # fmt: skip

THAI = st.characters(min_codepoint=0x0E00, max_codepoint=0x0E7F)
message = st.one_of(
    st.sampled_from(USEFUL).map(Typed),
    st.text(max_size=40).map(Typed),
    st.text(alphabet=THAI, max_size=40).map(Typed),
    st.integers(2000, 6000).map(lambda n: Typed("ก" * n)),
    st.builds(Press, st.integers(0, 3), st.integers(0, 5)),
    st.just(Sticker()),
    st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=80)).map(Forged),
)


def confirmed_summary(replies: list[Outbound]) -> str | None:
    """The summary the person saw just before confirming, if the last bot turn was one."""
    for reply in reversed(replies):
        if reply.text.startswith(texts.CONFIRM_HEAD):
            return reply.text
        if reply.choices:
            return None
    return None


def shows(summary: str, report: MonthlyReport) -> bool:
    v = report.values
    return (
        f"ความก้าวหน้าของงานฯ = {percent(v.progress)} %" in summary
        and f"(ครั้งที่ {report.report_no}) = {baht(v.disbursed)} บาท" in summary
    )


async def play(script: Sequence[Typed | Press | Sticker | Forged], user: str) -> None:
    repo = await SqliteStorage.open(":memory:")
    try:
        await build_world(repo)
        conversation = Conversation(repo, lambda: NOW, documents=FakeDocuments())
        turns: list[list[Outbound]] = []
        stored: dict[tuple[str, int, int], int] = {}
        for item in script:
            if isinstance(item, Typed):
                inbound = Inbound.typed("console", user, item.text)
            elif isinstance(item, Sticker):
                inbound = Inbound.other("console", user)
            elif isinstance(item, Forged):
                inbound = Inbound.pressed("console", user, item.payload)
            else:
                with_buttons = [t for t in turns for r in t if r.choices]
                if not with_buttons:
                    continue
                replies = with_buttons[-1 - min(item.age, len(with_buttons) - 1)]
                choices = [c for r in replies for c in r.choices]
                inbound = Inbound.pressed(
                    "console", user, choices[item.index % len(choices)].payload
                )
            before = [r for t in turns for r in t]
            replies = await conversation.handle(inbound)
            INPUTS[0] += 1
            assert replies, "every message is answered"
            assert all(r.text.strip() for r in replies), "no empty message is sent"
            assert INTERNAL_ERROR not in [r.text for r in replies], inbound
            turns.append(replies)
            for project in ("50140000-4001", "50140000-4002"):
                for report in await repo.reports_of_project(project):
                    key = (project, report.fiscal_year, report.report_no)
                    if stored.get(key) != report.revision:
                        summary = confirmed_summary(before)
                        assert summary is not None, f"{key} stored without a confirmation"
                        assert shows(summary, report), "stored values differ from those shown"
                        stored[key] = report.revision
    finally:
        await repo.close()


SCRIPTS = st.lists(message, min_size=1, max_size=25)
USERS = st.sampled_from(["somchai", "jai", "ratana", "nobody"])


def check(script: list[Typed | Press | Sticker | Forged], user: str) -> None:
    errors = Collect()
    logger = logging.getLogger("handlers")
    logger.addHandler(errors)
    try:
        asyncio.run(play(script, user))
    finally:
        logger.removeHandler(errors)
    assert errors.records == [], "the conversation logged a failure"


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(script=SCRIPTS, user=USERS)
def test_any_input_is_answered_and_only_confirmed_values_are_stored(
    script: list[Typed | Press | Sticker | Forged], user: str
) -> None:
    check(script, user)


@pytest.mark.slow
@settings(
    max_examples=3000,
    derandomize=False,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(script=SCRIPTS, user=USERS)
def test_many_more_inputs(script: list[Typed | Press | Sticker | Forged], user: str) -> None:
    """The same property at length, random each run: `pytest -m slow -s` prints the count."""
    check(script, user)


class Collect(logging.Handler):
    """Keeps the error records logged while a script runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# A script that is known to reach the confirmation, so the property above is not vacuous.
HAPPY = [Typed(t) for t in ("ส่งรายงาน", "50", "1000", "-", "ใช่", "ใช่", "ยืนยัน")]


def test_the_happy_script_does_store() -> None:
    async def main() -> int:
        repo = await SqliteStorage.open(":memory:")
        try:
            await build_world(repo)
            conversation = Conversation(repo, lambda: NOW)
            for item in HAPPY:
                await conversation.handle(Inbound.typed("console", "jai", item.text))
            return len(await repo.reports_of_project("50140000-4002"))
        finally:
            await repo.close()

    assert asyncio.run(main()) == 1
    asyncio.run(play(HAPPY, "jai"))
