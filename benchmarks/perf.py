"""Speed and scale, measured side by side (issue 6). Prints one JSON document on stdout.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/perf.py                       # 10k end to end + 100k and 1M index scale
    .venv/bin/python benchmarks/perf.py --sizes 10000 --requests 50 --runs 3

Parts (see docs/performance.md for the figures):

- ``ingest`` (10k territory, real model): the whole document end to end (validation, store,
  encoding, index) in texts/s and members/s; the encoder alone on the same texts in the same
  run (ratio); re-ingesting the unchanged file (cache) as a ratio to the first ingest.
- ``recommend`` (same territory): latency p50/p99 of each question for existing entities,
  in-process and over HTTP (``maillage serve`` on loopback); the **floor** (raw FAISS search
  of the same query vector, same k) and the ratio service/floor.
- ``scale`` (each size, separate processes so peak RSS is per size): vectors are **synthetic**
  past the 10k territory (mixtures of the real member vectors plus noise, renormalised:
  encoding 100k or 1M texts takes hours on 2 cores); the automatic index (IVF-SQ8 past 20 000),
  its p50, its recall@10 against exact search on the same queries; the **peer** (a Chroma
  collection, in-process, same vectors, same k) and the ratio ours/peer; peak RSS of a process
  that loads the saved index and serves the queries, as the service would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
T = "sceaux-valley"


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def questions(rec, doc: dict, requests: int) -> tuple[dict, dict]:
    """The subjects asked about (existing entities of the document) and each question's call, k=10."""
    with_needs = [p for p in doc["projects"] if p["needs"]]
    subjects = {
        "members_for_need": [n["id"] for p in with_needs for n in p["needs"]][:requests],
        "needs_for_member": [m["id"] for m in doc["members"]][:requests],
        "offerings_for_project": [p["id"] for p in doc["projects"]][:requests],
        "projects_for_partner": [p["id"] for p in doc["partners"]],
    }
    calls = {
        "members_for_need": lambda s: rec.member_for_need(T, s, k=10),
        "needs_for_member": lambda s: rec.need_for_member(T, s, k=10),
        "offerings_for_project": lambda s: rec.offering_for_project(T, s, k=10),
        "projects_for_partner": lambda s: rec.project_for_partner(T, s, k=10),
    }
    return subjects, calls


