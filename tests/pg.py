"""Locate (or start) the local PostgreSQL server and give each test a fresh database.

CI and the development machines run PostgreSQL 15 on 127.0.0.1:5432 (trust auth). If it
is stopped, ``pg_ctlcluster`` starts it. The tests never skip silently: if no server can
be reached, the PostgreSQL variants fail with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

ADMIN_URL = os.environ.get("MAILLAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _can_connect() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def ensure_server() -> None:
    if _can_connect():
        return
    if shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"):
        for version in sorted(os.listdir("/etc/postgresql")):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False, capture_output=True
            )
    for _ in range(30):
        if _can_connect():
            return
        time.sleep(0.5)
    raise RuntimeError(f"PostgreSQL injoignable sur {ADMIN_URL} (et pg_ctlcluster n'a pas pu le démarrer)")


def fresh_database() -> tuple[str, callable]:
    """A new empty database: (its URL, a function that drops it)."""
    from sqlalchemy import create_engine, text

    ensure_server()
    name = f"maillage_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


class Cluster:
    """A PostgreSQL server of the tests' own (``dedicated_cluster``): its URL, and stop/start/restart."""

    def __init__(self, root: str, port: int, pg_ctl: str) -> None:
        self.root, self.port, self._pg_ctl = root, port, pg_ctl
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def ctl(self, *args: str) -> None:
        _as_postgres([self._pg_ctl, "-D", f"{self.root}/data", "-l", f"{self.root}/log", "-w", *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        self.ctl("-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-m", mode, "stop")


def _as_postgres(cmd: list[str]) -> None:
    """Run a server command as the postgres user (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} : {done.stdout}{done.stderr}")


def dedicated_cluster():
    """A throwaway PostgreSQL cluster (initdb in a temporary folder, a free loopback port): a test
    may restart it without touching the shared server. A context manager yielding a ``Cluster``."""
    import contextlib
    import socket
    import tempfile

    @contextlib.contextmanager
    def cluster():
        versions = sorted(os.listdir("/usr/lib/postgresql")) if os.path.isdir("/usr/lib/postgresql") else []
        if not versions:
            raise RuntimeError("aucun serveur PostgreSQL installé (/usr/lib/postgresql) pour une grappe dédiée")
        bin_dir = f"/usr/lib/postgresql/{versions[-1]}/bin"
        root = tempfile.mkdtemp(prefix="maillage-pg-")
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        _as_postgres([f"{bin_dir}/initdb", "-D", f"{root}/data", "-A", "trust", "-U", "postgres", "--no-sync"])
        c = Cluster(root, port, f"{bin_dir}/pg_ctl")
        c.start()
        try:
            yield c
        finally:
            with contextlib.suppress(RuntimeError):
                c.stop("immediate")
            shutil.rmtree(root, ignore_errors=True)

    return cluster()
