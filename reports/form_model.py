"""The official progress report form as a neutral structure of sections, rows, lists and
report blocks, already in the form's wording, so that text and PDF lay out the same content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
EMPTY = "-"  # what an unknown value shows, so that no label dangles
SIGNATURE_DOTS = "." * 40  # where the officer signs by hand


def thai_number(n: int) -> str:
    """An integer in Thai digits, as the form numbers its lists: 3 -> ๓."""
    return str(n).translate(THAI_DIGITS)


@dataclass(frozen=True, slots=True)
class Field:
    """One label and its value: `รหัสโครงการ : 50140000-3629`."""

    label: str
    value: str

    def text(self) -> str:
        """The field on one line, as in chat."""
        return f"{self.label} : {self.value}"


@dataclass(frozen=True, slots=True)
class Fields:
    """Label/value rows; a row of two fields stands side by side on paper."""

    rows: tuple[tuple[Field, ...], ...]


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Free text; its lines are the author's own line breaks ("" is a paragraph break)."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberedList:
    """Items numbered in Thai digits (๑. ๒. ...), under an optional caption such as ด้านปริมาณ."""

    items: tuple[str, ...]
    caption: str = ""

    def numbers(self) -> tuple[str, ...]:
        """The item markers: ๑. ๒. ..."""
        return tuple(f"{thai_number(n)}." for n in range(1, len(self.items) + 1))


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One monthly report, with its figures already formatted as the form prints them."""

    number: int
    reported_on: str  # DD/MM/BBBB
    note: str
    progress: str  # two decimals, e.g. 80.00
    disbursed: str  # baht with thousands separators
    on_plan: bool
    plan_reason: str
    on_target: bool
    target_reason: str

    @property
    def label(self) -> str:
        """รายงานครั้งที่N, as the form writes it (no space)."""
        return f"รายงานครั้งที่{self.number}"

    @property
    def dated(self) -> str:
        """What follows the label: ` :: 31/10/2563 : note` (no colon when there is no note)."""
        note = " ".join(self.note.split())
        return f" :: {self.reported_on}" + (f" : {note}" if note else "")

    @property
    def progress_text(self) -> str:
        """`:: ความก้าวหน้าของงานฯ = 80.00 %` (cumulative progress)."""
        return f":: ความก้าวหน้าของงานฯ = {self.progress} %"

    @property
    def disbursed_text(self) -> str:
        """`งบประมาณที่เบิกใช้ (ครั้งที่ N) = X บาท` (cumulative disbursement)."""
        return f"งบประมาณที่เบิกใช้ (ครั้งที่ {self.number}) = {self.disbursed} บาท"

    @property
    def figures(self) -> str:
        """Progress and disbursement on one line."""
        return f"{self.progress_text} : {self.disbursed_text}"

    @property
    def plan(self) -> str:
        """`: เป็นไปตามแผน`, or `: ไม่เป็นไปตามแผน : reason`."""
        return _answer("เป็นไปตามแผน", "ไม่เป็นไปตามแผน", self.on_plan, self.plan_reason)

    @property
    def target(self) -> str:
        """`: เป็นไปตามเป้าหมาย`, or `: ไม่เป็นไปตามเป้าหมาย : reason`."""
        return _answer("เป็นไปตามเป้าหมาย", "ไม่เป็นไปตามเป้าหมาย", self.on_target, self.target_reason)

    def lines(self) -> tuple[str, ...]:
        """The block as the form prints it, line by line."""
        return (self.label + self.dated, self.figures, self.plan, self.target)


def _answer(yes: str, no: str, answer: bool, reason: str) -> str:
    if answer:
        return f": {yes}"
    reason = " ".join(reason.split())
    return f": {no}" + (f" : {reason}" if reason else "")


Block = Fields | Paragraph | NumberedList | ReportEntry


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and what stands under it; level 1 is a chapter (1., 2.), level 2 is 1.1 to 1.6."""

    heading: str
    blocks: tuple[Block, ...] = ()
    level: int = 2


@dataclass(frozen=True, slots=True)
class Signature:
    """The certification and the responsible officer's signature lines."""

    certification: str
    name: str
    position: str

    def lines(self) -> tuple[str, str, str]:
        """Certification, signature line with the name, position line."""
        name = f"({self.name})" if self.name else f"({'.' * 30})"
        return (
            self.certification,
            f"ลงชื่อ {SIGNATURE_DOTS} {name} ผู้รับผิดชอบโครงการ",
            f"ตำแหน่ง {self.position or SIGNATURE_DOTS}",
        )


@dataclass(frozen=True, slots=True)
class FormDocument:
    """The whole form for one project and one fiscal year."""

    title: str
    project_code: str
    fiscal_year: int
    sections: tuple[Section, ...]
    signature: Signature
    as_of: date | None = None
    """The day the figures were read ("ข้อมูล ณ วันที่" on every page of the PDF)."""
    agency: str = ""
    project_name: str = ""

    @property
    def subject(self) -> str:
        """What the file is about, for its metadata (PDF and DOCX alike)."""
        subject = f"รายงานความก้าวหน้าโครงการ {self.project_code} {self.project_name}".strip()
        return f"{subject} ปีงบประมาณ พ.ศ. {self.fiscal_year}"

    @property
    def keywords(self) -> str:
        """The file's keywords, for its metadata."""
        return f"{self.project_code} ปีงบประมาณ {self.fiscal_year} แบบรายงานความก้าวหน้า"

    @property
    def author(self) -> str:
        """Who the file is from: the agency, else the officer who signs."""
        return self.agency or self.signature.name or "progress-bot"
