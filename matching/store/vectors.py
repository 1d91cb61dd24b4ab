"""The vector cache as a table of the store: vectors by (model id, text hash), shared by every
process of a deployment (a replica never re-encodes what another process encoded)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext

import numpy as np
from sqlalchemy import Column, Integer, LargeBinary, String, Table, delete, insert, select
from sqlalchemy.engine import Connection, Engine

from matching.store.failures import unavailable_as_domain_error
from matching.store.schema import Base

vector_cache = Table(
    "vector_cache",
    Base.metadata,
    Column("model_id", String(200), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

_CHUNK = 500  # keys per SELECT ... IN (...) (SQLite limits bound parameters)


def _insert_ignoring_duplicates(dialect: str):
    """INSERT that skips keys another process wrote meanwhile (the vectors are the same)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(vector_cache).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(vector_cache).on_conflict_do_nothing()
    return insert(vector_cache)


class SqlVectorCache:
    """The store's ``embeddings.cache.VectorCache``: float32 vectors by (model id, text hash) in a
    table of the store's database, shared by every process of a deployment."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        vector_cache.create(engine, checkfirst=True)

    def get_many(self, model_id: str, hashes: Sequence[str], *, connection: Connection | None = None) -> dict[str, np.ndarray]:
        """The vectors kept for these hashes. On a connection of its own (the read path looking up
        a query or a quoted sentence), a database that says "not now" is ``Unavailable`` (503), as
        in a unit of work of the store."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with unavailable_as_domain_error(), nullcontext(connection) if connection is not None else self.engine.connect() as conn:
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

    def put_many(self, model_id: str, items: dict[str, np.ndarray], *, connection: Connection | None = None) -> None:
        """Keep vectors (those already kept are left as they are). ``connection``: write in that
        connection's transaction (a unit of work of the store) instead of one of its own."""
        if not items:
            return
        existing = self.get_many(model_id, list(items), connection=connection)
        rows = [
            {"model_id": model_id, "text_hash": h, "dim": int(v.shape[0]), "vector": np.asarray(v, np.float32).tobytes()}
            for h, v in sorted(items.items())  # one order for every writer: no deadlock between two
            if h not in existing
        ]
        if not rows:
            return
        if connection is not None:
            connection.execute(_insert_ignoring_duplicates(self.engine.dialect.name), rows)
            return
        with unavailable_as_domain_error(), self.engine.begin() as conn:
            conn.execute(_insert_ignoring_duplicates(self.engine.dialect.name), rows)

    def discard(self, model_id: str | None, hashes: Iterable[str]) -> int:
        """Forget vectors of these texts (for one model, or all models if None)."""
        hashes = list(hashes)
        removed = 0
        with unavailable_as_domain_error(), self.engine.begin() as conn:
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
        with unavailable_as_domain_error(), self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())
