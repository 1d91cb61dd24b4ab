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

from embeddings import Hit, VectorIndex
from embeddings.lexical import LexicalIndex


@dataclass
class Candidate:
    id: int
    components: dict[str, float] = field(default_factory=dict)


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
) -> list[Candidate]:
    """Candidates with their ``semantic``, ``lexical`` and ``neighbours`` components.

    ``allowed``: ids, or a boolean array by id (see ``VectorIndex.search``). Only the components that have a weight in ``weights`` are computed.
    """
    dense: list[Hit] = index.search(query_vector, pool, allowed=allowed)
    cos = {h.id: h.similarity for h in dense}
    use_lexical = lexical is not None and weights.get("lexical", 0) > 0
    if use_lexical:
        extra = [h.id for h in lexical.search(query_text, pool, allowed=allowed) if h.id not in cos and h.id in index]  # type: ignore[union-attr]
        if extra:
            for i, sim in zip(extra, (index.vectors(extra) @ query_vector).tolist(), strict=True):
                cos[i] = float(sim)
    ids = list(cos)
    if not ids:
        return []
    semantic = np.clip(np.array([cos[i] for i in ids], dtype=np.float32), 0.0, 1.0)
    comps: dict[str, np.ndarray] = {"semantic": semantic}
    if use_lexical:
        bm = lexical.scores(query_text, ids)  # type: ignore[union-attr]
        comps["lexical"] = bm / bm.max() if bm.max() > 0 else np.zeros_like(bm)
    w_nb = weights.get("neighbours", 0.0)
    if w_nb > 0 and feedback_top > 0 and len(ids) > 1:
        w_sem, w_lex = weights.get("semantic", 0.0), weights.get("lexical", 0.0) if use_lexical else 0.0
        s0 = (w_sem * semantic + w_lex * comps.get("lexical", 0.0)) / max(w_sem + w_lex, 1e-9)
        top = np.argsort(-s0, kind="stable")[:feedback_top]
        w = np.maximum(s0[top], 0.0)
        w = w / w.sum() if w.sum() > 0 else np.full(len(top), 1.0 / len(top))
        vectors = index.vectors(ids)
        comps["neighbours"] = np.clip((vectors @ vectors[top].T) @ w, 0.0, 1.0).astype(np.float32)
    return [Candidate(i, {name: float(values[n]) for name, values in comps.items()}) for n, i in enumerate(ids)]
