"""Retrieval metrics and the benchmark runner behind ``maillage eval``.

The runner pushes a generic corpus through the **product's own pipeline**: documents are
ingested as consenting members of a dedicated territory (same store, encoder, cache,
FAISS index, lexical channel and scoring as the service), each query goes through
``Recommender.search_text(..., "members")``, and the ranking is scored against the
relevant ids.

Input format (JSON Lines, UTF-8):

- corpus: one ``{"id": str, "text": str}`` per line;
- queries: one ``{"id": str, "text": str, "relevant": [ids]}`` per line.

Example:
    >>> ndcg_at_k(["a", "b", "c"], {"b"}, k=10)
    0.6309297535714575
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from matching.errors import MaillageError

# -- metrics -------------------------------------------------------------------------------


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant ids found in the first k."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-relevance nDCG@k (log2 discount, ideal = all relevant first)."""
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    """1 / rank of the first relevant id (0 if none is ranked)."""
    for i, doc in enumerate(ranked):
        if doc in relevant:
            return 1.0 / (i + 1)
    return 0.0


def score_rankings(rankings: dict[str, list[str]], qrels: dict[str, set[str]], k: int = 10) -> dict[str, float]:
    """Mean recall@k, nDCG@k and MRR over the queries of ``qrels``."""
    n = len(qrels)
    if n == 0:
        raise BenchmarkError("aucune requête à évaluer")
    return {
        f"recall@{k}": sum(recall_at_k(rankings.get(q, []), rel, k) for q, rel in qrels.items()) / n,
        f"ndcg@{k}": sum(ndcg_at_k(rankings.get(q, []), rel, k) for q, rel in qrels.items()) / n,
        "mrr": sum(reciprocal_rank(rankings.get(q, []), rel) for q, rel in qrels.items()) / n,
        "n_queries": n,
    }


# -- input files -----------------------------------------------------------------------------


