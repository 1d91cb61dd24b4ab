"""Load through a reverse proxy while a replica restarts (issue 16). Prints JSON on stdout.

    .venv/bin/python benchmarks/load_replicas.py --members 10000 --users 50 --seconds 60 --restart-at 20

A fresh PostgreSQL database (the local server, ``tests.pg``) gets a generated territory with
synthetic vectors (``benchmarks/replicas.py build``); two ``maillage serve`` replicas start from
copies of its snapshot, Debian's nginx in front of them (``tests/proxy.py``: the next replica on
a refused connection or a 502/503); locust runs ``benchmarks/locustfile.py`` (the four
questions and the free-text search) with ``--users`` clients against nginx; at ``--restart-at``
seconds replica B is stopped (SIGTERM: uvicorn finishes the requests it is answering) and
started again. Reported: locust's requests, failures, p50/p99 per endpoint, and the restart's
timing (B down, B ready again). Everything runs on this machine, locust included.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run(members: int, users: int, seconds: int, restart_at: float) -> dict:
    from benchmarks.replicas import build
    from tests.conftest import free_port, start_server
    from tests.pg import fresh_database
    from tests.proxy import nginx

    url, drop = fresh_database()
    work = Path(tempfile.mkdtemp(prefix="maillage-load-"))
    out: dict = {"members": members, "users": users, "seconds": seconds, "restart_at_s": restart_at}
    try:
        out["build"] = {k: v for k, v in build(members, work / "built", url).items() if k.endswith("_s") or k == "projects"}
        for name in ("a", "b"):  # each replica starts from a copy of the snapshot
            shutil.copytree(work / "built" / "var" / "index", work / name / "index")
        env = {"MAILLAGE_DATABASE_URL": url}
        key = subprocess.run(
            [sys.executable, "-m", "matching.cli", "keys", "create", "--territory", "sceaux-valley", "--role", "agent", "-q"],
            env=os.environ | env | {"MAILLAGE_DATA_DIR": str(work / "a")},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
        a, base_a = start_server(work / "a", env=env)
        port_b = free_port()
        b, base_b = start_server(work / "b", env=env, port=port_b)
        timing: dict = {}

        def restart() -> None:
            nonlocal b
            time.sleep(restart_at)
            t = time.perf_counter()
            os.killpg(b.pid, signal.SIGTERM)
            b.wait(60)
            timing["b_stopped_after_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            b, _ = start_server(work / "b", env=env, port=port_b)
            timing["b_ready_again_after_s"] = round(time.perf_counter() - t, 2)

        try:
            with nginx(free_port(), [base_a.removeprefix("http://"), base_b.removeprefix("http://")]) as proxy:
                restarter = threading.Thread(target=restart)
                restarter.start()
                locust_env = os.environ | {
                    "MAILLAGE_LOAD_DOC": str(work / "built" / "territory.json"),
                    "MAILLAGE_LOAD_KEY": key,
                }
                subprocess.run(
                    [
                        str(ROOT / ".venv" / "bin" / "locust"),
                        "-f",
                        str(ROOT / "benchmarks" / "locustfile.py"),
                        "--headless",
                        "-u",
                        str(users),
                        "-r",
                        "10",
                        "-t",
                        f"{seconds}s",
                        "--host",
                        proxy,
                        "--csv",
                        str(work / "load"),
                        "--only-summary",
                    ],
                    env=locust_env,
                    capture_output=True,
                    check=False,
                    cwd=ROOT,
                )
                restarter.join()
        finally:
            for proc in (a, b):
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(60)
        out["restart"] = timing
        out["endpoints"] = {
            r["Name"]: {
                "requests": int(r["Request Count"]),
                "failures": int(r["Failure Count"]),
                "p50_ms": float(r["50%"]),
                "p99_ms": float(r["99%"]),
                "rps": round(float(r["Requests/s"]), 1),
            }
            for r in csv.DictReader((work / "load_stats.csv").open())
        }
        failures = work / "load_failures.csv"
        out["failures"] = (
            [f"{r['Name']}: {r['Error']} x{r['Occurrences']}" for r in csv.DictReader(failures.open())]
            if failures.exists()
            else []
        )
    finally:
        drop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--restart-at", type=float, default=20.0)
    args = parser.parse_args()
    result = run(args.members, args.users, args.seconds, args.restart_at)
    result["machine"] = {"cpus": os.cpu_count(), "load_avg_after": [round(x, 1) for x in os.getloadavg()]}
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
