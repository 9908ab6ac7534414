"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl on a free port in a temp folder.

The server refuses to run as root, and tests here may run as root: then the cluster belongs to
``nobody`` and every binary runs through ``runuser``. :func:`find_binaries` returns ``None`` (and
:data:`SKIP_REASON` says why) when PostgreSQL is not installed, so those tests skip with one line.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_TOOLS = ("initdb", "pg_ctl", "psql")
SKIP_REASON = "PostgreSQL binaries (initdb, pg_ctl, psql) not found: PostgreSQL tests skipped"


def find_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin``, else the folder ``initdb`` on PATH really lives in."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.insert(0, str(Path(initdb).resolve().parent))
    for folder in reversed(candidates):
        if all((Path(folder) / tool).is_file() for tool in _TOOLS):
            return Path(folder)
    return None


def postgresql_tests_run() -> bool:
    """Whether to run the PostgreSQL half: the binaries are here, or CI requires it (then a missing
    binary fails the run instead of skipping)."""
    return find_binaries() is not None or bool(os.environ.get("REQUIRE_POSTGRESQL_TESTS"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    as_user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls, bindir: Path) -> PgCluster:
        as_user = "nobody" if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="pgtest-"))
        cluster = cls(bindir, root, _free_port(), as_user)
        (root / "data").mkdir()
        if as_user is not None:
            root.chmod(0o755)
            shutil.chown(root / "data", as_user)
            (root / "log").touch()
            shutil.chown(root / "log", as_user)
        data = str(cluster.data)
        cluster._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # A throwaway cluster: durability off for speed (the bot's own server keeps its defaults).
        options = (
            f"-p {cluster.port} -h 127.0.0.1 -k '' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        cluster._run("pg_ctl", "-D", data, "-o", options, "-l", str(root / "log"), "-w", "start")
        return cluster

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def psql(cluster: PgCluster, sql: str) -> None:
    """Run one statement as the superuser (the client runs fine as root)."""
    subprocess.run(
        [str(cluster.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", cluster.url(), "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )
