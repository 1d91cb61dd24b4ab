"""A FAISS vector index keyed by the store's integer ids.

Exact inner product on L2-normalised vectors (cosine similarity), wrapped in
``IndexIDMap2`` so ids are the store's own and vectors can be removed or replaced.
Filters are parameters of the search (``allowed=``), not post-processing: FAISS only
visits the allowed ids (``IDSelectorBatch``).

The index is saved as **one file** (metadata + serialised index) written to a temporary
file and moved into place with ``os.replace``: a crash never leaves a half-written index.

Example:
    >>> import numpy as np
    >>> idx = VectorIndex(dim=2, model_id="demo")
    >>> idx.upsert([7, 9], np.array([[1, 0], [0, 1]], dtype="float32"))
    >>> idx.search(np.array([1, 0], dtype="float32"), k=1)[0]
    Hit(id=7, similarity=1.0)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a store id and its cosine similarity in [-1, 1]."""

    id: int
    similarity: float


class IndexMismatch(ValueError):
    """Vectors or a saved index do not match this index (dimension, model)."""


class VectorIndex:
    """FAISS ``IndexIDMap2(IndexFlatIP)`` with metadata.

    Args:
        dim: vector dimension.
        model_id: identifier of the encoder that produced the vectors.
    """

    def __init__(self, dim: int, model_id: str) -> None:
        import faiss

        self._faiss = faiss
        self.dim = int(dim)
        self.model_id = model_id
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._ids: set[int] = set()

    # -- content -------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(self._ids)

    def _check(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise IndexMismatch(f"dimension {vectors.shape[1]} != {self.dim} (modèle {self.model_id})")
        return vectors

    def upsert(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add vectors, replacing those already stored under the same ids."""
        id_arr = np.fromiter((int(i) for i in ids), dtype=np.int64)
        vectors = self._check(vectors)
        if len(id_arr) != len(vectors):
            raise ValueError(f"{len(id_arr)} ids pour {len(vectors)} vecteurs")
        if len(np.unique(id_arr)) != len(id_arr):
            raise ValueError("ids en double")
        if len(id_arr) == 0:
            return
        self.remove(int(i) for i in id_arr if int(i) in self._ids)
        self._index.add_with_ids(vectors, id_arr)
        self._ids.update(int(i) for i in id_arr)

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        present = [int(i) for i in ids if int(i) in self._ids]
        if not present:
            return 0
        removed = int(self._index.remove_ids(np.array(present, dtype=np.int64)))
        self._ids.difference_update(present)
        return removed

    def vector(self, id_: int) -> np.ndarray:
        """The stored vector of an id (KeyError if absent)."""
        if id_ not in self._ids:
            raise KeyError(id_)
        return self._index.reconstruct(int(id_))

    # -- search --------------------------------------------------------------
    def search(self, query: np.ndarray, k: int = 10, *, allowed: Iterable[int] | None = None) -> list[Hit]:
        """Nearest ids of one query vector, best first.

        Args:
            query: one vector (dim,) or (1, dim).
            k: how many hits at most.
            allowed: if given, only these ids can be returned (an empty set returns nothing).
        """
        return self.search_many(np.atleast_2d(query), k, allowed=allowed)[0]

    def search_many(self, queries: np.ndarray, k: int = 10, *, allowed: Iterable[int] | None = None) -> list[list[Hit]]:
        """Nearest ids of several query vectors, one list of hits per query."""
        queries = self._check(queries)
        params = None
        if allowed is not None:
            allowed_arr = np.fromiter((int(i) for i in allowed if int(i) in self._ids), dtype=np.int64)
            if len(allowed_arr) == 0:
                return [[] for _ in range(len(queries))]
            k = min(k, len(allowed_arr))
            params = self._faiss.SearchParameters(sel=self._faiss.IDSelectorBatch(allowed_arr))
        k = min(k, len(self))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        scores, ids = self._index.search(queries, k, params=params)
        return [
            [Hit(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i != -1]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    # -- persistence ---------------------------------------------------------
    def fingerprint(self) -> str:
        """A short hash of the sorted ids (to compare the index with the store)."""
        h = hashlib.sha256(np.array(sorted(self._ids), dtype=np.int64).tobytes())
        return h.hexdigest()[:16]

    def metadata(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "count": len(self),
            "kind": "flat-ip",
            "fingerprint": self.fingerprint(),
        }

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write metadata and index to one file, atomically (temp file + ``os.replace``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = self.metadata() | (extra or {})
        blob = self._faiss.serialize_index(self._index)
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), index=blob)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.getvalue())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def read_metadata(path: str | Path) -> dict[str, Any]:
        with np.load(path) as data:
            return json.loads(data["meta"].tobytes().decode())

    @classmethod
    def load(cls, path: str | Path, *, model_id: str | None = None) -> VectorIndex:
        """Load a saved index; if ``model_id`` is given it must match the saved one."""
        import faiss

        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            blob = data["index"]
        if model_id is not None and meta["model_id"] != model_id:
            raise IndexMismatch(f"index construit avec {meta['model_id']}, encodeur actuel {model_id}")
        self = cls(meta["dim"], meta["model_id"])
        index = faiss.deserialize_index(blob)  # already downcast; keep this reference alive
        if not isinstance(index, faiss.IndexIDMap2):
            raise IndexMismatch(f"{path}: type d'index inattendu {type(index).__name__}")
        self._index = index
        ids = faiss.vector_to_array(self._index.id_map)
        self._ids = {int(i) for i in ids}
        return self
