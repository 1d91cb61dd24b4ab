"""Three replicas on one PostgreSQL database: how long until a write through one of them (the API)
or through ``maillage ingest`` shows in the answers of the others (issue 16). Prints JSON.

    .venv/bin/python benchmarks/replicas.py propagation --writes 200 [--cli-writes 20]
    .venv/bin/python benchmarks/propagation.py --writes 200 --cli-writes 20

A fresh database (``tests.pg``: the local server) gets the demo territory (320 members); three
``maillage serve`` processes (one data dir each) follow its change log. Each write is a new
member with a text of its own; for every other replica, a client asks the free-text question
with that text (k=1) until the new member comes first. The delay is counted from the change
log's time of the write (the writer's clock, written just before the commit) to the first
answer that shows it; also from the API's acknowledgement. Everything runs on the same
machine as the replicas (the pollers too).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
T = "sceaux-valley"
DEMO = ROOT / "data" / "demo" / "sceaux-valley.json"


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def summary(delays: list[float]) -> dict:
    return {
        "n": len(delays),
        "p50_ms": pct(delays, 50),
        "p99_ms": pct(delays, 99),
        "max_ms": round(max(delays), 1) if delays else None,
        "within_1s": sum(d <= 1000 for d in delays),
    }


def written_at(store, member_id: str) -> float:
    from matching.store import changelog

    with store.read() as tx:
        for e in reversed(changelog.read(tx, after=0, limit=None, kind="member")):
            if e.ext_id == member_id:
                return e.at
    raise LookupError(member_id)


def wait_visible(base: str, headers: dict, text: str, member_id: str, timeout: float = 30.0) -> float:
    """Poll a replica with the member's own text until it comes first; the wall time it did."""
    body = {"text": text, "target": "members", "k": 1}
    deadline = time.time() + timeout
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while time.time() < deadline:
            r = client.post(f"/territories/{T}/search", json=body)
            if r.status_code == 200 and r.json()["matches"] and r.json()["matches"][0]["id"] == member_id:
                return time.time()
            time.sleep(0.005)
    raise TimeoutError(f"{member_id} pas visible sur {base} en {timeout} s")


def member(n: int, how: str) -> dict:
    return {
        "id": f"prop-{how}-{n}",
        "display_name": f"P {n}",
        "skills": f"écriture {how} numéro {n} : restauration de vitraux et de mosaïques anciennes",
        "consent": True,
    }


def watch(bases: list[str], headers: dict, body: dict, timeout: float) -> tuple[dict[str, float], list[threading.Thread]]:
    """One poller thread per replica (started); ``seen[base]`` is filled when the write shows there."""
    seen: dict[str, float] = {}

    def poll(base: str) -> None:
        seen[base] = wait_visible(base, headers, body["skills"], body["id"], timeout)

    threads = [threading.Thread(target=poll, args=(base,)) for base in bases]
    for th in threads:
        th.start()
    return seen, threads


def propagation(writes: int, cli_writes: int = 20) -> dict:
    from matching.settings import Settings
    from matching.store import Store
    from tests.conftest import start_server
    from tests.pg import fresh_database

    url, drop = fresh_database()
    work = Path(tempfile.mkdtemp(prefix="maillage-propagation-"))
    env = {"MAILLAGE_DATABASE_URL": url, "MAILLAGE_DATA_DIR": str(work / "cli")}
    cli = [sys.executable, "-m", "matching.cli"]
    subprocess.run([*cli, "ingest", str(DEMO)], env=os.environ | env, check=True, capture_output=True, cwd=ROOT)
    key = subprocess.run(
        [*cli, "keys", "create", "--territory", T, "--role", "agent", "-q"],
        env=os.environ | env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    headers = {"X-API-Key": key}
    store = Store(Settings(database_url=url, data_dir=work / "cli").database_url)
    replicas = [start_server(work / f"r{i}", env={"MAILLAGE_DATABASE_URL": url}, log=work / f"r{i}.log") for i in range(3)]
    out: dict = {"replicas": 3, "database": "postgresql (local)", "territory_members": 320, "logs": str(work)}
    try:
        api_from_commit, api_from_ack = [], []
        for n in range(writes):
            body = member(n, "api")
            writer = replicas[n % 3][1]
            others = [base for i, (_, base) in enumerate(replicas) if i != n % 3]
            r = httpx.put(f"{writer}/territories/{T}/members/{body['id']}", json=body, headers=headers, timeout=30)
            acked = time.time()
            r.raise_for_status()
            seen, threads = watch(others, headers, body, 30)
            for th in threads:
                th.join()
            at = written_at(store, body["id"])
            api_from_commit += [(t - at) * 1000 for t in seen.values()]
            api_from_ack += [max(0.0, (t - acked) * 1000) for t in seen.values()]
        out["api"] = {"from_commit": summary(api_from_commit), "from_acknowledgement": summary(api_from_ack)}
        cli_delays = []
        for n in range(cli_writes):
            body = member(n, "cli")
            path = work / f"one-{n}.json"
            path.write_text(json.dumps([body], ensure_ascii=False), encoding="utf-8")
            seen, threads = watch([base for _, base in replicas], headers, body, 120)
            subprocess.run(
                [*cli, "ingest", str(path), "--kind", "member", "--territory", T],
                env=os.environ | env,
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            for th in threads:
                th.join()
            at = written_at(store, body["id"])
            cli_delays += [(t - at) * 1000 for t in seen.values()]
        out["cli_ingest"] = {"from_commit": summary(cli_delays)}
        out["feed_mode"] = httpx.get(f"{replicas[0][1]}/health").json()["feed"]["mode"]
    finally:
        for proc, _ in replicas:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        store.dispose()
        drop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--cli-writes", type=int, default=20)
    args = parser.parse_args()
    result = propagation(args.writes, args.cli_writes)
    result["machine"] = {"cpus": os.cpu_count(), "load_avg_after": [round(x, 1) for x in os.getloadavg()]}
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
