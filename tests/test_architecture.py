"""Architecture as a test: the layers of ../shared/DESIGN.md, read from every import.

    bot/                            the composition root: may import everything
    handlers/ | reports/ | scheduler/   peers: none imports another
    storage/                        the data behind small contracts by role
    domain/                         the ground: pure values and rules

Dependencies point down. Only bot/ touches the outside world (chat libraries, web servers, the
scheduler framework) and reads the real clock. Relative imports are resolved before they are
judged, and the clock is found under any alias.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = {"bot", "domain", "handlers", "reports", "scheduler", "storage"}

# Which of our packages each package may import (bot/, the composition root, may import all).
ALLOWED = {
    "domain": {"domain"},
    "storage": {"storage", "domain"},
    "handlers": {"handlers", "storage", "domain"},
    "reports": {"reports", "storage", "domain"},
    "scheduler": {"scheduler", "storage", "domain"},
}
# Chat libraries, the scheduler framework and web servers belong to the composition root only.
OUTSIDE_WORLD = {"telegram", "linebot", "apscheduler", "aiohttp", "httpx", "requests", "uvicorn"}
# domain/ is pure: values, rules and text, with nothing that reads or writes anything.
DOMAIN_MAY_USE = {
    "__future__", "base64", "calendar", "collections", "dataclasses", "datetime", "decimal",
    "enum", "functools", "hashlib", "itertools", "json", "math", "re", "string", "struct",
    "typing", "unicodedata", "pythainlp",
}  # fmt: skip
# Reading these gives the real time; only the composition root may (everything else is given a
# Clock).
WALL_CLOCK = {
    "datetime.datetime.now", "datetime.datetime.today", "datetime.datetime.utcnow",
    "datetime.date.today", "time.time", "time.time_ns", "time.localtime", "time.gmtime",
    "time.ctime", "time.asctime",
}  # fmt: skip


def module_name(path: Path) -> str:
    """The dotted module name of a file of the tree: bot/line_channel.py -> bot.line_channel."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module a source imports, relative imports resolved against `module`."""
    tree = ast.parse(source)
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
                names.add(target)
                if node.module is None:  # `from . import x` may name a module x
                    names.update(".".join([*anchor, alias.name]) for alias in node.names)
            elif node.module:
                names.add(node.module)
    return names


def _qualified(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The dotted name an expression stands for, through import aliases: `dt.now` with
    `from datetime import datetime as dt` is datetime.datetime.now."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def clock_reads(source: str) -> list[str]:
    """Calls of the wall clock in a source, under whatever name it was imported."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _qualified(node.func, aliases)
            if name in WALL_CLOCK:
                found.append(f"line {node.lineno}: {name}()")
    return found


def files(package: str) -> Iterator[Path]:
    """Every Python file of one of our packages."""
    yield from sorted((ROOT / package).rglob("*.py"))


def wrong_arrows(package: str) -> list[str]:
    """Imports of a package that run against the layering."""
    wrong = []
    for path in files(package):
        module = module_name(path)
        source = path.read_text(encoding="utf-8")
        for name in imported_modules(source, module, is_package=path.name == "__init__.py"):
            top = name.split(".")[0]
            against = (
                (top in OUR_PACKAGES and top not in ALLOWED[package])
                or top in OUTSIDE_WORLD
                or (package == "domain" and top not in DOMAIN_MAY_USE | {"domain"})
            )
            if against:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    return wrong


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_what_lies_below_it(package: str) -> None:
    assert wrong_arrows(package) == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_the_real_clock_is_read_only_in_the_composition_root(package: str) -> None:
    readers = {
        str(path.relative_to(ROOT)): reads
        for path in files(package)
        if (reads := clock_reads(path.read_text(encoding="utf-8")))
    }
    assert readers == {}


def test_every_package_of_the_tree_is_placed_in_the_layers() -> None:
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    }
    assert packages == OUR_PACKAGES


def test_only_the_storage_package_talks_to_a_database() -> None:
    talkers = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ALLOWED.keys() - {"storage"}
        for path in files(package)
        for name in imported_modules(path.read_text(encoding="utf-8"), module_name(path))
        if name.split(".")[0] in {"aiosqlite", "sqlite3", "asyncpg", "sqlalchemy"}
    )
    assert talkers == []


CHANNELS = ("bot/telegram_channel.py", "bot/line_channel.py", "bot/console.py")


@pytest.mark.parametrize("channel", CHANNELS)
def test_channel_adapters_only_translate(channel: str) -> None:
    """A channel neither reads nor writes storage nor keeps its own order of a person's
    messages: the conversation owns both (one lock per person, in handlers/conversation.py)."""
    path = ROOT / channel
    source = path.read_text(encoding="utf-8")
    touched = {
        name for name in imported_modules(source, module_name(path)) if name.startswith("storage")
    }
    assert touched == set()
    locks = [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in {"Lock", "WeakValueDictionary"}
    ]
    assert locks == []


# The checker itself: each way of hiding an arrow or a clock is caught.


def test_relative_imports_are_resolved_before_they_are_judged() -> None:
    source = "from ..bot import app\nfrom . import texts\nfrom .flow import Step\n"
    assert imported_modules(source, "handlers.conversation") == {
        "bot",
        "handlers",
        "handlers.texts",
        "handlers.flow",
    }


def test_a_relative_import_in_a_package_face_counts_from_the_package() -> None:
    assert imported_modules("from .views import x\n", "handlers", is_package=True) == {
        "handlers.views"
    }


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime as dt\ndt.now()\n",
        "import datetime\ndatetime.datetime.now()\n",
        "import datetime as d\nd.date.today()\n",
        "from datetime import date\ndate.today()\n",
        "from time import time as clock\nclock()\n",
        "import time\ntime.time()\n",
    ],
)
def test_the_wall_clock_is_found_under_any_name(source: str) -> None:
    assert clock_reads(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\ndatetime.fromisoformat('2026-01-01')\n",
        "import time\ntime.perf_counter()\n",
        "now = clock()\nnow.date()\n",
    ],
)
def test_what_is_not_the_wall_clock_is_left_alone(source: str) -> None:
    assert clock_reads(source) == []


def test_the_architecture_test_sees_the_code() -> None:
    conversation = (ROOT / "handlers" / "conversation.py").read_text(encoding="utf-8")
    assert "domain.models" in imported_modules(conversation, "handlers.conversation")
    assert sum(1 for _ in files("domain")) >= 5
