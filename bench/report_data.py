"""A large database for the report benchmarks: many projects, each with every month of a year.

The schema comes from the real migrations; the rows are written in bulk with the standard
`sqlite3` module (going through the repository one report at a time would take minutes and
measure nothing of interest). The file is kept and reused when it already holds what is asked.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.report_data --projects 10000 --out /tmp/big.db
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from storage.sqlite import SqliteStorage

FISCAL_YEAR = 2569
AGENCIES = 50
NOTES = (
    "ดำเนินการตามแผน ประชุมคณะทำงานและติดตามผู้รับจ้าง",
    "ตรวจรับงานงวดที่ {n} เรียบร้อย เบิกจ่ายตามสัญญา",
    "อยู่ระหว่างจัดซื้อจัดจ้าง รอผู้รับจ้างส่งมอบ",
    "ลงพื้นที่สำรวจและจัดอบรมให้ชุมชนในเขต",
)


def agency_of(n: int) -> str:
    """The agency path of project n (projects spread evenly over AGENCIES agencies)."""
    return f"สำนักงานเขตทดสอบ{n % AGENCIES:02d}/ฝ่ายโยธา"


def _projects(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        yield (
            n + 1,
            f"B{n:07d}-0001",
            f"โครงการปรับปรุงถนนและทางเท้า ซอยทดสอบ {n}",
            FISCAL_YEAR,
            "2025-10-01",
            "2026-09-30",
            (n % 90 + 10) * 100_000_00,
            0,
            agency_of(n),
            f"เจ้าหน้าที่ {n}",
            "0812345678",
            "ผู้ประสานงาน",
            "022222222",
            "เพื่อความปลอดภัยของประชาชน",
            "ปรับปรุงผิวจราจรและทางเท้า",
            "ถนน 1 สาย",
            "ประชาชนได้รับความสะดวก",
            "มิติที่ 1",
            "1.1",
            "เป้าหมาย",
            "ตัวชี้วัด",
        )


def _reports(
    count: int, rng: random.Random
) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    report_id = 0
    for n in range(count):
        progress = 0
        for month in range(1, 13):
            report_id += 1
            progress = min(10000, progress + rng.randrange(0, 1600))
            disbursed = (n % 90 + 10) * 100_000_00 * progress // 10000
            day = f"{2025 + (month >= 4)}-{(month + 8) % 12 + 1:02d}-25"
            note = NOTES[(n + month) % len(NOTES)].format(n=month)
            yield (
                (report_id, n + 1, FISCAL_YEAR, month, 1),
                (report_id, 1, day, progress, disbursed, note, 1, "", 1, "", n + 1, "telegram",
                 f"{day}T09:00:00+07:00", ""),
            )  # fmt: skip


def build(path: Path, projects: int, *, seed: int = 1) -> None:
    """Write `projects` projects with 12 reports each (and one officer each) to a new file."""
    asyncio.run(_migrate(path))
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA foreign_keys = OFF")
        with db:
            db.executemany(
                f"INSERT INTO projects VALUES ({', '.join('?' * 21)})", _projects(projects)
            )
            db.executemany(
                "INSERT INTO people (id, name, phone, position) VALUES (?, ?, '', 'วิศวกรโยธา')",
                ((n + 1, f"เจ้าหน้าที่ {n}") for n in range(projects)),
            )
            db.executemany(
                "INSERT INTO person_roles VALUES (?, 'officer')",
                ((n + 1,) for n in range(projects)),
            )
            db.executemany(
                "INSERT INTO project_officers VALUES (?, ?)",
                ((n + 1, n + 1) for n in range(projects)),
            )
            reports: list[tuple[object, ...]] = []
            revisions: list[tuple[object, ...]] = []
            for report, revision in _reports(projects, rng):
                reports.append(report)
                revisions.append(revision)
            db.executemany("INSERT INTO monthly_reports VALUES (?, ?, ?, ?, ?)", reports)
            db.executemany(
                f"INSERT INTO report_revisions VALUES ({', '.join('?' * 14)})", revisions
            )
        db.execute("ANALYZE")
    finally:
        db.close()


async def _migrate(path: Path) -> None:
    repo = await SqliteStorage.open(path)
    await repo.close()


def ensure(path: Path, projects: int) -> Path:
    """The database at `path` with `projects` projects, built unless it is already there."""
    if path.exists():
        with sqlite3.connect(path) as db:
            (have,) = db.execute("SELECT count(*) FROM projects").fetchone()
        if have == projects:
            return path
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    build(path, projects)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    ensure(args.out, args.projects)
    print(f"{args.out}: {args.projects} projects x 12 months")


if __name__ == "__main__":
    main()
