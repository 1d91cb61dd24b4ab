"""Markdown tables of a ``benchmarks/perf.py`` result (the tables of docs/performance.md).

.venv/bin/python benchmarks/perf_report.py benchmarks/results-perf.json
"""

from __future__ import annotations

import json
import sys

QUESTIONS = ("members_for_need", "needs_for_member", "offerings_for_project", "projects_for_partner")
LABELS = {
    "members_for_need": "members for a need",
    "needs_for_member": "calls for a member",
    "offerings_for_project": "offerings for a project",
    "projects_for_partner": "projects for a partner",
}


def num(n: int | str) -> str:
    """12345 -> "12 345" (French thousands separator, as in the docs)."""
    return f"{int(n):,}".replace(",", " ")


def ms(v: float) -> str:
    return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    sizes = report["sizes"]
    first = next(iter(sizes.values()))
    t = first["territory"]
    print(f"### {num(t['members'])} members (real territory, real model)\n")
    print(
        "| question | in-process p50 (runs) | in-process p99 | HTTP p50 | HTTP p99 | floor p50 (FAISS, k=10) | service / floor |"
    )
    print("|---|---|---|---|---|---|---|")
    for q in QUESTIONS:
        i, h = t["in_process_ms"][q], t["http_ms"][q]
        runs = ", ".join(f"{v:.2f}" for v in i["p50_per_run"])
        print(
            f"| {LABELS[q]} | {ms(i['p50'])} ({runs}) | {ms(i['p99'])} | {ms(h['p50'])} | {ms(h['p99'])} "
            f"| {i['floor_p50']:.3f} ms | {i['service_over_floor']} |"
        )
    g = t["ingest"]
    print(f"\n| ingest, {num(t['members'])} members ({num(g['texts'])} distinct texts) | figure |\n|---|---|")
    print(
        f"| end to end (validation, store, encoding, index) | {g['first_s']:.0f} s: {g['members_per_s']} members/s, {g['texts_per_s']} texts/s |"
    )
    print(f"| encoder alone, same texts, same run | {g['encoder_alone_s']:.0f} s: {g['encoder_texts_per_s']} texts/s |")
    print(f"| ingest / encoder throughput | {g['ingest_over_encoder']} |")
    print(f"| unchanged re-ingest | {g['unchanged_s']} s: {g['unchanged_speedup']}× faster than the first ingest |")
    print(
        "\n| size | ours | search p50 / p99 | recall@10 | peak RSS (serving) | Chroma p50 / p99 | Chroma recall | Chroma RSS | ours / peer |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, entry in sizes.items():
        x = entry["index"]
        params = ", ".join(f"{k} {v}" for k, v in x["params"].items())
        kind = x["kind"] + (f" ({params})" if params else "")
        rss = f"{x['peak_rss_mb']:.0f} MB" + (f" (build: {x['build_peak_rss_mb']:.0f} MB)" if int(n) >= 1_000_000 else "")
        p = entry.get("peer_chroma")
        if isinstance(p, dict) and "query_p50_ms" in p:
            peer = f"{p['query_p50_ms']:.2f} / {p['query_p99_ms']:.1f} ms | {p['recall_at_10']:.3f} | {p['peak_rss_mb']:.0f} MB | {entry['ours_over_peer']}"
        else:
            peer = "not measured | | |"
        search = f"{x['search_p50_ms']:.2f} / {x['search_p99_ms']:.1f} ms"
        print(f"| {num(n)} | {kind} | {search} | {x['recall_at_10']:.3f} | {rss} | {peer} |")
    for n, entry in sizes.items():
        s = entry.get("service")
        if not s or "in_process_ms" not in s:
            continue
        print(f"\n### The whole service at {num(n)} members (synthetic vectors)\n")
        print(
            f"{s['members']} members, {s['projects']} projects; member index {s['index']['kind']} "
            f"{s['index']['params']}; ingest with the vectors cached {s['ingest_s_vectors_cached']} s; "
            f"peak RSS {s['peak_rss_mb']:.0f} MB.\n"
        )
        print("| question | first request | in-process p50 | p99 | service p50 / Chroma p50 (same vectors, same run) |")
        print("|---|---|---|---|---|")
        for q in QUESTIONS:
            v = s["in_process_ms"][q]
            ratio = entry.get("service_over_peer", {}).get(q, "")
            print(f"| {LABELS[q]} | {v['first_ms'] / 1000:.1f} s | {ms(v['p50'])} | {ms(v['p99'])} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results-perf.json")
