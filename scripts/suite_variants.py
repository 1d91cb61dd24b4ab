"""Free-text fusion variants on the whole benchmark suite at once (issue 14; docs/quality-suite-exploration.md).

Reads the benchmarks of the packaged suite (``matching.suite``: esco-fr, esco-fr-need2skills,
sceaux-dev calls → members and routing; the demo territory's two questions as a check), scores
every query against its candidates with plain channels (USE, e5, character and word TF-IDF,
the product's BM25), and fuses them in several ways. Every line prints, per benchmark, the
primary figure (ndcg@10, routing: top-1 hits) on all queries / half A / half B (queries
shuffled with seed 0 and cut in two), then the macro mean of the four benchmarks (the demo
columns are a check, not in the mean). Weights are chosen on half A only (macro mean of the
four benchmarks' half A); half B is never looked at to choose.

Vectors come from the suite's cache (``<data dir>/suite/vectors.sqlite``; ``maillage eval
--suite`` fills it), sentence vectors too: the first run encodes what is missing (e5 over the
sentences of the ESCO occupations: several minutes on 2 cores).

    .venv/bin/python scripts/suite_variants.py [--data-dir var] [--part all|channels|fusion|sentences|routing|stage2|final|costs]
    .venv/bin/python scripts/suite_variants.py --part threads     # encoder thread counts, alone and two at once

No relevance judgement builds any channel; the relations only score.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from embeddings.lexical import LexicalIndex
from matching import text as T
from matching.suite import (
    DEFAULT_SUITE,
    E5_MODEL,
    USE_MODEL,
    SuiteVectors,
    Task,
    char_tfidf,
    load_tasks,
    metrics,
    rank,
    read_suite,
)

MAIN = ("esco-fr", "esco-fr-need2skills", "sceaux-dev-calls", "sceaux-dev-routing")
CHECK = ("demo-truth:members", "demo-truth:routing")
SHORT = {
    "esco-fr": "esco-fr",
    "esco-fr-need2skills": "need2skills",
    "sceaux-dev-calls": "calls",
    "sceaux-dev-routing": "routing",
    "demo-truth:members": "demo members",
    "demo-truth:routing": "demo routing",
}
NEG = -1e9  # score of a document outside the candidates (or outside the pool)


# -- data -------------------------------------------------------------------------------------------


@dataclass
class Bench:
    """One task with its candidate mask, halves and channel matrices (queries × documents)."""

    task: Task
    mask: np.ndarray  # bool, queries × documents: the documents a query may rank
    half_a: np.ndarray
    half_b: np.ndarray
    chans: dict[str, np.ndarray] = field(default_factory=dict)
    vec: dict[str, np.ndarray] = field(default_factory=dict)  # document vectors per model
    qvec: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.task.name


def halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return np.array(sorted(order[: n // 2])), np.array(sorted(order[n // 2 :]))


def candidate_mask(task: Task) -> np.ndarray:
    mask = np.zeros((len(task.queries), len(task.docs)), dtype=bool)
    if task.candidates is None:
        mask[:] = True
    else:
        for i, c in enumerate(task.candidates):
            mask[i, c] = True
    return mask


def sentence_owners(texts: list[str]) -> tuple[list[str], np.ndarray]:
    sents, owner = [], []
    for i, t in enumerate(texts):
        parts = T.sentences(t) or [t]
        sents += parts
        owner += [i] * len(parts)
    return sents, np.array(owner)


def reduce_by_owner(sim: np.ndarray, owner: np.ndarray, n: int, how: str, axis: int) -> np.ndarray:
    """Pool a similarity matrix over the sentences of each text (``owner``: text of each
    sentence along ``axis``): ``max``, ``top2`` (mean of the best two), ``lseT`` (soft maximum
    T · log mean exp(s / T)), ``mean``."""
    if axis == 0:
        return reduce_by_owner(sim.T, owner, n, how, 1).T
    order = np.argsort(owner, kind="stable")
    o, s = owner[order], sim[:, order]
    starts = np.r_[0, np.flatnonzero(np.diff(o)) + 1]
    out = np.zeros((sim.shape[0], n), dtype=np.float32)
    if how == "max":
        out[:, o[starts]] = np.maximum.reduceat(s, starts, axis=1)
    elif how == "mean":
        counts = np.diff(np.r_[starts, len(o)])
        out[:, o[starts]] = np.add.reduceat(s, starts, axis=1) / counts
    elif how.startswith("lse"):
        t = float(how[3:])
        m = np.maximum.reduceat(s, starts, axis=1)
        counts = np.diff(np.r_[starts, len(o)])
        e = np.add.reduceat(np.exp((s - np.repeat(m, np.diff(np.r_[starts, len(o)]), axis=1)) / t), starts, axis=1)
        out[:, o[starts]] = m + t * np.log(e / counts)
    elif how == "top2":
        for j, (a, b) in enumerate(zip(starts, np.r_[starts[1:], len(o)], strict=True)):
            block = s[:, a:b]
            if b - a == 1:
                out[:, o[a]] = block[:, 0]
            else:
                top = np.partition(block, -2, axis=1)[:, -2:]
                out[:, o[a]] = top.mean(1)
            del j
    else:
        raise ValueError(how)
    return out


class Loader:
    """Builds the benchmarks and their channels, vectors from the suite's cache."""

    def __init__(self, data_dir: Path) -> None:
        self.vectors = SuiteVectors(data_dir / "suite" / "vectors.sqlite", progress=True)
        suite = read_suite(DEFAULT_SUITE)
        self.benches: dict[str, Bench] = {}
        for _spec, tasks, _extra in load_tasks(suite):
            for task in tasks:
                a, b = halves(len(task.queries))
                self.benches[task.name] = Bench(task, candidate_mask(task), a, b)
        for bench in self.benches.values():
            self.base_channels(bench)

    def enc(self, model: str, texts: list[str], kind: str = "document", desc: str = "") -> np.ndarray:
        return self.vectors.encode(model, texts, kind, desc=desc)

    def base_channels(self, b: Bench) -> None:
        t = b.task
        for key, model in (("use", USE_MODEL), ("e5", E5_MODEL)):
            b.vec[key] = self.enc(model, t.docs, desc=t.name)
            b.qvec[key] = self.enc(model, t.queries, "query", desc=t.name)
            b.chans[key] = b.qvec[key] @ b.vec[key].T
        b.chans["char"] = char_tfidf(t.docs, t.queries)
        b.chans["bm25"] = bm25(t.docs, t.queries)
        b.chans["word"] = word_tfidf(t.docs, t.queries)

    def sentence_channels(self, b: Bench, models: Iterable[str] = ("use", "e5"), doc_side: bool = True) -> None:
        """Query sentences against whole documents (``<m>_q<how>``), whole queries against
        document sentences (``<m>_d<how>``), and sentence against sentence (``<m>_s<how>``)."""
        t = b.task
        qs, qown = sentence_owners(t.queries)
        ds, down = sentence_owners(t.docs)
        for m in models:
            model = USE_MODEL if m == "use" else E5_MODEL
            if f"{m}_qmax" not in b.chans:
                qv = self.enc(model, qs, "query", desc=f"{t.name} phrases des requêtes")
                sim = qv @ b.vec[m].T
                for how in ("max", "top2", "lse0.05", "lse0.1", "mean"):
                    b.chans[f"{m}_q{how}"] = reduce_by_owner(sim, qown, len(t.queries), how, axis=0)
                b.qvec[f"{m}_sent"], b.qvec[f"{m}_sent_owner"] = qv, qown
            if doc_side and f"{m}_dmax" not in b.chans and len(ds) > len(t.docs):
                dv = self.enc(model, ds, desc=f"{t.name} phrases des documents")
                b.vec[f"{m}_dsent"], b.vec["dsent_owner"] = dv, down
                sim = b.qvec[m] @ dv.T
                for how in ("max", "lse0.05", "mean"):
                    b.chans[f"{m}_d{how}"] = reduce_by_owner(sim, down, len(t.docs), how, axis=1)
                if len(qs) * len(ds) <= 60_000_000:
                    ss = reduce_by_owner(b.qvec[f"{m}_sent"] @ dv.T, down, len(t.docs), "max", axis=1)
                    b.chans[f"{m}_smax"] = reduce_by_owner(ss, qown, len(t.queries), "max", axis=0)
            elif doc_side and len(ds) == len(t.docs):  # one sentence per document
                for how in ("max", "lse0.05", "mean"):
                    b.chans[f"{m}_d{how}"] = b.chans[m]
                b.chans[f"{m}_smax"] = b.chans[f"{m}_qmax"]


