"""Ranking variants on the French ESCO benchmark, outside the service (docs/quality.md §1).

Re-implements the free-text pipeline of ``matching/retrieval.py`` on score matrices (it
prints the service's own figures, 0.306 plain and 0.318 with the query adapter) and adds
the variants tried for issue 3. Each line: nDCG@10 on the full dev split, then on two
random halves of the queries (seed 0): half A to tune, half B to check.

No relevance judgement is used to build any channel; the occupation–skill relations are
read only to score. Vectors are cached under ``--cache`` (first run: several minutes).

    .venv/bin/python scripts/esco_variants.py [--cache var/esco-variants]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import random
import re
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.feature_extraction.text import TfidfVectorizer

from embeddings.adapter import QueryAdapter
from embeddings.encoder import build_encoder
from embeddings.lexical import LexicalIndex
from matching import text as T

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "data" / "bench" / "esco-fr"
ROME = Path("/work/shared/vocab/rome4_macro_competences.csv")
WEIGHTS = (0.55, 0.17, 0.28)  # data/weights.json, free_text: semantic, lexical, neighbours


def ndcg(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    return dcg / sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))


class Bench:
    def __init__(self, cache: Path) -> None:
        corpus = [json.loads(line) for line in (BENCH / "corpus.jsonl").open(encoding="utf-8")]
        queries = [json.loads(line) for line in (BENCH / "queries_dev.jsonl").open(encoding="utf-8")]
        pos = {c["id"]: i for i, c in enumerate(corpus)}
        self.docs = [c["text"] for c in corpus]
        self.qtext = [q["text"] for q in queries]
        self.rel = [{pos[r] for r in q["relevant"]} for q in queries]
        order = list(range(len(queries)))
        random.Random(0).shuffle(order)
        self.half_a, self.half_b = order[: len(order) // 2], order[len(order) // 2 :]
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)
        self._encoder = None

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = build_encoder("use-multilingual")
        return self._encoder

    def cached(self, name: str, make) -> np.ndarray:
        path = self.cache / f"{name}.npy"
        if not path.exists():
            np.save(path, make())
        return np.load(path)

    def report(self, name: str, scores: np.ndarray) -> float:
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        v = np.array([ndcg(list(top[i]), self.rel[i]) for i in range(len(self.rel))])
        print(f"{name}: {v.mean():.3f} / A {v[self.half_a].mean():.3f} / B {v[self.half_b].mean():.3f}", flush=True)
        return float(v.mean())

    def bm25(self, docs: list[str], queries: list[str], analyzer=T.lexical_tokens, k1=1.2, b=0.5) -> np.ndarray:
        index = LexicalIndex(analyzer, k1=k1, b=b)
        index.upsert(range(len(docs)), docs)
        return np.stack([index.scores(q, range(len(docs))) for q in queries])


def sentence_owners(docs: list[str]) -> tuple[list[str], np.ndarray]:
    sents, owner = [], []
    for i, doc in enumerate(docs):
        for s in T.sentences(doc):
            sents.append(s)
            owner.append(i)
    return sents, np.array(owner)


def max_by_owner(sim: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per query, the best similarity among each document's sentences."""
    order = np.argsort(owner, kind="stable")
    o = owner[order]
    starts = np.r_[0, np.flatnonzero(np.diff(o)) + 1]
    out = np.zeros((sim.shape[0], n), dtype=np.float32)
    out[:, o[starts]] = np.maximum.reduceat(sim[:, order], starts, axis=1)
    return out


