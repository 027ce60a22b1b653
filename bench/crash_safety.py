"""Crash safety: the bot SIGKILLed again and again while officers report; nothing confirmed is lost.

`python -m bot run` runs against the fake Telegram Bot API (tests/fake_telegram.py) in this
process. Simulated officers (tests/bot_process.py), each with a project of their own, send their
monthly reports concurrently, one month after another, as people do in Telegram: they answer the
newest question, press its buttons, check the summary before pressing "ยืนยันส่ง", and when no
answer comes (the bot is down) they send their last message again or follow the question the
bot asks again after its restart. Meanwhile the bot is killed with SIGKILL at random moments
(seeded) and started again at once, --kills times; then the officers finish the report in hand.

At the end, from what the fake saw the bot send and what the database holds:
  * confirmed: reports the bot confirmed to an officer ("บันทึกรายงานครั้งที่ N ...", or, when the
    bot died before answering the press and the press came again after the restart,
    "ได้รับข้อความนี้แล้ว รายงานครั้งที่ N ... บันทึกไว้เรียบร้อยแล้ว", counted as confirmed late);
  * lost: confirmed but not stored, or stored with other figures than those confirmed (must be 0);
  * duplicated: stored more than once (a second revision of a report nobody corrected) (must be 0);
  * stored without confirmation: stored, but the confirmation message never reached the officer
    because the bot died between committing and sending it; the officer pressed "ยืนยันส่ง" on a
    summary with exactly these figures and sees the report as sent in /status. Acceptable,
    counted and reported;
  * unconfirmed stored: stored although the officer never pressed "ยืนยันส่ง" for it (must be 0);
  * conversations resumed: reports during which the bot was killed, finished after a restart.
Exit code 1 on any loss, duplicate, unconfirmed store, stuck officer or officer without a report.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.crash_safety [--officers 50] [--kills 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.backends import Database
from tests.bot_process import (
    LATE_PREFIX,
    TOKEN,
    BotProcess,
    Goal,
    Inboxes,
    Officer,
    Outcome,
    Press,
    intended,
    prepare_world,
    saved_month,
    write_config,
)
from tests.fake_telegram import FakeBotApi

Month = tuple[str, int, int]  # project code, fiscal year, report no


@dataclass(frozen=True)
class Options:
    """How hard to push: officers, kills, and when a kill comes."""

    officers: int = 50
    kills: int = 30
    seed: int = 1
    up_seconds: tuple[float, float] = (0.5, 3.0)
    """Kill after a random time in this range once the bot polls again..."""
    up_sends: tuple[int, int] | None = None
    """...or, if set, after a random number of outgoing Bot API calls (no clock involved)."""
    trap_every: int = 5
    """Every so many kills (the 2nd, then every trap_every-th), kill the bot right after it
    stored a report and before it sends the confirmation, instead of at a random moment."""
    patience: float = 3.0
    """Seconds an officer waits for an answer before sending the last message again."""
    folder: Path | None = None
    processes: int = 1
    """Bot processes; more than one run in Telegram's webhook mode behind a load balancer (the
    fake picks a process at random for each update) on one PostgreSQL database, and each kill
    hits one of them at random (the trap kills them all: the one that stored the report is
    among them)."""
    database_url: str | None = None
    """PostgreSQL instead of a SQLite file (needed for several processes); emptied first."""


@dataclass
class Result:
    """What the run found."""

    kills: int = 0
    trapped: int = 0
    bot_starts: int = 0
    officers: int = 0
    confirmed: int = 0
    confirmed_late: int = 0
    lost: int = 0
    duplicated: int = 0
    stored_unconfirmed: int = 0
    unconfirmed_stored: int = 0
    confirmations_repeated: int = 0
    resumed: int = 0
    interrupted: int = 0
    reasked: int = 0
    resends: int = 0
    rejected_summaries: int = 0
    confused: int = 0
    stuck: int = 0
    without_report: int = 0
    open_sessions: int = 0
    stored: int = 0
    internal_errors: int = 0
    clean_exit: bool = False
    seconds: float = 0.0
    served: dict[str, int] = field(default_factory=dict)  # webhook updates answered, per process
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No loss, no duplicate, nothing stored unasked, every officer got through."""
        return not (
            self.lost
            or self.duplicated
            or self.unconfirmed_stored
            or self.stuck
            or self.without_report
        )

    def lines(self) -> list[str]:
        """The report, one figure a line."""
        return [
            f"officers: {self.officers}; bot started {self.bot_starts} times "
            f"in {self.seconds:.0f} s",
            f"kills survived: {self.kills} ({self.trapped} of them right after a report was "
            "stored, before its confirmation went out)",
            f"reports confirmed: {self.confirmed} (stored in all: {self.stored}); "
            f"confirmations given when the press came again after a kill: {self.confirmed_late}",
            f"lost: {self.lost}",
            f"duplicated: {self.duplicated}",
            f"stored without confirmation (bot killed before the message went out; "
            f"the officer saw it in /status): {self.stored_unconfirmed}",
            f"stored without the officer confirming: {self.unconfirmed_stored}",
            f"conversations resumed: {self.resumed} of {self.interrupted} interrupted by a kill "
            f'({self.reasked} questions asked again with "ทำต่อจากที่ค้างไว้")',
            f"officer messages sent again after no answer: {self.resends}; "
            f"summaries refused by officers: {self.rejected_summaries}; "
            f"confused officers asked /help: {self.confused}",
            f"confirmations sent twice for one report: {self.confirmations_repeated}",
            f"stuck officers: {self.stuck}; officers without a stored report: "
            f"{self.without_report}; unfinished drafts left: {self.open_sessions}",
            f"internal errors in the bot log: {self.internal_errors}; "
            f"clean SIGTERM stop at the end: {self.clean_exit}",
            *(
                [f"updates answered per process: {sorted(self.served.values())}"]
                if self.served
                else []
            ),
            *(f"PROBLEM: {p}" for p in self.problems[:20]),
            "OK" if self.ok else "FAILED",
        ]


