"""Checks of a month's figures against the months around it, the budget, and the officer's own note.

Each check returns a `Finding` (a Thai explanation, and whether the officer may override it by
giving a reason) or None. They are pure: the conversation decides what to ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from domain.models import MonthlyReport
from domain.numbers import baht, percent


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a figure cannot be stored as it is."""

    message: str
    overridable: bool


@dataclass(frozen=True, slots=True)
class Neighbours:
    """The reports just before and just after the month being reported, if any."""

    before: MonthlyReport | None
    after: MonthlyReport | None

    @classmethod
    def around(cls, reports: list[MonthlyReport], fiscal_year: int, report_no: int) -> Neighbours:
        """Find the nearest earlier and later reports of a project (across fiscal years)."""
        key = (fiscal_year, report_no)
        earlier = [r for r in reports if (r.fiscal_year, r.report_no) < key]
        later = [r for r in reports if (r.fiscal_year, r.report_no) > key]
        return cls(
            max(earlier, key=lambda r: (r.fiscal_year, r.report_no), default=None),
            min(later, key=lambda r: (r.fiscal_year, r.report_no), default=None),
        )


def check_progress(value: Decimal, around: Neighbours) -> Finding | None:
    """Cumulative progress never goes down from one month to the next."""
    if around.before is not None and value < around.before.values.progress:
        previous = around.before.values.progress
        return Finding(
            f"ความก้าวหน้า {percent(value)} % ต่ำกว่ารายงานครั้งก่อน ({percent(previous)} %) "
            "ความก้าวหน้าเป็นค่าสะสม จึงไม่ควรลดลง\n"
            "กรุณาพิมพ์ตัวเลขใหม่ หรือหากตัวเลขเดิมผิดจริง กดปุ่มเพื่อระบุเหตุผล",
            overridable=True,
        )
    if around.after is not None and value > around.after.values.progress:
        later = around.after
        return Finding(
            f"ความก้าวหน้า {percent(value)} % สูงกว่ารายงานครั้งที่ {later.report_no} ที่ส่งไปแล้ว "
            f"({percent(later.values.progress)} %) กรุณาตรวจสอบตัวเลข "
            "หรือแก้ไขรายงานเดือนถัดไปก่อน",
            overridable=False,
        )
    return None


def check_disbursed(
    value: Decimal, around: Neighbours, budget_received: Decimal | None
) -> Finding | None:
    """Cumulative disbursement never goes down and never exceeds the budget received."""
    if budget_received is not None and budget_received > 0 and value > budget_received:
        return Finding(
            f"ยอดเบิกจ่าย {baht(value)} บาท มากกว่างบประมาณที่ได้รับ ({baht(budget_received)} บาท) "
            "กรุณาตรวจสอบแล้วพิมพ์ยอดเบิกจ่ายสะสมใหม่",
            overridable=False,
        )
    if around.before is not None and value < around.before.values.disbursed:
        previous = around.before.values.disbursed
        return Finding(
            f"ยอดเบิกจ่าย {baht(value)} บาท ต่ำกว่ารายงานครั้งก่อน ({baht(previous)} บาท) "
            "ยอดเบิกจ่ายเป็นยอดสะสม จึงไม่ควรลดลง\n"
            "กรุณาพิมพ์ยอดใหม่ หรือหากมีการคืนเงินหรือตัวเลขเดิมผิด กดปุ่มเพื่อระบุเหตุผล",
            overridable=True,
        )
    if around.after is not None and value > around.after.values.disbursed:
        later = around.after
        return Finding(
            f"ยอดเบิกจ่าย {baht(value)} บาท สูงกว่ารายงานครั้งที่ {later.report_no} ที่ส่งไปแล้ว "
            f"({baht(later.values.disbursed)} บาท) กรุณาตรวจสอบตัวเลข",
            overridable=False,
        )
    return None


# Phrases that say money was actually paid out (not merely that disbursement is being chased).
_PAID = re.compile(r"เบิกจ่ายได้|เบิกจ่ายแล้ว|เบิกได้|จ่ายเงินแล้ว|จ่ายแล้ว|โอนเงินแล้ว|เบิกเงินแล้ว")
_FINISHED = re.compile(r"เสร็จสิ้น|แล้วเสร็จ|เสร็จเรียบร้อย|ดำเนินการเสร็จ|ปิดโครงการ")
# "ยังไม่ได้ดำเนินการเสร็จ" (not yet finished) is not "not started".
_NOT_STARTED = re.compile(r"ยังไม่ได้ดำเนินการ(?!\S*เสร็จ)|ยังไม่เริ่ม")