class BenchmarkError(MaillageError, ValueError):
    """A benchmark file is malformed (the message names the file, line and field)."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    relevant: frozenset[str]


def jsonl_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-empty line of a UTF-8 JSON Lines file; French errors
    name the file and the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: fichier introuvable") from None
    except UnicodeDecodeError:
        raise BenchmarkError(f"{path}: le fichier n'est pas en UTF-8") from None
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{path.name}, ligne {no} : JSON invalide ({exc.msg})") from None
        if not isinstance(row, dict):
            raise BenchmarkError(f"{path.name}, ligne {no} : un objet JSON est attendu")
        yield no, row


def _read_jsonl(path: Path, required: dict[str, type]) -> list[dict[str, Any]]:
    rows = []
    for no, row in jsonl_objects(path):
        for name, typ in required.items():
            if name not in row:
                raise BenchmarkError(f"{path.name}, ligne {no}, champ {name!r} : manquant")
            if not isinstance(row[name], typ):
                raise BenchmarkError(f"{path.name}, ligne {no}, champ {name!r} : {typ.__name__} attendu")
        if "relevant" in required and not all(isinstance(r, str) for r in row["relevant"]):
            raise BenchmarkError(f"{path.name}, ligne {no}, champ 'relevant' : liste d'identifiants (str) attendue")
        if not row["text"].strip():
            raise BenchmarkError(f"{path.name}, ligne {no}, champ 'text' : vide")
        rows.append(row)
    if not rows:
        raise BenchmarkError(f"{path.name} : aucune ligne")
    return rows


def read_corpus(path: str | Path) -> dict[str, str]:
    rows = _read_jsonl(Path(path), {"id": str, "text": str})
    corpus: dict[str, str] = {}
    for no, row in enumerate(rows, start=1):
        if row["id"] in corpus:
            raise BenchmarkError(f"{Path(path).name} : identifiant en double {row['id']!r} (ligne {no})")
        corpus[row["id"]] = row["text"]
    return corpus


def read_queries(path: str | Path) -> list[Query]:
    rows = _read_jsonl(Path(path), {"id": str, "text": str, "relevant": list})
    return [Query(r["id"], r["text"], frozenset(r["relevant"])) for r in rows]


# -- runner -------------------------------------------------------------------------------------

EVAL_TERRITORY = "eval"


def _corpus_key(corpus: dict[str, str]) -> str:
    h = hashlib.sha256()
    for doc_id, text in corpus.items():
        h.update(doc_id.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()[:16]


def run_benchmark(
    corpus_path: str | Path,
    queries_path: str | Path,
    *,
    k: int = 10,
    settings: Any = None,
    weights: Any = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    show_progress: bool = False,
    adapt: bool = False,
) -> dict[str, Any]:
    """Evaluate the product's free-text ranking on a corpus and its queries.

    With ``adapt``, the query adapter is first trained on the corpus texts, as
    ``maillage index adapt`` does on a territory's members.

    Documents are stored as members of a territory ``eval`` in a store of their own
    under ``<data dir>/eval/<corpus hash>/`` (re-runs reuse its vector cache).
    """
    from matching.domain import Member, Territory
    from matching.ingest import Batch
    from matching.recommender import Recommender
    from matching.settings import Settings

    corpus = read_corpus(corpus_path)
    queries = read_queries(queries_path)
    if limit:
        queries = queries[:limit]
    unknown = {r for q in queries for r in q.relevant} - set(corpus)
    if unknown:
        raise BenchmarkError(f"identifiants 'relevant' absents du corpus : {sorted(unknown)[:5]}")
    base = settings or Settings()
    # member ids must match the id pattern; keep a mapping back to the corpus ids
    ext = {doc_id: f"d{i}" for i, doc_id in enumerate(corpus)}
    back = {v: k_ for k_, v in ext.items()}
    eval_dir = base.data_dir / "eval" / f"{_corpus_key(corpus)}-{base.encoder.replace('/', '_').replace(':', '_')}"
    eval_settings = base.model_copy(
        update={"data_dir": eval_dir, "database_url": f"sqlite:///{eval_dir / 'eval.sqlite'}", "max_k": max(k, base.max_k)}
    )
    rec = Recommender(eval_settings, weights=weights)
    t0 = time.perf_counter()
    try:
        rec.open()
        batch = Batch(territories=[Territory(id=EVAL_TERRITORY, name="Évaluation")])
        batch.members = [
            (EVAL_TERRITORY, Member(id=ext[d], display_name=d[:200], skills=text[:4000], consent=True, max_engagements=1))
            for d, text in corpus.items()
        ]
        rec.ingest(batch, progress=show_progress)
        if adapt:
            adapter = rec.fit_adapter("member")
        else:  # an adapter left by an earlier --adapt run must not leak into this one
            rec.drop_adapter("member")
            adapter = {"trained": False}
        t_index = time.perf_counter() - t0
        rankings: dict[str, list[str]] = {}
        iterator: Any = queries
        if show_progress:
            from tqdm.auto import tqdm

            iterator = tqdm(queries, desc="Requêtes", unit="requête")
        t1 = time.perf_counter()
        for i, q in enumerate(iterator):
            matches = rec.search_text(EVAL_TERRITORY, q.text, "members", k=k)
            rankings[q.id] = [back[m.id] for m in matches]
            if progress:
                progress(i + 1, len(queries))
        t_query = time.perf_counter() - t1
        result = score_rankings(rankings, {q.id: set(q.relevant) for q in queries}, k=k)
        result["config"] = {
            "encoder": rec.encoder.model_id,
            "weights": rec.weights.free_text,
            "retrieval": rec.weights.retrieval.model_dump(),
            "adapter": adapter,
            "k": k,
            "corpus": str(corpus_path),
            "queries": str(queries_path),
            "n_documents": len(corpus),
        }
        result["timing_s"] = {"index": round(t_index, 2), "queries": round(t_query, 2)}
        return result
    finally:
        rec.close()


# -- domain evaluation on the demo territory ----------------------------------------------------------

DEMO_DOC = Path(__file__).resolve().parent.parent / "data" / "demo" / "sceaux-valley.json"
DEMO_TRUTH = DEMO_DOC.with_name("truth.json")


def run_demo_evaluation(
    *,
    k: int = 10,
    settings: Any = None,
    weights: Any = None,
    doc_path: str | Path = DEMO_DOC,
    truth_path: str | Path = DEMO_TRUTH,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Evaluate the four questions' rankings against the generator's hidden truth.

    - ``member_for_need``: recall@k, nDCG@k, MRR of the members of the need's hidden
      skill family (consenting, below their engagement limit);
    - ``routing``: top-1 accuracy of the offering proposed for the current stage and for
      the next stage, overall and per stage, and the confusion (truth -> proposed).
    """
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    batch = read_file(doc_path)
    territory = batch.territories[0].id
    base = settings or Settings()
    key = hashlib.sha256(Path(doc_path).read_bytes()).hexdigest()[:16]
    eval_dir = base.data_dir / "eval" / f"demo-{key}-{base.encoder.replace('/', '_').replace(':', '_')}"
    eval_settings = base.model_copy(update={"data_dir": eval_dir, "database_url": f"sqlite:///{eval_dir / 'eval.sqlite'}"})
    rec = Recommender(eval_settings, weights=weights)
    try:
        rec.open()
        rec.ingest(batch, progress=show_progress)
        need_members = truth.get("need_members") or {
            n: truth["family_members"][f]
            for n, f in truth["need_family"].items()
            if n in truth.get("open_needs", truth["need_family"])
        }
        open_needs = {n.id for _, p in batch.projects for n in p.needs if n.status == "open"}
        qrels = {n: set(ms) for n, ms in need_members.items() if n in open_needs and ms}
        rankings = {}
        for need_id in _progress(sorted(qrels), show_progress, "Besoins"):
            rankings[need_id] = [m.id for m in rec.member_for_need(territory, need_id, k=k)]
        members = score_rankings(rankings, qrels, k=k)

        stage_of = truth["project_stage"]
        expected = truth["project_offerings"]
        by_stage: dict[str, dict[str, float]] = {}
        confusion: dict[str, dict[str, int]] = {}
        hits_cur = hits_next = n_next = 0
        offering_rr = []
        for pid in _progress(sorted(expected), show_progress, "Projets"):
            routing = rec.route_project(territory, pid)
            want = expected[pid]
            got_cur = routing["current"].id if routing["current"] else None
            got_next = routing["next"].id if routing["next"] else None
            ok = got_cur == want["current"]
            hits_cur += ok
            stats = by_stage.setdefault(stage_of[pid], {"n": 0, "top1_current": 0})
            stats["n"] += 1
            stats["top1_current"] += ok
            row = confusion.setdefault(want["current"], {})
            row[str(got_cur)] = row.get(str(got_cur), 0) + 1
            if want.get("next"):
                n_next += 1
                hits_next += got_next == want["next"]
            ranked = [m.id for m in rec.offering_for_project(territory, pid, k=rec.settings.max_k)]
            offering_rr.append(reciprocal_rank(ranked, {want["current"]}))
        for stats in by_stage.values():
            stats["top1_current"] = round(stats["top1_current"] / stats["n"], 4)
        return {
            "member_for_need": members,
            "routing": {
                "top1_current": hits_cur / len(expected),
                "top1_next": hits_next / n_next if n_next else None,
                "mrr_offerings": sum(offering_rr) / len(offering_rr),
                "n_projects": len(expected),
                "by_stage": dict(sorted(by_stage.items())),
                "confusion": confusion,
            },
            "config": {"encoder": rec.encoder.model_id, "weights": rec.weights.model_dump(), "k": k, "demo": str(doc_path)},
        }
    finally:
        rec.close()


