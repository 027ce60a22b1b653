"""Imports stay small in memory and time whatever the file says of itself, print each row as it
is done, and say where they stopped when interrupted."""

from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from bot.cli import main
from domain.models import Project, ProjectData
from reports import table_file
from reports.project_import import (
    ImportFileError,
    RowOutcome,
    RowStatus,
    import_projects,
    open_project_import,
)
from reports.table_file import LAST_ROW, MAX_COLUMNS, MAX_ROWS, TableFile
from reports.xlsx_writer import WorkbookWriter
from storage.contracts import Upsert
from storage.sqlite import SqliteStorage
from tests.memory_storage import MemoryStorage

HEADER = ("code", "name", "fiscal_year")


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    repository = await SqliteStorage.open(tmp_path / "t.sqlite3")
    yield repository
    await repository.close()


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of Python's allocations in the block (in every thread), in bytes. The process
    may not grow by more than 2 GiB meanwhile: past that, MemoryError, not a machine gone."""
    found: list[int] = []
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    ceiling = size + (2 << 30)
    if soft == resource.RLIM_INFINITY or soft > ceiling:
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    tracemalloc.start()
    try:
        yield found
    finally:
        found.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _column(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def hostile_xlsx(
    path: Path, rows: Sequence[tuple[str, ...]], *, extra: str = "", strings: Sequence[str] = ()
) -> Path:
    """A workbook made by hand, as small as one can be: one sheet whose <dimension> claims the
    whole sheet whatever it holds, with `rows` as inline strings from A1, then `extra` XML; and
    a table of shared `strings` if any."""
    cells = "".join(
        f'<row r="{r}">'
        + "".join(
            f'<c r="{_column(c)}{r}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
            for c, text in enumerate(row, start=1)
        )
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    doc_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{rel_ns}"><Relationship Id="rId1" '
            f'Type="{doc_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main_ns}" xmlns:r="{doc_ns}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{rel_ns}"><Relationship Id="rId1" '
            f'Type="{doc_ns}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main_ns}"><dimension ref="A1:XFD1048576"/>'
            f"<sheetData>{cells}{extra}</sheetData></worksheet>"
        ),
    }
    if strings:
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            "</Types>",
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>",
        )
        items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{main_ns}">{items}</sst>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, xml in parts.items():
            book.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + xml)
    return path


def projects_csv(path: Path, count: int, *, first: int = 1) -> Path:
    """A CSV of `count` valid projects P-<first>..., one per row below the header."""
    lines = [",".join(HEADER)]
    lines += [f"P-{i},โครงการที่ {i},2570" for i in range(first, first + count)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


async def test_an_xlsx_claiming_the_whole_sheet_imports_in_little_memory(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    # Two rows, and the sheet's last row left empty (as a row given a format is): openpyxl
    # padded every row up to it to the claimed 16,384 columns, 137 GB of lists.
    rows = [HEADER, ("X-1", "ถนน", "2570"), ("X-2", "สะพาน", "2570")]
    path = hostile_xlsx(tmp_path / "claims.xlsx", rows, extra='<row r="1048576"/>')
    assert path.stat().st_size < 2000

    with peak_memory() as peak:
        result = await import_projects(repo, path)

    assert [(o.row, o.status) for o in result.outcomes] == [
        (2, RowStatus.CREATED),
        (3, RowStatus.CREATED),
    ]
    (cut,) = result.warnings
    assert f"อ่านถึงแถวที่ {LAST_ROW:,} เท่านั้น" in cut
    assert peak[0] < 20_000_000, f"{peak[0]:,} bytes at the peak"


async def test_cells_far_out_in_an_xlsx_are_not_read(repo: SqliteStorage, tmp_path: Path) -> None:
    # A cell in the sheet's last column and row: neither the columns nor the rows up to it are.
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    wide = tuple(f"c{i}" for i in range(4, 200))
    path = hostile_xlsx(tmp_path / "far.xlsx", [HEADER + wide, ("X-1", "ถนน", "2570")], extra=far)

    result = await import_projects(repo, path)

    assert [(o.row, o.status) for o in result.outcomes] == [(2, RowStatus.CREATED)]
    cut, *unknown = reversed(result.warnings)
    assert f"อ่านถึงแถวที่ {LAST_ROW:,} เท่านั้น" in cut
    assert f"อ่านเฉพาะ {MAX_COLUMNS} คอลัมน์แรก" in unknown[-1]
    assert len(unknown) == 1 + MAX_COLUMNS - len(HEADER), "one per unknown column read, no more"


def test_a_long_csv_is_read_a_batch_at_a_time_up_to_the_cap(tmp_path: Path) -> None:
    path = projects_csv(tmp_path / "long.csv", MAX_ROWS + 50_000)

    with peak_memory() as peak, TableFile(path) as table:
        count = 0
        while batch := table.read_batch():
            count += len(batch)
            last = batch[-1][0]

    assert (table.header_row, count, last, table.cut) == (1, MAX_ROWS, LAST_ROW, LAST_ROW)
    # The file is 7.7 MB; read whole, its rows as lists of strings took ten times that.
    assert peak[0] < 3_000_000, f"{peak[0]:,} bytes at the peak"


def test_rows_past_the_cap_are_not_imported_and_the_cli_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(table_file, "MAX_ROWS", 5)
    monkeypatch.setattr(table_file, "LAST_ROW", 6)
    path = projects_csv(tmp_path / "p.csv", 9)
    environ = {"PROGRESS_BOT_DATABASE": str(tmp_path / "bot.sqlite3")}

    code = main(["projects", "import", str(path)], environ)

    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert [line.split(":")[0] for line in out[:5]] == [f"แถว {r}" for r in range(2, 7)]
    assert "ไฟล์ยาวเกิน 5 แถว จึงอ่านถึงแถวที่ 6 เท่านั้น" in out[5]
    assert out[6].startswith("รวม 5 แถว (rows): สร้างใหม่ (created) 5,")
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        codes = [c for (c,) in db.execute("SELECT code FROM projects ORDER BY code")]
    assert codes == [f"P-{i}" for i in range(1, 6)]


def test_a_csv_row_too_long_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("code,name,fiscal_year\r\nA,b," + "," * 1_100_000 + "\r\n", encoding="utf-8")
    with TableFile(path) as table, pytest.raises(ImportFileError, match="แถวที่ 2 ยาวเกิน"):
        list(table)


async def test_a_csv_header_past_the_column_cap_is_cut_with_a_warning(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    header = (*HEADER, *[""] * MAX_COLUMNS, "agency")
    path = tmp_path / "p.csv"
    path.write_text(",".join(header) + "\r\n" + "A,ก,2570" + "," * 61 + "กอง\r\n", "utf-8")

    result = await import_projects(repo, path)

    assert [o.status for o in result.outcomes] == [RowStatus.CREATED]
    assert len(result.warnings) == 1 and "60 คอลัมน์แรก" in result.warnings[0]
    stored = await repo.get_project("A")
    assert stored is not None and stored.agency == ""


class _Logged(MemoryStorage):
    """Storage that notes each project stored in a shared log."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    async def upsert_project(self, data: ProjectData) -> tuple[Project, Upsert]:
        self.log.append(f"stored {data.code}")
        return await super().upsert_project(data)


