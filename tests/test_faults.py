"""Faults from outside the code (issue 16): damaged index files, a kill during a save, a full or
read-only disk, a busy SQLite database, a PostgreSQL restart. None may stop the service, give a
traceback or a plain-text 500: the indexes are rebuilt from the store, or served from memory,
and what was and was not written is said in French.

The disk faults mount a small ``tmpfs`` (the tests run as root, as in CI); the PostgreSQL restart
uses a throwaway cluster of the test's own (``tests.pg.dedicated_cluster``).
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from matching import access
from matching.cli import app
from matching.domain import Member
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings
from tests.conftest import MINI, start_server

ROOT = Path(__file__).resolve().parents[1]


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":  # one byte in the middle of the serialised index
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0xFF
        path.write_bytes(bytes(flipped))
    else:
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty"])
def test_a_damaged_index_file_is_rebuilt_from_the_store_with_a_warning(tmp_path, how, caplog) -> None:
    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(MINI)], env=env).exit_code == 0
    index = tmp_path / "var" / "index" / "member.faiss.npz"
    commands = {
        "index status": ["index", "status"],
        "recommend": ["recommend", "members", "--need", "p1-n1", "-t", "mini", "--json"],
        "ingest": ["ingest", str(MINI)],
    }
    for name, command in commands.items():
        damage(index, how)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            result = runner.invoke(app, command, env=env)
        assert result.exit_code == 0, (name, result.output)
        assert any("illisible" in r.getMessage() and "reconstruction" in r.getMessage() for r in caplog.records), name
        if name == "recommend":
            assert '"id": "m1"' in result.stdout
        if name == "index status":
            assert '"in_sync": true' in result.stdout
    # the service starts on a damaged file too, rebuilds it, and answers
    damage(index, how)
    # an admin key: /health shows the index details to an admin only
    key = runner.invoke(app, ["keys", "create", "--territory", "mini", "--role", "admin", "-q"], env=env).stdout.strip()
    proc, base = start_server(tmp_path / "var")
    try:
        health = httpx.get(f"{base}/health", timeout=10, headers={"X-API-Key": key}).json()
        assert health["indexes"]["member"]["in_sync"] is True and health["indexes"]["member"]["count"] == 8
        r = httpx.get(f"{base}/territories/mini/needs/p1-n1/members?k=1", headers={"X-API-Key": key}, timeout=30)
        assert r.status_code == 200 and r.json()["matches"][0]["id"] == "m1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


SAVE_FOREVER = """
import sys
import numpy as np
from embeddings.index import VectorIndex
index = VectorIndex(512, "bench")
index.upsert(np.arange(1, 40_001), np.random.default_rng(0).random((40_000, 512), dtype=np.float32))
print("prêt", flush=True)
while True:
    index.save(sys.argv[1])
"""


def test_temporary_files_of_a_save_killed_midway_are_removed_on_start(settings, use_encoder) -> None:
    path = settings.index_dir / "member.faiss.npz"
    path.parent.mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-c", SAVE_FOREVER, str(path)], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().decode().strip() == "prêt"
        deadline = time.monotonic() + 60
        while not list(path.parent.glob("*.tmp")):  # a save under way
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    left = list(path.parent.glob("*.tmp"))
    assert left  # what the kill left behind (empty or partly written)
    mine = path.parent / f"need.faiss.npz.{os.getpid()}.abc123.tmp"  # a save of a live process stays
    mine.write_bytes(b"en cours")
    rec = Recommender(settings, encoder=use_encoder)
    rec.open()
    assert [p.name for p in path.parent.glob("*.tmp")] == [mine.name]
    rec.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (fills up at once) that a test may also remount read-only."""
    where = tmp_path / "disk"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"un tmpfs est nécessaire (mount, en root comme en CI) : {done.stderr.strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    with (disk / "lest").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * (1 << 16))
                fh.flush()
        except OSError:
            pass