async def run(options: Options) -> Result:
    """Run the whole exercise and check the database against what the officers were told."""
    if options.folder is not None:
        options.folder.mkdir(parents=True, exist_ok=True)
        return await _run(options, options.folder)
    with tempfile.TemporaryDirectory(prefix="crash-safety-") as tmp:
        return await _run(options, Path(tmp))


async def _run(options: Options, folder: Path) -> Result:
    started = time.monotonic()
    result = Result(officers=options.officers)
    if options.processes > 1 and options.database_url is None:
        raise ValueError("several processes share a PostgreSQL database: give database_url")
    database = Database(folder / "bot.sqlite3", options.database_url)
    await database.empty()  # a run starts from an empty database
    accounts = await prepare_world(database, options.officers)
    rng = random.Random(options.seed)
    async with FakeBotApi(TOKEN) as fake:
        inboxes = Inboxes(fake)
        bots = _processes(options, folder, database, fake)
        if options.processes > 1:
            fake.deliver_through(
                [f"http://127.0.0.1:{b.webhook_port}/telegram" for b in bots], seed=options.seed
            )
        officers = [
            Officer(
                fake,
                inboxes,
                account,
                kills=lambda: result.kills,
                patience=options.patience,
            )
            for account in accounts
        ]
        kills_done = asyncio.Event()
        everyone_done = asyncio.Event()
        outcomes: Counter[Outcome] = Counter()

        async def officer_loop(officer: Officer) -> None:
            while True:
                outcome = await officer.achieve(Goal.REPORT)
                outcomes[outcome] += 1
                if outcome in {Outcome.STUCK, Outcome.NOTHING_DUE} or kills_done.is_set():
                    return

        async def killer() -> None:
            try:
                for number in range(options.kills):
                    victims = [rng.choice(bots)]
                    if options.trap_every > 0 and number % options.trap_every == 1:
                        trapped = asyncio.get_running_loop().create_future()

                        def spring(trapped: asyncio.Future[None] = trapped) -> None:
                            for bot in bots:  # which one stored the report is not known here
                                bot.kill_now()
                            trapped.set_result(None)

                        inboxes.trap = spring
                        await _first(trapped, everyone_done.wait())
                        inboxes.trap = None
                        if trapped.done() and not trapped.cancelled():
                            result.trapped += 1
                            victims = bots
                    elif options.up_sends is not None:
                        count = rng.randint(*options.up_sends)
                        await _first(
                            fake.wait_for(lambda _: True, 120, after=len(fake.sent) + count - 1),
                            everyone_done.wait(),
                        )
                    else:
                        await _first(
                            asyncio.sleep(rng.uniform(*options.up_seconds)), everyone_done.wait()
                        )
                    if everyone_done.is_set():
                        return
                    for bot in victims:
                        await bot.kill()
                    result.kills += 1
                    for bot in victims:
                        await bot.start()
            finally:
                kills_done.set()

        try:
            for bot in bots:
                await bot.start()
            killing = asyncio.create_task(killer())
            talking: asyncio.Future[list[None]] = asyncio.gather(
                *(officer_loop(o) for o in officers)
            )
            watched: list[asyncio.Future[Any]] = [killing, talking]
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            if killing.done() and killing.exception() is not None:
                talking.cancel()  # the bot did not come back: no point waiting for anyone
                await asyncio.gather(talking, return_exceptions=True)
                await killing
            await talking
            everyone_done.set()
            await killing
            exits = [await bot.terminate() for bot in bots]
            result.clean_exit = all(code == 0 for code in exits)
        finally:
            for bot in bots:
                await bot.ensure_stopped()
        result.served = dict(fake.webhook_backends)
        result.bot_starts = sum(bot.starts for bot in bots)
        result.stuck = outcomes[Outcome.STUCK]
        sent = [s for s in fake.sent if s.method == "sendMessage"]
    if options.folder is not None:
        chats = folder / "transcripts"
        chats.mkdir(exist_ok=True)
        for officer in officers:
            path = chats / f"{officer.account.user_id}.txt"
            path.write_text("\n".join(officer.transcript) + "\n", encoding="utf-8")
    result.reasked = sum(1 for s in sent if (s.text or "").startswith("ทำต่อจากที่ค้างไว้"))
    for officer in officers:
        result.resumed += officer.stats.resumed
        result.interrupted += officer.stats.interrupted
        result.resends += officer.stats.resends
        result.rejected_summaries += officer.stats.rejected_summaries
        result.confused += officer.stats.confused

    # What the bot confirmed, as the fake saw it go out, per chat.
    confirmations: Counter[Month] = Counter()
    owner = {a.user_id: a.code for a in accounts}
    for message in sent:
        month = saved_month(message.text or "")
        if month is None:
            continue
        if (message.text or "").startswith(LATE_PREFIX):
            result.confirmed_late += 1
        if owner.get(message.chat_id or 0) != month[0]:
            result.problems.append(f"confirmation of {month} sent to chat {message.chat_id}")
            result.lost += 1
        confirmations[month] += 1
    result.confirmed = len(confirmations)
    result.confirmations_repeated = sum(1 for n in confirmations.values() if n > 1)
    await _check_database(database, officers, confirmations, result)
    log = "".join(
        bot.log_path.read_text(encoding="utf-8", errors="replace")
        for bot in bots
        if bot.log_path.exists()
    )
    result.internal_errors = log.count("conversation failed")
    if TOKEN in log:
        result.problems.append("the bot token appears in the bot log")
    result.seconds = time.monotonic() - started
    return result


