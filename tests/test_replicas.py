"""Several serving processes on one PostgreSQL database (issue 16), as real processes on loopback:
two replicas behind Debian's nginx, and a replica killed with SIGKILL during a burst of writes."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from typer.testing import CliRunner

from matching.cli import app
from matching.recommender import Recommender
from matching.settings import Settings
from tests.conftest import MINI, free_port, start_server
from tests.pg import fresh_database
from tests.proxy import nginx

QUESTIONS = [
    "/territories/mini/needs/p1-n1/members?k=10",
    "/territories/mini/needs/p2-n1/members?k=10",
    "/territories/mini/needs/p3-n1/members?k=10",
    "/territories/mini/members/m2/needs?k=10",
    "/territories/mini/projects/p1/offerings?k=10",
    "/territories/mini/partners/labo/projects?k=10",
]


@pytest.fixture
def database(tmp_path):
    """A fresh PostgreSQL database with the mini territory, and an admin key (/health shows its
    details to an admin only)."""
    url, drop = fresh_database()
    env = {"MAILLAGE_DATABASE_URL": url, "MAILLAGE_DATA_DIR": str(tmp_path / "cli")}
    assert CliRunner().invoke(app, ["ingest", str(MINI)], env=env).exit_code == 0
    made = CliRunner().invoke(app, ["keys", "create", "--territory", "mini", "--role", "admin", "-q"], env=env)
    yield url, {"X-API-Key": made.stdout.strip()}
    drop()


def stop(proc, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    proc.wait(timeout=30)


def member(n: int) -> dict:
    return {"id": f"b{n}", "display_name": f"B {n}", "skills": f"numéro {n} : reliure et dorure à la feuille", "consent": True}


def ranked(body: dict) -> list[tuple[str, float]]:
    return [(m["id"], round(m["score"], 5)) for m in body["matches"]]


def test_two_replicas_behind_nginx_agree_and_one_restarts_without_a_failed_request(tmp_path, database) -> None:
    url, headers = database
    env = {"MAILLAGE_DATABASE_URL": url}
    a, base_a = start_server(tmp_path / "a", env=env)
    port_b = free_port()
    b, base_b = start_server(tmp_path / "b", env=env, port=port_b)
    try:
        with nginx(free_port(), [base_a.removeprefix("http://"), base_b.removeprefix("http://")]) as proxy:
            client = httpx.Client(base_url=proxy, headers=headers, timeout=30)
            # a write through the proxy reaches both replicas within a second
            assert client.put("/territories/mini/members/b1", json=member(1)).status_code == 200
            search = {"text": member(1)["skills"], "target": "members", "k": 1}
            for base in (base_a, base_b):
                deadline = time.monotonic() + 1.0
                while (
                    httpx.post(f"{base}/territories/mini/search", json=search, headers=headers).json()["matches"][0]["id"] != "b1"
                ):
                    assert time.monotonic() < deadline, base
                    time.sleep(0.02)
            # the two replicas give the same answers
            for q in QUESTIONS:
                assert ranked(httpx.get(base_a + q, headers=headers).json()) == ranked(
                    httpx.get(base_b + q, headers=headers).json()
                )
            # one replica restarts while requests and writes go through the proxy: none fails
            failures, done, n = [], threading.Event(), [1]

            def traffic() -> None:
                while not done.is_set():
                    n[0] += 1
                    for r in (
                        client.get(QUESTIONS[n[0] % len(QUESTIONS)]),
                        client.put(f"/territories/mini/members/b{n[0]}", json=member(n[0])),
                    ):
                        if r.status_code != 200:
                            failures.append((r.status_code, r.text[:200]))

            worker = threading.Thread(target=traffic)
            worker.start()
            time.sleep(1.0)
            stop(b)  # SIGTERM: uvicorn finishes what it is answering, then exits
            time.sleep(1.0)
            b, _ = start_server(tmp_path / "b", env=env, port=port_b)
            time.sleep(1.0)
            done.set()
            worker.join(60)
            assert failures == [] and n[0] > 5
            health = httpx.get(f"{base_b}/health", headers=headers).json()
            deadline = time.monotonic() + 5
            while health["feed"]["lag_changes"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
                health = httpx.get(f"{base_b}/health", headers=headers).json()
            assert health["status"] == "ok" and all(i["in_sync"] for i in health["indexes"].values())
            for q in QUESTIONS:
                assert ranked(httpx.get(base_a + q, headers=headers).json()) == ranked(
                    httpx.get(base_b + q, headers=headers).json()
                )
    finally:
        stop(a)
        stop(b)


def test_a_replica_killed_during_a_burst_of_writes_restarts_and_converges(tmp_path, database, use_encoder) -> None:
    """Writes go through replica A; replica B (snapshots every second) is killed with SIGKILL in
    the middle, then restarted: it loads its last snapshot, replays the log, and then answers
    exactly as a process built afresh from the store; its indexes hold every acknowledged write
    once (fingerprints equal to the store's)."""
    url, headers = database
    a, base_a = start_server(tmp_path / "a", env={"MAILLAGE_DATABASE_URL": url})
    env_b = {"MAILLAGE_DATABASE_URL": url, "MAILLAGE_SNAPSHOT_SECONDS": "1"}
    port_b = free_port()
    b, base_b = start_server(tmp_path / "b", env=env_b, port=port_b)
    acknowledged: set[str] = set()
    try:
        done = threading.Event()

        def writer(offset: int) -> None:
            with httpx.Client(base_url=base_a, headers=headers, timeout=30) as client:
                n = offset
                while not done.is_set():
                    n += 3
                    body = member(n) | ({"skills": f"texte modifié {n}"} if n % 7 == 0 else {})
                    if client.put(f"/territories/mini/members/b{n}", json=body).status_code == 200:
                        acknowledged.add(f"b{n}")
                    if n % 5 == 0 and client.delete(f"/territories/mini/members/b{n - 3}").status_code == 204:
                        acknowledged.discard(f"b{n - 3}")

        writers = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
        for w in writers:
            w.start()
        time.sleep(3.0)
        stop(b, signal.SIGKILL)  # no shutdown, no last snapshot
        time.sleep(1.0)
        b, _ = start_server(tmp_path / "b", env=env_b, port=port_b)
        time.sleep(1.0)
        done.set()
        for w in writers:
            w.join(60)
        deadline = time.monotonic() + 10
        while (health := httpx.get(f"{base_b}/health", headers=headers).json())["feed"]["lag_changes"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert health["status"] == "ok", health
        assert all(i["in_sync"] for i in health["indexes"].values()), health["indexes"]
        assert health["indexes"]["member"]["count"] == health["indexes"]["member"]["store_count"] == 8 + len(acknowledged)
        fresh = Recommender(Settings(data_dir=tmp_path / "fresh", database_url=url), encoder=use_encoder)
        assert set(fresh.open().values()) == {"rebuilt"}
        questions = [*QUESTIONS, "/territories/mini/members/m5/needs?k=10"]
        with httpx.Client(base_url=base_b, headers=headers, timeout=30) as client:
            for q in questions:
                path, _ = q.split("?")
                parts = path.strip("/").split("/")
                if parts[2] == "needs":
                    want = fresh.member_for_need("mini", parts[3], k=10)
                elif parts[2] == "members":
                    want = fresh.need_for_member("mini", parts[3], k=10)
                elif parts[2] == "projects":
                    want = fresh.offering_for_project("mini", parts[3], k=10)
                else:
                    want = fresh.project_for_partner("mini", parts[3], k=10)
                assert ranked(client.get(q).json()) == [(m.id, round(m.score, 5)) for m in want], q
            for mid in sorted(acknowledged)[:20]:  # nothing lost: found by its own text on the restarted replica
                text = fresh.get_member("mini", mid).skills
                found = client.post("/territories/mini/search", json={"text": text, "target": "members", "k": 3}).json()
                assert mid in [m["id"] for m in found["matches"]], mid
        fresh.close()
        assert len(acknowledged) > 10
    finally:
        stop(a)
        stop(b)


def test_serve_with_workers_starts_replicas_on_one_port(tmp_path, database) -> None:
    url, headers = database
    proc, base = start_server(tmp_path / "w", env={"MAILLAGE_DATABASE_URL": url}, args=("--workers", "2"))
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            assert client.put("/territories/mini/members/b1", json=member(1)).status_code == 200
            search = {"text": member(1)["skills"], "target": "members", "k": 1}
            # whichever worker answers, within a second it knows the write
            time.sleep(1.0)
            answers = {client.post("/territories/mini/search", json=search).json()["matches"][0]["id"] for _ in range(20)}
            assert answers == {"b1"}
            assert client.get("/health").json()["feed"]["mode"] == "notify"
    finally:
        stop(proc)
