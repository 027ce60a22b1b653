"""Soak: steady traffic on the real bot for a long while; its memory and open files stay flat.

`python -m bot run` runs against the fake Telegram Bot API (tests/fake_telegram.py) in this
process. Simulated officers (tests/bot_process.py) go round and round: send a monthly report
(while months are left to report), ask /status, read /history, and correct their latest report
(a new revision with another note), each answer after a short pause. Every --every seconds the
bot process is sampled: resident memory (VmRSS in /proc/PID/status) and open file descriptors
(the entries of /proc/PID/fd).

After a warm-up (the first --warmup fraction of the run, at least a minute of long runs), the
run fails (exit code 1) if memory grew by more than --rss-mb or file descriptors by more than
--fds, comparing the mean of the first quarter of the later samples with that of the last
quarter. Also printed: first, last and largest values, and the least-squares slope after warm-up.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.soak --minutes 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.bot_process import (
    TOKEN,
    BotProcess,
    Goal,
    Inboxes,
    Officer,
    Outcome,
    prepare_world,
    write_config,
)
from tests.fake_telegram import FakeBotApi


@dataclass(frozen=True)
class Options:
    """How long, how busy, and how flat is flat enough."""

    seconds: float = 30 * 60
    officers: int = 20
    every: float = 5.0
    """Seconds between samples."""
    warmup: float = 0.2
    """Fraction of the run before the samples that are judged."""
    min_warmup: float = 60.0
    """...but at least this many seconds (or a third of the run, if shorter)."""
    pause: float = 0.4
    """An officer's pause (reading) before answering; it sets the pace of the traffic."""
    rss_tolerance_mb: float = 20.0
    fd_tolerance: float = 8.0
    folder: Path | None = None


@dataclass(frozen=True)
class Sample:
    """One look at the bot process."""

    at: float  # seconds since the traffic started
    rss_kb: int
    fds: int


@dataclass
class Series:
    """first / last / max / growth after warm-up / slope after warm-up of one measure."""

    first: float
    last: float
    largest: float
    growth: float
    slope_per_minute: float


@dataclass
class Result:
    """What the soak saw."""

    seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    warmup_seconds: float = 0.0
    goals: Counter[str] = field(default_factory=Counter)
    updates: int = 0
    bot_messages: int = 0
    stuck: int = 0
    internal_errors: int = 0
    clean_exit: bool = False
    rss_mb: Series | None = None
    fds: Series | None = None
    rss_tolerance_mb: float = 0.0
    fd_tolerance: float = 0.0

    @property
    def flat(self) -> bool:
        """Memory and descriptors within tolerance after warm-up."""
        return (
            self.rss_mb is not None
            and self.fds is not None
            and self.rss_mb.growth <= self.rss_tolerance_mb
            and self.fds.growth <= self.fd_tolerance
        )

    @property
    def ok(self) -> bool:
        """Flat, and every officer kept getting answers."""
        return self.flat and self.stuck == 0 and self.internal_errors == 0

    def lines(self) -> list[str]:
        """The report."""
        done = ", ".join(f"{name} {count}" for name, count in sorted(self.goals.items()))
        lines = [
            f"traffic: {self.seconds:.0f} s, {self.updates} updates "
            f"({self.updates / max(self.seconds, 1e-9):.1f}/s), {self.bot_messages} bot messages",
            f"finished: {done}; stuck officers: {self.stuck}; "
            f"internal errors: {self.internal_errors}; clean stop: {self.clean_exit}",
            f"samples: {len(self.samples)}, judged after a warm-up of {self.warmup_seconds:.0f} s",
        ]
        for name, series, unit, tolerance in (
            ("RSS", self.rss_mb, "MB", self.rss_tolerance_mb),
            ("open fds", self.fds, "", self.fd_tolerance),
        ):
            if series is None:
                lines.append(f"{name}: not enough samples")
                continue
            lines.append(
                f"{name}: first {series.first:.1f}{unit} last {series.last:.1f}{unit} "
                f"max {series.largest:.1f}{unit}; after warm-up: growth {series.growth:+.1f}{unit} "
                f"(tolerance {tolerance:g}), slope {series.slope_per_minute:+.3f}{unit}/min"
            )
        marks: list[Sample] = []
        for s in self.samples:
            if s.at >= 60 * (len(marks) + 1):
                marks.append(s)
        if marks:
            shown = ", ".join(f"{s.rss_kb / 1024:.1f}/{s.fds}" for s in [self.samples[0], *marks])
            lines.append(f"RSS MB/open fds at the start and after each minute: {shown}")
        lines.append("OK" if self.ok else "FAILED")
        return lines


def sample(pid: int, at: float) -> Sample:
    """RSS and open descriptors of a process, from /proc."""
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
                break
    return Sample(at, rss_kb, len(os.listdir(f"/proc/{pid}/fd")))


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 for fewer than two points)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in points) / var