def product(q, dv, bm, *, w=WEIGHTS, pool=200, top=3, extra=()):
    """The service's free-text score (retrieval.retrieve + scoring.combine) for every query;
    ``extra``: (weight, matrix) channels added to the weighted mean. -1 outside the pool."""
    cos = q @ dv.T
    out = np.full(cos.shape, -1.0, dtype=np.float32)
    for i in range(len(q)):
        lex_top = np.argsort(-bm[i])[:pool]
        cand = np.union1d(np.argsort(-cos[i])[:pool], lex_top[bm[i][lex_top] > 0])
        sem = np.clip(cos[i, cand], 0, 1)
        b = bm[i, cand]
        lex = b / b.max() if b.max() > 0 else b * 0
        s0 = (w[0] * sem + w[1] * lex) / (w[0] + w[1])
        t = np.argsort(-s0, kind="stable")[:top]
        tw = np.maximum(s0[t], 0)
        tw = tw / tw.sum()
        v = dv[cand]
        nb = np.clip((v @ v[t].T) @ tw, 0, 1)
        score, total = w[0] * sem + w[1] * lex + w[2] * nb, sum(w)
        for ew, e in extra:
            score, total = score + ew * e[i, cand], total + ew
        out[i, cand] = score / total
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "esco-variants")
    parser.add_argument(
        "--part", choices=("all", "vectors"), default="all", help="vectors: only the query/document vector variants"
    )
    parser.add_argument("--rome", type=Path, default=ROME, help="ROME 4.0 macro-competences (code,label CSV)")
    args = parser.parse_args()
    b = Bench(args.cache)
    enc = lambda texts, kind="document": b.encoder.encode(texts, kind=kind)  # noqa: E731
    d = b.cached("D", lambda: enc(b.docs))
    q = b.cached("Q", lambda: enc(b.qtext, "query"))
    m = b.cached(
        "M",
        lambda: QueryAdapter.fit(b.encoder, b.docs, sentences=T.sentences, rewrite=T.verb_phrase).matrix,
    )
    qa = q + q @ m
    qa /= np.linalg.norm(qa, axis=1, keepdims=True)
    bm = b.cached("BM", lambda: b.bm25(b.docs, b.qtext))

    print("# reference (the service's pipeline)")
    b.report("hybrid, default weights", product(q, d, bm))
    base = b.report("hybrid + adapter (--adapt)", product(qa, d, bm))
    vector_variants(b, q, qa, d, bm)
    if args.part == "vectors":
        return

    print("# sentence max-sim (query vs each sentence of the document)")
    sents, owner = sentence_owners(b.docs)
    svp = b.cached("Svp", lambda: enc([T.verb_phrase(s) for s in sents]))
    sraw = b.cached("Sraw", lambda: enc(sents))
    ms_vp, ms_raw = max_by_owner(qa @ svp.T, owner, len(d)), max_by_owner(qa @ sraw.T, owner, len(d))
    b.report("max-sim over verb-phrase sentences alone", ms_vp)
    b.report("max-sim over raw sentences alone", ms_raw)
    for ew in (0.1, 0.3, 0.5):
        b.report(f"adapter + max-sim (verb phrases) channel {ew}", product(qa, d, bm, extra=[(ew, np.clip(ms_vp, 0, 1))]))

    print("# hubness correction (CSLS against the corpus' own verb phrases), dense only")
    sq = svp + svp @ m
    sq /= np.linalg.norm(sq, axis=1, keepdims=True)
    hub = np.sort(sq @ d.T, axis=0)[-10:].mean(axis=0)
    b.report("dense + adapter", qa @ d.T)
    for beta in (0.3, 1.0):
        b.report(f"dense + adapter - {beta} x hubness(k=10)", qa @ d.T - beta * hub[None, :])
    dc = d - d.mean(0)
    dc /= np.linalg.norm(dc, axis=1, keepdims=True)
    b.report("dense + adapter, centred document vectors", qa @ dc.T)
    b.report("hybrid + adapter, centred document vectors", product(qa, dc, bm))

    print("# BM25 parameters and analyzers (BM25 alone, then in the hybrid + adapter)")
    for k1, b_ in ((1.2, 0.75), (0.9, 0.4), (2.0, 0.5)):
        b.report(f"BM25 k1 {k1} b {b_}", b.bm25(b.docs, b.qtext, k1=k1, b=b_))

    def multi(t: str) -> list[str]:
        return [k for w in T.tokens(t) for k in (T.stem(w)[:5], "F" + T.stem(w))]

    labels = [doc.split(". ")[0] for doc in b.docs]
    for name, analyzer, docs in (
        ("stems cut at 5", lambda t: [T.stem(w)[:5] for w in T.tokens(t)], b.docs),
        ("stems cut at 4", lambda t: [T.stem(w)[:4] for w in T.tokens(t)], b.docs),
        ("cut at 5 + full stem", multi, b.docs),
        ("occupation label counted twice", T.lexical_tokens, [f"{lab}. {doc}" for lab, doc in zip(labels, b.docs, strict=True)]),
    ):
        bmx = b.bm25(docs, b.qtext, analyzer=analyzer)
        b.report(f"BM25 {name}", bmx)
        b.report(f"hybrid + adapter, BM25 {name}", product(qa, d, bmx))

    print("# character n-gram TF-IDF channel (char_wb 3-5, sublinear)")
    tv = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode")
    xd = tv.fit_transform(b.docs)
    ch = (tv.transform(b.qtext) @ xd.T).toarray().astype(np.float32)
    for ew in (0.1, 0.2, 0.3):
        b.report(f"hybrid + adapter + char TF-IDF {ew}", product(qa, d, bm, extra=[(ew, ch)]))
    p = product(qa, d, bm, extra=[(0.2, ch)])

    print("# score smoothing over the document kNN graph (cluster hypothesis), on the line above")
    cd = d @ d.T
    np.fill_diagonal(cd, -1)
    p0 = np.maximum(p, 0)
    for k in (5, 20):
        idx = np.argsort(-cd, axis=1)[:, :k]
        rows = np.arange(len(d))[:, None]
        knn = np.zeros_like(cd)
        knn[rows, idx] = np.maximum(cd[rows, idx], 0)
        knn /= knn.sum(1, keepdims=True)
        for lam in (0.2, 0.5):
            b.report(f"smoothed k {k} lambda {lam}", p0 + lam * (p0 @ knn.T))

    print("# Rocchio: query vector + beta x mean of the top 3, second pass")
    top3 = np.argsort(-product(qa, d, bm), axis=1)[:, :3]
    for beta in (0.3, 0.6, 1.0):
        qr = qa + beta * d[top3].mean(1)
        qr /= np.linalg.norm(qr, axis=1, keepdims=True)
        b.report(f"Rocchio beta {beta}", product(qr, d, bm))

    if args.rome.exists():
        print("# ROME 4.0 macro-competences: nearest labels added to the query")
        with args.rome.open(encoding="utf-8") as fh:
            rome = [row["label"] for row in csv.DictReader(fh)]
        r = enc(rome)
        lexical = LexicalIndex(T.lexical_tokens)
        lexical.upsert(range(len(b.docs)), b.docs)
        for k in (1, 3):
            nn = np.argsort(-(qa @ r.T), axis=1)[:, :k]
            qexp = [t + " " + " ".join(rome[j] for j in nn[i]) for i, t in enumerate(b.qtext)]
            bmx = np.stack([lexical.scores(t, range(len(b.docs))) for t in qexp])
            b.report(f"ROME top {k} words in the BM25 query", product(qa, d, bmx))
            qx = qa + 0.3 * r[nn].mean(1)
            qx /= np.linalg.norm(qx, axis=1, keepdims=True)
            b.report(f"ROME top {k} vectors (0.3) in the query vector", product(qx, d, bm))
    print("# lexical neighbours: word TF-IDF cosine of a candidate to the top k (second pass)")
    tw = TfidfVectorizer(analyzer=T.lexical_tokens, sublinear_tf=True, lowercase=False)
    xw = tw.fit_transform(b.docs)
    dd = (xw @ xw.T).toarray().astype(np.float32)
    p_ref = product(qa, d, bm)
    for k in (3, 5):
        ln = dd[np.argsort(-p_ref, axis=1)[:, :k]].mean(1)
        for ew in (0.1, 0.2, 0.3):
            b.report(f"lexical neighbours top {k}, {ew}", product(qa, d, bm, extra=[(ew, ln)]))
            b.report(f"lexical neighbours top {k}, {ew} + char TF-IDF 0.2", product(qa, d, bm, extra=[(ew, ln), (0.2, ch)]))

    print("# fusion weights (semantic, lexical, neighbours) and feedback top, grid chosen on half A")
    grid = []
    for w in itertools.product((0.45, 0.55, 0.65), (0.12, 0.17, 0.25), (0.2, 0.28, 0.4)):
        for top in (3, 5):
            s = product(qa, d, bm, w=w, top=top)
            tp = np.argsort(-s, axis=1, kind="stable")[:, :10]
            v = np.array([ndcg(list(tp[i]), b.rel[i]) for i in range(len(b.rel))])
            grid.append((v[b.half_a].mean(), w, top))
    _, w_best, top_best = max(grid)
    b.report(f"best on A: weights {w_best} top {top_best}", product(qa, d, bm, w=w_best, top=top_best))
    b.report("same + char TF-IDF 0.2", product(qa, d, bm, w=w_best, top=top_best, extra=[(0.2, ch)]))

    print("# query adapter variants (pairs: verb phrase of a sentence -> rest of its document)")
    queries, contexts, owners = QueryAdapter.pairs(b.docs, T.sentences, T.verb_phrase)
    xq = b.cached("Ppairs_q", lambda: enc(queries, "query"))
    xc = b.cached("Ppairs_c", lambda: enc(contexts))
    for name, kw in (
        ("linear, as shipped", {}),
        ("linear, 20 epochs", {"epochs": 20}),
        ("linear, temperature 0.1", {"temp": 0.1}),
        ("linear, temperature 0.03", {"temp": 0.03}),
        ("residual MLP 1024, lr 1e-3", {"kind": "mlp", "lr": 1e-3}),
        ("residual MLP 1024, lr 1e-3, 20 epochs", {"kind": "mlp", "lr": 1e-3, "epochs": 20}),
        ("linear on both sides (documents mapped too)", {"both": True}),
    ):
        qx, dx = fit_adapter(xq, xc, np.array(owners), q, d, **kw)
        b.report(f"adapter {name}: dense", qx @ dx.T)
        b.report(f"adapter {name}: hybrid", product(qx, dx, bm))
    qx, dx = fit_adapter(xq, xc, np.array(owners), q, d, both=True)
    b.report(
        f"both-sides adapter + weights {w_best} top {top_best} + char TF-IDF 0.2",
        product(qx, dx, bm, w=w_best, top=top_best, extra=[(0.2, ch)]),
    )
    print(f"# reference again: {base:.3f}")