def bm25(docs: list[str], queries: list[str]) -> np.ndarray:
    """The product's lexical channel: BM25 (k1 1.2, b 0.5) over ``matching.text.lexical_tokens``."""
    index = LexicalIndex(T.lexical_tokens)
    index.upsert(range(len(docs)), docs)
    ids = list(range(len(docs)))
    return np.stack([index.scores(q, ids) for q in queries]).astype(np.float32)


def word_tfidf(docs: list[str], queries: list[str], targets: list[str] | None = None) -> np.ndarray:
    """Cosine of word TF-IDF vectors (the product's stemmed tokens), fitted on the documents;
    ``targets``: score against these texts instead of the documents."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=T.lexical_tokens, sublinear_tf=True, lowercase=False)
    d = vec.fit_transform(docs)
    if targets is not None:
        d = vec.transform(targets)
    return (vec.transform(queries) @ d.T).toarray().astype(np.float32)


# -- normalisation and fusion -----------------------------------------------------------------------------


def masked_stats(s: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = m.sum(1, keepdims=True).clip(min=1)
    mean = np.where(m, s, 0).sum(1, keepdims=True) / n
    var = np.where(m, (s - mean) ** 2, 0).sum(1, keepdims=True) / n
    return mean, np.sqrt(var)


def normalise(s: np.ndarray, m: np.ndarray, how: str) -> np.ndarray:
    """Per query, over the documents of mask ``m``: ``z`` (z-score), ``zclip`` (z within ±3),
    ``cdf`` (Φ(z), in [0, 1]), ``minmax``, ``rrfK`` (1 / (K + rank)), ``raw``; others get 0."""
    s = s.astype(np.float32, copy=False)
    if how == "raw":
        out = s
    elif how == "z":
        mean, sd = masked_stats(s, m)
        out = np.where(sd > 1e-9, (s - mean) / np.maximum(sd, 1e-9), 0.0)
    elif how in ("zclip", "cdf"):  # bounded z: clipped at ±3, or the normal CDF Φ(z) in [0, 1]
        mean, sd = masked_stats(s, m)
        z = np.where(sd > 1e-9, (s - mean) / np.maximum(sd, 1e-9), 0.0)
        if how == "zclip":
            out = np.clip(z, -3.0, 3.0)
        else:
            from scipy.special import ndtr

            out = ndtr(z)
    elif how == "minmax":
        lo = np.where(m, s, np.inf).min(1, keepdims=True)
        hi = np.where(m, s, -np.inf).max(1, keepdims=True)
        out = np.where(hi - lo > 1e-9, (s - lo) / np.maximum(hi - lo, 1e-9), 0.0)
    elif how.startswith("rrf"):
        k = float(how[3:] or 60)
        order = np.argsort(-np.where(m, s, -np.inf), axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(s.shape[1])[None, :].repeat(s.shape[0], 0), axis=1)
        out = 1.0 / (k + ranks + 1)
    else:
        raise ValueError(how)
    return np.where(m, out, 0.0).astype(np.float32)


def fuse(b: Bench, parts: list[tuple[float, str | np.ndarray]], how: str = "z", mask: np.ndarray | None = None) -> np.ndarray:
    """Weighted sum of normalised channels (names of ``b.chans`` or matrices); NEG outside."""
    m = b.mask if mask is None else mask
    s = np.zeros(m.shape, dtype=np.float32)
    for w, c in parts:
        if w:
            s += w * normalise(b.chans[c] if isinstance(c, str) else c, m, how)
    return np.where(m, s, NEG)


def top_k(s: np.ndarray, k: int) -> np.ndarray:
    """Per row, the positions of the ``k`` highest scores (all of them if ``k`` ≥ the width)."""
    if k >= s.shape[1]:
        return np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
    return np.argpartition(-s, k - 1, axis=1)[:, :k]


def neighbours(b: Bench, s: np.ndarray, top: int = 3, space: str = "use", soft: bool = False) -> np.ndarray:
    """Pseudo-relevance feedback: each document's mean cosine to the ``top`` best documents of
    ``s`` (document vectors of ``space``: use, e5 or both averaged)."""
    t = np.argsort(-s, axis=1, kind="stable")[:, :top]
    spaces = ["use", "e5"] if space == "both" else [space]
    out = np.zeros(s.shape, dtype=np.float32)
    for sp in spaces:
        d = b.vec[sp]
        if soft:
            ts = np.take_along_axis(s, t, 1)
            w = np.exp(ts - ts.max(1, keepdims=True))
            w /= w.sum(1, keepdims=True)
            centroid = np.einsum("qt,qtk->qk", w, d[t])
        else:
            centroid = d[t].mean(1)
        out += centroid @ d.T
    return out / len(spaces)


def product_linear(
    b: Bench,
    w: tuple[float, float, float] = (0.55, 0.17, 0.28),
    *,
    dense: str = "use",
    lexical: str | np.ndarray = "bm25",
    lex_norm: str = "max",
    pool: int = 200,
    top: int = 3,
    extra: Iterable[tuple[float, np.ndarray]] = (),
) -> np.ndarray:
    """The service's free-text score (``retrieval.retrieve`` + ``scoring.combine``): pool =
    dense top ``pool`` ∪ lexical top ``pool``; semantic = cosine clipped to [0, 1]; lexical
    = BM25 divided by the best of the pool (``lex_norm`` "max"), or by max(best, F) ("floorF"),
    or BM25 / (BM25 + K) ("satK"); neighbours = weighted mean cosine to the top 3."""
    cos = b.chans[dense] if isinstance(dense, str) else dense
    bm = b.chans[lexical] if isinstance(lexical, str) else lexical
    m = b.mask
    out = np.full(cos.shape, NEG, dtype=np.float32)
    extra = list(extra)
    for i in range(cos.shape[0]):
        cand = np.flatnonzero(m[i])
        c, l_ = cos[i, cand], bm[i, cand]
        keep = set(cand[np.argsort(-c, kind="stable")[:pool]].tolist())
        lt = np.argsort(-l_, kind="stable")[:pool]
        keep |= set(cand[lt[l_[lt] > 0]].tolist())
        p = np.array(sorted(keep))
        sem = np.clip(cos[i, p], 0, 1)
        raw = bm[i, p]
        if lex_norm == "max":
            lex = raw / raw.max() if raw.max() > 0 else raw * 0
        elif lex_norm.startswith("floor"):
            lex = raw / max(raw.max(), float(lex_norm[5:]))
        elif lex_norm.startswith("sat"):
            lex = raw / (raw + float(lex_norm[3:]))
        else:
            raise ValueError(lex_norm)
        score, total = w[0] * sem + w[1] * lex, w[0] + w[1]
        if w[2] > 0 and len(p) > 1:
            s0 = score / total
            t = np.argsort(-s0, kind="stable")[:top]
            tw = np.maximum(s0[t], 0)
            tw = tw / tw.sum() if tw.sum() > 0 else np.full(len(t), 1 / len(t))
            v = b.vec["use"][p]
            score, total = score + w[2] * np.clip((v @ v[t].T) @ tw, 0, 1), total + w[2]
        for ew, e in extra:
            score, total = score + ew * e[i, p], total + ew
        out[i, p] = score / total
    return out


# -- evaluation and report ------------------------------------------------------------------------------------


def per_query(b: Bench, scores: np.ndarray) -> np.ndarray:
    """The primary figure of each query (ndcg@10, or top-1 hit for routing)."""
    ranked = rank(b.task, scores, 10)
    vals = []
    for i, r in enumerate(ranked):
        one = metrics(_one(b.task, i), [r], 10)
        vals.append(one["top1"] if b.task.shape == "routing" else one["ndcg@10"])
    return np.array(vals)


def _one(task: Task, i: int) -> Task:
    return Task(task.name, task.shape, task.doc_ids, task.docs, [task.query_ids[i]], [task.queries[i]], [task.relevant[i]])


def mrr(b: Bench, scores: np.ndarray) -> float:
    return float(metrics(b.task, rank(b.task, scores, 100), 10)["mrr"])


class Report:
    """Prints one markdown row per variant: full / A / B per benchmark, then the macro means."""

    def __init__(self, benches: dict[str, Bench], out: Path | None) -> None:
        self.benches = benches
        self.rows: list[dict] = []
        self.out = out
        names = [n for n in (*MAIN, *CHECK) if n in benches]
        head = " | ".join(SHORT[n] for n in names)
        print(f"| variant | {head} | macro (full / A / B) |", flush=True)
        print("|---" * (len(names) + 2) + "|", flush=True)

    def figures(self, name: str, scores: np.ndarray) -> dict[str, tuple[float, float, float]]:
        b = self.benches[name]
        v = per_query(b, scores)
        return {"full": float(v.mean()), "A": float(v[b.half_a].mean()), "B": float(v[b.half_b].mean())}

    def __call__(self, label: str, make: Callable[[Bench], np.ndarray], *, check: bool = True, extra: str = "") -> dict:
        row: dict = {"variant": label, "figures": {}, "mrr": {}}
        cells = []
        for name in (*MAIN, *(CHECK if check else ())):
            if name not in self.benches:
                continue
            b = self.benches[name]
            s = make(b)
            f = self.figures(name, s)
            row["figures"][name] = f
            if name == "sceaux-dev-calls":
                row["mrr"][name] = mrr(b, s)
            cells.append(_cell(b, f))
        macro = {h: float(np.mean([row["figures"][n][h] for n in MAIN if n in row["figures"]])) for h in ("full", "A", "B")}
        row["macro"] = macro
        if not check:
            cells += ["", ""]
        calls_mrr = f" (calls MRR {row['mrr']['sceaux-dev-calls']:.3f})" if "sceaux-dev-calls" in row["mrr"] else ""
        print(
            f"| {label}{extra} | "
            + " | ".join(cells)
            + f" | {macro['full']:.3f} / {macro['A']:.3f} / {macro['B']:.3f}{calls_mrr} |",
            flush=True,
        )
        self.rows.append(row)
        if self.out:
            self.out.write_text(json.dumps(self.rows, indent=1), encoding="utf-8")
        return row


def _cell(b: Bench, f: dict[str, float]) -> str:
    if b.task.shape == "routing":
        n, na, nb = len(b.task.queries), len(b.half_a), len(b.half_b)
        return f"{round(f['full'] * n)}/{n} · {round(f['A'] * na)}/{na} · {round(f['B'] * nb)}/{nb}"
    return f"{f['full']:.3f} / {f['A']:.3f} / {f['B']:.3f}"


def choose_on_a(benches: dict[str, Bench], grid: Iterable, make: Callable[[Bench, object], np.ndarray]) -> tuple[object, float]:
    """The grid point with the best macro mean of the four benchmarks' half A."""
    best, best_v = None, -1.0
    for point in grid:
        vals = []
        for name in MAIN:
            b = benches[name]
            v = per_query(b, make(b, point))
            vals.append(v[b.half_a].mean())
        if np.mean(vals) > best_v + 1e-9:
            best, best_v = point, float(np.mean(vals))
    return best, best_v


