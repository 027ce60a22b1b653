"""Run a command-line module under cProfile, profiling only between two signals.

SIGUSR1 starts the profile, SIGUSR2 stops it and writes it to FILE (read it with pstats), so
that start-up and shutdown stay out of it. Used by bench/line_bench.py --profile.

    python bench/profiled.py FILE MODULE [ARGS...]
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def main() -> None:
    """Run MODULE as __main__ with the two signals set up."""
    output, module = sys.argv[1], sys.argv[2]
    profile = cProfile.Profile()

    def begin(_: int, __: FrameType | None) -> None:
        profile.enable()

    def end(_: int, __: FrameType | None) -> None:
        profile.disable()
        profile.dump_stats(output)

    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
