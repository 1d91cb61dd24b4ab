"""Replicas (issue 16): how fast a process is ready from a snapshot, and how fast a write reaches
the other processes. Prints JSON on stdout. Measures, not tests (docs/performance.md).

    # a territory of N members with synthetic vectors (as benchmarks/perf.py), its snapshot
    .venv/bin/python benchmarks/replicas.py build --members 100000 --dir /tmp/replica-100k
    # a new process: ready from the snapshot (indexes, read model, first question of each kind)
    .venv/bin/python benchmarks/replicas.py start --dir /tmp/replica-100k --runs 3 [--requests 30]
    # three `maillage serve` on one PostgreSQL: a write through one, seen by the two others
    .venv/bin/python benchmarks/replicas.py propagation --writes 200
    # recall@10 of the saved member index against exact search, at several nprobe
    .venv/bin/python benchmarks/replicas.py recall --dir /tmp/replica-1m --nprobe 10,19

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

import numpy as np

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


def start_child(directory: Path, url: str | None, requests: int) -> dict:
    """One start in this (new) process: imports, open (snapshot + log tail), warm-up, the first
    question of each kind (all counted in "ready"); then each question's latency over
    ``requests`` subjects, three times. The subjects are read from the store (the first ids)."""
    from benchmarks.perf import pct, peak_rss_mb, timed

    t0 = time.perf_counter()
    from matching.recommender import Recommender
    from matching.settings import Settings
    from matching.store import queries

    phases: dict = {"imports_s": time.perf_counter() - t0}
    settings = Settings(data_dir=directory / "var", **({"database_url": url} if url else {}))
    t = time.perf_counter()
    rec = Recommender(settings)
    opened = rec.open()
    phases["open_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rec.warm_up()
    phases["warm_up_s"] = time.perf_counter() - t
    with rec.store.read() as tx:
        tpk = tx.territory_pk(T)
        subjects = {
            kind: queries.ext_ids(tx, kind=kind, territory_pk=tpk, limit=max(1, requests))
            for kind in ("need", "member", "project", "partner")
        }
    calls = {
        "members_for_need": lambda s: rec.member_for_need(T, s, k=10),
        "needs_for_member": lambda s: rec.need_for_member(T, s, k=10),
        "offerings_for_project": lambda s: rec.offering_for_project(T, s, k=10),
        "projects_for_partner": lambda s: rec.project_for_partner(T, s, k=10),
    }
    of = {
        "members_for_need": "need",
        "needs_for_member": "member",
        "offerings_for_project": "project",
        "projects_for_partner": "partner",
    }
    first = {}
    for q, fn in calls.items():
        t = time.perf_counter()
        fn(subjects[of[q]][0])
        first[q] = round((time.perf_counter() - t) * 1000, 1)
    ready = time.perf_counter() - t0
    out = {
        "opened": opened,
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "first_question_ms": first,
        "ready_s": round(ready, 2),
        "ready_peak_rss_mb": peak_rss_mb(),
    }
    if requests:
        latency = {}
        for q, fn in calls.items():
            subs = subjects[of[q]]
            for s_ in subs:  # each subject once (its query vector from the cache)
                fn(s_)
            runs, cpu = [], []
            for _ in range(3):
                c = time.process_time()
                runs.append(timed(lambda i, fn=fn, subs=subs: fn(subs[i % len(subs)]), max(requests, len(subs))))
                cpu.append((time.process_time() - c) * 1000 / len(runs[-1]))
            latency[q] = {
                "p50_ms": round(statistics.median(statistics.median(r) for r in runs), 2),
                "p99_ms": round(statistics.median(pct(r, 99) for r in runs), 2),
                "p50_per_run": [round(statistics.median(r), 2) for r in runs],
                # CPU time of the process per question (mean): what the machine's load does not inflate
                "cpu_ms_mean": round(statistics.median(cpu), 2),
            }
        out["in_process_ms"] = latency
        out["peak_rss_mb"] = peak_rss_mb()
    out["index"] = {
        kind: rec.indexes.dense(kind).structure + f" {rec.indexes.dense(kind).params}" for kind in ("member", "need", "project")
    }
    rec.close()
    return out


def start(directory: Path, runs: int, url: str | None, requests: int = 0) -> dict:
    results = []
    for _ in range(runs):
        cmd = [sys.executable, __file__, "--child", "start", str(directory), url or "", str(requests)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if res.returncode != 0:
            return {"error": res.stderr.strip().splitlines()[-5:]}
        results.append(json.loads(res.stdout))
    return {
        "ready_s_median": statistics.median(r["ready_s"] for r in results),
        "runs": results,
    }


def recall(directory: Path, nprobes: list[int], queries: int = 200) -> dict:
    """Recall@10 of the saved member index (as the service loads it) against exact search over
    the same vectors taken from the vector cache, for held-out queries, at each ``nprobe``."""
    import faiss

    from benchmarks.perf import pct, synthetic, timed
    from embeddings.index import VectorIndex
    from matching.settings import Settings
    from matching.store import Store
    from matching.store import queries as q

    settings = Settings(data_dir=directory / "var")
    store = Store(settings.database_url)
    with store.read() as tx:
        hashes = q.text_hashes(tx, kind="member")
    pks = np.array(sorted(hashes), dtype=np.int64)
    model = VectorIndex.read_metadata(settings.index_dir / "member.faiss.npz")["model_id"]
    exact = faiss.IndexFlatIP(512)
    for start in range(0, len(pks), 50_000):
        chunk = pks[start : start + 50_000]
        found = store.vectors.get_many(model, [hashes[int(pk)] for pk in chunk])
        exact.add(np.vstack([found[hashes[int(pk)]] for pk in chunk]).astype(np.float32))
    rng = np.random.default_rng(99)
    base = np.vstack([exact.reconstruct(int(i)) for i in rng.choice(len(pks), 2000, replace=False)])
    held_out = synthetic(base, queries, seed=99)
    _, truth = exact.search(held_out, 10)
    truth = pks[truth]
    out: dict = {"members": len(pks), "queries": queries}
    index = VectorIndex.load(settings.index_dir / "member.faiss.npz")
    for nprobe in nprobes:
        index.set_nprobe(nprobe)
        got = [[h.id for h in index.search(v, 10)] for v in held_out]
        hits = np.mean([len(set(g) & set(t.tolist())) / 10 for g, t in zip(got, truth, strict=True)])
        lat = timed(lambda i: index.search(held_out[i % queries], 10), 3 * queries)
        out[f"nprobe_{nprobe}"] = {
            "recall_at_10": round(float(hits), 4),
            "search_p50_ms": pct(lat, 50),
            "params": dict(index.params),
        }
    store.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["build", "start", "propagation", "recall"])
    parser.add_argument("--nprobe", default="10,19", help="recall: the nprobe values to measure")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/replica-100k"))
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL (default: SQLite in the data dir)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--requests", type=int, default=0, help="start: then time each question over this many subjects")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn, *rest = args.child
        result = {"start": lambda: start_child(Path(rest[0]), rest[1] or None, int(rest[2]))}[fn]()
        print(json.dumps(result))
        return
    if args.what == "build":
        result = build(args.members, args.dir, args.database_url)
    elif args.what == "start":
        result = start(args.dir, args.runs, args.database_url, args.requests)
    elif args.what == "recall":
        result = recall(args.dir, [int(n) for n in args.nprobe.split(",")])
    else:
        from benchmarks.propagation import propagation

        result = propagation(args.writes)
    result["machine"] = {"cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