# -- the parts ------------------------------------------------------------------------------------------------


def part_channels(L: Loader, R: Report) -> None:
    print("\n# single channels (cosine or raw score; routing: offerings of the stage)")
    for c, label in (
        ("use", "USE cosine"),
        ("e5", "e5 cosine (query:/passage:)"),
        ("char", "char 3-5-gram TF-IDF cosine"),
        ("word", "word TF-IDF cosine (product's stems)"),
        ("bm25", "BM25 (product's LexicalIndex, lexical_tokens)"),
    ):
        R(label, lambda b, c=c: np.where(b.mask, b.chans[c], NEG))
    print("\n# plain baselines of the suite (z-score fusions, equal weights)")
    R("z: USE + e5 + char (suite baseline `zscore`)", lambda b: fuse(b, [(1, "use"), (1, "e5"), (1, "char")]))
    R("z: USE + e5 (suite baseline `zscore-use-e5`)", lambda b: fuse(b, [(1, "use"), (1, "e5")]))
    print("\n# the product's free-text fusion, re-implemented on matrices")
    R("product: USE 0.55 + BM25/max 0.17 + neighbours 0.28 (pool 200)", lambda b: product_linear(b))
    R("product without neighbours (0.55, 0.17, 0)", lambda b: product_linear(b, (0.55, 0.17, 0.0)))
    R("product without BM25 (0.55, 0, 0.28)", lambda b: product_linear(b, (0.55, 0.0, 0.28)))


