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