def vector_variants(b: Bench, q, qa, d, bm) -> None:
    """Query and document vector variants: head verb dropped, sentence means, label vectors."""
    enc = b.encoder.encode

    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

    print("# query object only (head verb and article dropped), mixed into the query vector")
    articles = {"des", "de", "du", "la", "le", "les", "l'", "d'", "un", "une", "à", "aux", "au", "en"}

    def obj(text: str) -> str:
        words = text.split()
        if len(words) < 2 or not re.search(r"(er|ir|re|oir)$", words[0].lower()):
            return text
        rest = words[1:]
        while rest and rest[0].lower() in articles:
            rest = rest[1:]
        return " ".join(rest) or text

    qo = unit(b.cached("Qobj", lambda: enc([obj(t) for t in b.qtext], kind="query")))
    for a in (0.3, 1.0):
        b.report(f"query + {a} x object vector", product(unit(qa + a * qo), d, bm))

    print("# document vector variants")
    sents, owner = sentence_owners(b.docs)
    sraw = b.cached("Sraw", lambda: enc(sents))
    mean_raw = np.zeros_like(d)
    np.add.at(mean_raw, owner, sraw)
    labels = b.cached("L", lambda: enc([doc.split(". ")[0] for doc in b.docs]))
    for name, dv in (
        ("document + mean of its sentence vectors", unit(d + unit(mean_raw))),
        ("document + 0.5 x label vector", unit(d + 0.5 * labels)),
    ):
        b.report(f"{name}: hybrid", product(qa, dv, bm))
    b.report("label vector as a 4th channel (0.1)", product(qa, d, bm, extra=[(0.1, np.clip(qa @ labels.T, 0, 1))]))


