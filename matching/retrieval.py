"""Gathering candidates: a pool from the dense and lexical channels of the index set, with the
channel components of ``matching.fusion``.

Two ways to read a query, chosen by a question's spec (``matching.questions``):

- ``hybrid``: the pool is the union of the dense top-``pool`` and the lexical top-``pool``
  among the allowed ids; each candidate gets ``semantic``, ``lexical`` (normalised over the
  pool) and, when weighted, ``neighbours``;
- ``sentences``: every allowed candidate is scored against each sentence of the query
  (``semantic`` = the best cosine over the sentences), ``lexical`` normalised over the
  allowed candidates: for short catalogues (partner offerings), where a holder states the
  need in one sentence among others.

Only the components that have a weight are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embeddings.indexset import IndexSet
from matching import fusion


@dataclass
class Pool:
    """Candidates as arrays: ``ids`` (int64) and one float32 array per component, aligned.

    The read path scores a whole pool at once (``fusion.weighted_mean``) and builds Python
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


def hybrid(
    indexes: IndexSet,
    kind: str,
    text: str,
    allowed: set[int] | np.ndarray | None,
    *,
    pool: int,
    weights: dict[str, float],
    feedback_top: int = 3,
    adapt: bool = True,
    lexical_text: str | None = None,
) -> Pool:
    """Dense top ``pool`` ∪ lexical top ``pool`` among ``allowed`` (ids, or a boolean array by id).

    The dense hits come first, best first, then the lexical ones the dense channel did not
    find, best first. ``adapt``: map the query by the kind's query adapter, if any;
    ``lexical_text``: what the lexical channel reads, when not the text itself.
    """
    query_vector = indexes.query_vector(text, kind if adapt else None)
    with indexes.reading():
        index, lexical = indexes.dense(kind), indexes.lexical(kind)
        dense_ids, dense_sims = index.search_arrays(np.atleast_2d(query_vector), pool, allowed=allowed)
        found = dense_ids[0] != -1
        ids, cos = dense_ids[0][found], dense_sims[0][found]
        use_lexical = weights.get("lexical", 0) > 0
        scored = lexical.query(lexical_text or text) if use_lexical else None
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
        comps: dict[str, np.ndarray] = {"semantic": fusion.semantic(cos)}
        if use_lexical:
            comps["lexical"] = fusion.lexical(scored.of(ids) if scored is not None else np.zeros(len(ids), dtype=np.float32))
        if weights.get("neighbours", 0.0) > 0 and feedback_top > 0 and len(ids) > 1:
            vectors = index.vectors(ids) if vectors is None else vectors
            comps["neighbours"] = fusion.neighbours(comps, weights, vectors, feedback_top)
    return Pool(ids.astype(np.int64, copy=False), comps)


def sentences(indexes: IndexSet, kind: str, queries: list[str], text: str, ids: list[int], *, weights: dict[str, float]) -> Pool:
    """Every id of ``ids`` scored against each query sentence: ``semantic`` = the best cosine
    over the sentences; ``lexical`` = BM25 of ``text`` over ``ids``, divided by its best."""
    if not ids:
        return Pool()
    q = indexes.query_vectors(queries)
    with indexes.reading():
        vectors = indexes.dense(kind).vectors(ids)
        bm25 = indexes.lexical(kind).scores(text, ids) if weights.get("lexical", 0) > 0 else None
    comps = {"semantic": fusion.semantic((q @ vectors.T).max(axis=0))}
    if bm25 is not None:
        comps["lexical"] = fusion.lexical(bm25)
    return Pool(np.asarray(ids, dtype=np.int64), comps)