def _processes(
    options: Options, folder: Path, database: Database, fake: FakeBotApi
) -> list[BotProcess]:
    """The bot processes, each in a folder of its own (config and log)."""
    if options.processes == 1:
        return [BotProcess(fake, folder, write_config(folder, database, fake))]
    bots = []
    for number in range(1, options.processes + 1):
        place = folder / f"process-{number}"
        place.mkdir(exist_ok=True)
        port = _free_port()
        config = write_config(place, database, fake, webhook_port=port)
        bots.append(BotProcess(fake, place, config, webhook_port=port))
    return bots


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _check_database(
    database: Database, officers: list[Officer], confirmations: Counter[Month], result: Result
) -> None:
    """Compare every stored report with what was confirmed and what the officer pressed."""
    repo = await database.open()
    try:
        for officer in officers:
            account = officer.account
            presses: dict[tuple[int, int], list[Press]] = {}
            for press in officer.presses:
                presses.setdefault((press.fiscal_year, press.report_no), []).append(press)
            reports = {(r.fiscal_year, r.report_no): r for r in await repo.reports_of_project(
                account.code
            )}  # fmt: skip
            if not reports:
                result.without_report += 1
            if await repo.load_session("telegram", str(account.user_id)) is not None:
                result.open_sessions += 1
            result.stored += len(reports)
            confirmed = {(fy, no) for code, fy, no in confirmations if code == account.code}
            for key in sorted(confirmed | reports.keys()):
                name = f"{account.code} {key[0]}/{key[1]}"
                report = reports.get(key)
                expected = intended(account, *key)
                shown = {(p.summary.progress, p.summary.disbursed) for p in presses.get(key, [])}
                if report is None:
                    result.lost += 1
                    result.problems.append(f"{name}: confirmed but not stored")
                    continue
                stored = (report.values.progress, report.values.disbursed)
                wrong = stored != expected or bool(shown and shown != {expected})
                if (key in confirmed or shown) and wrong:
                    result.lost += 1
                    result.problems.append(
                        f"{name}: stored {_show(stored)}, confirmed {_show(expected)} "
                        f"(summaries pressed: {sorted(shown)})"
                    )
                if key in confirmed and not shown:
                    result.unconfirmed_stored += 1
                    result.problems.append(f"{name}: confirmed, but the officer never pressed")
                if key not in confirmed:
                    if shown:
                        result.stored_unconfirmed += 1
                    else:
                        result.unconfirmed_stored += 1
                        result.problems.append(f"{name}: stored, never confirmed by the officer")
                revisions = await repo.revisions(report.id)
                if report.revision != 1 or len(revisions) != 1:
                    result.duplicated += 1
                    result.problems.append(f"{name}: {len(revisions)} revisions stored")
    finally:
        await repo.close()