def _states(pattern: re.Pattern[str], note: str) -> bool:
    """Whether the note states a phrase rather than its negation.

    "ไม่" (not) earlier in the same space-separated phrase reverses it: "ยังไม่เสร็จสิ้น" is
    "not yet finished" and "ไม่สามารถเบิกจ่ายได้" is "cannot disburse".
    """
    if pattern.search(note) is None:  # most notes: no phrase at all, so nothing to split
        return False
    return any(
        "ไม่" not in phrase[: match.start()]
        for phrase in note.split()
        for match in pattern.finditer(phrase)
    )


def check_note(note: str, progress: Decimal, disbursed: Decimal, around: Neighbours) -> str | None:
    """A note that contradicts the figures: the question to ask the officer, or None."""
    previous_paid = around.before.values.disbursed if around.before else Decimal(0)
    return note_question(note, progress, disbursed, previous_paid)


def note_question(
    note: str, progress: Decimal, disbursed: Decimal, previous_paid: Decimal
) -> str | None:
    """`check_note` given the cumulative disbursement of the report before (0 without one)."""
    if _states(_PAID, note) and disbursed <= previous_paid:
        if disbursed == 0:
            figure = "แต่ยอดเบิกจ่ายสะสมเป็น 0 บาท"
        else:
            figure = f"แต่ยอดเบิกจ่ายสะสม ({baht(disbursed)} บาท) ไม่เพิ่มจากครั้งก่อน"
        return f"บันทึกกล่าวถึงการเบิกจ่ายเงิน {figure}"
    if _states(_FINISHED, note) and progress < 100:
        return f"บันทึกระบุว่างานเสร็จแล้ว แต่ความก้าวหน้าเป็น {percent(progress)} %"
    if _NOT_STARTED.search(note) and progress > 0:
        return f"บันทึกระบุว่ายังไม่ได้เริ่มดำเนินการ แต่ความก้าวหน้าเป็น {percent(progress)} %"
    return None


# Figures that may not be what was meant: asked back, never stored silently.

JUMP = Decimal(50)  # percentage points of progress in one month that are worth asking about
_UNLIKELY = Decimal(1000)  # an amount this many times below the budget is likely a lost unit


@dataclass(frozen=True, slots=True)
class Doubt:
    """A figure that may not be what the officer meant: the question to ask, and what it may
    mean, most likely first (the figure as typed is among them)."""

    message: str
    readings: tuple[Decimal, ...]


def doubt_progress(value: Decimal, around: Neighbours) -> Doubt | None:
    """Progress typed as a fraction ("0.8" for 80 %), or jumping more than 50 points in a
    month."""
    before = around.before.values.progress if around.before else None
    if 0 < value < 1 and (before is None or before < value * 100):
        return Doubt(
            f"ความก้าวหน้า {percent(value)} % หมายถึง {percent(value * 100)} % ใช่หรือไม่",
            (value * 100, value),
        )
    if before is not None and value - before > JUMP:
        return Doubt(
            f"ความก้าวหน้า {percent(value)} % เพิ่มจากรายงานครั้งก่อน ({percent(before)} %) "
            f"ถึง {percent(value - before)} จุดในเดือนเดียว ตัวเลขถูกต้องหรือไม่",
            (value,),
        )
    return None


def doubt_amount(value: Decimal, around: Neighbours, budget: Decimal | None) -> Doubt | None:
    """An amount typed without a unit far below the budget and the earlier months ("1.2" in a
    project of 1,200,000 baht): it may mean thousands or millions."""
    before = around.before.values.disbursed if around.before else Decimal(0)
    known = budget or Decimal(0)
    reference = max(known, before)
    if value <= 0 or value * _UNLIKELY > reference:
        return None
    scaled = [
        value * unit
        for unit in (Decimal(1_000_000), Decimal(1_000))
        if (not known or value * unit <= known) and value * unit >= before
    ]
    if not scaled:
        return None
    against = (
        f"งบประมาณที่ได้รับ ({baht(known)} บาท)" if known else f"รายงานครั้งก่อน ({baht(before)} บาท)"
    )
    return Doubt(
        f"ยอดเบิกจ่าย {baht(value)} บาท น้อยมากเมื่อเทียบกับ{against} หมายถึงจำนวนใด",
        (*scaled, value),
    )
