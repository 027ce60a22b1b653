"""Crash safety, short: the real bot is SIGKILLed while officers report; nothing confirmed is lost.

The long run is `python -m bench.crash_safety` (50 officers, 30 kills). Here 5 officers and 3 kills,
each kill after a seeded number of the bot's outgoing calls (so no clock decides when), one
right after a report was stored and before its confirmation was sent.
"""

from __future__ import annotations

from pathlib import Path

from bench.crash_safety import Options, run


async def test_kills_lose_nothing_that_was_confirmed(tmp_path: Path) -> None:
    result = await run(
        Options(officers=5, kills=3, seed=7, up_sends=(5, 30), trap_every=3, folder=tmp_path)
    )
    report = "\n".join(result.lines())
    assert result.kills == 3, report
    # The second kill comes right after a report was committed, before its confirmation went
    # out: the press, delivered again after the restart, is answered with the confirmation.
    assert result.trapped == 1, report
    assert result.confirmed_late >= 1, report
    assert result.confirmed + result.stored_unconfirmed >= 5, report
    assert result.lost == 0, report
    assert result.duplicated == 0, report
    assert result.unconfirmed_stored == 0, report
    assert result.stuck == 0 and result.without_report == 0, report
    assert result.open_sessions == 0, report
    assert result.internal_errors == 0, report
    assert result.clean_exit, report
    assert result.ok, report


async def test_two_processes_on_postgresql_lose_nothing_when_either_is_killed(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two bot processes in webhook mode on one PostgreSQL database; each update goes to one of
    them at random (a load balancer), so one officer's messages land on both. Kills hit one
    process at random; the trap kills both right after a report was stored."""
    result = await run(
        Options(
            officers=5, kills=4, seed=11, up_sends=(5, 30), trap_every=3, folder=tmp_path,
            processes=2, database_url=postgres_url,
        )
    )  # fmt: skip
    report = "\n".join(result.lines())
    assert result.kills == 4 and result.trapped == 1, report
    assert len(result.served) == 2 and min(result.served.values()) > 0, report
    assert result.confirmed + result.stored_unconfirmed >= 5, report
    assert result.lost == 0 and result.duplicated == 0, report
    assert result.unconfirmed_stored == 0, report
    assert result.stuck == 0 and result.without_report == 0, report
    assert result.internal_errors == 0, report
    assert result.clean_exit and result.ok, report