def _show(values: tuple[Decimal, Decimal]) -> str:
    return f"{values[0]} % / {values[1]} baht"


async def _first(*waits: Awaitable[object]) -> None:
    """Wait until the first of these awaitables finishes; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; prints the report and returns 1 if anything confirmed was lost."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-up", type=float, default=0.5, help="seconds before a kill, least")
    parser.add_argument("--max-up", type=float, default=3.0, help="seconds before a kill, most")
    parser.add_argument("--patience", type=float, default=3.0)
    parser.add_argument(
        "--trap-every", type=int, default=5, help="kill after a commit every N kills; 0: never"
    )
    parser.add_argument("--keep", type=Path, help="keep the database and bot.log in this folder")
    parser.add_argument(
        "--processes", type=int, default=1,
        help="bot processes behind a load balancer, in webhook mode (needs --database-url)",
    )  # fmt: skip
    parser.add_argument(
        "--database-url", help="PostgreSQL (postgresql://...) instead of SQLite; emptied first"
    )
    args = parser.parse_args(argv)
    options = Options(
        officers=args.officers,
        kills=args.kills,
        seed=args.seed,
        up_seconds=(args.min_up, args.max_up),
        trap_every=args.trap_every,
        patience=args.patience,
        folder=args.keep,
        processes=args.processes,
        database_url=args.database_url,
    )
    result = asyncio.run(run(options))
    print("\n".join(result.lines()))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
