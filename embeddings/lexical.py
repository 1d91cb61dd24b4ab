"""A BM25 index keyed by the store's integer ids (the lexical channel).

The tokenizer is a parameter (the domain passes its French analyzer), so this module
knows nothing about languages, members or projects.

**Compact form.** Each document is kept as the integer ids of its tokens (one flat ``int32``
array, a vocabulary of the distinct tokens), not as lists of strings: at a million documents
the strings alone took gigabytes. The BM25 matrix (one float32 score per document and term,
by term) is built from those ids with numpy, lazily at the first search after a change
(tens of milliseconds at 10 000 documents, about a second at a million); its values and the
query sums are, to the bit, those of ``bm25s`` (Lucene BM25, float32; ``tests/embeddings/
test_lexical.py`` compares them), which this module used to call and whose Python loops
took seconds per hundred thousand documents. ``save``/``load`` keep the ids and the
vocabulary in one file, so a process that starts does not analyse every text again.

Example:
    >>> idx = LexicalIndex(str.split)
    >>> idx.upsert([1, 2], ["tenir la trésorerie", "planter des tomates"])
    >>> idx.search("trésorerie", k=1)[0].id
    1
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import npzfile
from embeddings.filters import PerFilter, is_shared
from embeddings.index import Hit

K1 = 1.2
B = 0.5
EMPTY = "\x00"  # the one token of a document without any (no query can produce it)


class _Tokens:
    """Documents as token ids: one flat array, and each id's (start, length) in it by pk."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.flat = np.zeros(1024, dtype=np.int32)
        self.used = 0
        self.start = np.full(0, -1, dtype=np.int64)  # by pk: start in flat, -1 when absent
        self.length = np.zeros(0, dtype=np.int32)
        self.count = 0  # documents present

    def ids_of(self, tokens: list[str]) -> list[int]:
        vocab = self.vocab
        return [vocab.setdefault(t, len(vocab)) for t in tokens or [EMPTY]]

    def put(self, pks: list[int], docs: list[list[int]]) -> None:
        if not pks:
            return
        top = max(pks)
        if top >= len(self.start):
            size = max(top + 1, 2 * len(self.start))
            self.start = np.concatenate([self.start, np.full(size - len(self.start), -1, dtype=np.int64)])
            self.length = np.concatenate([self.length, np.zeros(size - len(self.length), dtype=np.int32)])
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        total = int(lengths.sum())
        if self.used + total > len(self.flat):
            grown = np.zeros(max(self.used + total, 2 * len(self.flat)), dtype=np.int32)
            grown[: self.used] = self.flat[: self.used]
            self.flat = grown
        self.flat[self.used : self.used + total] = np.fromiter((t for d in docs for t in d), dtype=np.int32, count=total)
        pk_arr = np.asarray(pks, dtype=np.int64)
        self.count += int((self.start[pk_arr] < 0).sum())
        self.start[pk_arr] = self.used + np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.length[pk_arr] = lengths
        self.used += total

    def restore(self, vocab: dict[str, int], pks: np.ndarray, lengths: np.ndarray, flat: np.ndarray) -> None:
        """Documents saved by ``live`` (pks in order, their lengths, their token ids)."""
        self.vocab = vocab
        size = int(pks.max()) + 1 if len(pks) else 0
        self.start = np.full(size, -1, dtype=np.int64)
        self.length = np.zeros(size, dtype=np.int32)
        self.start[pks] = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(pks) else self.start[pks]
        self.length[pks] = lengths
        self.flat = flat if len(flat) else np.zeros(1024, dtype=np.int32)
        self.used, self.count = len(flat), len(pks)

    def drop(self, pks: Iterable[int]) -> None:
        arr = np.fromiter((int(i) for i in pks), dtype=np.int64)
        arr = arr[(arr >= 0) & (arr < len(self.start))]
        present = arr[self.start[arr] >= 0]
        present = np.unique(present)
        self.count -= len(present)
        self.start[present] = -1
        self.length[present] = 0

    def live(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pks in order, each one's length, every token id of theirs in that order)."""
        order = np.flatnonzero(self.start >= 0).astype(np.int64)
        lengths = self.length[order].astype(np.int64)
        total = int(lengths.sum())
        if total == 0:
            return order, lengths, np.zeros(0, dtype=np.int32)
        starts = self.start[order]
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return order, lengths, self.flat[offsets + np.arange(total)]

    def compact(self) -> None:
        """Drop the ids of replaced and removed documents (when they outweigh the live ones)."""
        if self.used <= 2 * max(1, int(self.length.sum())):
            return
        order, lengths, flat = self.live()
        self.flat, self.used = flat.copy() if len(flat) else np.zeros(1024, dtype=np.int32), len(flat)
        self.start[order] = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(order) else self.start[order]


class _Matrix:
    """The BM25 scores of every (term, document) pair, by term (CSC), and the query sums."""

    def __init__(self, order: np.ndarray, lengths: np.ndarray, flat: np.ndarray, n_terms: int, k1: float, b: float) -> None:
        n_docs = len(order)
        self.num_docs = n_docs
        keys = np.repeat(np.arange(n_docs, dtype=np.int64), lengths) * max(1, n_terms) + flat.astype(np.int64)
        # grouped by document already: a stable sort (timsort on runs) is near linear, unlike np.unique's
        keys.sort(kind="stable")
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if len(keys) else np.zeros(0, dtype=np.int64)
        pairs, tf = keys[first], np.diff(np.append(first, len(keys)))
        pair_doc, pair_term = np.divmod(pairs, max(1, n_terms))
        df = np.bincount(pair_term, minlength=n_terms)
        # bm25s (Lucene): idf in Python floats, kept as float32; l_avg the float64 mean of lengths
        idf = np.zeros(n_terms, dtype=np.float32)
        present = np.flatnonzero(df)
        distinct, which = np.unique(df[present], return_inverse=True)  # few distinct frequencies
        logs = [math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for d in distinct.tolist()]
        idf[present] = np.asarray(logs, dtype=np.float64)[which]
        l_avg = lengths.mean() if n_docs else np.float64(1.0)
        tf64 = tf.astype(np.float32).astype(np.float64)
        denominator = k1 * ((1 - b) + (b * lengths[pair_doc].astype(np.float64)) / l_avg)
        values = (idf[pair_term].astype(np.float64) * (tf64 / (denominator + tf64))).astype(np.float32)
        by_term = np.argsort(pair_term, kind="stable")
        self.indices = pair_doc[by_term].astype(np.int32)
        self.data = values[by_term]
        self.indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)

    def scores(self, term_ids: list[int]) -> np.ndarray:
        """The query's BM25 score of every document: float32 sums in the query's term order."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        for term in term_ids:
            start, end = self.indptr[term], self.indptr[term + 1]
            # a document appears once per term: the same float32 adds as bm25s' np.add.at, faster
            out[self.indices[start:end]] += self.data[start:end]
        return out


class LexicalIndex:
    """BM25 over analyzed texts, with add/remove by id and filtered search.

    Args:
        analyzer: text -> tokens (e.g. stemmed French words).
        k1, b: BM25 parameters (term saturation, length normalisation).
    """

    def __init__(self, analyzer: Callable[[str], list[str]], *, k1: float = K1, b: float = B) -> None:
        self.analyzer = analyzer
        self.k1, self.b = k1, b
        self._docs = _Tokens()
        self._matrix: _Matrix | None = None
        self._order: np.ndarray = np.zeros(0, dtype=np.int64)
        self._pos = np.zeros(0, dtype=np.int64)  # by id: position in _order, -1 if absent
        self._dirty = True
        self._lock = threading.Lock()
        # shared filters by id seen before, as masks by position (tag: the document order)
        self._by_position = PerFilter()

    def __len__(self) -> int:
        return self._docs.count

    def upsert(self, ids: Iterable[int], texts: Iterable[str]) -> None:
        batch = {int(i): text for i, text in zip(ids, texts, strict=True)}  # an id twice: its last text
        with self._lock:
            pks = list(batch)
            docs = [self._docs.ids_of(self.analyzer(text)) for text in batch.values()]
            self._docs.drop(pks)
            self._docs.put(pks, docs)
            self._dirty = True

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._docs.drop(ids)
            self._dirty = True

    def _build(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            self._docs.compact()
            order, lengths, flat = self._docs.live()
            self._pos = np.full(int(order.max()) + 1 if len(order) else 0, -1, dtype=np.int64)
            self._pos[order] = np.arange(len(order))
            self._by_position.clear()
            self._matrix = _Matrix(order, lengths, flat, len(self._docs.vocab), self.k1, self.b) if len(order) else None
            self._order = order
            self._dirty = False

    # -- snapshot -------------------------------------------------------------------------------
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write the documents' token ids and the vocabulary to one file, atomically."""
        with self._lock:
            order, lengths, flat = self._docs.live()
            vocab = sorted(self._docs.vocab, key=self._docs.vocab.__getitem__)
        meta = {"k1": self.k1, "b": self.b, "count": len(order)} | (extra or {})
        npzfile.write_atomic(
            path,
            meta,
            vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
            ids=order,
            lengths=lengths.astype(np.int32),
            tokens=flat,
        )

    read_metadata = staticmethod(npzfile.read_metadata)

    @classmethod
    def load(cls, path: str | Path, analyzer: Callable[[str], list[str]]) -> LexicalIndex:
        """A saved index (``save``), with the analyzer that made its tokens."""
        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            words = data["vocab"].tobytes().decode("utf-8")
            ids, lengths, tokens = data["ids"], data["lengths"].astype(np.int64), data["tokens"]
        index = cls(analyzer, k1=meta["k1"], b=meta["b"])
        vocab = words.split("\n") if words else []
        if len(tokens) != int(lengths.sum()) or (len(tokens) and len(vocab) <= int(tokens.max())) or len(ids) != meta["count"]:
            raise ValueError(f"{path}: index lexical incohérent")
        index._docs.restore({w: n for n, w in enumerate(vocab)}, ids.astype(np.int64), lengths, tokens.astype(np.int32))
        return index

    # -- queries ----------------------------------------------------------------------------------
    def query_tokens(self, text: str) -> list[str]:
        """Analyzed query, each term once (a repeated word does not count twice)."""
        return list(dict.fromkeys(self.analyzer(text)))

    def query(self, text: str) -> Scored | None:
        """BM25 of the text against every document (one pass), or None when nothing can match."""
        if self._dirty:
            self._build()
        tokens = self.query_tokens(text)
        matrix = self._matrix
        if matrix is None or not tokens:
            return None
        vocab = self._docs.vocab
        terms = [vocab[t] for t in tokens if t in vocab and vocab[t] < len(matrix.indptr) - 1]
        return Scored(self._order, self._pos, matrix.scores(terms), self._filter_by_position)

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
