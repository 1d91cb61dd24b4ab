"""Markdown tables of ``benchmarks/perf.py`` results (the tables of docs/performance.md).

    .venv/bin/python benchmarks/perf_report.py benchmarks/results-perf-1.json
    .venv/bin/python benchmarks/perf_report.py run1.json run2.json run3.json   # medians of runs

With several results (the same command run several times on a noisy machine), each figure
is the median over the runs, every ratio being computed within its own run first; a last
table gives each run's value of the figures the targets are about.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

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


class Runs:
    """Several ``perf.py`` reports read as one: ``med(f)`` is the median of ``f(report)``."""

    def __init__(self, reports: list[dict[str, Any]]) -> None:
        self.reports = reports
        self.first = reports[0]

    def values(self, f: Callable[[dict[str, Any]], Any]) -> list[Any]:
        out = []
        for r in self.reports:
            try:
                out.append(f(r))
            except (KeyError, TypeError):  # a part that failed or was not measured in that run
                continue
        return out

    def med(self, f: Callable[[dict[str, Any]], Any]) -> Any:
        return statistics.median(self.values(f))

    def each(self, f: Callable[[dict[str, Any]], Any], fmt: str = "{}") -> str:
        return ", ".join(fmt.format(v) for v in self.values(f))


def territory(r: Runs) -> None:
    first_size = next(iter(r.first["sizes"]))
    t = r.first["sizes"][first_size]["territory"]

    def tq(q: str, part: str, key: str) -> Callable[[dict], Any]:
        return lambda rep: rep["sizes"][first_size]["territory"][part][q][key]

    print(f"### {num(t['members'])} members (real territory, real model)\n")
    print(
        "| question | in-process p50 (runs) | in-process p99 | HTTP p50 | HTTP p99 | floor p50 (FAISS, k=10) | service / floor |"
    )
    print("|---|---|---|---|---|---|---|")
    for q in QUESTIONS:
        runs = ", ".join(f"{v:.2f}" for rep in r.values(tq(q, "in_process_ms", "p50_per_run")) for v in rep)
        print(
            f"| {LABELS[q]} | {ms(r.med(tq(q, 'in_process_ms', 'p50')))} ({runs}) | {ms(r.med(tq(q, 'in_process_ms', 'p99')))} "
            f"| {ms(r.med(tq(q, 'http_ms', 'p50')))} | {ms(r.med(tq(q, 'http_ms', 'p99')))} "
            f"| {r.med(tq(q, 'in_process_ms', 'floor_p50')):.3f} ms | {r.med(tq(q, 'in_process_ms', 'service_over_floor'))} |"
        )

    def g(key: str) -> Any:
        return r.med(lambda rep: rep["sizes"][first_size]["territory"]["ingest"][key])

    print(f"\n| ingest, {num(t['members'])} members ({num(t['ingest']['texts'])} distinct texts) | figure |\n|---|---|")
    print(
        f"| end to end (validation, store, encoding, index) | {g('first_s'):.0f} s: {g('members_per_s')} members/s, "
        f"{g('texts_per_s')} texts/s |"
    )
    print(f"| encoder alone, same texts, same run | {g('encoder_alone_s'):.0f} s: {g('encoder_texts_per_s')} texts/s |")
    print(f"| ingest / encoder throughput | {g('ingest_over_encoder')} |")
    print(f"| unchanged re-ingest | {g('unchanged_s')} s: {g('unchanged_speedup')}× faster than the first ingest |")


def scale(r: Runs) -> None:
    print(
        "\n| size | ours | search p50 / p99 | recall@10 | peak RSS (serving) | Chroma p50 / p99 | Chroma recall | Chroma RSS | ours / peer |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, entry in r.first["sizes"].items():
        x = entry["index"]

        def ix(key: str, n: str = n) -> Any:
            return r.med(lambda rep: rep["sizes"][n]["index"][key])

        def px(key: str, n: str = n) -> Any:
            return r.med(lambda rep: rep["sizes"][n]["peer_chroma"][key])

        params = ", ".join(f"{k} {v}" for k, v in x["params"].items())
        kind = x["kind"] + (f" ({params})" if params else "")
        rss = f"{ix('peak_rss_mb'):.0f} MB" + (f" (build: {ix('build_peak_rss_mb'):.0f} MB)" if int(n) >= 1_000_000 else "")
        p = entry.get("peer_chroma")
        if isinstance(p, dict) and "query_p50_ms" in p:
            ratio = r.med(lambda rep, n=n: rep["sizes"][n]["ours_over_peer"])
            peer = (
                f"{px('query_p50_ms'):.2f} / {px('query_p99_ms'):.1f} ms | {px('recall_at_10'):.3f} "
                f"| {px('peak_rss_mb'):.0f} MB | {ratio}"
            )
        else:
            peer = "not measured | | |"
        search = f"{ix('search_p50_ms'):.2f} / {ix('search_p99_ms'):.1f} ms"
        print(f"| {num(n)} | {kind} | {search} | {ix('recall_at_10'):.3f} | {rss} | {peer} |")


def service(r: Runs) -> None:
    for n, entry in r.first["sizes"].items():
        s = entry.get("service")
        if not s or "in_process_ms" not in s:
            continue

        def sv(f: Callable[[dict], Any], n: str = n) -> Any:
            return r.med(lambda rep: f(rep["sizes"][n]["service"]))

        print(f"\n### The whole service at {num(n)} members (synthetic vectors)\n")
        print(
            f"{num(s['members'])} members, {num(s['projects'])} projects; member index {s['index']['kind']} "
            f"{s['index']['params']}; ingest with the vectors cached {sv(lambda x: x['ingest_s_vectors_cached'])} s; "
            f"peak RSS {sv(lambda x: x['peak_rss_mb']):.0f} MB.\n"
        )
        print("| question | first request | in-process p50 | p99 | service p50 / Chroma p50 (same vectors, same run) |")
        print("|---|---|---|---|---|")
        for q in QUESTIONS:
            first = sv(lambda x, q=q: x["in_process_ms"][q]["first_ms"])
            p50, p99 = sv(lambda x, q=q: x["in_process_ms"][q]["p50"]), sv(lambda x, q=q: x["in_process_ms"][q]["p99"])
            ratio = r.med(lambda rep, n=n, q=q: rep["sizes"][n]["service_over_peer"][q])
            print(f"| {LABELS[q]} | {first / 1000:.1f} s | {ms(p50)} | {ms(p99)} | {ratio} |")


def per_run(r: Runs) -> None:
    """Each run's value of the figures the targets of issue 6 are about."""
    sizes = list(r.first["sizes"])
    small, rows = sizes[0], []
    for q in QUESTIONS:
        rows.append(
            (
                f"{num(small)}: {LABELS[q]}, in-process p50 ms / service÷floor",
                r.each(lambda rep, q=q: rep["sizes"][small]["territory"]["in_process_ms"][q]["p50"], "{:.2f}")
                + " / "
                + r.each(lambda rep, q=q: rep["sizes"][small]["territory"]["in_process_ms"][q]["service_over_floor"]),
            )
        )
    rows.append(
        (
            f"{num(small)}: HTTP p99, worst question (ms)",
            r.each(lambda rep: max(v["p99"] for v in rep["sizes"][small]["territory"]["http_ms"].values()), "{:.1f}"),
        )
    )
    rows.append(("ingest / encoder", r.each(lambda rep: rep["sizes"][small]["territory"]["ingest"]["ingest_over_encoder"])))
    rows.append(
        ("unchanged re-ingest speed-up", r.each(lambda rep: rep["sizes"][small]["territory"]["ingest"]["unchanged_speedup"]))
    )
    for n in sizes[1:]:
        rows.append((f"{num(n)}: index ours / Chroma", r.each(lambda rep, n=n: rep["sizes"][n]["ours_over_peer"])))
        for q in QUESTIONS:
            rows.append(
                (
                    f"{num(n)}: whole service ÷ Chroma, {LABELS[q]}",
                    r.each(lambda rep, n=n, q=q: rep["sizes"][n]["service_over_peer"][q]),
                )
            )
        rows.append((f"{num(n)}: index p50 ms", r.each(lambda rep, n=n: rep["sizes"][n]["index"]["search_p50_ms"])))
        rows.append((f"{num(n)}: index recall@10", r.each(lambda rep, n=n: rep["sizes"][n]["index"]["recall_at_10"])))
        rows.append((f"{num(n)}: serving RSS MB", r.each(lambda rep, n=n: rep["sizes"][n]["index"]["peak_rss_mb"], "{:.0f}")))
    print(f"\n### Each of the {len(r.reports)} runs\n")
    print("| figure | runs |\n|---|---|")
    for label, values in rows:
        if values.strip(" /"):
            print(f"| {label} | {values} |")


def main(paths: list[str]) -> None:
    reports = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            reports.append(json.load(f))
    r = Runs(reports)
    territory(r)
    scale(r)
    service(r)
    if len(reports) > 1:
        per_run(r)


if __name__ == "__main__":
    main(sys.argv[1:] or [f"benchmarks/results-perf-{n}.json" for n in (1, 2, 3)])
