"""Benchmark of the XLSX export: the whole fiscal year 2569 of a large database to a file.

Prints seconds, project-month rows and peak memory (ru_maxrss). The export runs in a fresh
Python process, so that the peak is the export's own whoever calls `measure_xlsx`. The
database is built beforehand:

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.report_data --projects 10000 --out /tmp/big.db
    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.report_bench_xlsx --db /tmp/big.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.report_data import FISCAL_YEAR
from bot.config import DEFAULT_TIMEZONE
from reports.xlsx_export import export_xlsx
from storage.sqlite import SqliteStorage

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> int:
    """The process's peak resident memory so far, in MB (ru_maxrss is KB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (1024 * 1024) if sys.platform == "darwin" else peak // 1024


async def export_here(db_path: Path) -> tuple[float, int, int]:
    """In this process: (seconds from opening the repository to the workbook written to a
    temporary folder, project-month rows, this process's peak RSS in MB)."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        repo = await SqliteStorage.open(db_path)
        try:
            out = Path(folder) / "reports.xlsx"
            zone = ZoneInfo(DEFAULT_TIMEZONE)
            rows = await export_xlsx(repo, out, zone=zone, fiscal_year=FISCAL_YEAR)
        finally:
            await repo.close()
        elapsed = time.perf_counter() - started
    return elapsed, rows, peak_rss_mb()


async def measure_xlsx(db_path: Path | str) -> tuple[float, int, int]:
    """Export fiscal year 2569 of the database in a fresh process: (seconds, project-month
    rows, peak RSS of that process in MB)."""
    # The caller's working folder (for a relative path), this checkout's modules.
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.report_bench_xlsx", "--db", str(db_path), "--here",
        env={**os.environ, "PYTHONPATH": path}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the export process failed with exit code {process.returncode}")
    found = json.loads(out.decode().strip().splitlines()[-1])
    return float(found["seconds"]), int(found["rows"]), int(found["peak_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--here", action="store_true", help="export in this process, print JSON")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist: build it with python -m bench.report_data")
    if args.here:
        seconds, rows, peak = asyncio.run(export_here(args.db))
        print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak}))
        return
    seconds, rows, peak = asyncio.run(measure_xlsx(args.db))
    print(f"xlsx export of fiscal year {FISCAL_YEAR}: {seconds:.2f} s, {rows} rows, peak {peak} MB")


if __name__ == "__main__":
    main()