# -- ingest + recommend on a real territory ---------------------------------------------------
def territory(work: Path, members: int, args) -> dict:
    from data.generate_demo import generate, write_json
    from embeddings.encoder import build_encoder
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    doc, _ = generate(members=members, projects=members // 5)
    path = work / "territory.json"
    write_json(path, doc)
    settings = Settings(data_dir=work / "var")
    out: dict = {"members": members, "projects": len(doc["projects"]), "needs": sum(len(p["needs"]) for p in doc["projects"])}

    # ingest: end to end, then the encoder alone on the same texts, then the unchanged file again
    rec = Recommender(settings)
    rec.open()
    rec.encoder.encoder.encode(["préchauffage"], kind="document")  # model load is not ingest time
    t = time.perf_counter()
    batch = read_file(path)
    rec.ingest(batch)
    first = time.perf_counter() - t
    texts = [m.text() for _, m in batch.members] + [p.text() for _, p in batch.projects]
    texts += [n.full_text() for _, p in batch.projects for n in p.needs] + [
        o.full_text() for _, p in batch.partners for o in p.offerings
    ]
    unique = list(dict.fromkeys(texts))
    encoder = build_encoder(settings.encoder)
    t = time.perf_counter()
    for start in range(0, len(unique), 256):
        encoder.encode(unique[start : start + 256], kind="document")
    alone = time.perf_counter() - t
    t = time.perf_counter()
    rec.ingest(read_file(path))
    again = time.perf_counter() - t
    out["ingest"] = {
        "texts": len(unique),
        "first_s": round(first, 2),
        "members_per_s": round(members / first, 1),
        "texts_per_s": round(len(unique) / first, 1),
        "encoder_alone_s": round(alone, 2),
        "encoder_texts_per_s": round(len(unique) / alone, 1),
        "ingest_over_encoder": round(alone / first, 3),
        "unchanged_s": round(again, 2),
        "unchanged_speedup": round(first / again, 1),
    }
    del encoder

    # recommend: in-process, floor, HTTP
    import faiss

    subjects, calls = questions(rec, doc, args.requests)
    # the floor: one raw FAISS search of the question's own query vector, same k, nothing around it
    searched = {
        "members_for_need": "member",
        "needs_for_member": "need",
        "offerings_for_project": "offering",
        "projects_for_partner": "project",
    }
    with rec.store.read() as tx:
        text_of = {
            "members_for_need": lambda s: tx.get_need(T, s)[0].full_text(),
            "needs_for_member": lambda s: tx.get_member(T, s).text(),
            "offerings_for_project": lambda s: tx.get_project(T, s).text(),
            "projects_for_partner": lambda s: tx.get_partner(T, s).offerings[0].full_text(),
        }
        queries = {q: rec.encoder.encode([text_of[q](s) for s in subs], kind="query") for q, subs in subjects.items()}
    faiss.omp_set_num_threads(1)
    inproc: dict = {q: [] for q in calls}
    for _ in range(args.runs):
        for q, fn in calls.items():
            subs = subjects[q]
            for s in subs:  # warm: first question of a subject may encode its query
                fn(s)
            inproc[q].append(timed(lambda i, fn=fn, subs=subs: fn(subs[i % len(subs)]), max(args.requests, len(subs))))
    out["in_process_ms"] = {}
    for q, runs in inproc.items():
        index = rec.indexes.dense(searched[q]).faiss_index
        qv = queries[q]
        floor = timed(lambda i, index=index, qv=qv: index.search(qv[i % len(qv) : i % len(qv) + 1], 10), 200)
        p50s = [statistics.median(r) for r in runs]
        out["in_process_ms"][q] = {
            "p50": round(statistics.median(p50s), 3),
            "p99": round(statistics.median([pct(r, 99) for r in runs]), 3),
            "p50_per_run": [round(v, 3) for v in p50s],
            "floor_p50": pct(floor, 50),
            "service_over_floor": round(statistics.median(p50s) / pct(floor, 50), 1),
        }
    rec.close()
    out["http_ms"] = http_latencies(settings.data_dir, subjects, args)
    return out


def http_latencies(data_dir: Path, subjects: dict, args) -> dict:
    import httpx

    from tests.conftest import start_server

    urls = {
        "members_for_need": "/territories/{t}/needs/{s}/members?k=10",
        "needs_for_member": "/territories/{t}/members/{s}/needs?k=10",
        "offerings_for_project": "/territories/{t}/projects/{s}/offerings?k=10",
        "projects_for_partner": "/territories/{t}/partners/{s}/projects?k=10",
    }
    from matching import access
    from matching.settings import Settings
    from matching.store import Store

    store = Store(Settings(data_dir=data_dir).database_url)
    key, _ = access.create_key(store, T, "agent", label="benchmarks/perf.py")
    store.dispose()
    proc, base = start_server(data_dir)
    try:
        out = {}
        with httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": key}) as client:
            for q, url in urls.items():
                subs = subjects[q]
                for s in subs:
                    client.get(url.format(t=T, s=s)).raise_for_status()
                runs = [
                    timed(
                        lambda i, url=url, subs=subs: client.get(url.format(t=T, s=subs[i % len(subs)])).raise_for_status(),
                        max(args.requests, len(subs)),
                    )
                    for _ in range(args.runs)
                ]
                out[q] = {
                    "p50": round(statistics.median(statistics.median(r) for r in runs), 3),
                    "p99": round(statistics.median(pct(r, 99) for r in runs), 3),
                }
        return out
    finally:
        proc.terminate()
        proc.wait(10)


# -- scale: synthetic vectors, automatic index, recall, peer, RSS -------------------------------
def synthetic(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors near the real ones: a real vector, a little of another, and noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        a, b = base[rng.integers(0, len(base), m)], base[rng.integers(0, len(base), m)]
        x = a + 0.3 * b + 0.05 * rng.standard_normal(a.shape, dtype=np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def scale_build(base_path: Path, n: int, work: Path, nq: int) -> dict:
    """Child process: synthetic vectors, the automatic index (saved), exact top-10 of the queries."""
    import faiss

    from embeddings.index import VectorIndex

    base = np.load(base_path)
    x = base if n <= len(base) else synthetic(base, n)
    x = x[:n]
    queries = synthetic(base, nq, seed=99)  # held out: not vectors of the index
    t = time.perf_counter()
    index = VectorIndex(x.shape[1], "bench")
    index.upsert(np.arange(1, n + 1), x)
    build_s = time.perf_counter() - t
    index.save(work / "index.npz")
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)
    np.save(work / "truth.npy", truth + 1)
    np.save(work / "queries.npy", queries)
    np.save(work / "vectors.npy", x)
    return {"build_s": round(build_s, 1), "kind": index.structure, "params": index.params, "build_peak_rss_mb": peak_rss_mb()}


def scale_serve(work: Path) -> dict:
    """Child process: load the saved index as the service would, search, recall, peak RSS."""
    from embeddings.index import VectorIndex

    index = VectorIndex.load(work / "index.npz")
    queries, truth = np.load(work / "queries.npy"), np.load(work / "truth.npy")
    for q in queries[:20]:
        index.search(q, 10)
    lat = timed(lambda i: index.search(queries[i % len(queries)], 10), 3 * len(queries))
    found = [[h.id for h in index.search(q, 10)] for q in queries]
    recall = float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))
    return {
        "kind": index.structure,
        "params": index.params,
        "search_p50_ms": pct(lat, 50),
        "search_p99_ms": pct(lat, 99),
        "recall_at_10": round(recall, 4),
        "peak_rss_mb": peak_rss_mb(),
    }


