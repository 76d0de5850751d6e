"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, a free
port on 127.0.0.1, run as a non-root user (the server refuses root), stopped at the end.

Used by the session fixture `pg_server` in conftest.py. Nothing here touches a
cluster the machine already has.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SUPERUSER = "postgres"
# A role that must give a password (the bad-password tests); every other role is trusted.
PASSWORD_ROLE = "pw_reviewer"
RUN_AS = "postgres"


class ServerUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise ServerUnavailable("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); "
                                "tools/ensure_postgresql.sh installs them")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)


class PgServer:
    def __init__(self):
        self.bindir = find_bindir()
        # Under /tmp, not $TMPDIR: the server's user must reach it (root's own temp folder may be 0700),
        # and the socket path must stay short.
        self.root = Path(tempfile.mkdtemp(prefix="review-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
        self.data = self.root / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, **kw)

    def start(self) -> "PgServer":
        if self._as_root:
            _ensure_user(RUN_AS)
            shutil.chown(self.root, RUN_AS)
        os.chmod(self.root, 0o755)
        result = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", SUPERUSER,
                           "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        if result.returncode:
            raise ServerUnavailable(f"initdb failed: {result.stderr.strip()}")
        # Trust for every role on the loopback except the one that proves password checks.
        (hba := self.data / "pg_hba.conf").write_text(
            f"local all all trust\n"
            f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            f"host all all 127.0.0.1/32 trust\n"
        )
        if self._as_root:
            shutil.chown(hba, RUN_AS)
        # Throwaway data: durability settings off make the tests fast.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses={self.host} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                           "-l", str(self.root / "log"), "-w", "-t", "60", "start")
        if result.returncode:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise ServerUnavailable(f"pg_ctl start failed: {result.stderr.strip()} {log[-500:]}")
        return self

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"

    def admin(self):
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True)

    def create_database(self, prefix: str = "review") -> str:
        """A new empty database; returns its URL (as the superuser)."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_stopped(self, timeout: float = 10) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and (self.data / "postmaster.pid").exists():
            time.sleep(0.1)
