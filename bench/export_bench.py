"""Exports and the coordinator summary at 10,000 projects x 12 months, against the bare libraries.

Each export runs in a fresh Python process, so that its peak memory (ru_maxrss) is its own; the
bare-library baseline doing the same job runs the same way, interleaved with it, round after
round, and the medians are printed side by side:

- CSV of fiscal year 2569: `reports.csv_export.export_csv` to a file, as `progress-bot export`
  writes it, against `csv.writer` writing the same rows read with plain `sqlite3`.
- XLSX of fiscal year 2569: `reports.xlsx_export.export_xlsx` (every project-month, then a sheet
  per month), against an openpyxl write-only workbook of the same project-month rows alone.
- One project's PDF form: `reports.pdf_export.export_pdf` for one project code (as the CLI's
  `export --format pdf --project CODE`), against listing every project, which it used to do
  before filtering.
- The coordinator summary of every agency (in this process, warm), against a plain SQL
  aggregate of the month (reported and disbursed per project).

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.export_bench --projects 10000 --rounds 5

`--summary-only` skips the exports (minutes at this size) and times the summary alone.

Aims: CSV peak under 100 MiB; XLSX peak under 200 MiB; the PDF of one project reads that project
only; the all-agency summary under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.report_data import FISCAL_YEAR, ensure

ROOT = Path(__file__).resolve().parent.parent
MONTH = 6  # the summary's month of FISCAL_YEAR
PROJECT = "B0000007-0001"

# The rows of the CSV export, plain: each report with its project's code, name and agency.
_ROWS_SQL = (
    "SELECT p.code, p.name, p.agency, r.fiscal_year, r.report_no, v.reported_on, "
    "v.progress_centi, v.disbursed_satang, v.note, v.on_plan, v.plan_reason, v.on_target, "
    "v.target_reason, r.current_revision, v.channel, v.changed_at FROM monthly_reports r "
    "JOIN projects p ON p.id = r.project_id "
    "JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision "
    "WHERE r.fiscal_year = ? ORDER BY p.code, r.fiscal_year, r.report_no"
)
_SUMMARY_SQL = (
    "SELECT p.code, count(r.id), max(v.progress_centi), sum(v.disbursed_satang) FROM projects p "
    "LEFT JOIN monthly_reports r ON r.project_id = p.id AND r.fiscal_year = ? "
    "AND r.report_no BETWEEN ? - 2 AND ? "
    "LEFT JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision "
    "GROUP BY p.id ORDER BY p.code"
)


def peak_mib() -> float:
    """This process's peak resident memory so far, in MiB (ru_maxrss: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _csv_product(db: Path, out: Path) -> None:
    from reports.csv_export import export_csv
    from storage.sqlite import SqliteStorage

    async def run() -> None:
        repo = await SqliteStorage.open(db)
        try:
            with out.open("w", encoding="utf-8-sig", newline="") as text:
                await export_csv(repo, text, fiscal_year=FISCAL_YEAR, project_code=None)
        finally:
            await repo.close()

    asyncio.run(run())


def _csv_baseline(db: Path, out: Path) -> None:
    with sqlite3.connect(db) as conn, out.open("w", encoding="utf-8-sig", newline="") as text:
        writer = csv.writer(text)
        writer.writerows(conn.execute(_ROWS_SQL, (FISCAL_YEAR,)))


def _xlsx_product(db: Path, out: Path) -> None:
    from reports.xlsx_export import export_xlsx
    from storage.sqlite import SqliteStorage

    async def run() -> None:
        repo = await SqliteStorage.open(db)
        try:
            zone = ZoneInfo("Asia/Bangkok")
            await export_xlsx(repo, out, zone=zone, fiscal_year=FISCAL_YEAR)
        finally:
            await repo.close()

    asyncio.run(run())


