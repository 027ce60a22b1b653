"""Checks of a month's figures against the months around it, the budget and the officer's note."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.checks import Neighbours, check_disbursed, check_note, check_progress
from domain.fiscal import ReportMonth
from domain.models import MonthlyReport, ReportValues
from domain.numbers import baht, percent

BANGKOK = timezone(timedelta(hours=7))
NOBODY = Neighbours(None, None)


def report(
    fiscal_year: int, report_no: int, progress: str = "0", disbursed: str = "0", note: str = ""
) -> MonthlyReport:
    """A stored report sent on the last day of its month."""
    sent = ReportMonth(fiscal_year, report_no).last_day
    return MonthlyReport(
        id=fiscal_year * 100 + report_no,
        project_code="50140000-3629",
        fiscal_year=fiscal_year,
        report_no=report_no,
        values=ReportValues(
            reported_on=sent,
            progress=Decimal(progress),
            disbursed=Decimal(disbursed),
            note=note,
            on_plan=True,
            plan_reason="",
            on_target=True,
            target_reason="",
        ),
        sent_by=1,
        channel="console",
        sent_at=datetime(sent.year, sent.month, sent.day, 16, 0, tzinfo=BANGKOK),
        revision=1,
    )


def between(before: MonthlyReport | None, after: MonthlyReport | None = None) -> Neighbours:
    return Neighbours(before, after)


# Formatting


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "0"),
        ("0.00", "0"),
        ("50000", "50,000"),
        ("50000.00", "50,000"),
        ("360000", "360,000"),
        ("1234.5", "1,234.50"),
        ("1234.56", "1,234.56"),
        ("0.75", "0.75"),
        ("1234567.8", "1,234,567.80"),
    ],
)
def test_baht(amount: str, shown: str) -> None:
    assert baht(Decimal(amount)) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [("0", "0.00"), ("8", "8.00"), ("80.5", "80.50"), ("100", "100.00"), ("33.33", "33.33")],
)
def test_percent(value: str, shown: str) -> None:
    assert percent(Decimal(value)) == shown


# Neighbours


def test_neighbours_of_nothing() -> None:
    assert Neighbours.around([], 2564, 5) == NOBODY


def test_neighbours_are_the_nearest_reports_on_either_side() -> None:
    reports = [report(2564, n) for n in (1, 2, 4, 7, 9)]
    around = Neighbours.around(list(reversed(reports)), 2564, 5)
    assert around.before is not None and around.before.report_no == 4
    assert around.after is not None and around.after.report_no == 7


def test_neighbours_ignore_the_month_itself() -> None:
    reports = [report(2564, 4), report(2564, 5), report(2564, 6)]
    around = Neighbours.around(reports, 2564, 5)
    assert around.before is not None and around.before.report_no == 4
    assert around.after is not None and around.after.report_no == 6


def test_neighbours_across_fiscal_years() -> None:
    reports = [report(2563, 11), report(2563, 12), report(2565, 1), report(2565, 3)]
    around = Neighbours.around(reports, 2564, 1)
    assert around.before is not None
    assert (around.before.fiscal_year, around.before.report_no) == (2563, 12)
    assert around.after is not None
    assert (around.after.fiscal_year, around.after.report_no) == (2565, 1)


def test_neighbours_compare_fiscal_year_before_report_number() -> None:
    # Report 12 of 2563 (September 2020) comes before report 1 of 2564 (October 2020).
    around = Neighbours.around([report(2563, 12), report(2565, 1)], 2564, 6)
    assert around.before is not None and around.before.fiscal_year == 2563
    assert around.after is not None and around.after.fiscal_year == 2565


def test_neighbours_at_the_edges() -> None:
    reports = [report(2564, 3), report(2564, 8)]
    first = Neighbours.around(reports, 2564, 1)
    assert first.before is None
    assert first.after is not None and first.after.report_no == 3
    last = Neighbours.around(reports, 2564, 12)
    assert last.before is not None and last.before.report_no == 8
    assert last.after is None


# check_progress


def test_progress_going_up_is_fine() -> None:
    assert check_progress(Decimal("16"), between(report(2564, 1, "8"))) is None
    assert check_progress(Decimal("50"), NOBODY) is None


def test_progress_standing_still_is_fine() -> None:
    assert check_progress(Decimal("80"), between(report(2564, 10, "80"))) is None
    assert check_progress(Decimal("80.00"), between(report(2564, 10, "80"))) is None


def test_progress_lower_than_before_may_be_overridden() -> None:
    finding = check_progress(Decimal("70"), between(report(2564, 10, "80")))
    assert finding is not None
    assert finding.overridable
    assert "70.00" in finding.message
    assert "80.00" in finding.message


def test_progress_higher_than_a_later_month_may_not_be_overridden() -> None:
    around = between(report(2564, 1, "8"), report(2564, 3, "25"))
    finding = check_progress(Decimal("30"), around)
    assert finding is not None
    assert not finding.overridable
    assert "30.00" in finding.message
    assert "25.00" in finding.message
    assert "ครั้งที่ 3" in finding.message


def test_progress_equal_to_a_later_month_is_fine() -> None:
    around = between(report(2564, 1, "8"), report(2564, 3, "25"))
    assert check_progress(Decimal("25"), around) is None
    assert check_progress(Decimal("8"), around) is None


# check_disbursed


def test_disbursed_within_the_budget_is_fine() -> None:
    assert check_disbursed(Decimal("90000"), NOBODY, Decimal("360000")) is None
    assert check_disbursed(Decimal("360000"), NOBODY, Decimal("360000")) is None


def test_disbursed_above_the_budget_may_not_be_overridden() -> None:
    finding = check_disbursed(Decimal("360000.50"), NOBODY, Decimal("360000"))
    assert finding is not None
    assert not finding.overridable
    assert "360,000.50" in finding.message
    assert "360,000 บาท" in finding.message


@pytest.mark.parametrize("budget", [None, Decimal(0)])
def test_unknown_budget_is_not_checked(budget: Decimal | None) -> None:
    # The seed's budget received reads 0 while money was spent: 0 means "not entered".
    assert check_disbursed(Decimal("90000"), NOBODY, budget) is None


def test_disbursed_lower_than_before_may_be_overridden() -> None:
    finding = check_disbursed(Decimal("50000"), between(report(2564, 5, "40", "90000")), None)
    assert finding is not None
    assert finding.overridable
    assert "50,000" in finding.message
    assert "90,000" in finding.message


def test_disbursed_standing_still_is_fine() -> None:
    assert check_disbursed(Decimal("0"), between(report(2564, 5, "40", "0")), None) is None


def test_disbursed_higher_than_a_later_month_may_not_be_overridden() -> None:
    around = between(report(2564, 1, "8", "0"), report(2564, 3, "25", "1000"))
    finding = check_disbursed(Decimal("1234.5"), around, Decimal("360000"))
    assert finding is not None
    assert not finding.overridable
    assert "1,234.50" in finding.message
    assert "ครั้งที่ 3" in finding.message


def test_the_budget_is_checked_first() -> None:
    around = between(report(2564, 5, "40", "500000"))
    finding = check_disbursed(Decimal("400000"), around, Decimal("360000"))
    assert finding is not None
    assert not finding.overridable
    assert "360,000" in finding.message


# check_note

SEED_REPORT_11 = "เบิกจ่ายได้ 1 เครือข่าย อีก 3เครือข่ายส่งเงินงบประมาณคืน"
SEED_REPORT_12 = "ดำเนินตามโครงการเสร็จสิ้นแล้ว"


def test_seed_report_11_mentions_a_payment_but_reads_zero_baht() -> None:
    around = between(report(2564, 10, "80", "0"))
    question = check_note(SEED_REPORT_11, Decimal("80"), Decimal("0"), around)
    assert question is not None
    assert "เบิกจ่าย" in question
    assert "0 บาท" in question


def test_a_payment_with_no_increase_is_questioned() -> None:
    around = between(report(2564, 10, "80", "90000"))
    question = check_note(SEED_REPORT_11, Decimal("80"), Decimal("90000"), around)
    assert question is not None
    assert "90,000" in question


def test_a_payment_with_an_increase_is_fine() -> None:
    around = between(report(2564, 10, "80", "0"))
    assert check_note(SEED_REPORT_11, Decimal("80"), Decimal("90000"), around) is None
    assert check_note(SEED_REPORT_11, Decimal("80"), Decimal("90000"), NOBODY) is None


def test_finished_at_100_percent_is_fine() -> None:
    around = between(report(2564, 11, "80"))
    assert check_note(SEED_REPORT_12, Decimal("100"), Decimal("0"), around) is None


def test_finished_below_100_percent_is_questioned() -> None:
    around = between(report(2564, 11, "80"))
    question = check_note(SEED_REPORT_12, Decimal("90"), Decimal("0"), around)
    assert question is not None
    assert "90.00" in question


def test_not_started_with_progress_is_questioned() -> None:
    question = check_note("ยังไม่ได้ดำเนินการ", Decimal("10"), Decimal("0"), NOBODY)
    assert question is not None
    assert "10.00" in question


def test_not_started_at_zero_is_fine() -> None:
    assert check_note("ยังไม่ได้ดำเนินการ", Decimal("0"), Decimal("0"), NOBODY) is None


# The seed's other notes, with the figures it reported for them: nothing to ask.
SEED_NOTES = [
    (1, "8", "อยู่ระหว่างขั้นตอน..."),
    (2, "16", ""),
    (3, "25", "ประชุมเพื่อเตรียมความพร้อม และแบ่งงาน"),
    (4, "30", "ประชุมเตรียมความพร้อมในการดำเนินการตามโครงการภายใต้สถานการณ์โควิด"),
    (6, "50", "เร่งรัดแต่ละเครือข่ายให้เบิกจ่ายค่าวัสดุตามโครงการ"),
    (7, "55", "เตรียมความพร้อมเนื่องจากสถานการณ์แพร่ระบาดของไวรัสโคโรน่า 2019"),
    (8, "60", "เตรียมความพร้อมเปิดภาคเรียน1/2564"),
    (9, "65", "เร่งรัดโรงเรียนจัดส่งฎีกาเบิกจ่าย"),
]


@pytest.mark.parametrize(("report_no", "progress", "note"), SEED_NOTES)
def test_ordinary_notes_raise_no_question(report_no: int, progress: str, note: str) -> None:
    around = Neighbours.around([report(2564, n, "1") for n in range(1, report_no)], 2564, report_no)
    assert check_note(note, Decimal(progress), Decimal("0"), around) is None


@pytest.mark.parametrize(
    "note",
    [
        "ยังไม่เสร็จสิ้น อยู่ระหว่างดำเนินการ",
        "ยังไม่แล้วเสร็จ",
        "ยังไม่ได้ดำเนินการเสร็จ",
        "ยังไม่สามารถเบิกจ่ายได้",
        "ไม่สามารถเบิกจ่ายได้ เนื่องจากเอกสารไม่ครบ",
    ],
)
def test_negated_phrases_raise_no_question(note: str) -> None:
    # "Not yet finished" at 90 % and "cannot disburse yet" at 0 baht agree with the figures.
    assert check_note(note, Decimal("90"), Decimal("0"), NOBODY) is None


@pytest.mark.parametrize(
    ("note", "progress"),
    [
        ("ดำเนินการเสร็จสิ้นแล้ว ไม่มีปัญหา", "90"),  # "no problem" after the phrase
        ("เบิกจ่ายได้ 1 เครือข่าย ไม่ครบตามแผน", "90"),
        ("ยังไม่ได้ดำเนินการ เนื่องจากรออนุมัติ", "10"),
        ("ปิดโครงการแล้ว", "95"),
    ],
)
def test_a_negation_elsewhere_in_the_note_does_not_hide_the_contradiction(
    note: str, progress: str
) -> None:
    assert check_note(note, Decimal(progress), Decimal("0"), NOBODY) is not None
