"""Vectors cached by (model id, sha256(text)): unchanged text is never re-encoded.

``CachedEncoder`` looks in a ``VectorCache`` before encoding. The service's cache is a
table of its store (``matching.store.vectors``), shared by every process of a deployment;
this package knows nothing about members or projects, only model ids, text hashes and
vectors.

Example:
    >>> cached = CachedEncoder(build_encoder("use-multilingual"), MemoryVectorCache())
    >>> _ = cached.encode(["bonjour"]); _ = cached.encode(["bonjour"])
    >>> cached.stats
    {'hits': 1, 'misses': 1}
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from embeddings.encoder import Encoder, Kind


def text_hash(text: str) -> str:
    """The one hash of a text in the service (vector cache keys, store columns, fingerprints)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache(Protocol):
    """Where vectors are kept by (model id, text hash). The service's lives in its store
    (``matching.store.vectors``, one table shared by every process); ``MemoryVectorCache``
    keeps them in this process."""

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None: ...

    def discard(self, model_id: str | None, hashes: Iterable[str]) -> int: ...

    def count(self, model_id: str | None = None) -> int: ...


class MemoryVectorCache:
    """A ``VectorCache`` in memory (scripts, tests, a process without a store)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: self._items[(model_id, h)] for h in hashes if (model_id, h) in self._items}

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        for h, v in items.items():
            self._items.setdefault((model_id, h), np.asarray(v, dtype=np.float32))

    def discard(self, model_id: str | None, hashes: Iterable[str]) -> int:
        wanted = set(hashes)
        gone = [key for key in self._items if key[1] in wanted and (model_id is None or key[0] == model_id)]
        for key in gone:
            del self._items[key]
        return len(gone)

    def count(self, model_id: str | None = None) -> int:
        return sum(1 for key in self._items if model_id is None or key[0] == model_id)


class CachedEncoder:
    """An ``Encoder`` that looks in a ``VectorCache`` before encoding.

    Query and document vectors are cached apart when the encoder is asymmetric
    (``encoder.asymmetric`` true, e.g. e5 prefixes).
    """

    def __init__(self, encoder: Encoder, cache: VectorCache, *, query_memory: int = 16_384) -> None:
        self.encoder = encoder
        self.cache = cache
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.stats: dict[str, float] = {"hits": 0, "misses": 0, "seconds": 0.0}
        # vectors the read path encodes (free-text queries, the sentences a reason quotes, an
        # offering's examples) stay in memory only: the read path never writes to the database,
        # and typed queries are not persisted. 16 384 vectors of 512 floats: 32 MiB at most
        self._queries: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._query_memory = query_memory
        self._lock = threading.Lock()

    def _cache_model_id(self, kind: Kind) -> str:
        if kind == "query" and getattr(self.encoder, "asymmetric", False):
            return f"{self.model_id}#query"
        return self.model_id

    def encode(self, texts: list[str], *, kind: Kind = "document", progress: bool = False) -> np.ndarray:
        return self.encode_keeping(texts, kind=kind, progress=progress)[0]

    def encode_keeping(
        self, texts: list[str], *, kind: Kind = "document", progress: bool = False, keep: bool = True, read_path: bool = False
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The vectors of ``texts`` and those that were encoded now (text hash -> vector).

        ``keep=False``: new document vectors are not written to the cache; the caller stores
        them (the service does it in the transaction of the write they belong to).
        ``read_path`` (always so for queries): the vectors are kept in memory, looked up there
        first, and never written to the cache (the read path does not write; e.g. an offering's
        examples, encoded when a question needs them).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), {}
        key = self._cache_model_id(kind)
        memory = read_path or kind == "query"
        hashes = [text_hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if memory:
            with self._lock:
                found = {h: self._queries[(key, h)] for h in hashes if (key, h) in self._queries}
        rest = [h for h in hashes if h not in found]
        if rest:
            stored = self.cache.get_many(key, rest)
            found.update(stored)
            if memory and stored:  # a document asked again on the read path: keep it at hand
                self._remember(key, stored)
        missing = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in found))
        self.stats["hits"] += len(texts) - sum(1 for h in hashes if h not in found)
        self.stats["misses"] += sum(1 for h in hashes if h not in found)
        fresh: dict[str, np.ndarray] = {}
        if missing:
            start = time.perf_counter()
            new = _encode_batches(self.encoder, missing, kind, progress)
            self.stats["seconds"] += time.perf_counter() - start
            fresh = {text_hash(t): v for t, v in zip(missing, new, strict=True)}
            if memory:
                self._remember(key, fresh)
            elif keep:
                self.cache.put_many(key, fresh)
            found.update(fresh)
        return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False), fresh

    def _remember(self, key: str, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for h, v in vectors.items():
                self._queries[(key, h)] = v
                self._queries.move_to_end((key, h))
            while len(self._queries) > self._query_memory:
                self._queries.popitem(last=False)


def _encode_batches(encoder: Encoder, texts: list[str], kind: Kind, progress: bool, batch: int = 256) -> np.ndarray:
    if not progress or len(texts) <= batch:
        return encoder.encode(texts, kind=kind)
    from tqdm.auto import tqdm

    parts = []
    with tqdm(total=len(texts), desc="Encodage", unit="texte") as bar:
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            parts.append(encoder.encode(chunk, kind=kind))
            bar.update(len(chunk))
    return np.vstack(parts)