def scale_peer(work: Path) -> dict:
    """Child process: the same vectors in a Chroma collection (HNSW, cosine), same queries, same k."""
    import chromadb

    x, queries, truth = np.load(work / "vectors.npy"), np.load(work / "queries.npy"), np.load(work / "truth.npy")
    client = chromadb.EphemeralClient()
    col = client.create_collection("bench", metadata={"hnsw:space": "cosine"})
    t = time.perf_counter()
    step = 5_000
    for start in range(0, len(x), step):
        col.add(ids=[str(i + 1) for i in range(start, min(start + step, len(x)))], embeddings=x[start : start + step])
    add_s = time.perf_counter() - t
    for q in queries[:20]:
        col.query(query_embeddings=[q], n_results=10, include=[])
    lat = timed(lambda i: col.query(query_embeddings=[queries[i % len(queries)]], n_results=10, include=[]), 3 * len(queries))
    found = [[int(i) for i in col.query(query_embeddings=[q], n_results=10, include=[])["ids"][0]] for q in queries]
    recall = float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))
    return {
        "add_s": round(add_s, 1),
        "query_p50_ms": pct(lat, 50),
        "query_p99_ms": pct(lat, 99),
        "recall_at_10": round(recall, 4),
        "peak_rss_mb": peak_rss_mb(),
    }


