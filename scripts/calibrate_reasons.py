"""Calibrate the threshold under which a semantic reason is not shown (issue 14, item 5).

A reason such as « j'ai tenu les comptes d'une PME » ↔ « tenir la trésorerie » claims that two
texts mean nearly the same thing. It is shown only when the cosine of the two texts (the
service's ``semantic`` component, default encoder) reaches a threshold read from
``data/text/reasons.json``. This script measures, on the suite's hand-written benchmarks
(sceaux-dev calls → members and routing, never the demo), the cosine of every relevant pair
and of every other pair, and prints for candidate thresholds the share of relevant pairs kept
and the share of unrelated pairs shown a semantic reason, for three cosines: of the whole texts
(``semantic_min``, the ``semantic`` component), of the best pair of sentences, one of each
(``sentence_min``, the pair a quote shows), both on calls → members and routing; and of a
routing request's best sentence against an offering's best typical request (``example_min``,
the ``examples`` component; the demo catalogue's examples). Each threshold kept
is the one (on a 0.05 grid) where the relevant pairs kept minus the unrelated pairs shown is
largest (Youden's J): as many true matches explained, as few unrelated ones dressed up as close
in meaning.

    .venv/bin/python scripts/calibrate_reasons.py           # one JSON document on stdout
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings import build_encoder  # noqa: E402
from matching import text as textlib  # noqa: E402
from matching.evaluation import jsonl_objects  # noqa: E402

BENCH = ROOT / "data" / "bench" / "sceaux-dev"


def pairs() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Requests, candidates and the relevance matrix of calls → members and routing."""
    members = [o for _, o in jsonl_objects(BENCH / "members.jsonl")]
    calls = [o for _, o in jsonl_objects(BENCH / "calls.jsonl")]
    demo = json.loads((ROOT / "data" / "demo" / "sceaux-valley.json").read_text(encoding="utf-8"))
    offerings = [o for p in demo["partners"] for o in p["offerings"]]
    routing = [o for _, o in jsonl_objects(BENCH / "routing.jsonl")]
    requests = [c["text"] for c in calls] + [r["text"] for r in routing]
    candidates = [m["text"] for m in members] + [f"{o['title']}. {o['text']}" for o in offerings]
    relevant = np.zeros((len(requests), len(candidates)), dtype=bool)
    mpos = {m["id"]: n for n, m in enumerate(members)}
    opos = {o["id"]: len(members) + n for n, o in enumerate(offerings)}
    valid = np.zeros_like(relevant)
    for i, c in enumerate(calls):
        valid[i, : len(members)] = True
        for mid in c["relevant"]:
            relevant[i, mpos[mid]] = True
    for j, r in enumerate(routing):
        i = len(calls) + j
        valid[i, len(members) :] = True
        relevant[i, opos[r["expected"]]] = True
    return requests, candidates, np.where(valid, relevant, False), valid


def calibrate(cos: np.ndarray, relevant: np.ndarray, valid: np.ndarray) -> dict:
    rel, other = cos[relevant], cos[valid & ~relevant]
    table = [
        {
            "threshold": round(float(t), 2),
            "relevant_kept": round(float((rel >= t).mean()), 3),
            "unrelated_shown": round(float((other >= t).mean()), 3),
        }
        for t in np.arange(0.0, 0.81, 0.05)
    ]
    return {
        "relevant_cosine_median": round(float(np.median(rel)), 3),
        "unrelated_cosine_median": round(float(np.median(other)), 3),
        "chosen_threshold": max(table, key=lambda row: row["relevant_kept"] - row["unrelated_shown"])["threshold"],
        "table": table,
    }


def best_sentence_cosines(encoder, requests: list[str], candidates: list[str]) -> np.ndarray:
    """For each (request, candidate): the best cosine between one sentence of each."""
    split = [textlib.sentences(t) or [t] for t in requests], [textlib.sentences(t) or [t] for t in candidates]
    flat = [s for group in split[0] for s in group], [s for group in split[1] for s in group]
    q, d = encoder.encode(flat[0], kind="query"), encoder.encode(flat[1], kind="document")
    sims = q @ d.T
    qo = np.cumsum([0] + [len(g) for g in split[0]])
    do = np.cumsum([0] + [len(g) for g in split[1]])
    rows = np.maximum.reduceat(sims, qo[:-1], axis=0)
    return np.maximum.reduceat(rows, do[:-1], axis=1)


def main() -> int:
    requests, candidates, relevant, valid = pairs()
    encoder = build_encoder("use-multilingual")
    whole = encoder.encode(requests, kind="query") @ encoder.encode(candidates, kind="document").T
    report = {
        "relevant_pairs": int(relevant.sum()),
        "unrelated_pairs": int((valid & ~relevant).sum()),
        # semantic_min: the cosine of the whole texts (the ``semantic`` component)
        "semantic_min": calibrate(whole, relevant, valid),
        # sentence_min: the best cosine between one sentence of each (the pair a quote shows)
        "sentence_min": calibrate(best_sentence_cosines(encoder, requests, candidates), relevant, valid),
    }
    # example_min: a routing request's sentences against an offering's typical requests (the
    # demo catalogue's examples), relevant when the offering is the one expected
    demo = json.loads((ROOT / "data" / "demo" / "sceaux-valley.json").read_text(encoding="utf-8"))
    offerings = [o for p in demo["partners"] for o in p["offerings"]]
    routing = [o for _, o in jsonl_objects(BENCH / "routing.jsonl")]
    examples = [". ".join(o.get("examples", [])) or o["title"] for o in offerings]
    expected = np.array([[o["id"] == r["expected"] for o in offerings] for r in routing])
    report["example_min"] = calibrate(
        best_sentence_cosines(encoder, [r["text"] for r in routing], examples), expected, np.ones_like(expected)
    )
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
