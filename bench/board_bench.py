"""How long the dashboard's month board takes to serve: a coordinator's 200-project agency, and an
admin's board of every project (paginated), over HTTP from the real app on 127.0.0.1.

The database is built once (or reused with --db): `--projects` projects of one fiscal year in
agencies of 200 projects, with twelve months of reports for most of them. Each board is asked
for `--rounds` times after a warm-up; the median time from request to the whole page is printed
with the bare baseline of the same server answering a fixed page.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.board_bench --projects 10000 --rounds 7

Aims: the 200-project board under 200 ms; the admin's 10,000-project board under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, CookieJar, web

from bot.config import WebConfig
from bot.web_dashboard import Dashboard
from bot.web_server import serve
from domain.models import CoordinatorScope, Person, ProjectData, ReportValues, Role, Submission
from storage.sqlite import SqliteStorage

BANGKOK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2027, 9, 25, 10, 0, tzinfo=BANGKOK)  # late in fiscal year 2570: a full board
PER_AGENCY = 200


async def build(path: Path, projects: int) -> None:
    repo = await SqliteStorage.open(path)
    try:
        for n in range(projects):
            code = f"B-{n:05d}"
            agency = f"สำนักงานเขตทดสอบ {n // PER_AGENCY:02d} / ฝ่ายโยธา"
            await repo.upsert_project(
                ProjectData(
                    code=code, name=f"โครงการทดสอบ {n}", fiscal_year=2570,
                    start_date=date(2026, 10, 1), end_date=date(2027, 9, 30),
                    budget_received=Decimal(1_000_000), agency=agency,
                )
            )  # fmt: skip
            for month in range(1, 12 if n % 10 else 11):  # a tenth are behind by a month
                values = ReportValues(
                    date(2027, 1, 1), Decimal(month * 8), Decimal(month * 50_000), "", True, "",
                    True, "",
                )  # fmt: skip
                moment = datetime(2027, 1, 1, tzinfo=BANGKOK)
                await repo.submit_report(
                    Submission(code, 2570, month, values, None, "import", moment)
                )
        coordinator = await repo.add_person("ผู้ประสานงานทดสอบ", roles=frozenset({Role.COORDINATOR}))
        await repo.add_coordinator_scope(
            CoordinatorScope(coordinator.id, agency="สำนักงานเขตทดสอบ 00")
        )
        await repo.add_person("ผู้ดูแลทดสอบ", roles=frozenset({Role.ADMIN}))
    finally:
        await repo.close()


async def signed_in(
    session: ClientSession, base: str, dashboard: Dashboard, person: Person
) -> None:
    token = (await dashboard.link_for(person)).rsplit("/", 1)[-1]
    async with session.get(f"{base}/signin/{token}") as response:
        assert response.status == 200, response.status


async def median_ms(session: ClientSession, url: str, rounds: int) -> float:
    async with session.get(url) as response:
        await response.read()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            assert response.status == 200
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def main(db: Path, projects: int, rounds: int, *, exists: bool) -> None:
    if not exists:
        print(f"building {projects} projects into {db} ...", flush=True)
        await build(db, projects)
    repo = await SqliteStorage.open(db)
    baseline = web.Application()

    async def fixed(_: web.Request) -> web.Response:
        return web.Response(text="<html><body>board</body></html>", content_type="text/html")

    baseline.router.add_get("/", fixed)
    try:
        people = {p.name: p for p in await repo.all_people()}
        dashboard = Dashboard(repo, lambda: NOW, WebConfig(port=0), BANGKOK)
        server = await serve(dashboard.app(), "127.0.0.1", 0)
        bare = await serve(baseline, "127.0.0.1", 0)
        base = f"http://127.0.0.1:{server.port}"
        try:
            for name, who in (("coordinator, 200 projects", "ผู้ประสานงานทดสอบ"),
                              (f"admin, {projects} projects (page 1)", "ผู้ดูแลทดสอบ")):  # fmt: skip
                # unsafe: the jar keeps cookies of an IP address (127.0.0.1) too.
                async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
                    await signed_in(session, base, dashboard, people[who])
                    board = await median_ms(session, f"{base}/board", rounds)
                    fixed_page = await median_ms(session, f"http://127.0.0.1:{bare.port}/", rounds)
                print(f"{name:38} {board:8.1f} ms   (same server, fixed page: {fixed_page:.1f} ms)")
        finally:
            await server.cleanup()
            await bare.cleanup()
    finally:
        await repo.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="database to build or reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "board.sqlite3"
        asyncio.run(main(db, args.projects, args.rounds, exists=db.exists()))
