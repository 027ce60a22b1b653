"""Reminder messages in a month for one agency: one message per project (as before) against one
message per person and reminder moment (now).

A 50-project agency (by default) whose 12 officers hold 1 to 10 projects each, everyone on
LINE, goes through November 2569 hour by hour with the real planner and reminder service: a
tenth of the projects never report, the others report after the window opens, after the
two-days reminder or on the deadline. Every reminder sent is counted as messages (what a
person receives) and as LINE message objects (what the monthly quota is charged per
recipient). "Before" counts one message per project and person at each moment, as the
reminders went before they were grouped: the same reminders, each on its own.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.reminder_count --projects 50
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from bot.line_messages import render_turn
from domain.messages import Outbound
from domain.models import ChatIdentity, ProjectData, ReportValues, Role, Submission
from scheduler.calendar import CalendarSettings, ReportingCalendar
from scheduler.delivery import ReminderService
from scheduler.planner import ReminderPlanner
from scheduler.quota import Allowance
from storage.sqlite import SqliteStorage
from tests.support import BANGKOK

# How many projects each officer holds, largest first, cycled until the projects run out.
HOLDINGS = (10, 8, 6, 5, 5, 4, 3, 3, 2, 2, 1, 1)


@dataclass
class Counter:
    """A LINE-like channel that counts what it is asked to send."""

    messages: int = 0
    objects: int = 0
    reminders: int = 0
    quota_reserve: int = 0
    quota_warning: int = 0
    max_recipients: int = 500

    async def allowance(self) -> Allowance:
        return Allowance(None, 0)

    async def push(self, identity: ChatIdentity, message: Outbound) -> None:
        await self.push_many([identity], message, "")

    async def push_many(
        self, identities: Sequence[ChatIdentity], message: Outbound, retry_key: str
    ) -> bool:
        self.messages += len(identities)
        self.objects += len(identities) * len(render_turn([message], None))
        return True


async def month(projects: int, grouped: bool) -> tuple[Counter, int]:
    """Run the month; the channel's counts, and how many reminders (project and person)."""
    repo = await SqliteStorage.open(":memory:")
    codes = [f"ก-{n:03d}" for n in range(projects)]
    for code in codes:
        await repo.upsert_project(
            ProjectData(
                code=code, name=f"โครงการ {code}", fiscal_year=2570,
                start_date=date(2026, 10, 1), end_date=date(2027, 9, 30),
                budget_received=Decimal(1_000_000), agency="สำนักงานเขตทดสอบ",
            )
        )  # fmt: skip
    given = 0
    n = 0
    while given < projects:
        person = await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset({Role.OFFICER}))
        await repo.link_identity(ChatIdentity("line", f"U{n:032d}", person.id))
        for code in codes[given : given + HOLDINGS[n % len(HOLDINGS)]]:
            await repo.link_officer(person.id, code)
        given += HOLDINGS[n % len(HOLDINGS)]
        n += 1
    calendar = ReportingCalendar(CalendarSettings(), holidays=lambda day: False)
    # When each project reports: after the window opens, after the two-days reminder, on the
    # deadline, or never (a tenth).
    when = {0: 25, 1: 25, 2: 25, 3: 27, 4: 27, 5: 27, 6: 27, 7: 30, 8: 30}
    counter = Counter()
    planner = ReminderPlanner(repo, calendar, channels=("line",))
    moment = datetime(2026, 11, 20, 0, 0, tzinfo=BANGKOK)
    reminders = 0
    while moment < datetime(2026, 12, 10, tzinfo=BANGKOK):
        for i, code in enumerate(codes):
            day = when.get(i % 10)
            if day is not None and moment == datetime(2026, 11, day, 12, tzinfo=BANGKOK):
                values = ReportValues(
                    moment.date(), Decimal(10), Decimal(0), "", True, "", True, ""
                )
                await repo.submit_report(Submission(code, 2570, 2, values, None, "line", moment))
        service = ReminderService(
            repo, planner, {"line": counter}, partial(_same, moment), metered={"line": counter}
        )
        if grouped:
            reminders += (await service.tick()).sent
        else:
            reminders += await _one_by_one(repo, planner, counter, moment)
        moment += timedelta(hours=1)
    await repo.close()
    return counter, reminders


def _same(moment: datetime) -> datetime:
    return moment


async def _one_by_one(
    repo: SqliteStorage, planner: ReminderPlanner, counter: Counter, at: datetime
) -> int:
    """A tick as it went before: every reminder its own message."""
    items, _ = await planner.plan(at)
    sent = 0
    for item in items:
        for key in item.keys:
            if await repo.claim_reminder(key, "line", item.identity.external_id, at):
                single = item.only([key])
                await counter.push(item.identity, single.message)
                sent += 1
    return sent


async def main(projects: int) -> None:
    before, reminders_before = await month(projects, grouped=False)
    after, reminders_after = await month(projects, grouped=True)
    assert reminders_before == reminders_after, "the same reminders either way"
    print(f"{projects} projects, November 2569, everyone on LINE: {reminders_after} reminders")
    print(f"{'':28} {'messages':>9} {'LINE objects':>13}")
    print(f"{'one per project (before)':28} {before.messages:9} {before.objects:13}")
    print(f"{'one per person (now)':28} {after.messages:9} {after.objects:13}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.projects))
