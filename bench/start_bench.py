"""Start-up of progress-bot, next to the bare interpreter and a bare python-telegram-bot echo bot.

Measured in the same run, round after round (interleaved), medians printed:
  1. `progress-bot --help` (as `python -m bot --help`) next to `python -c pass`: the cost of the
     command line itself;
  2. `progress-bot run` to first reply: an officer's /report waits in a fake Bot API on
     127.0.0.1 before the process starts; the time from starting the process to the first
     answer reaching the fake, next to the echo bot of bench/telegram_bench.py (python-telegram-bot
     with its defaults) started and answered the same way. The SQLite database, with one project
     and its officer, is made before the clock starts.

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.start_bench --rounds 7

Aims: `--help` under 0.15 s; `run` to first reply under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.telegram_bench import HERE, TOKEN, prepare_database, start
from tests.fake_telegram import FakeBotApi, Sent

USER = 10_000


def help_time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


async def first_reply(folder: Path, name: str) -> float:
    """Seconds from starting the bot to its first answer to an update already waiting."""
    async with FakeBotApi(TOKEN) as fake:
        database = folder / f"start-{time.monotonic_ns()}.sqlite3"
        await prepare_database(database, 1)
        config = folder / "start.toml"
        config.write_text(
            f'[database]\npath = "{database}"\n[bot]\nfixed_now = "2026-11-23T10:00:00+07:00"\n'
            f'[logging]\nlevel = "WARNING"\n[telegram]\ntoken = "{TOKEN}"\n'
            f'api_base_url = "{fake.base_url}"\npoll_timeout = 10\n',
            encoding="utf-8",
        )
        command = (
            [sys.executable, "-m", "bot", "--config", str(config), "run"]
            if name == "progress-bot"
            else [sys.executable, str(HERE / "echo_bot.py"), TOKEN, fake.base_url]
        )
        answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        def on_send(sent: Sent) -> None:
            if sent.chat_id == USER and sent.method == "sendMessage" and not answered.done():
                answered.set_result(time.perf_counter())

        fake.on_send = on_send
        fake.push_text(USER, "/report" if name == "progress-bot" else "echo")
        started = time.perf_counter()
        process = await start(command, folder)
        try:
            return await asyncio.wait_for(answered, 60) - started
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


async def main(rounds: int) -> None:
    times: dict[str, list[float]] = {}
    python = sys.executable
    helps = {
        "progress-bot --help": [python, "-m", "bot", "--help"],
        "python -c pass": [python, "-c", "pass"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, rounds + 1):
            for name, command in helps.items():
                times.setdefault(name, []).append(help_time(command))
            for name in ("progress-bot", "PTB echo bot"):
                times.setdefault(f"{name} run to first reply", []).append(
                    await first_reply(Path(tmp), name)
                )
            print(f"round {n}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()))
    print(f"medians of {rounds} interleaved rounds:")
    for name, found in times.items():
        print(f"  {name:40} {statistics.median(found):.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
