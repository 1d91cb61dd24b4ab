"""Shared fixtures: the real default encoder (loaded once), a fresh recommender per test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini.json"


@pytest.fixture(scope="session")
def use_encoder():
    from embeddings.encoder import UseMultilingualEncoder

    return UseMultilingualEncoder()


@pytest.fixture(scope="session")
def e5_encoder():
    from embeddings.encoder import E5SmallEncoder

    return E5SmallEncoder()


@pytest.fixture(scope="session")
def minilm_encoder():
    from embeddings.encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder("minilm")


@pytest.fixture
def settings(tmp_path: Path):
    from matching.settings import Settings

    return Settings(data_dir=tmp_path / "var")


@pytest.fixture(params=["sqlite", "postgresql"])
def settings_any_store(request, tmp_path):
    """Settings on SQLite, then on a fresh PostgreSQL database (located or started)."""
    from matching.settings import Settings

    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "var")
        return
    from tests.pg import fresh_database

    url, drop = fresh_database()
    yield Settings(data_dir=tmp_path / "var", database_url=url)
    drop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
    port: int | None = None,
    args: tuple[str, ...] = (),
    log: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """`maillage serve` in its own process group on a (free) loopback port, once /health answers.

    ``env``: more environment (e.g. ``MAILLAGE_DATABASE_URL``); ``args``: more options of ``serve``;
    ``log``: a file for its output (appended), else it is dropped.
    """
    import httpx

    port = port or free_port()
    env = os.environ | {"MAILLAGE_DATA_DIR": str(data_dir)} | (env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "matching.cli", "serve", "--port", str(port), *args],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=log.open("ab") if log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.25)
    proc.kill()
    raise AssertionError("le serveur n'a pas démarré")


@pytest.fixture
def rec(settings, use_encoder) -> Iterator:
    """A recommender over the mini territory (real SQLite file, real FAISS, real model)."""
    from matching.ingest import read_file
    from matching.recommender import Recommender

    r = Recommender(settings, encoder=use_encoder)
    r.open()
    r.ingest(read_file(MINI))
    yield r
    r.close()


@pytest.fixture
def key_for(rec):
    """``key_for(role, subject=None, territory="mini", force=False)`` -> headers carrying a new API key
    (``force``: for a territory or a subject that does not exist, as ``maillage keys create --force``)."""
    from matching import access

    def make(role: str, subject: str | None = None, territory: str = "mini", force: bool = False) -> dict[str, str]:
        key, _ = access.create_key(rec.store, territory, role, subject, force=force)
        return {"X-API-Key": key}

    return make


@pytest.fixture
def client(rec, key_for):
    """A client of the app over the mini territory, with an admin key of that territory."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(recommender=rec), headers=key_for("admin")) as c:
        yield c


@pytest.fixture
def mini_doc() -> dict:
    return json.loads(MINI.read_text(encoding="utf-8"))