def scale_service(base_path: Path, n: int, work: Path, requests: int, runs: int) -> dict:
    """Child process: the whole service on a generated territory of ``n`` members.

    The texts come from the demo generator; their vectors are synthetic (put in the vector
    cache before the ingest, so nothing is encoded: encoding 100 000 members takes about
    30 minutes here). Everything else is the product's path: validation, store, index,
    BM25, filters, scores, reasons.
    """
    from data.generate_demo import generate, write_json
    from embeddings.cache import text_hash
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    t = time.perf_counter()
    doc, _ = generate(members=n, projects=n // 5)
    path = work / "territory.json"
    write_json(path, doc)
    out: dict = {"members": n, "projects": len(doc["projects"]), "generate_s": round(time.perf_counter() - t, 1)}
    rec = Recommender(Settings(data_dir=work / "var"))
    rec.open()
    batch = read_file(path)
    texts = [m.text() for _, m in batch.members] + [p.text() for _, p in batch.projects]
    texts += [nd.full_text() for _, p in batch.projects for nd in p.needs]
    texts += [o.full_text() for _, p in batch.partners for o in p.offerings]
    unique = list(dict.fromkeys(texts))
    vectors = synthetic(np.load(base_path), len(unique), seed=7)
    for start in range(0, len(unique), 20_000):
        chunk = unique[start : start + 20_000]
        rec.encoder.cache.put_many(rec.encoder.model_id, {text_hash(x): v for x, v in zip(chunk, vectors[start:], strict=False)})
    del vectors
    t = time.perf_counter()
    rec.ingest(batch)
    out["ingest_s_vectors_cached"] = round(time.perf_counter() - t, 1)
    out["index"] = {"kind": rec.indexes.dense("member").structure, "params": rec.indexes.dense("member").params}
    del batch
    subjects, calls = questions(rec, doc, requests)
    del doc
    out["in_process_ms"] = {}
    for q, fn in calls.items():
        subs = subjects[q]
        t = time.perf_counter()
        fn(subs[0])  # the first question builds the in-memory columns of the territory
        first = (time.perf_counter() - t) * 1000
        for s in subs:
            fn(s)
        per_run = [timed(lambda i, fn=fn, subs=subs: fn(subs[i % len(subs)]), max(requests, len(subs))) for _ in range(runs)]
        out["in_process_ms"][q] = {
            "first_ms": round(first, 1),
            "p50": round(statistics.median(statistics.median(r) for r in per_run), 3),
            "p99": round(statistics.median(pct(r, 99) for r in per_run), 3),
        }
    out["peak_rss_mb"] = peak_rss_mb()
    rec.close()
    return out


def child(fn: str, *args: str) -> dict:
    cmd = [sys.executable, __file__, "--child", fn, *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return json.loads(res.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="members, comma-separated (the first one is the real territory)"
    )
    parser.add_argument("--requests", type=int, default=50, help="subjects asked per question and run")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are reported)")
    parser.add_argument("--queries", type=int, default=200, help="held-out queries for recall and index latency")
    parser.add_argument("--peer-max", type=int, default=100_000, help="largest size given to Chroma (adding 1M takes long)")
    parser.add_argument(
        "--service-sizes",
        default="100000",
        help="sizes (among --sizes, past the first) at which the whole service is also measured (synthetic vectors)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn, *rest = args.child
        result = {
            "build": lambda: scale_build(Path(rest[0]), int(rest[1]), Path(rest[2]), int(rest[3])),
            "serve": lambda: scale_serve(Path(rest[0])),
            "peer": lambda: scale_peer(Path(rest[0])),
            "service": lambda: scale_service(Path(rest[0]), int(rest[1]), Path(rest[2]), int(rest[3]), int(rest[4])),
        }[fn]()
        print(json.dumps(result))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    service_sizes = {int(s) for s in args.service_sizes.split(",") if s}
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first = territory(work / "territory", sizes[0], args)
        report["sizes"][str(sizes[0])] = {"territory": first, "vectors": "real (USE multilingual)"}
        from embeddings.index import VectorIndex

        base = VectorIndex.load(work / "territory" / "var" / "index" / "member.faiss.npz")
        np.save(work / "base.npy", base.vectors(base.id_array()))
        for n in sizes:
            d = work / f"scale-{n}"
            d.mkdir()
            entry = report["sizes"].setdefault(str(n), {"vectors": "synthetic (mixtures of the real member vectors + noise)"})
            entry["index"] = child("build", str(work / "base.npy"), str(n), str(d), str(args.queries))
            entry["index"] |= child("serve", str(d))
            if n <= args.peer_max:
                entry["peer_chroma"] = child("peer", str(d))
                if "query_p50_ms" in entry["peer_chroma"] and "search_p50_ms" in entry["index"]:
                    entry["ours_over_peer"] = round(entry["index"]["search_p50_ms"] / entry["peer_chroma"]["query_p50_ms"], 3)
            else:
                entry["peer_chroma"] = f"not measured past --peer-max={args.peer_max}"
            if n in service_sizes and n != sizes[0]:
                svc = d / "service"
                svc.mkdir()
                entry["service"] = child("service", str(work / "base.npy"), str(n), str(svc), str(args.requests), str(args.runs))
                chroma = entry["peer_chroma"].get("query_p50_ms") if isinstance(entry["peer_chroma"], dict) else None
                if chroma and "in_process_ms" in entry["service"]:
                    entry["service_over_peer"] = {
                        q: round(v["p50"] / chroma, 3) for q, v in entry["service"]["in_process_ms"].items()
                    }
            print(json.dumps({"done": n, **entry}), file=sys.stderr)
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
