"""Replicas (issue 16): how fast a process is ready from a snapshot, and how fast a write reaches
the other processes. Prints JSON on stdout. Measures, not tests (docs/performance.md).

    # a territory of N members with synthetic vectors (as benchmarks/perf.py), its snapshot
    .venv/bin/python benchmarks/replicas.py build --members 100000 --dir /tmp/replica-100k
    # a new process: ready from the snapshot (indexes, read model, first question of each kind)
    .venv/bin/python benchmarks/replicas.py start --dir /tmp/replica-100k --runs 3
    # three `maillage serve` on one PostgreSQL: a write through one, seen by the two others
    .venv/bin/python benchmarks/replicas.py propagation --writes 200

``build``: the texts come from the demo generator; 2 000 member texts are encoded with the real
model and every vector is a synthetic mixture of those (``perf.synthetic``), put in the vector
cache before the ingest: nothing else is encoded. ``start`` runs each start in a new process
(``--child``) and reports where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
T = "sceaux-valley"


def build(members: int, directory: Path, url: str | None) -> dict:
    """Generate, ingest with cached synthetic vectors, snapshot."""
    from benchmarks.perf import peak_rss_mb, synthetic
    from data.generate_demo import generate, write_json
    from embeddings.cache import text_hash
    from embeddings.encoder import build_encoder
    from matching.ingest import Batch, read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    t = time.perf_counter()
    doc, truth = generate(members=members, projects=members // 5)
    del truth
    path = directory / "territory.json"
    directory.mkdir(parents=True, exist_ok=True)
    write_json(path, doc)
    out: dict = {"members": members, "projects": len(doc["projects"]), "generate_s": round(time.perf_counter() - t, 1)}
    del doc
    settings = Settings(data_dir=directory / "var", **({"database_url": url} if url else {}))
    rec = Recommender(settings)
    rec.open()
    batch = read_file(path)
    base = build_encoder(settings.encoder).encode([m.text() for _, m in batch.members[:2000]], kind="document")
    t = time.perf_counter()
    step = 100_000  # members per unit of work (and a fifth as many projects): the memory stays bounded
    for n, start in enumerate(range(0, max(len(batch.members), 1), step)):
        part = Batch(
            territories=batch.territories if n == 0 else [],
            members=batch.members[start : start + step],
            projects=batch.projects[start // 5 : (start + step) // 5],
            partners=batch.partners if n == 0 else [],
        )
        texts = [m.text() for _, m in part.members] + [p.text() for _, p in part.projects]
        texts += [nd.full_text() for _, p in part.projects for nd in p.needs]
        texts += [o.full_text() for _, p in part.partners for o in p.offerings]
        unique = list(dict.fromkeys(texts))
        vectors = synthetic(base, len(unique), seed=7 + n)
        rec.encoder.cache.put_many(rec.encoder.model_id, {text_hash(x): v for x, v in zip(unique, vectors, strict=True)})
        del vectors, texts, unique
        rec.ingest(part)
        print(
            json.dumps({"ingested": start + len(part.members), "s": round(time.perf_counter() - t, 1)}),
            file=sys.stderr,
            flush=True,
        )
    out["ingest_s_vectors_cached"] = round(time.perf_counter() - t, 1)
    del batch
    t = time.perf_counter()
    out["snapshot"] = rec.snapshot(every_kind=True)
    out["snapshot_s"] = round(time.perf_counter() - t, 1)
    out["peak_rss_mb"] = peak_rss_mb()
    rec.close()
    out["files_mb"] = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted(settings.index_dir.glob("*.npz"))}
    return out


def start_child(directory: Path, url: str | None) -> dict:
    """One start in this (new) process: imports, open (snapshot + log tail), warm-up, first
    questions. The subjects asked come from the territory document, read before the clock starts."""
    from benchmarks.perf import peak_rss_mb, questions

    doc = json.loads((directory / "territory.json").read_text(encoding="utf-8"))
    doc = {
        "projects": [p for p in doc["projects"] if p["needs"]][:1],
        "members": doc["members"][:1],
        "partners": doc["partners"][:1],
    }
    t0 = time.perf_counter()
    from matching.recommender import Recommender
    from matching.settings import Settings

    phases: dict = {"imports_s": time.perf_counter() - t0}
    settings = Settings(data_dir=directory / "var", **({"database_url": url} if url else {}))
    t = time.perf_counter()
    rec = Recommender(settings)
    opened = rec.open()
    phases["open_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rec.warm_up()
    phases["warm_up_s"] = time.perf_counter() - t
    subjects, calls = questions(rec, doc, 1)
    del doc
    first = {}
    for q, fn in calls.items():
        t = time.perf_counter()
        fn(subjects[q][0])
        first[q] = round((time.perf_counter() - t) * 1000, 1)
    ready = time.perf_counter() - t0
    rec.close()
    return {
        "opened": opened,
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "first_question_ms": first,
        "ready_s": round(ready, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def start(directory: Path, runs: int, url: str | None) -> dict:
    results = []
    for _ in range(runs):
        cmd = [sys.executable, __file__, "--child", "start", str(directory), url or ""]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if res.returncode != 0:
            return {"error": res.stderr.strip().splitlines()[-5:]}
        results.append(json.loads(res.stdout))
    return {
        "ready_s_median": statistics.median(r["ready_s"] for r in results),
        "runs": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["build", "start", "propagation"])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/replica-100k"))
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL (default: SQLite in the data dir)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn, *rest = args.child
        result = {"start": lambda: start_child(Path(rest[0]), rest[1] or None)}[fn]()
        print(json.dumps(result))
        return
    if args.what == "build":
        result = build(args.members, args.dir, args.database_url)
    elif args.what == "start":
        result = start(args.dir, args.runs, args.database_url)
    else:
        from benchmarks.propagation import propagation

        result = propagation(args.writes)
    result["machine"] = {"cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