def part_fusion(L: Loader, R: Report) -> dict:
    """Normalisations, lexical channel, neighbours; weights on a small grid chosen on A."""
    B = L.benches
    chosen = {}
    print("\n# normalisation of the fusion: USE + e5 + lexical (weight w), each method's w chosen on A")
    for how in ("z", "zclip", "cdf", "rrf60", "minmax"):
        for lex in ("bm25", "char"):
            grid = [0.0, 0.25, 0.5, 1.0]
            w, _ = choose_on_a(B, grid, lambda b, w, how=how, lex=lex: fuse(b, [(1, "use"), (1, "e5"), (w, lex)], how))
            R(
                f"{how}: USE 1 + e5 1 + {lex} {w}",
                lambda b, w=w, how=how, lex=lex: fuse(b, [(1, "use"), (1, "e5"), (w, lex)], how),
            )
            chosen[(how, lex)] = w
    print("\n# z-fusion: weights of e5 and of the lexical channels, grid on A")
    grid = list(itertools.product((0.5, 0.75, 1.0, 1.5), (0.0, 0.15, 0.3), (0.0, 0.15, 0.3)))

    def zmake(b: Bench, p) -> np.ndarray:
        we, wb, wc = p
        return fuse(b, [(1, "use"), (we, "e5"), (wb, "bm25"), (wc, "char")])

    p, _ = choose_on_a(B, grid, zmake)
    R(f"z: USE 1 + e5 {p[0]} + BM25 {p[1]} + char {p[2]} (grid on A)", lambda b, p=p: zmake(b, p))
    chosen["z"] = p
    print("\n# per-query normalisation of the lexical channel inside the product's linear fusion (USE + BM25, no neighbours)")
    for norm in ("max", "floor5", "floor10", "floor20", "sat5", "sat10"):
        R(f"product linear, BM25 {norm}", lambda b, norm=norm: product_linear(b, (0.55, 0.17, 0.0), lex_norm=norm))
    R("product linear + e5 cosine rescaled (cos-0.7)/0.3 weight 0.5, BM25 /max", lambda b: _product_e5(b, "max"))
    R("the same, BM25 floor10", lambda b: _product_e5(b, "floor10"))
    print("\n# neighbours (pseudo-relevance feedback) on the z-fusion above")
    base = chosen["z"]
    for wf, top, space in itertools.product((0.3, 0.6), (3, 5), ("use", "both")):
        R(
            f"z-fusion + neighbours {wf} (top {top}, {space} vectors)",
            lambda b, wf=wf, top=top, space=space: _with_neighbours(b, zmake(b, base), wf, top, space),
        )
    return chosen