def series(samples: list[Sample], warmup: float, value: str) -> Series | None:
    """Summarise one measure ("rss_mb" or "fds"); None without enough samples after warm-up."""

    def of(s: Sample) -> float:
        return s.rss_kb / 1024 if value == "rss_mb" else float(s.fds)

    judged = [s for s in samples if s.at >= warmup]
    if len(judged) < 4:
        return None
    quarter = max(1, len(judged) // 4)
    growth = statistics.fmean(of(s) for s in judged[-quarter:]) - statistics.fmean(
        of(s) for s in judged[:quarter]
    )
    return Series(
        first=of(samples[0]),
        last=of(samples[-1]),
        largest=max(of(s) for s in samples),
        growth=growth,
        slope_per_minute=slope([(s.at / 60, of(s)) for s in judged]),
    )


async def run(options: Options) -> Result:
    """Run the soak; the bot is stopped at the end."""
    if options.folder is not None:
        options.folder.mkdir(parents=True, exist_ok=True)
        return await _run(options, options.folder)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        return await _run(options, Path(tmp))


async def _run(options: Options, folder: Path) -> Result:
    result = Result(rss_tolerance_mb=options.rss_tolerance_mb, fd_tolerance=options.fd_tolerance)
    database = folder / "bot.sqlite3"
    accounts = await prepare_world(database, options.officers)
    warmup = max(options.seconds * options.warmup, min(options.min_warmup, options.seconds / 3))
    result.warmup_seconds = warmup
    async with FakeBotApi(TOKEN) as fake:
        inboxes = Inboxes(fake)
        bot = BotProcess(fake, folder, write_config(folder, database, fake, level="WARNING"))
        stop = asyncio.Event()
        officers = [
            Officer(fake, inboxes, account, settle=options.pause, patience=10.0, give_up=60.0)
            for account in accounts
        ]

        async def officer_loop(officer: Officer) -> None:
            months_left = True
            while not stop.is_set():
                goals = [Goal.REPORT] if months_left else []
                goals += [Goal.STATUS, Goal.HISTORY]
                if officer.presses:
                    goals.append(Goal.CORRECT)
                for goal in goals:
                    outcome = await officer.achieve(goal)
                    result.goals[f"{goal.name.lower()} {outcome.value}"] += 1
                    if outcome is Outcome.STUCK:
                        result.stuck += 1
                        return
                    if outcome is Outcome.NOTHING_DUE:
                        months_left = False
                    if stop.is_set():
                        return
                # The fake keeps what the bot sent; this run only needs the inboxes.
                officer.inbox.messages.clear()
                officer.read = 0

        async def sampler(started: float) -> None:
            while not stop.is_set():
                result.samples.append(sample(bot.pid, time.monotonic() - started))
                # The fake keeps every call and send; this run reads only the inboxes.
                fake.sent.clear()
                fake.requests.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), options.every)

        try:
            await bot.start()
            started = time.monotonic()
            sampling = asyncio.create_task(sampler(started))
            talking = asyncio.gather(*(officer_loop(o) for o in officers))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(talking), options.seconds)
            stop.set()
            await talking
            await sampling
            result.seconds = time.monotonic() - started
            result.updates = sum(o.stats.messages_sent for o in officers)
            result.bot_messages = inboxes.sends
            result.clean_exit = await bot.terminate() == 0
        finally:
            await bot.ensure_stopped()
    if options.folder is not None:
        rows = [f"{s.at:.1f},{s.rss_kb},{s.fds}" for s in result.samples]
        (folder / "samples.csv").write_text("\n".join(["seconds,rss_kb,fds", *rows]) + "\n")
    log = (folder / "bot.log").read_text(encoding="utf-8", errors="replace")
    result.internal_errors = log.count("conversation failed")
    result.rss_mb = series(result.samples, warmup, "rss_mb")
    result.fds = series(result.samples, warmup, "fds")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; prints the report and returns 1 unless memory and descriptors stay flat."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run")
    parser.add_argument("--pause", type=float, default=0.4, help="officer's pause, seconds")
    parser.add_argument("--rss-mb", type=float, default=20.0, help="allowed RSS growth")
    parser.add_argument("--fds", type=float, default=8.0, help="allowed growth of open fds")
    parser.add_argument("--keep", type=Path, help="keep the database and bot.log in this folder")
    args = parser.parse_args(argv)
    options = Options(
        seconds=args.minutes * 60,
        officers=args.officers,
        every=args.every,
        warmup=args.warmup,
        pause=args.pause,
        rss_tolerance_mb=args.rss_mb,
        fd_tolerance=args.fds,
        folder=args.keep,
    )
    result = asyncio.run(run(options))
    print("\n".join(result.lines()))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
