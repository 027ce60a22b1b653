"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` package, a cluster made in a
temporary folder, listening on 127.0.0.1 only, run as a non-root user (`postgres` when the tests
run as root; initdb refuses root).

`PROGRESS_BOT_TEST_POSTGRES` (a postgresql:// address of an empty database the tests may fill and
empty) uses a server of one's own instead. Without either, the PostgreSQL tests are skipped,
except under CI, where they fail: `.ci/run` installs the package.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "progress"  # the cluster's superuser, and the tests' role
DATABASE = "progress_test"


def binaries() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: Debian keeps them out of PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running cluster; `url` reaches its test database as its superuser."""

    url: str
    folder: Path
    bin: Path
    as_user: list[str]

    def address(self, database: str, user: str = USER) -> str:
        """The address of another database (or role) of the same server."""
        base = self.url.rsplit("/", 1)[0].replace(f"{USER}@", f"{user}@", 1)
        return f"{base}/{database}"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"),
             "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Server:
    """Make a cluster in a temporary folder and start it on a free loopback port."""
    folder_of = binaries()
    if folder_of is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian package postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="progress-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=folder)

    run(str(folder_of / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
        "--locale=C.UTF-8", "--no-sync")  # fmt: skip
    # Durability is the server's own concern, not what the tests check: no fsync, for speed.
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    run(str(folder_of / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
        "-w", "start")  # fmt: skip
    run(str(folder_of / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE)
    return Server(f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}", folder, folder_of, as_user)


@contextlib.contextmanager
def address(given: str | None) -> Iterator[str]:
    """The database a bench runs on: `given` (a server of one's own), or a throwaway server
    started here and stopped afterwards."""
    if given is not None:
        yield given
        return
    server = start()
    try:
        yield server.url
    finally:
        server.stop()