def _product_e5(b: Bench, norm: str) -> np.ndarray:
    lin = np.clip((b.chans["e5"] - 0.7) / 0.3, 0, 1)
    return product_linear(b, (0.55, 0.17, 0.0), lex_norm=norm, extra=[(0.5, lin)])


def _with_neighbours(b: Bench, s: np.ndarray, wf: float, top: int, space: str, mask: np.ndarray | None = None) -> np.ndarray:
    m = b.mask if mask is None else mask
    nb = neighbours(b, s, top, space)
    return np.where(m, s + wf * normalise(nb, m, "z"), NEG)


def part_sentences(L: Loader, R: Report) -> None:
    """Sentence-level scoring: query sentences (need → skills is a long text against labels),
    document sentences, both."""
    for b in L.benches.values():
        L.sentence_channels(b)
    print("\n# dense channel alone: whole text vs sentence-level (USE, then e5)")
    for m in ("use", "e5"):
        for how, label in (
            ("", "whole text"),
            ("_qmax", "best query sentence"),
            ("_qlse0.05", "soft max over query sentences (T 0.05)"),
            ("_qlse0.1", "soft max over query sentences (T 0.1)"),
            ("_qtop2", "mean of the best two query sentences"),
            ("_qmean", "mean over query sentences"),
            ("_dmax", "best document sentence"),
            ("_dlse0.05", "soft max over document sentences (T 0.05)"),
            ("_smax", "best sentence pair"),
        ):
            R(f"{m}: {label}", lambda b, c=m + how: np.where(b.mask, b.chans[c], NEG))
        R(f"{m}: whole + best query sentence (z, 1 + 1)", lambda b, m=m: fuse(b, [(1, m), (1, m + "_qmax")]))
        R(f"{m}: whole + soft max query sentences T 0.1 (z, 1 + 1)", lambda b, m=m: fuse(b, [(1, m), (1, m + "_qlse0.1")]))
        R(f"{m}: whole + best document sentence (z, 1 + 1)", lambda b, m=m: fuse(b, [(1, m), (1, m + "_dmax")]))
    print("\n# z-fusions with sentence-level dense channels (USE + e5, each whole + sentences)")
    for how in ("qmax", "qlse0.1", "qtop2", "dmax", "smax"):
        R(
            f"z: USE + e5 whole, + USE + e5 {how}",
            lambda b, how=how: fuse(b, [(1, "use"), (1, "e5"), (1, f"use_{how}"), (1, f"e5_{how}")]),
        )
        R(
            f"z: USE + e5 {how} only",
            lambda b, how=how: fuse(b, [(1, f"use_{how}"), (1, f"e5_{how}")]),
        )


