"""Shared fixtures: the real default encoder (loaded once), a fresh recommender per test."""

from __future__ import annotations

import json
import os
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
def client(rec):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(recommender=rec)) as c:
        yield c


@pytest.fixture
def mini_doc() -> dict:
    return json.loads(MINI.read_text(encoding="utf-8"))