def fit_adapter(xq, xc, owners, q, d, kind="linear", epochs=10, lr=3e-4, temp=0.05, bs=512, both=False):
    """QueryAdapter.fit's training loop on cached pair vectors, with variants; returns the
    mapped query and document vectors."""
    import torch

    torch.manual_seed(0)
    tq, tc, ow = torch.from_numpy(xq), torch.from_numpy(xc), torch.from_numpy(owners)
    if kind == "linear":
        m = torch.zeros(512, 512, requires_grad=True)
        params = [m]

        def f(x):
            return x + x @ m
    else:
        l1, l2 = torch.nn.Linear(512, 1024), torch.nn.Linear(1024, 512)
        torch.nn.init.zeros_(l2.weight)
        torch.nn.init.zeros_(l2.bias)
        params = [*l1.parameters(), *l2.parameters()]

        def f(x):
            return x + l2(torch.relu(l1(x)))

    md = torch.zeros(512, 512, requires_grad=both)
    if both:
        params.append(md)
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(0)
    norm = torch.nn.functional.normalize
    for _ in range(epochs):
        order = torch.randperm(len(tq), generator=gen)
        for start in range(0, len(tq), bs):
            i = order[start : start + bs]
            logits = norm(f(tq[i]), dim=1) @ norm(tc[i] + tc[i] @ md, dim=1).T / temp
            same = (ow[i][:, None] == ow[i][None, :]) & ~torch.eye(len(i), dtype=torch.bool)
            loss = torch.nn.functional.cross_entropy(logits.masked_fill(same, -1e9), torch.arange(len(i)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        tqq, tdd = torch.from_numpy(q), torch.from_numpy(d)
        return norm(f(tqq), dim=1).numpy(), norm(tdd + tdd @ md, dim=1).numpy()


if __name__ == "__main__":
    main()
