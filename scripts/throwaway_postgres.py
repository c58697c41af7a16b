"""A throwaway PostgreSQL server from the machine's own packages, for the tests and benchmarks.

    with ThrowawayPostgres() as pg:          # initdb in a temporary folder, loopback, a free port
        pg.url                                # postgresql://postgres@127.0.0.1:<port>/postgres
        pg.restart()                          # what a database restart looks like to a client

The server binaries are found in ``$PG_BIN``, else in Debian's ``/usr/lib/postgresql/<n>/bin``
(newest first), else on ``PATH``; ``make postgresql`` installs Debian's package when run as
root. PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
the package creates. Nothing outside the temporary folder is touched, and it is removed on
stop.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["ThrowawayPostgres", "find_bin", "unavailable_reason"]


def find_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    given = os.environ.get("PG_BIN")
    candidates = [Path(given)] if given else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    return next((c for c in candidates if (c / "initdb").is_file() and (c / "pg_ctl").is_file()), None)


def _major(name: str) -> int:
    return int(name) if name.isdigit() else 0


def unavailable_reason() -> str | None:
    """Why no throwaway server can be started here, or None when one can."""
    if find_bin() is None:
        return ("PostgreSQL's server binaries (initdb, pg_ctl) are not installed: `make postgresql` as root "
                "installs Debian's package, or set PG_BIN")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    """One PostgreSQL server in a temporary folder, listening on 127.0.0.1 only.

    ``fsync=False`` trades durability across power loss for speed (tests); the benchmarks keep
    it on, as a real deployment would.
    """

    def __init__(self, *, fsync: bool = True, max_connections: int = 100) -> None:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.bin = find_bin()
        self.fsync = fsync
        self.max_connections = max_connections
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="twilio-widget-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{log}")

    def start(self) -> ThrowawayPostgres:
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                   f"-c fsync={'on' if self.fsync else 'off'} -c max_connections={self.max_connections}")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", action, *extra)

    def restart(self) -> None:
        """Stop at once (the clients' connections break) and start again on the same port."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