def _progress(items: list[str], show: bool, desc: str) -> Any:
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc)


# -- fair exposure -------------------------------------------------------------------------------------


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values (0 = everyone equal, → 1 = one takes all)."""
    import numpy as np

    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * x.sum()) - (n + 1) / n)


def simulate_exposure(
    *,
    requests: int = 200,
    k: int = 5,
    caps: bool = True,
    seed: int = 0,
    settings: Any = None,
    weights: Any = None,
    doc_path: str | Path = DEMO_DOC,
    truth_path: str | Path = DEMO_TRUTH,
    days: int = 30,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Replay a month of requests "who could answer this call?" on the demo territory.

    Each request (an open need drawn at random, seeded) shows the top ``k`` members (the
    service records its ``shown``); the first one is contacted and does not answer (events
    recorded as the service would), so the exposure policy sees the history build up. Returns exposure Gini and catalogue
    coverage over the available members, and nDCG@k against the hidden truth.
    """
    import random
    import shutil

    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    batch = read_file(doc_path)
    territory = batch.territories[0].id
    base = settings or Settings()
    sim_dir = base.data_dir / "simulations" / f"exposure-{'caps' if caps else 'nocaps'}-{seed}"
    shutil.rmtree(sim_dir, ignore_errors=True)  # a simulation writes events: start clean
    sim_settings = base.model_copy(update={"data_dir": sim_dir, "database_url": f"sqlite:///{sim_dir / 'sim.sqlite'}"})
    rec = Recommender(sim_settings, weights=weights)
    try:
        rec.open()
        rec.ingest(batch)
        open_needs = sorted(
            n.id for _, p in batch.projects for n in p.needs if n.status == "open" and n.id in truth["need_members"]
        )
        available = sorted(m.id for _, m in batch.members if m.consent and m.active_engagements < m.max_engagements)
        rng = random.Random(seed)
        start = rec.clock.now() - timedelta(days=days)
        exposure = dict.fromkeys(available, 0)
        ndcgs = []
        from matching.domain import FeedbackEvent

        items = range(requests)
        if show_progress:
            from tqdm.auto import tqdm

            items = tqdm(items, desc="Requêtes simulées")
        for i in items:
            need_id = rng.choice(open_needs)
            at = start + timedelta(seconds=i * days * 86400 / requests)
            matches = rec.member_for_need(territory, need_id, k=k, fair=caps, now=at)
            for m in matches:
                exposure[m.id] = exposure.get(m.id, 0) + 1
            ndcgs.append(ndcg_at_k([m.id for m in matches], set(truth["need_members"][need_id]), k))
            rec.record_shown(territory, "member_for_need", need_id, matches, at=at)
            if matches:
                top = matches[0]
                suggestion = {"question": "member_for_need", "subject_id": need_id, "candidate_id": top.id}
                contacted = FeedbackEvent(
                    id=f"sim{i}-c", type="contacted", at=at, score=top.score, breakdown=top.breakdown, **suggestion
                )
                silent = FeedbackEvent(id=f"sim{i}-n", type="no_answer", at=at + timedelta(minutes=1), **suggestion)
                rec.record_events(territory, [contacted, silent])
        counts = [exposure.get(m, 0) for m in available]
        return {
            "caps": caps,
            "requests": requests,
            "k": k,
            f"ndcg@{k}": sum(ndcgs) / len(ndcgs),
            "exposure_gini": gini(counts),
            "coverage": sum(1 for c in counts if c > 0) / len(counts),
            "max_exposure": max(counts),
            "members_available": len(available),
            "policy": rec.weights.exposure.model_dump(),
        }
    finally:
        rec.close()
