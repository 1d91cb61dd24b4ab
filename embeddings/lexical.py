"""A BM25 index keyed by the store's integer ids (the lexical channel).

The tokenizer is a parameter (the domain passes its French analyzer), so this module
knows nothing about languages, members or projects. Scoring uses ``bm25s`` (Lucene
BM25). ``bm25s`` indexes are static, so the index is rebuilt lazily, at the first search
after a change: cheap at a territory's size (tens of milliseconds for thousands of texts).

Example:
    >>> idx = LexicalIndex(str.split)
    >>> idx.upsert([1, 2], ["tenir la trésorerie", "planter des tomates"])
    >>> idx.search("trésorerie", k=1)[0].id
    1
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import numpy as np

from embeddings.filters import PerFilter, is_shared
from embeddings.index import Hit

K1 = 1.2
B = 0.5


class LexicalIndex:
    """BM25 over analyzed texts, with add/remove by id and filtered search.

    Args:
        analyzer: text -> tokens (e.g. stemmed French words).
        k1, b: BM25 parameters (term saturation, length normalisation).
    """

    def __init__(self, analyzer: Callable[[str], list[str]], *, k1: float = K1, b: float = B) -> None:
        self.analyzer = analyzer
        self.k1, self.b = k1, b
        self._tokens: dict[int, list[str]] = {}
        self._retriever = None
        self._order: np.ndarray = np.zeros(0, dtype=np.int64)
        self._pos = np.zeros(0, dtype=np.int64)  # by id: position in _order, -1 if absent
        self._dirty = True
        self._lock = threading.Lock()
        # shared filters by id seen before, as masks by position (tag: the document order)
        self._by_position = PerFilter()

    def __len__(self) -> int:
        return len(self._tokens)

    def upsert(self, ids: Iterable[int], texts: Iterable[str]) -> None:
        for i, text in zip(ids, texts, strict=True):
            self._tokens[int(i)] = self.analyzer(text)
        self._dirty = True

    def remove(self, ids: Iterable[int]) -> None:
        for i in ids:
            self._tokens.pop(int(i), None)
        self._dirty = True

    def _build(self) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import

        with self._lock:
            if not self._dirty:
                return
            self._order = np.array(sorted(self._tokens), dtype=np.int64)
            self._pos = np.full(int(self._order.max()) + 1 if len(self._order) else 0, -1, dtype=np.int64)
            self._pos[self._order] = np.arange(len(self._order))
            self._by_position.clear()
            if len(self._order):
                retriever = bm25s.BM25(k1=self.k1, b=self.b)
                # an empty document would break bm25s: give it a token no query can produce
                retriever.index([self._tokens[int(i)] or ["\x00"] for i in self._order], show_progress=False)
                self._retriever = retriever
            else:
                self._retriever = None
            self._dirty = False

    def query_tokens(self, text: str) -> list[str]:
        """Analyzed query, each term once (a repeated word does not count twice)."""
        return list(dict.fromkeys(self.analyzer(text)))

    def query(self, text: str) -> Scored | None:
        """BM25 of the text against every document (one pass), or None when nothing can match."""
        if self._dirty:
            self._build()
        tokens = self.query_tokens(text)
        if self._retriever is None or not tokens:
            return None
        scores = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
        return Scored(self._order, self._pos, scores, self._filter_by_position)

    def _filter_by_position(self, allowed: np.ndarray, order: np.ndarray) -> np.ndarray:
        """A read-only boolean filter by id as a mask by position in ``order`` (the documents
        a ``Scored`` was computed on), kept while the documents stay."""
        hit = self._by_position.get(allowed, order)
        if hit is not None:
            return hit
        keep = np.zeros(len(order), dtype=bool)
        inside = order < len(allowed)
        keep[inside] = allowed[order[inside]]
        with self._lock:
            if order is self._order:  # not for documents replaced since
                self._by_position.put(allowed, keep, order)
        return keep

    def scores(self, text: str, ids: Iterable[int]) -> np.ndarray:
        """BM25 score of the text against each id (0 for unknown ids)."""
        arr = np.fromiter((int(i) for i in ids), dtype=np.int64) if not isinstance(ids, np.ndarray) else ids
        scored = self.query(text) if len(arr) else None
        return scored.of(arr) if scored is not None else np.zeros(len(arr), dtype=np.float32)

    def search(self, text: str, k: int = 10, *, allowed: Iterable[int] | np.ndarray | None = None) -> list[Hit]:
        """Best ids for the text by BM25 (only those with a positive score), best first.

        ``allowed``: ids, or a boolean array by id.
        """
        scored = self.query(text) if k > 0 else None
        if scored is None:
            return []
        ids, scores = scored.top(k, allowed=allowed)
        return [Hit(int(i), float(s)) for i, s in zip(ids.tolist(), scores.tolist(), strict=True)]


class Scored:
    """The BM25 scores of one query against every document of a ``LexicalIndex``."""

    def __init__(
        self,
        order: np.ndarray,
        pos: np.ndarray,
        scores: np.ndarray,
        by_position: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self._order, self._pos, self.scores = order, pos, scores
        self._by_position = by_position

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The score of each id of an integer array (0 for unknown ids)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.full(len(ids), -1, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(self._pos))
        pos[inside] = self._pos[ids[inside]]
        out = np.zeros(len(ids), dtype=np.float32)
        known = pos >= 0
        out[known] = self.scores[pos[known]]
        return out

    def top(self, k: int, *, allowed: Iterable[int] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best ids with a positive score and their scores, best first (arrays)."""
        if self._by_position is not None and is_shared(allowed):
            # a filter shared between requests (available members, open needs): kept by position
            positions = np.flatnonzero((self.scores > 0) & self._by_position(allowed, self._order))
            allowed = None
        else:
            positions = np.flatnonzero(self.scores > 0)  # a query's words occur in few documents
        if allowed is not None and len(positions):
            ids = self._order[positions]
            if isinstance(allowed, np.ndarray) and allowed.dtype == bool:  # a mask by id
                keep = np.zeros(len(ids), dtype=bool)
                inside = ids < len(allowed)
                keep[inside] = allowed[ids[inside]]
            else:
                arr = allowed if isinstance(allowed, np.ndarray) else np.fromiter((int(i) for i in allowed), dtype=np.int64)
                keep = np.isin(ids, arr)
            positions = positions[keep]
        k = min(k, len(positions))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.scores[positions]
        top = np.arange(len(scores))
        if k < len(scores):  # the k best; among equal scores at the cut, the smallest ids
            cut = np.partition(scores, len(scores) - k)[len(scores) - k]
            above = np.flatnonzero(scores > cut)
            top = np.concatenate([above, np.flatnonzero(scores == cut)[: k - len(above)]])
        top = top[np.lexsort((top, -scores[top]))]  # best first, then by id
        return self._order[positions[top]], scores[top]