def test_index_files_on_a_full_disk_the_rows_are_written_the_service_serves_from_memory(
    tmp_path, small_disk, use_encoder
) -> None:
    """The database elsewhere, the data dir (index files) on a full disk."""
    env = {"MAILLAGE_DATA_DIR": str(small_disk / "var"), "MAILLAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}"}
    (small_disk / "var").mkdir()
    fill(small_disk)
    result = CliRunner().invoke(app, ["ingest", str(MINI)], env=env)
    assert result.exit_code == 0, result.output
    assert "mini.json importé" in result.stdout
    assert "les données sont enregistrées dans le stockage" in result.stderr
    assert "n'ont pas pu être sauvegardés" in result.stderr and "Traceback" not in result.output
    # the next start rebuilds from the store, cannot save, serves from memory and says so
    settings = Settings(data_dir=small_disk / "var", database_url=env["MAILLAGE_DATABASE_URL"])
    rec = Recommender(settings, encoder=use_encoder)
    key, _ = access.create_key(rec.store, "mini", "admin")  # admin: /health details
    with TestClient(create_app(recommender=rec), headers={"X-API-Key": key}, raise_server_exceptions=False) as client:
        health = client.get("/health").json()
        assert health["status"] == "degraded" and "non sauvegardé" in health["snapshot"]["error"]
        assert health["indexes"]["member"]["in_sync"] is True
        assert client.get("/territories/mini/needs/p1-n1/members?k=1").json()["matches"][0]["id"] == "m1"
        body = {"id": "m9", "display_name": "N.", "skills": "souffleuse de verre", "consent": True}
        assert client.put("/territories/mini/members/m9", json=body).status_code == 200
        found = client.post("/territories/mini/search", json={"text": "souffleuse de verre", "target": "members", "k": 1})
        assert found.json()["matches"][0]["id"] == "m9"
        assert rec.snapshot()["error"]  # still nothing saved
        (small_disk / "lest").unlink()  # room again: the next snapshot saves, the error goes
        assert rec.snapshot()["error"] is None
        assert client.get("/health").json()["status"] == "ok"
    rec.close()


