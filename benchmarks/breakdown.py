"""Where the time of "which members could answer this call?" goes, stage by stage.

Prints one JSON object: the median time of the whole question and of each of its stages,
for the same needs, in one process (the read path of ``Recommender.members_for_need``).

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
    from sqlalchemy import select

    from data.generate_demo import generate, write_json
    from matching import scoring
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings
    from matching.store import MemberRow, NeedRow, PartnerRow

    work = args.data_dir or ROOT / "var" / f"bench-{args.members}"
    rec = Recommender(Settings(data_dir=work))
    rec.open()
    with rec.store.read() as tx:
        ids = list(tx.s.scalars(select(NeedRow.ext_id).order_by(NeedRow.pk).limit(args.needs)))
    if not ids:
        doc, _ = generate(members=args.members, projects=args.members // 5)
        path = work / "territory.json"
        work.mkdir(parents=True, exist_ok=True)
        write_json(path, doc)
        rec.ingest(read_file(path), progress=True)
        with rec.store.read() as tx:
            ids = list(tx.s.scalars(select(NeedRow.ext_id).order_by(NeedRow.pk).limit(args.needs)))
    n = len(ids) * args.repeat
    for need_id in ids:  # warm: columns, query vectors, tokens
        rec.member_for_need(T, need_id, k=10)
    with rec.store.read() as tx:
        tpk = rec._territory_pk(tx, T)
        needs = [rec._need(tx, tpk, i) for i in ids]
        mask = rec._available_mask(tx, tpk)
        cols = rec._member_columns(tx, tpk)
    texts = [need.full_text() for _, need, _, _ in needs]
    vectors = [rec._query_vector(t, "member") for t in texts]
    index, lexical = rec.indexes["member"], rec.lexical["member"]
    weights = rec.weights.for_question("member_for_need")
    faiss.omp_set_num_threads(1)
    pools = [rec._candidates("member", "member_for_need", v, t, mask) for v, t in zip(vectors, texts, strict=True)]

    def score(i: int) -> list[float]:
        pool, (_, need, _, pdata) = pools[i % len(ids)], needs[i % len(ids)]
        rows = cols.rows(pool.ids)
        comps = dict(pool.components)
        comps["availability"] = cols.availability(rows, need.hours_per_week)
        comps["place"] = cols.place_score(rows, need.remote, pdata.get("commune"))
        comps["load"] = cols.load(rows)
        comps["causes"], present = cols.causes_share(rows, pdata.get("causes", []))
        return scoring.combine_many(comps, weights, {"causes": present})

    def at(seq):
        return lambda i: seq[i % len(seq)]

    out = {
        "members": len(index),
        "index": index.structure,
        "pool_median": statistics.median(len(p) for p in pools),
        "ms": {
            "whole question (k=10)": median_ms(lambda i: rec.member_for_need(T, ids[i % len(ids)], k=10), n),
            "floor: FAISS k=10, no filter": median_ms(lambda i: index._index.search(at(vectors)(i)[None], 10), n),
            "FAISS k=200, allowed members only": median_ms(
                lambda i: index.search_arrays(at(vectors)(i)[None], rec.weights.retrieval.pool, allowed=mask), n
            ),
            "BM25 scores of the query": median_ms(lambda i: lexical.query(at(texts)(i)), n),
            "retrieval (dense + BM25 + feedback)": median_ms(
                lambda i: rec._candidates("member", "member_for_need", at(vectors)(i), at(texts)(i), mask), n
            ),
            "structured components + scores of the pool": median_ms(score, n),
            "query vector (cached)": median_ms(lambda i: rec._query_vector(at(texts)(i), "member"), n),
            "vectors of the pool": median_ms(lambda i: index.vectors(pools[i % len(ids)].ids), n),
        },
    }
    # a profile update, then the next question (the read path brings the written member up to date)
    with rec.store.read() as tx:
        member_id = tx.s.scalar(select(MemberRow.ext_id).where(MemberRow.available.is_(True)).order_by(MemberRow.pk))
    member = rec.get_member(T, member_id)
    with rec.store.read() as tx:
        partners = list(tx.s.scalars(select(PartnerRow.ext_id).order_by(PartnerRow.pk)))
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