def part_routing(L: Loader, R: Report) -> None:
    """Offering text vs offering text + its own sentences (the mechanism of examples)."""
    for b in L.benches.values():
        L.sentence_channels(b)
    print("\n# routing: documents scored by their best sentence (what examples would add), whole + sentences")
    for m in ("use", "e5"):
        R(f"{m}: whole + max over the document's sentences (z 1 + 1)", lambda b, m=m: fuse(b, [(1, m), (1, m + "_dmax")]))
        R(
            f"{m}: whole + max over document sentences + max over query sentences (z)",
            lambda b, m=m: fuse(b, [(1, m), (1, m + "_dmax"), (1, m + "_qmax")]),
        )
    R(
        "z: USE + e5, each whole + document-sentence max",
        lambda b: fuse(b, [(1, "use"), (1, "e5"), (1, "use_dmax"), (1, "e5_dmax")]),
    )
    R(
        "z: USE + e5, each whole + best sentence pair",
        lambda b: fuse(b, [(1, "use"), (1, "e5"), (1, "use_smax"), (1, "e5_smax")]),
    )


def part_stage2(L: Loader, R: Report, n_values=(50, 100, 200)) -> None:
    """e5 as a second stage: the first stage (USE + BM25, z) gives a pool of N; e5 is computed
    for the pool only and the fusion re-ranks the pool. Cost: documents that reach a pool."""
    print("\n# e5 as a full channel vs as a second stage over the first stage's top N")
    first = [(1, "use"), (0.15, "bm25")]
    R("first stage alone: z USE 1 + BM25 0.15", lambda b: fuse(b, first))
    R("full channel: z USE 1 + e5 1 + BM25 0.15", lambda b: fuse(b, [*first, (1, "e5")]))
    for n in n_values:
        reached = {}

        def make(b: Bench, n=n, reached=reached) -> np.ndarray:
            s1 = fuse(b, first)
            pool = np.zeros_like(b.mask)
            np.put_along_axis(pool, top_k(s1, n), True, axis=1)
            pool &= b.mask
            reached[b.name] = int(pool.any(0).sum())
            return fuse(b, [*first, (1, "e5")], mask=pool)

        row = R(f"second stage: top {n} of the first stage re-ranked with e5", make)
        row["docs_reaching_a_pool"] = dict(reached)
        print(
            f"    top {n}: documents that reach a pool (e5 encodes these only): "
            + ", ".join(f"{SHORT[k]} {v}" for k, v in reached.items())
        )


def config_scores(b: Bench, p: dict, mask: np.ndarray | None = None) -> np.ndarray:
    """One configuration of the final family: z-scores over the candidates (or ``mask``) of
    USE and e5 cosines (whole texts), plus ``wd`` × the same on the documents' best sentence,
    plus ``wl`` × a lexical channel, plus ``wf`` × neighbours (top 3, USE vectors)."""
    parts = [(1.0, "use"), (1.0, "e5"), (p["wd"], "use_dmax"), (p["wd"], "e5_dmax")]
    if p["wl"]:
        parts.append((p["wl"], p["lex"]))
    s = fuse(b, parts, mask=mask)
    return _with_neighbours(b, s, p["wf"], 3, "use", mask) if p["wf"] else s


def service_pool(b: Bench, lexical: str, n: int = 200) -> np.ndarray:
    """The service's candidate pool: dense (USE) top ``n`` ∪ lexical top ``n`` (score > 0)."""
    pool = np.zeros_like(b.mask)
    np.put_along_axis(pool, top_k(np.where(b.mask, b.chans["use"], NEG), n), True, axis=1)
    lex = np.where(b.mask, b.chans[lexical], NEG)
    top = top_k(lex, n)
    lexical_pool = np.zeros_like(b.mask)
    np.put_along_axis(lexical_pool, top, np.take_along_axis(lex, top, 1) > 0, axis=1)
    return (pool | lexical_pool) & b.mask


FINAL_GRID = [
    {"wd": wd, "lex": lex, "wl": wl, "wf": wf}
    for wd in (0.0, 0.5, 1.0)
    for lex, wl in [("bm25", 0.0), *itertools.product(("bm25", "word", "char"), (0.25, 0.5))]
    for wf in (0.0, 0.3, 0.6)
]


def describe(p: dict) -> str:
    out = "z: USE 1 + e5 1"
    if p["wd"]:
        out += f" + best document sentence (USE, e5) {p['wd']}"
    if p["wl"]:
        out += f" + {p['lex']} {p['wl']}"
    if p["wf"]:
        out += f" + neighbours {p['wf']}"
    return out


def part_final(L: Loader, R: Report) -> dict:
    """The family above, every point chosen on half A, then its figures (full / A / B)."""
    for b in L.benches.values():
        L.sentence_channels(b, doc_side=True)
    print("\n# final family: grid on half A (macro mean of the four benchmarks' half A)")
    ranked = []
    for p in FINAL_GRID:
        vals = [per_query(L.benches[n], config_scores(L.benches[n], p))[L.benches[n].half_a].mean() for n in MAIN]
        ranked.append((float(np.mean(vals)), p))
    ranked.sort(key=lambda x: -x[0])
    for v, p in ranked[:5]:
        R(f"{describe(p)} (A macro {v:.3f})", lambda b, p=p: config_scores(b, p))
    best = ranked[0][1]
    print("\n# ablations of the chosen point (one change at a time)")
    for change in ({"wd": 0.0}, {"wl": 0.0}, {"wf": 0.0}, {"lex": "bm25"}, {"lex": "word"}, {"lex": "char"}):
        q = best | change
        if q != best:
            R(f"{describe(q)}", lambda b, q=q: config_scores(b, q))
    print("\n# the chosen point as a service would compute it, and two further checks")
    lex = best["lex"] if best["wl"] else "bm25"
    R(
        f"chosen point, z statistics over the service's pool (USE top 200 ∪ {lex} top 200)",
        lambda b: config_scores(b, best, service_pool(b, lex)),
    )
    if best["wl"] and best["lex"] in ("word", "char"):
        for b in L.benches.values():
            _lexical_sentence_max(b, best["lex"])
        q = best | {"lex": best["lex"] + "_dmax"}
        R(
            f"chosen point, {best['lex']} TF-IDF of the document's best sentence instead of the whole",
            lambda b: config_scores(b, q),
        )
    return best