def _xlsx_baseline(db: Path, out: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("reports")
    with sqlite3.connect(db) as conn:
        for row in conn.execute(_ROWS_SQL, (FISCAL_YEAR,)):
            sheet.append(row)
    book.save(out)


def _pdf_product(db: Path, out: Path) -> None:
    from reports.pdf_export import export_pdf
    from storage.sqlite import SqliteStorage

    async def run() -> None:
        repo = await SqliteStorage.open(db)
        try:
            pdf, _ = await export_pdf(repo, project_code=PROJECT)
            await asyncio.to_thread(out.write_bytes, pdf)
        finally:
            await repo.close()

    asyncio.run(run())


def _pdf_baseline(db: Path, out: Path) -> None:
    # What the single-project export used to do before its form: list every project.
    from storage.sqlite import SqliteStorage

    async def run() -> None:
        repo = await SqliteStorage.open(db)
        try:
            projects = await repo.list_projects()
            found = next(p.code for p in projects if p.code == PROJECT)
            await asyncio.to_thread(out.write_text, found)
        finally:
            await repo.close()

    asyncio.run(run())


JOBS: dict[str, Callable[[Path, Path], None]] = {
    "csv": _csv_product,
    "csv-baseline": _csv_baseline,
    "xlsx": _xlsx_product,
    "xlsx-baseline": _xlsx_baseline,
    "pdf-one": _pdf_product,
    "pdf-list-all": _pdf_baseline,
}


def run_job(job: str, db: Path, folder: Path) -> tuple[float, float]:
    """(seconds, peak MiB) of one job in a fresh process."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    found = subprocess.run(
        [sys.executable, "-m", "bench.export_bench", "--job", job, "--db", str(db),
         "--out", str(folder / f"{job}.out")],
        env={**os.environ, "PYTHONPATH": path}, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result = json.loads(found.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), float(result["peak_mib"])


async def summary_times(db: Path, rounds: int) -> tuple[list[float], list[float]]:
    """Interleaved: the all-agency summary, and the plain SQL aggregate (seconds each)."""
    from domain.fiscal import ReportMonth
    from reports.summary import coordinator_summary, render_summary
    from storage.sqlite import SqliteStorage

    repo = await SqliteStorage.open(db)
    plain = sqlite3.connect(db)
    month = ReportMonth(FISCAL_YEAR, MONTH)
    ours: list[float] = []
    bare: list[float] = []
    try:
        for n in range(rounds + 1):  # the first round warms up
            started = time.perf_counter()
            render_summary(await coordinator_summary(repo, agency=None, month=month))
            mine = time.perf_counter() - started
            started = time.perf_counter()
            plain.execute(_SUMMARY_SQL, (FISCAL_YEAR, MONTH, MONTH)).fetchall()
            theirs = time.perf_counter() - started
            if n:
                ours.append(mine)
                bare.append(theirs)
    finally:
        plain.close()
        await repo.close()
    return ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", type=Path, help="database file to build or reuse")
    parser.add_argument("--job", choices=sorted(JOBS), help="run one job here, print JSON")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--summary-only", action="store_true", help="time the summary alone")
    args = parser.parse_args()
    if args.job:
        started = time.perf_counter()
        JOBS[args.job](args.db, args.out)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "peak_mib": peak_mib()}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = ensure(args.db or Path(tmp) / "bench.sqlite3", args.projects)
        print(
            f"{args.projects} projects x 12 months, fiscal year {FISCAL_YEAR}, medians of "
            f"{args.rounds} interleaved rounds, each job in a fresh process"
        )
        found: dict[str, list[tuple[float, float]]] = {job: [] for job in JOBS}
        for _ in range(0 if args.summary_only else args.rounds):
            for job in JOBS:
                found[job].append(run_job(job, db, Path(tmp)))
        for job, runs in found.items():
            if not runs:
                continue
            seconds = statistics.median(s for s, _ in runs)
            peak = statistics.median(p for _, p in runs)
            print(f"{job:14} {seconds:7.2f} s  peak {peak:6.1f} MiB")
        ours, bare = asyncio.run(summary_times(db, args.rounds))
        print(f"{'summary, all agencies':24} {statistics.median(ours) * 1000:7.1f} ms")
        print(f"{'summary, plain SQL':24} {statistics.median(bare) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
