"""Reports on a large store: summaries, one project's PDF form and chart, the XLSX of the year.

10,000 projects x 12 months (bench/report_data.py) in SQLite. Each figure is the median of
several runs after one warm-up (the first PDF and chart also load fonts: shown separately).
The XLSX export runs in a fresh process so that its peak memory is its own.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.report_bench --projects 10000

Aims: summary < 0.5 s, one PDF < 0.2 s, one chart < 0.5 s, XLSX < 10 s and < 200 MiB. The
exports' peak memory and the summary against the bare libraries doing the same job:
`python -m bench.export_bench` (see there).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.report_data import FISCAL_YEAR, agency_of, ensure
from domain.fiscal import ReportMonth
from reports.charts import project_chart
from reports.form import form_document
from reports.pdf import render_pdf
from reports.summary import coordinator_summary, render_summary
from storage.sqlite import SqliteStorage

RUNS = 5


async def timed(job: Callable[[], Awaitable[object]], runs: int = RUNS) -> tuple[float, float]:
    """(first run, median of the following runs) in seconds."""
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        await job()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


async def measure(db: Path) -> None:
    repo = await SqliteStorage.open(db)
    try:
        month = ReportMonth(FISCAL_YEAR, 6)
        code = (await repo.list_projects(agency=agency_of(7)))[0].code
        project = await repo.get_project(code)
        assert project is not None

        async def summary(agency: str | None) -> None:
            found = await coordinator_summary(repo, agency=agency, month=month)
            render_summary(found)

        async def pdf() -> None:
            reports = await repo.reports_of_project(code, FISCAL_YEAR)
            officers = await repo.officers_of_project(code)
            render_pdf(form_document(project, reports, officers[0], FISCAL_YEAR))

        async def chart() -> None:
            project_chart(project, await repo.reports_of_project(code, FISCAL_YEAR), FISCAL_YEAR)

        projects = len(await repo.list_projects(agency=agency_of(7)))
        for label, job in (
            (f"summary, one agency ({projects} projects)", lambda: summary(agency_of(7))),
            ("summary, all agencies", lambda: summary(None)),
            ("PDF form of one project (12 reports)", pdf),
            ("chart of one project", chart),
        ):
            first, median = await timed(job)
            print(f"{label:45} {median * 1000:8.1f} ms  (first run {first * 1000:.0f} ms)")
    finally:
        await repo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="database file to build or reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = ensure(args.db or Path(tmp) / "bench.sqlite3", args.projects)
        print(f"{args.projects} projects x 12 months, fiscal year {FISCAL_YEAR}")
        asyncio.run(measure(db))
        sys.stdout.flush()
        subprocess.run(
            [sys.executable, "-m", "bench.report_bench_xlsx", "--db", str(db)], check=True
        )


if __name__ == "__main__":
    main()
