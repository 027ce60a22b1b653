"""How long the official form takes to render: the seed project's PDF (4 pages) and DOCX.

The seed form with its twelve reports.

Each is rendered once to warm up (fonts loaded, shapers built), then `--rounds` times; the
median is printed. Run it on two checkouts to compare a change:

    PYTHAINLP_READ_ONLY=1 .venv/bin/python -m bench.form_bench --rounds 15
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from datetime import date

from reports.form_model import FormDocument


def seed() -> FormDocument:
    """The seed form with its twelve reports, as the tests build it."""
    from tests.test_form import seed_document

    return dataclasses.replace(seed_document(), as_of=date(2026, 11, 30))


def median_ms(render: Callable[[FormDocument], bytes], doc: FormDocument, rounds: int) -> float:
    render(doc)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        render(doc)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(rounds: int) -> None:
    from reports.docx_form import render_docx
    from reports.pdf import render_pdf

    doc = seed()
    print(f"seed form, median of {rounds}:")
    print(f"  PDF  {median_ms(render_pdf, doc, rounds):6.1f} ms")
    print(f"  DOCX {median_ms(render_docx, doc, rounds):6.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    main(parser.parse_args().rounds)
