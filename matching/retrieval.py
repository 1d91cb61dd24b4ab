"""Hybrid candidate retrieval: dense (FAISS) + lexical (BM25) channels, then feedback.

For one query (a vector and its text) and a set of allowed ids:

1. the candidate pool is the union of the dense top-``pool`` and the lexical top-``pool``;
2. each candidate gets both channel scores: ``semantic`` = cosine clipped to [0, 1],
   ``lexical`` = BM25 divided by the best BM25 of the pool (so in [0, 1]);
3. optional pseudo-relevance feedback: with ``s0`` the weighted mean of the two, the
   ``neighbours`` component of a candidate is its mean cosine (weighted by ``s0``) to the
   top ``feedback_top`` candidates: documents that resemble the best answers move up.

The caller turns these components, plus its structured ones, into the final score.
Measured effect on the French ESCO benchmark: ``docs/quality.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embeddings import VectorIndex
from embeddings.lexical import LexicalIndex


@dataclass
class Candidate:
    id: int
    components: dict[str, float] = field(default_factory=dict)


@dataclass
class Pool:
    """Candidates as arrays: ``ids`` (int64) and one float32 array per component, aligned.

    The read path scores a whole pool at once (``scoring.combine_many``) and builds Python
    objects only for what it returns.
    """

    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    components: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, which: np.ndarray) -> Pool:
        """The candidates at these positions (an index array or a boolean mask)."""
        return Pool(self.ids[which], {name: values[which] for name, values in self.components.items()})

    def row(self, n: int) -> dict[str, float]:
        """The components of the candidate at position ``n``, as Python floats."""
        return {name: float(values[n]) for name, values in self.components.items()}

    def candidates(self) -> list[Candidate]:
        return [Candidate(int(i), self.row(n)) for n, i in enumerate(self.ids.tolist())]


def retrieve(
    index: VectorIndex,
    lexical: LexicalIndex | None,
    query_vector: np.ndarray,
    query_text: str,
    allowed: set[int] | np.ndarray | None,
    *,
    pool: int,
    weights: dict[str, float],
    feedback_top: int = 3,
) -> Pool:
    """Candidates with their ``semantic``, ``lexical`` and ``neighbours`` components.

    ``allowed``: ids, or a boolean array by id (see ``VectorIndex.search``). Only the
    components that have a weight in ``weights`` are computed. The dense hits come first,
    best first, then the lexical ones the dense channel did not find, best first.
    """
    dense_ids, dense_sims = index.search_arrays(np.atleast_2d(query_vector), pool, allowed=allowed)
    found = dense_ids[0] != -1
    ids, cos = dense_ids[0][found], dense_sims[0][found]
    use_lexical = lexical is not None and weights.get("lexical", 0) > 0
    scored = lexical.query(query_text) if use_lexical else None  # type: ignore[union-attr]
    vectors = None
    if scored is not None:
        lex_ids, _ = scored.top(pool, allowed=allowed)
        dense = set(ids.tolist())
        extra = lex_ids[np.fromiter((i not in dense for i in lex_ids.tolist()), dtype=bool, count=len(lex_ids))]
        extra = extra[index.contains(extra)]
        if len(extra):
            ids = np.concatenate([ids, extra])
            vectors = index.vectors(ids)  # once for the lexical hits' cosines and the feedback
            cos = np.concatenate([cos, vectors[len(cos) :] @ np.asarray(query_vector, dtype=np.float32).ravel()])
    if not len(ids):
        return Pool()
    semantic = np.clip(cos.astype(np.float32, copy=False), 0.0, 1.0)
    comps: dict[str, np.ndarray] = {"semantic": semantic}
    if use_lexical:
        bm = scored.of(ids) if scored is not None else np.zeros(len(ids), dtype=np.float32)
        comps["lexical"] = bm / bm.max() if bm.max() > 0 else np.zeros_like(bm)
    w_nb = weights.get("neighbours", 0.0)
    if w_nb > 0 and feedback_top > 0 and len(ids) > 1:
        w_sem, w_lex = weights.get("semantic", 0.0), weights.get("lexical", 0.0) if use_lexical else 0.0
        s0 = (w_sem * semantic + w_lex * comps.get("lexical", 0.0)) / max(w_sem + w_lex, 1e-9)
        top = np.argsort(-s0, kind="stable")[:feedback_top]
        w = np.maximum(s0[top], 0.0)
        w = w / w.sum() if w.sum() > 0 else np.full(len(top), 1.0 / len(top))
        vectors = index.vectors(ids) if vectors is None else vectors
        comps["neighbours"] = np.clip((vectors @ vectors[top].T) @ w, 0.0, 1.0).astype(np.float32)
    return Pool(ids.astype(np.int64, copy=False), comps)