def _lexical_sentence_max(b: Bench, lex: str) -> None:
    """``<lex>_dmax``: the lexical channel against each sentence of a document, best sentence."""
    if f"{lex}_dmax" in b.chans:
        return
    ds, down = sentence_owners(b.task.docs)
    sim = word_tfidf(b.task.docs, b.task.queries, ds) if lex == "word" else _char_on(b.task.docs, b.task.queries, ds)
    b.chans[f"{lex}_dmax"] = reduce_by_owner(sim, down, len(b.task.docs), "max", axis=1)


def _char_on(docs: list[str], queries: list[str], targets: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vec.fit(docs)
    return (vec.transform(queries) @ vec.transform(targets).T).toarray().astype(np.float32)


# the point of FINAL_GRID chosen on half A (``--part final`` prints it first)
RECOMMENDED = {"wd": 1.0, "lex": "word", "wl": 0.5, "wf": 0.6}


def part_costs(L: Loader, best: dict) -> None:
    """Encoding throughput of each corpus (a sample of each, uncached) and the per-query
    cost of the chosen configuration (query encoding without cache + scoring)."""
    print(f"\n# costs on this machine (load average {os.getloadavg()[0]:.1f} at start)")
    print("texts per second of wall time (per second of CPU time, all threads, in brackets); estimates from 200 texts of each")
    print(
        "| corpus | documents | document sentences | USE docs/s | e5 docs/s | e5 sentences/s | USE + e5 corpus (s, est.) | + e5 sentences (s, est.) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    use, e5 = L.vectors.encoder(USE_MODEL), L.vectors.encoder(E5_MODEL)
    rng = random.Random(0)
    for name in MAIN:
        b = L.benches[name]
        docs = b.task.docs
        sample = rng.sample(docs, min(200, len(docs)))
        sents, _ = sentence_owners(docs)
        extra = [x for x in sents if x not in set(docs)]
        rate = {}
        for key, enc, texts in (
            ("use", use, sample),
            ("e5", e5, sample),
            ("e5s", e5, rng.sample(extra, min(200, len(extra))) if extra else []),
        ):
            if not texts:
                rate[key] = float("nan")
                continue
            t, cpu = time.perf_counter(), time.process_time()
            enc.encode(list(texts))
            rate[key] = len(texts) / (time.perf_counter() - t)
            rate[key + " cpu"] = len(texts) / (time.process_time() - cpu)
        est = len(docs) / rate["use"] + len(docs) / rate["e5"]
        est_s = len(extra) / rate["e5s"] if extra else 0.0
        print(
            f"| {SHORT[name]} | {len(docs)} | {len(extra)} | {rate['use']:.0f} ({rate['use cpu']:.0f}) | {rate['e5']:.0f} ({rate['e5 cpu']:.0f}) "
            f"| {rate['e5s']:.0f} ({rate.get('e5s cpu', float('nan')):.0f}) | {est:.0f} | {est_s:.0f} |",
            flush=True,
        )
    print(
        "\n| benchmark | documents | queries timed | USE query (ms) | e5 query (ms) | scoring (ms) | total per query (ms) | CPU per query (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in MAIN:
        latency(L.benches[name], best, use, e5)


def latency(b: Bench, p: dict, use, e5, n: int = 50) -> None:
    """One query end to end, as a service would run the configuration: encode it with both
    encoders (no cache), cosines to the documents and to their sentences, best sentence per
    document, the lexical channel, z-scores over the candidates, neighbours, the sum."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    t = b.task
    docs = {m: b.vec[m] for m in ("use", "e5")}
    sents = {m: b.vec.get(f"{m}_dsent") for m in ("use", "e5")}
    owner = b.vec.get("dsent_owner")
    if owner is not None:
        order = np.argsort(owner, kind="stable")
        o = owner[order]
        starts = np.r_[0, np.flatnonzero(np.diff(o)) + 1]
        sents = {m: v[order] for m, v in sents.items()}
    lex = None
    if p["wl"] and p["lex"] in ("word", "char"):
        if p["lex"] == "word":
            lex = TfidfVectorizer(analyzer=T.lexical_tokens, sublinear_tf=True, lowercase=False)
        else:
            lex = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        xd = lex.fit_transform(t.docs)
    elif p["wl"]:
        index = LexicalIndex(T.lexical_tokens)
        index.upsert(range(len(t.docs)), t.docs)
        ids = list(range(len(t.docs)))
    t_use = t_e5 = t_score = 0.0
    cpu0 = time.process_time()
    idx = list(range(min(n, len(t.queries))))

    def z(x: np.ndarray, cand: np.ndarray) -> np.ndarray:
        x = x[cand]
        sd = x.std()
        return (x - x.mean()) / sd if sd > 1e-9 else x * 0

    for i in idx:
        q = t.queries[i] + " "  # not a cached text
        c0 = time.perf_counter()
        qu = use.encode([q], kind="query")[0]
        c1 = time.perf_counter()
        qe = e5.encode([q], kind="query")[0]
        c2 = time.perf_counter()
        cand = np.flatnonzero(b.mask[i])
        total = np.zeros(len(cand), dtype=np.float32)
        for m, qv in (("use", qu), ("e5", qe)):
            total += z(docs[m] @ qv, cand)
            if p["wd"]:
                if owner is not None:
                    best_sent = np.maximum.reduceat(sents[m] @ qv, starts)
                    full = np.empty(len(t.docs), dtype=np.float32)
                    full[o[starts]] = best_sent
                else:
                    full = docs[m] @ qv
                total += p["wd"] * z(full, cand)
        if p["wl"]:
            lx = (lex.transform([q]) @ xd.T).toarray()[0] if p["lex"] in ("word", "char") else index.scores(q, ids)
            total += p["wl"] * z(lx, cand)
        if p["wf"]:
            top = cand[np.argsort(-total, kind="stable")[:3]]
            total += p["wf"] * z(docs["use"] @ docs["use"][top].mean(0), cand)
        np.argsort(-total)[:10]
        c3 = time.perf_counter()
        t_use, t_e5, t_score = t_use + c1 - c0, t_e5 + c2 - c1, t_score + c3 - c2
    k = len(idx)
    cpu = (time.process_time() - cpu0) / k * 1000
    print(
        f"| {SHORT[t.name]} | {len(t.docs)} | {k} | {t_use / k * 1000:.1f} | {t_e5 / k * 1000:.1f} | {t_score / k * 1000:.1f} | "
        f"{(t_use + t_e5 + t_score) / k * 1000:.1f} | {cpu:.1f} |",
        flush=True,
    )


def throughput(model: str, threads: int) -> None:
    """Child process of ``part_threads``: texts per second of one encoder at a thread count,
    on 100 ESCO occupations (long) and 400 skill labels (short); prints one JSON line."""
    from embeddings.encoder import E5SmallEncoder, UseMultilingualEncoder

    suite = read_suite(DEFAULT_SUITE)
    by_name = {spec.name: spec for spec in suite.benchmarks}
    long_ = list(json.loads(line)["text"] for line in by_name["esco-fr"].paths["corpus"].open(encoding="utf-8"))[:100]
    short = list(json.loads(line)["text"] for line in by_name["esco-fr-need2skills"].paths["corpus"].open(encoding="utf-8"))[:400]
    enc = UseMultilingualEncoder(threads=threads) if model == "use" else E5SmallEncoder(threads=threads)
    enc.encode(short[:8])
    out = {"model": model, "threads": threads, "load": round(os.getloadavg()[0], 1)}
    for name, texts in (("long", long_), ("short", short)):
        t, cpu = time.perf_counter(), time.process_time()
        enc.encode(texts)
        out[name] = round(len(texts) / (time.perf_counter() - t), 1)
        out[name + "_cpu"] = round(len(texts) / (time.process_time() - cpu), 1)
    print(json.dumps(out), flush=True)


def part_threads() -> None:
    """Encoder thread counts on this machine: each setting alone, then two processes at once
    (another request, or another job, wanting the cores)."""
    import subprocess

    print(
        f"\n# encoder threads (load average {os.getloadavg()[0]:.1f} at start); texts/s, long (ESCO occupations) / short (skill labels)"
    )
    print("texts per second of wall time; in brackets, per second of the process's CPU time (all its threads)")
    print("| encoder | threads | alone | each of two processes at once | load average |")
    print("|---|---|---|---|---|")
    cmd = [sys.executable, __file__, "--throughput"]
    for model, threads in (("use", 1), ("use", 2), ("use", 4), ("e5", 1), ("e5", 2)):
        alone = json.loads(subprocess.run([*cmd, model, str(threads)], capture_output=True, text=True, check=True).stdout)
        procs = [subprocess.Popen([*cmd, model, str(threads)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
        pair = [json.loads(pr.communicate()[0]) for pr in procs]
        both = f"{np.mean([r['long'] for r in pair]):.0f} / {np.mean([r['short'] for r in pair]):.0f}"
        print(
            f"| {model} | {threads} | {alone['long']:.0f} / {alone['short']:.0f} "
            f"({alone['long_cpu']:.0f} / {alone['short_cpu']:.0f}) | {both} | {alone['load']} |",
            flush=True,
        )


# -- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="where the suite's vector cache lives")
    parser.add_argument(
        "--part",
        choices=("all", "channels", "fusion", "sentences", "routing", "stage2", "final", "costs", "threads"),
        default="all",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every row as JSON here")
    parser.add_argument("--throughput", nargs=2, metavar=("MODEL", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput:
        throughput(args.throughput[0], int(args.throughput[1]))
        return
    if args.part == "threads":
        part_threads()
        return
    t0 = time.perf_counter()
    L = Loader(args.data_dir)
    print(f"# loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    R = Report(L.benches, args.json)
    if args.part in ("all", "channels"):
        part_channels(L, R)
    if args.part in ("all", "fusion"):
        part_fusion(L, R)
    if args.part in ("all", "sentences"):
        part_sentences(L, R)
    if args.part in ("all", "routing"):
        part_routing(L, R)
    if args.part in ("all", "stage2"):
        part_stage2(L, R)
    best = RECOMMENDED
    if args.part in ("all", "final"):
        best = part_final(L, R)
    if args.part in ("all", "costs"):
        for b in L.benches.values():
            L.sentence_channels(b)
        part_costs(L, best)
    print(f"# {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