def test_a_read_only_disk(tmp_path, small_disk, use_encoder) -> None:
    """A data dir on a read-only disk, the store elsewhere: the service starts from the saved
    indexes, writes go on, the failed saves are reported. A store on a read-only disk cannot be
    opened: a French sentence and exit code 2, not a traceback."""
    elsewhere = Settings(data_dir=small_disk / "var", database_url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    on_disk = f"sqlite:///{small_disk / 'store.sqlite'}"
    keys = []
    for settings in (elsewhere, Settings(data_dir=tmp_path / "var2", database_url=on_disk)):
        rec = Recommender(settings, encoder=use_encoder)
        rec.open()
        rec.ingest(read_file(MINI))
        keys.append(access.create_key(rec.store, "mini", "admin")[0])  # admin: /health details
        rec.close()
    key = keys[0]
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    rec = Recommender(elsewhere, encoder=use_encoder)
    body = {"id": "m9", "display_name": "N.", "skills": "souffleuse de verre", "consent": True}
    with TestClient(create_app(recommender=rec), headers={"X-API-Key": key}, raise_server_exceptions=False) as client:
        assert client.put("/territories/mini/members/m9", json=body).status_code == 200
        saved = rec.snapshot()
        assert "Read-only file system" in saved["error"] and "servi depuis la mémoire" in saved["error"]
        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["snapshot"]["error"] == saved["error"]
        found = client.post("/territories/mini/search", json={"text": "souffleuse de verre", "target": "members", "k": 1})
        assert found.json()["matches"][0]["id"] == "m9"
    assert rec.close()["error"]
    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var3"), "MAILLAGE_DATABASE_URL": on_disk}
    done = subprocess.run(
        [sys.executable, "-m", "matching.cli", "recommend", "members", "--need", "p1-n1", "-t", "mini"],
        cwd=ROOT,
        env=os.environ | env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "Erreur" in done.stderr and "lecture seule" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_store_on_a_full_disk_refuses_a_write_with_a_503_saying_nothing_was_written(small_disk, use_encoder) -> None:
    settings = Settings(data_dir=small_disk / "var")  # the SQLite store in the data dir, on the small disk
    rec = Recommender(settings, encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(MINI))
    key, _ = access.create_key(rec.store, "mini", "admin")  # admin: /health details
    fill(small_disk)
    with TestClient(create_app(recommender=rec), headers={"X-API-Key": key}, raise_server_exceptions=False) as client:
        assert client.get("/territories/mini/needs/p1-n1/members?k=1").json()["matches"][0]["id"] == "m1"
        statuses = []
        for n in range(40):  # until the store's journal needs a page the disk does not have
            body = {"id": f"f{n}", "display_name": "F.", "skills": f"texte numéro {n} " + "long " * 400, "consent": True}
            r = client.put(f"/territories/mini/members/f{n}", json=body)
            statuses.append(r.status_code)
            if r.status_code != 200:
                break
        assert r.status_code == 503 and r.headers["retry-after"] and r.headers["content-type"] == "application/json"
        assert "disque plein" in r.json()["detail"] and "rien de cette écriture n'a été enregistré" in r.json()["detail"]
        assert client.get(f"/territories/mini/members/f{n}").status_code == 404
        assert client.get("/territories/mini/needs/p1-n1/members?k=1").status_code == 200  # reads go on
    rec.close()


def test_sqlite_write_waits_for_a_long_concurrent_ingest(rec, key_for) -> None:
    """Another process holds SQLite's write lock for longer than its busy time-out (10 s): the
    write, vector-cache insert included, is retried as one unit of work and succeeds."""
    path = rec.store.url.split("///", 1)[1]
    headers = key_for("agent")
    holder = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # as a bulk ingest in another process would
    release = threading.Timer(11.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with TestClient(create_app(recommender=rec), headers=headers, raise_server_exceptions=False) as client:
            body = {"id": "m9", "display_name": "N.", "skills": "un texte jamais encodé : vitrailliste", "consent": True}
            r = client.put("/territories/mini/members/m9", json=body)
            assert r.status_code == 200, r.text
    finally:
        release.join()
        holder.close()
    assert rec.get_member("mini", "m9").skills.endswith("vitrailliste")


def test_postgresql_restart_answers_503_with_retry_after_then_recovers(tmp_path, use_encoder) -> None:
    from tests.pg import dedicated_cluster

    with dedicated_cluster() as cluster:
        settings = Settings(data_dir=tmp_path / "var", database_url=cluster.url)
        rec = Recommender(settings, encoder=use_encoder)
        rec.open()
        rec.ingest(read_file(MINI))
        key, _ = access.create_key(rec.store, "mini", "admin")  # admin: /health details
        seen: list[tuple[int, str, str | None, str]] = []
        stop = threading.Event()
        with TestClient(create_app(recommender=rec), headers={"X-API-Key": key}, raise_server_exceptions=False) as client:

            def hammer() -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    body = {"id": f"r{n}", "display_name": "R.", "skills": "couturière", "consent": True}
                    for r in (
                        client.get("/territories/mini/needs/p1-n1/members?k=3"),
                        client.put(f"/territories/mini/members/r{n}", json=body),
                        client.get("/health"),
                    ):
                        seen.append((r.status_code, r.headers.get("content-type", ""), r.headers.get("retry-after"), r.text))

            worker = threading.Thread(target=hammer)
            worker.start()
            time.sleep(1.0)
            cluster.stop("fast")
            time.sleep(1.5)
            cluster.start()
            time.sleep(2.0)
            stop.set()
            worker.join(60)
            statuses = {s for s, _, _, _ in seen}
            assert statuses <= {200, 503}, [x for x in seen if x[0] not in (200, 503)][:3]
            down = [x for x in seen if x[0] == 503]
            assert down, "aucune requête pendant l'arrêt"
            assert all(ct == "application/json" and retry and '"detail"' in text for _, ct, retry, text in down)
            assert seen[-1][0] == 200  # back once the server is
            # the follower listens again: another process's write arrives through NOTIFY
            other = Recommender(Settings(data_dir=tmp_path / "other", database_url=cluster.url), encoder=use_encoder)
            other.open()
            other.upsert_members("mini", [Member(id="after", display_name="A.", skills="ferronnière d'art", consent=True)])
            deadline = time.monotonic() + 10
            while client.get("/health").json()["feed"]["lag_changes"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            found = client.post("/territories/mini/search", json={"text": "ferronnière d'art", "target": "members", "k": 1})
            assert found.json()["matches"][0]["id"] == "after"
            other.close()
        rec.close()
