"""SIGKILL in the middle of a bulk ingest: every acknowledged write survives, and the index
matches the store after restart (it is checked against the store and repaired on start)."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
from typer.testing import CliRunner

from matching.cli import app
from tests.conftest import MINI, start_server


def test_sigkill_during_bulk_ingest_loses_no_acknowledged_write(tmp_path) -> None:
    data_dir = tmp_path / "var"
    env = {"MAILLAGE_DATA_DIR": str(data_dir)}
    assert CliRunner().invoke(app, ["ingest", str(MINI)], env=env).exit_code == 0
    made = CliRunner().invoke(app, ["keys", "create", "--territory", "mini", "--role", "agent", "-q"], env=env)
    headers = {"X-API-Key": made.stdout.strip()}
    made = CliRunner().invoke(app, ["keys", "create", "--territory", "mini", "--role", "admin", "-q"], env=env)
    admin = {"X-API-Key": made.stdout.strip()}  # /health shows the index details to an admin key only
    acknowledged: set[str] = set()
    counter = 0
    for round_ in range(3):
        proc, base = start_server(data_dir)
        stop = threading.Event()

        def writer(base: str = base, stop: threading.Event = stop) -> None:
            nonlocal counter
            with httpx.Client(timeout=10, headers=headers) as client:
                while not stop.is_set():
                    counter += 1
                    mid = f"k{counter}"
                    body = {
                        "id": mid,
                        "display_name": f"Membre {counter}",
                        "skills": f"compétence numéro {counter} : couture et retouches",
                        "consent": True,
                    }
                    try:
                        r = client.put(f"{base}/territories/mini/members/{mid}", json=body)
                    except httpx.TransportError:
                        return  # the server was killed
                    if r.status_code == 200:
                        acknowledged.add(mid)

        threads = [threading.Thread(target=writer) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(2.0 + 0.7 * round_)
        os.killpg(proc.pid, signal.SIGKILL)  # no shutdown hook, no index save
        proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=15)

    assert len(acknowledged) > 10
    proc, base = start_server(data_dir)
    try:
        health = httpx.get(f"{base}/health", timeout=10, headers=admin).json()
        members = health["indexes"]["member"]
        assert members["in_sync"] and members["count"] == members["store_count"]
        with httpx.Client(timeout=10, headers=headers) as client:
            for mid in sorted(acknowledged):
                assert client.get(f"{base}/territories/mini/members/{mid}").status_code == 200, mid
        # and the recovered index really answers: an acknowledged member is found by its text
        some = sorted(acknowledged)[0]
        number = some.removeprefix("k")
        r = httpx.post(
            f"{base}/territories/mini/search",
            json={"text": f"compétence numéro {number} : couture et retouches", "target": "members", "k": 50},
            timeout=30,
            headers=headers,
        )
        assert some in [m["id"] for m in r.json()["matches"]]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