async def test_each_row_is_handed_over_as_soon_as_it_is_stored(tmp_path: Path) -> None:
    log: list[str] = []
    repo = _Logged(log)
    path = projects_csv(tmp_path / "p.csv", 3)

    async with open_project_import(repo, path) as run:
        await run.run(lambda o: log.append(f"row {o.row}"))

    assert log == ["stored P-1", "row 2", "stored P-2", "row 3", "stored P-3", "row 4"]


async def test_a_cancelled_import_finishes_its_row_and_a_rerun_goes_on(
    repo: SqliteStorage, tmp_path: Path
) -> None:
    path = projects_csv(tmp_path / "p.csv", 8)
    seen: list[RowOutcome] = []
    task: asyncio.Task[object] | None = None

    def on_row(outcome: RowOutcome) -> None:
        seen.append(outcome)
        if outcome.row == 4 and task is not None:
            task.cancel()  # lands while row 5 is being stored

    async with open_project_import(repo, path) as run:
        task = asyncio.ensure_future(run.run(on_row))
        with pytest.raises(asyncio.CancelledError):
            await task

    assert [o.row for o in seen] == [2, 3, 4, 5]
    assert run.tally.last_row == 5 and run.tally.created == 4
    assert [p.code for p in await repo.list_projects()] == ["P-1", "P-2", "P-3", "P-4"]

    again = await import_projects(repo, path)
    assert [o.status for o in again.outcomes] == [RowStatus.UNCHANGED] * 4 + [RowStatus.CREATED] * 4


