"""Recall@10 and latency of the approximate index against ``nprobe``, at one size.

Same synthetic vectors and held-out queries as ``benchmarks/perf.py`` (its ``scale`` part);
the index is built once, then searched with each ``nprobe`` by a fresh process that loads
it as the service would (peak RSS of that process). Prints one JSON object.

    .venv/bin/python benchmarks/nprobe_sweep.py --size 1000000 --nprobe 32,48,64,96,125
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import perf


def serve(work: Path, nprobe: int) -> dict:
    from embeddings.index import VectorIndex

    index = VectorIndex.load(work / "index.npz")
    index.set_nprobe(nprobe)
    queries, truth = np.load(work / "queries.npy"), np.load(work / "truth.npy")
    for q in queries[:20]:
        index.search(q, 10)
    lat = perf.timed(lambda i: index.search(queries[i % len(queries)], 10), 3 * len(queries))
    found = [[h.id for h in index.search(q, 10)] for q in queries]
    recall = float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))
    return {
        "nprobe": nprobe,
        "search_p50_ms": perf.pct(lat, 50),
        "search_p99_ms": perf.pct(lat, 99),
        "recall_at_10": round(recall, 4),
        "peak_rss_mb": perf.peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--nprobe", default="32,48,64,96,125")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--base-index",
        type=Path,
        default=None,
        help="a saved member index (<data dir>/index/member.faiss.npz) whose vectors seed the synthetic ones, "
        "as perf.py does with its 10 000-member territory (default: the demo's 320 members, encoded now)",
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(Path(args.serve[0]), int(args.serve[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.base_index:
            from embeddings.index import VectorIndex

            base = VectorIndex.load(args.base_index)
            np.save(work / "base.npy", base.vectors(base.id_array()))
        else:  # real vectors to start from: the demo territory's members, encoded by the default model
            from embeddings.encoder import build_encoder
            from matching.cli import DEMO_FILE
            from matching.domain import Member

            doc = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
            texts = [Member.model_validate(m).text() for m in doc["members"]]
            np.save(work / "base.npy", build_encoder("use-multilingual").encode(texts, kind="document"))
        built = perf.child("build", str(work / "base.npy"), str(args.size), str(work), str(args.queries))
        out = {"size": args.size, "vectors": "synthetic (mixtures of real member vectors + noise)", "build": built, "runs": []}
        for nprobe in (int(v) for v in args.nprobe.split(",")):
            res = subprocess.run(
                [sys.executable, __file__, "--serve", str(work), str(nprobe)], capture_output=True, text=True, check=True
            )
            out["runs"].append(json.loads(res.stdout))
            print(json.dumps(out["runs"][-1]), file=sys.stderr, flush=True)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
