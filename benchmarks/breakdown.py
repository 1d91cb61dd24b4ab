"""Where the time of "which members could answer this call?" goes, stage by stage.

Prints one JSON object: the median time of the whole question and of each of its stages,
for the same needs, in one process (the read path of ``Recommender.member_for_need``), each stage
through the public interfaces of the read model, the index set, retrieval and fusion.

    .venv/bin/python benchmarks/breakdown.py --members 10000              # generates and ingests once (real model)
    .venv/bin/python benchmarks/breakdown.py --data-dir var/bench-10000   # reuses it
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
T = "sceaux-valley"


def median_ms(fn, n: int) -> float:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000, help="size of the generated territory")
    parser.add_argument("--data-dir", type=Path, help="where the territory lives (default: var/bench-<members>)")
    parser.add_argument("--needs", type=int, default=30, help="needs asked about")
    parser.add_argument("--repeat", type=int, default=5, help="times each need is asked per measure")
    args = parser.parse_args()

    import faiss

    from data.generate_demo import generate, write_json
    from matching import fusion, retrieval
    from matching.domain import Need
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings
    from matching.store import queries

    work = args.data_dir or ROOT / "var" / f"bench-{args.members}"
    rec = Recommender(Settings(data_dir=work))
    rec.open()
    with rec.store.read() as tx:
        ids = queries.ext_ids(tx, kind="need", limit=args.needs)
    if not ids:
        doc, _ = generate(members=args.members, projects=args.members // 5)
        path = work / "territory.json"
        work.mkdir(parents=True, exist_ok=True)
        write_json(path, doc)
        rec.ingest(read_file(path), progress=True)
        with rec.store.read() as tx:
            ids = queries.ext_ids(tx, kind="need", limit=args.needs)
    n = len(ids) * args.repeat
    for need_id in ids:  # warm: columns, query vectors, tokens
        rec.member_for_need(T, need_id, k=10)
    with rec.store.read() as tx:
        model = rec.models.of(tx, T)
        needs = [queries.need_subject(tx, territory_pk=model.territory_pk, need_id=i) for i in ids]
        mask = model.available_members(tx)
        cols = model.member_columns(tx)
    needs = [(Need.model_validate(data), project) for _, data, _, project in needs]
    texts = [need.full_text() for need, _ in needs]
    vectors = [rec.indexes.query_vector(t, "member") for t in texts]
    index, lexical = rec.indexes.dense("member"), rec.indexes.lexical("member")
    weights = rec.weights.for_question("member_for_need")
    params = rec.weights.retrieval
    faiss.omp_set_num_threads(1)

    def gather(i: int):
        return retrieval.hybrid(
            rec.indexes, "member", texts[i % len(ids)], mask, pool=params.pool, weights=weights, feedback_top=params.feedback_top
        )

    pools = [gather(i) for i in range(len(ids))]

    def score(i: int) -> list[float]:
        pool, (need, project) = pools[i % len(ids)], needs[i % len(ids)]
        rows = cols.rows(pool.ids)
        comps = dict(pool.components)
        comps["availability"] = cols.availability(rows, need.hours_per_week)
        comps["place"] = cols.place_score(rows, need.remote, project.get("commune"))
        comps["load"] = cols.load(rows)
        comps["causes"], present = cols.causes_share(rows, project.get("causes", []))
        return fusion.weighted_mean(comps, weights, {"causes": present})

    def at(seq):
        return lambda i: seq[i % len(seq)]

    out = {
        "members": len(index),
        "index": index.structure,
        "pool_median": statistics.median(len(p) for p in pools),
        "ms": {
            "whole question (k=10)": median_ms(lambda i: rec.member_for_need(T, ids[i % len(ids)], k=10), n),
            "floor: FAISS k=10, no filter": median_ms(lambda i: index.faiss_index.search(at(vectors)(i)[None], 10), n),
            "FAISS k=200, allowed members only": median_ms(
                lambda i: index.search_arrays(at(vectors)(i)[None], rec.weights.retrieval.pool, allowed=mask), n
            ),
            "BM25 scores of the query": median_ms(lambda i: lexical.query(at(texts)(i)), n),
            "retrieval (query vector + dense + BM25 + feedback)": median_ms(gather, n),
            "structured components + scores of the pool": median_ms(score, n),
            "query vector (cached)": median_ms(lambda i: rec.indexes.query_vector(at(texts)(i), "member"), n),
            "vectors of the pool": median_ms(lambda i: index.vectors(pools[i % len(ids)].ids), n),
        },
    }
    # a profile update, then the next question (the read path brings the written member up to date)
    with rec.store.read() as tx:
        member_id = queries.ext_ids(tx, kind="member", available=True, limit=1)[0]
        partners = queries.ext_ids(tx, kind="partner")
    member = rec.get_member(T, member_id)
    for p in partners:  # warm: eligible projects of each offering
        rec.project_for_partner(T, p, k=10)
    after_write, partner_after_write = [], []
    for i in range(20):
        rec.upsert_members(T, [member.model_copy(update={"hours_per_week": 1.0 + i % 2})])
        t = time.perf_counter()
        rec.member_for_need(T, ids[i % len(ids)], k=10)
        after_write.append(time.perf_counter() - t)
        rec.upsert_members(T, [member.model_copy(update={"hours_per_week": 1.5 + i % 2})])
        t = time.perf_counter()
        rec.project_for_partner(T, partners[i % len(partners)], k=10)
        partner_after_write.append(time.perf_counter() - t)
    rec.upsert_members(T, [member])
    out["ms"]["first question after a member's profile is written"] = round(statistics.median(after_write) * 1000, 3)
    out["ms"]["projects for a partner, right after a member's profile is written"] = round(
        statistics.median(partner_after_write) * 1000, 3
    )
    rec.close()
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