def test_ctrl_c_stops_the_cli_after_a_row_it_names(tmp_path: Path) -> None:
    path = projects_csv(tmp_path / "big.csv", 20_000)
    env = {
        **os.environ,
        "PYTHAINLP_READ_ONLY": "1",
        "PROGRESS_BOT_DATABASE": str(tmp_path / "bot.sqlite3"),
    }
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "projects", "import", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed while the import goes on
        assert first.startswith("แถว 2: P-1 - สร้างใหม่"), first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    lines = [first.rstrip("\n"), *out.splitlines()]
    rows = [int(m[1]) for line in lines if (m := re.match(r"แถว (\d+): ", line))]
    assert rows == list(range(2, rows[-1] + 1))
    assert rows[-1] < 20_000, "stopped well before the end"
    assert lines[-2] == (
        f"รวม {len(rows)} แถว (rows): สร้างใหม่ (created) {len(rows)}, ปรับปรุง (updated) 0, "
        "ไม่เปลี่ยนแปลง (unchanged) 0, ไม่นำเข้า (rejected) 0"
    )
    assert lines[-1].startswith(f"หยุดการนำเข้าหลังแถว {rows[-1]} ")
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        (stored,) = db.execute("SELECT count(*) FROM projects").fetchone()
    assert stored == len(rows), "every row printed is stored, and no other"


def test_opening_an_xlsx_without_a_dimension_does_not_read_the_whole_sheet(
    tmp_path: Path,
) -> None:
    # This project's own exports have no <dimension>: openpyxl went through the whole sheet
    # looking for one when the workbook was opened, whatever the row cap.
    path = tmp_path / "long.xlsx"
    with WorkbookWriter(path) as book:
        sheet = book.add_sheet("โครงการ")
        sheet.append_header(HEADER)
        for i in range(200_000):
            sheet.append([f"P-{i}", "x", 2570])

    with peak_memory() as peak, TableFile(path) as table:
        first = table.read_batch()

    assert table.header[:3] == list(HEADER)
    assert (first[0][0], first[0][1][:4]) == (2, ["P-0", "x", 2570, None])
    assert peak[0] < 3_000_000, f"{peak[0]:,} bytes at the peak"


def test_an_xlsx_whose_shared_strings_are_too_large_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openpyxl reads the shared strings whole when it opens the workbook; a zip file of a few
    # kilobytes may hold gigabytes of them.
    strings = [f"โครงการที่ {i}" for i in range(1000)]
    path = hostile_xlsx(
        tmp_path / "strings.xlsx", [HEADER, ("X-1", "ถนน", "2570")], strings=strings
    )
    with TableFile(path) as table:
        assert len(list(table)) == 1
    monkeypatch.setattr(table_file, "MAX_PART_BYTES", 20_000)

    with pytest.raises(ImportFileError, match=r"sharedStrings\.xml ใหญ่เกิน 0 MB"):
        TableFile(path)
