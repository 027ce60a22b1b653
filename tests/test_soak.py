"""Soak, short: steady traffic on the real bot process; its memory and open files stay flat.

The long run is `python -m bench.soak --minutes 30`. Here ~12 s by default (the tolerances are
generous: this only catches a leak fast enough to show in seconds, such as a descriptor per
update), and one minute behind the `slow` marker (`pytest -m slow tests/test_soak.py`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import Options, Result, run


def check(result: Result) -> None:
    report = "\n".join(result.lines())
    finished = {name for name, count in result.goals.items() if count}
    assert {
        "report confirmed",
        "status done",
        "history done",
        "correct confirmed",
    } <= finished, report
    assert result.stuck == 0 and result.internal_errors == 0, report
    assert result.clean_exit, report
    assert result.rss_mb is not None and result.fds is not None, report
    assert result.flat, report


async def test_memory_and_descriptors_stay_flat_under_traffic(tmp_path: Path) -> None:
    result = await run(
        Options(
            seconds=12,
            officers=5,
            every=0.5,
            pause=0.2,
            rss_tolerance_mb=30,
            fd_tolerance=10,
            folder=tmp_path,
        )
    )
    check(result)


@pytest.mark.slow
async def test_a_minute_of_traffic_stays_flat(tmp_path: Path) -> None:
    result = await run(
        Options(
            seconds=60,
            officers=10,
            every=2.0,
            pause=0.3,
            rss_tolerance_mb=25,
            fd_tolerance=10,
            folder=tmp_path,
        )
    )
    check(result)
