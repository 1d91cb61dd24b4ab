"""Vector cache keyed by (model id, sha256(text)): unchanged text is never re-encoded.

The cache lives in a table of the same database as the store (SQLite or PostgreSQL),
so it is shared by every process of a deployment, but it knows nothing about members
or projects: only model ids, text hashes and vectors.

Example:
    >>> from sqlalchemy import create_engine
    >>> cached = CachedEncoder(build_encoder("use-multilingual"), VectorCache(create_engine("sqlite://")))
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

import numpy as np
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Engine

from embeddings.encoder import Encoder, Kind

metadata = MetaData()

vector_cache = Table(
    "vector_cache",
    metadata,
    Column("model_id", String(200), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

_CHUNK = 500  # keys per SELECT ... IN (...) (SQLite limits bound parameters)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _insert_ignoring_duplicates(dialect: str):
    """INSERT that skips keys another process wrote meanwhile (the vectors are the same)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(vector_cache).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(vector_cache).on_conflict_do_nothing()
    return insert(vector_cache)


class VectorCache:
    """Stores float32 vectors by (model id, text hash) in a SQL table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                rows = conn.execute(
                    select(vector_cache.c.text_hash, vector_cache.c.vector).where(
                        vector_cache.c.model_id == model_id, vector_cache.c.text_hash.in_(chunk)
                    )
                )
                for h, blob in rows:
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        existing = self.get_many(model_id, list(items))
        rows = [
            {"model_id": model_id, "text_hash": h, "dim": int(v.shape[0]), "vector": np.asarray(v, np.float32).tobytes()}
            for h, v in items.items()
            if h not in existing
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_insert_ignoring_duplicates(self.engine.dialect.name), rows)

    def discard(self, model_id: str | None, hashes: Iterable[str]) -> int:
        """Forget vectors of these texts (for one model, or all models if None)."""
        hashes = list(hashes)
        removed = 0
        with self.engine.begin() as conn:
            for start in range(0, len(hashes), _CHUNK):
                stmt = delete(vector_cache).where(vector_cache.c.text_hash.in_(hashes[start : start + _CHUNK]))
                if model_id is not None:
                    stmt = stmt.where(vector_cache.c.model_id == model_id)
                removed += conn.execute(stmt).rowcount or 0
        return removed

    def count(self, model_id: str | None = None) -> int:
        from sqlalchemy import func

        stmt = select(func.count()).select_from(vector_cache)
        if model_id is not None:
            stmt = stmt.where(vector_cache.c.model_id == model_id)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())


class CachedEncoder:
    """An ``Encoder`` that looks in a ``VectorCache`` before encoding.

    Query and document vectors are cached apart when the encoder is asymmetric
    (``encoder.asymmetric`` true, e.g. e5 prefixes).
    """

    def __init__(self, encoder: Encoder, cache: VectorCache, *, query_memory: int = 4096) -> None:
        self.encoder = encoder
        self.cache = cache
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.stats: dict[str, float] = {"hits": 0, "misses": 0, "seconds": 0.0}
        # query vectors that are not documents (free text) stay in memory only: the read
        # path never writes to the database, and typed queries are not persisted
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_memory = query_memory
        self._lock = threading.Lock()

    def _cache_model_id(self, kind: Kind) -> str:
        if kind == "query" and getattr(self.encoder, "asymmetric", False):
            return f"{self.model_id}#query"
        return self.model_id

    def encode(self, texts: list[str], *, kind: Kind = "document", progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        key = self._cache_model_id(kind)
        hashes = [text_hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if kind == "query":
            with self._lock:
                found = {h: self._queries[h] for h in hashes if h in self._queries}
        rest = [h for h in hashes if h not in found]
        if rest:
            stored = self.cache.get_many(key, rest)
            found.update(stored)
            if kind == "query" and stored:  # a document asked again as a query: keep it at hand
                self._remember(stored)
        missing = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in found))
        self.stats["hits"] += len(texts) - sum(1 for h in hashes if h not in found)
        self.stats["misses"] += sum(1 for h in hashes if h not in found)
        if missing:
            start = time.perf_counter()
            new = _encode_batches(self.encoder, missing, kind, progress)
            self.stats["seconds"] += time.perf_counter() - start
            fresh = {text_hash(t): v for t, v in zip(missing, new, strict=True)}
            if kind == "query":
                self._remember(fresh)
            else:
                self.cache.put_many(key, fresh)
            found.update(fresh)
        return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for h, v in vectors.items():
                self._queries[h] = v
                self._queries.move_to_end(h)
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
