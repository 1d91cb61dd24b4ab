"""A FAISS vector index keyed by the store's integer ids, exact while small, approximate past a size.

Two structures, chosen by an ``IndexPolicy``:

- ``flat``: exact inner product on L2-normalised vectors (cosine similarity), FAISS
  ``IndexIDMap2(IndexFlatIP)``; every vector is compared with the query.
- ``ivf-sq8``: FAISS ``IndexIVFScalarQuantizer`` (inverted lists over ``nlist`` k-means
  cells, vectors stored on 8 bits per dimension: a quarter of the memory of ``flat``);
  a search visits ``nprobe`` cells. Approximate: ``benchmarks/`` measures its recall@10
  against exact search.

With ``kind="auto"`` (the default) an index is ``flat`` up to ``threshold`` vectors and
turns itself into ``ivf-sq8`` (trained on its own vectors) when it grows past it; the
structure and its parameters are in ``metadata()`` and in the saved file.

Ids are the store's own, so vectors can be removed or replaced. Filters are parameters
of the search (``allowed=``), not post-processing: FAISS only visits the allowed ids
(a bitmap selector, so a filter of a million ids costs a millisecond, not a Python loop).

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
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import npzfile
from embeddings.filters import PerFilter, is_shared

FORMAT_VERSION = 2
FLAT, IVF_SQ8 = "flat-ip", "ivf-sq8"


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a store id and its cosine similarity in [-1, 1]."""

    id: int
    similarity: float


class IndexMismatch(ValueError):
    """Vectors or a saved index do not match this index (dimension, model)."""


@dataclass(frozen=True, slots=True)
class IndexPolicy:
    """Which structure an index uses, and with which parameters.

    Args:
        kind: ``auto`` (``flat`` up to ``threshold`` vectors, ``ivf-sq8`` above), ``flat``
            (always exact) or ``ivf-sq8`` (always approximate, once there are enough
            vectors to train it: ``min_train``).
        threshold: size past which ``auto`` turns approximate.
        nlist: inverted lists of ``ivf-sq8`` (default: ``sqrt(n)``, at least 16).
        nprobe: lists visited per search (default: ``nlist / 16``, at least 8; measured in ``benchmarks/nprobe_sweep.py``): the
            recall / speed trade-off, changeable without rebuilding.
        min_train: fewest vectors an ``ivf-sq8`` index is trained on.

    Example:
        >>> IndexPolicy().structure_for(10_000), IndexPolicy().structure_for(100_000)
        ('flat-ip', 'ivf-sq8')
    """

    kind: str = "auto"
    threshold: int = 20_000
    nlist: int | None = None
    nprobe: int | None = None
    min_train: int = 256

    def __post_init__(self) -> None:
        if self.kind not in ("auto", "flat", IVF_SQ8):
            raise ValueError(f"type d'index inconnu {self.kind!r} (auto, flat, ivf-sq8)")

    def structure_for(self, n: int) -> str:
        if self.kind == "flat" or n < self.min_train:
            return FLAT
        if self.kind == IVF_SQ8:
            return IVF_SQ8
        return IVF_SQ8 if n > self.threshold else FLAT

    def params_for(self, n: int) -> dict[str, int]:
        nlist = self.nlist or max(16, int(math.sqrt(max(n, 1))))
        nlist = max(1, min(nlist, n // 39 or 1))  # FAISS wants ~39 training points per list
        nprobe = self.nprobe or max(8, nlist // 16)
        return {"nlist": nlist, "nprobe": min(nprobe, nlist)}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "threshold": self.threshold, "nlist": self.nlist, "nprobe": self.nprobe}


class VectorIndex:
    """Store ids -> vectors, exact or approximate (see ``IndexPolicy``), with metadata.

    Args:
        dim: vector dimension.
        model_id: identifier of the encoder that produced the vectors.
        policy: structure and parameters (default: ``IndexPolicy()``, i.e. automatic).
    """

    def __init__(self, dim: int, model_id: str, *, policy: IndexPolicy | None = None) -> None:
        import faiss

        self._faiss = faiss
        self.dim = int(dim)
        self.model_id = model_id
        self.policy = policy or IndexPolicy()
        self.structure = FLAT
        self.params: dict[str, int] = {}
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._present = np.zeros(0, dtype=bool)  # by id: is it in the index?
        self._flat: tuple[Any, np.ndarray] | None = None  # flat index: (inner index, id of each position)
        # flat index: exact copies restricted to shared filters (filter -> (index, ids))
        self._subsets = PerFilter()
        self._threads = os.cpu_count() or 1

    # -- content -------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, item: object) -> bool:
        try:
            i = int(item)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False
        return 0 <= i < len(self._present) and bool(self._present[i])

    @property
    def faiss_index(self) -> Any:
        """The FAISS index itself (benchmarks measure its bare search as the floor of a question)."""
        return self._index

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(self.id_array().tolist())

    def id_array(self) -> np.ndarray:
        """Stored ids, sorted (int64)."""
        return np.flatnonzero(self._present).astype(np.int64)

    def _mark(self, ids: np.ndarray, value: bool) -> None:
        self._flat = None  # positions move on every change, copies go stale
        self._subsets.clear()
        if len(ids) == 0:
            return
        if value and ids.max() >= len(self._present):
            grown = np.zeros(max(int(ids.max()) + 1, 2 * len(self._present)), dtype=bool)
            grown[: len(self._present)] = self._present
            self._present = grown
        self._present[ids] = value

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Whether each id of an integer array is stored (a boolean array of the same length)."""
        return self._known(np.asarray(ids, dtype=np.int64))

    def _known(self, ids: np.ndarray) -> np.ndarray:
        inside = (ids >= 0) & (ids < len(self._present))
        out = np.zeros(len(ids), dtype=bool)
        out[inside] = self._present[ids[inside]]
        return out

    def _check(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise IndexMismatch(f"dimension {vectors.shape[1]} != {self.dim} (modèle {self.model_id})")
        return vectors

    def upsert(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add vectors, replacing those already stored under the same ids.

        With the automatic policy, the index turns approximate when it grows past the threshold.
        """
        id_arr = np.fromiter((int(i) for i in ids), dtype=np.int64) if not isinstance(ids, np.ndarray) else ids.astype(np.int64)
        vectors = self._check(vectors)
        if len(id_arr) != len(vectors):
            raise ValueError(f"{len(id_arr)} ids pour {len(vectors)} vecteurs")
        if len(np.unique(id_arr)) != len(id_arr):
            raise ValueError("ids en double")
        if len(id_arr) == 0:
            return
        if (id_arr < 0).any():
            raise ValueError("ids négatifs")
        old = id_arr[self._known(id_arr)]
        if len(old):
            self._index.remove_ids(old)
            self._mark(old, False)
        wanted = self.policy.structure_for(len(self) + len(id_arr))
        if wanted != self.structure and not (
            self.structure == IVF_SQ8 and self.policy.kind != "flat"
        ):  # never shrinks back by itself
            self._restructure(wanted, id_arr, vectors)
        else:
            self._index.add_with_ids(vectors, id_arr)
        self._mark(id_arr, True)

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        arr = np.fromiter((int(i) for i in ids), dtype=np.int64)
        present = np.unique(arr[self._known(arr)])
        if len(present) == 0:
            return 0
        removed = int(self._index.remove_ids(present))
        self._mark(present, False)
        return removed

    def vector(self, id_: int) -> np.ndarray:
        """The stored vector of an id (KeyError if absent); approximate for ``ivf-sq8``."""
        if id_ not in self:
            raise KeyError(id_)
        return self._index.reconstruct(int(id_))

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """Stored vectors of several ids, one row each (KeyError if one is absent)."""
        arr = np.fromiter((int(i) for i in ids), dtype=np.int64) if not isinstance(ids, np.ndarray) else ids.astype(np.int64)
        if len(arr) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        known = self._known(arr)
        if not known.all():
            raise KeyError(int(arr[~known][0]))
        return self._index.reconstruct_batch(arr)

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        ids = self.id_array()
        return ids, (self._index.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.dim), dtype=np.float32))

    def _restructure(self, structure: str, new_ids: np.ndarray, new_vectors: np.ndarray) -> None:
        """Rebuild the FAISS index as ``structure`` with the current vectors plus new ones."""
        faiss = self._faiss
        old_ids, old_vectors = self._all()
        ids = np.concatenate([old_ids, new_ids])
        vectors = np.vstack([old_vectors, new_vectors]) if len(old_ids) else new_vectors
        if structure == FLAT:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            params: dict[str, int] = {}
        else:
            params = self.policy.params_for(len(ids))
            index = faiss.IndexIVFScalarQuantizer(
                faiss.IndexFlatIP(self.dim), self.dim, params["nlist"], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            index.cp.max_points_per_centroid = 64  # train on a sample: minutes -> seconds at a million
            rng = np.random.default_rng(0)
            sample = (
                vectors
                if len(vectors) <= 64 * params["nlist"]
                else vectors[rng.choice(len(vectors), 64 * params["nlist"], replace=False)]
            )
            faiss.omp_set_num_threads(self._threads)
            index.train(sample)
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids and reconstruct by id
            index.nprobe = params["nprobe"]
        index.add_with_ids(vectors, ids)
        self._index, self.structure, self.params, self._flat = index, structure, params, None

    # -- search --------------------------------------------------------------
    def search(self, query: np.ndarray, k: int = 10, *, allowed: Iterable[int] | np.ndarray | None = None) -> list[Hit]:
        """Nearest ids of one query vector, best first.

        Args:
            query: one vector (dim,) or (1, dim).
            k: how many hits at most.
            allowed: if given, only these ids can be returned (an empty set returns nothing):
                ids (any iterable, or an integer array), or a boolean array indexed by id.
        """
        return self.search_many(np.atleast_2d(query), k, allowed=allowed)[0]

    def allowed_mask(self, allowed: Iterable[int] | np.ndarray) -> np.ndarray:
        """A boolean array by id of the allowed ids that are in the index."""
        if isinstance(allowed, np.ndarray) and allowed.dtype == bool:
            n = min(len(allowed), len(self._present))
            mask = np.zeros(len(self._present), dtype=bool)
            mask[:n] = allowed[:n] & self._present[:n]
            return mask
        arr = allowed if isinstance(allowed, np.ndarray) else np.fromiter((int(i) for i in allowed), dtype=np.int64)
        arr = arr.astype(np.int64, copy=False)
        mask = np.zeros(len(self._present), dtype=bool)
        mask[arr[self._known(arr)]] = True
        return mask

    def search_many(
        self, queries: np.ndarray, k: int = 10, *, allowed: Iterable[int] | np.ndarray | None = None
    ) -> list[list[Hit]]:
        """Nearest ids of several query vectors, one list of hits per query."""
        ids, scores = self.search_arrays(queries, k, allowed=allowed)
        return [
            [Hit(int(i), float(s)) for i, s in zip(row_ids.tolist(), row_scores.tolist(), strict=True) if i != -1]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def search_arrays(
        self, queries: np.ndarray, k: int = 10, *, allowed: Iterable[int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest ids of several query vectors as arrays: ``(ids, similarities)``, shape (n, k').

        The read path's form of ``search_many`` (no Python object per hit); ``k'`` is ``k``
        capped by what can be found, and an id of -1 pads a row that found fewer.
        """
        queries = self._check(queries)
        faiss = self._faiss
        empty = np.zeros((len(queries), 0), dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
        subset = self._subsets.get(allowed)
        if subset is not None:  # a shared filter searched before: its exact copy, no mask work
            return self._search_subset(subset, queries, min(k, len(subset[1]))) if len(subset[1]) else empty
        selector, bitmap = None, None
        if allowed is not None:
            mask = self.allowed_mask(allowed)
            n_allowed = int(mask.sum())
            if n_allowed == 0:
                return empty
            k = min(k, n_allowed)
            if n_allowed < len(self):
                bitmap = np.packbits(mask, bitorder="little")
                selector = faiss.IDSelectorBitmap(len(bitmap) * 8, faiss.swig_ptr(bitmap))
        k = min(k, len(self))
        if k <= 0:
            return empty
        if self.structure == FLAT and bitmap is not None:
            shared = allowed if is_shared(allowed) else None
            return self._search_flat_filtered(queries, k, mask, shared)
        if self.structure == IVF_SQ8:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self.params["nprobe"])
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        # one query is a millisecond of work: OpenMP threads cost more than they bring (20x
        # slower measured on 2 busy cores); a service runs requests side by side instead
        faiss.omp_set_num_threads(1 if len(queries) < 16 else self._threads)
        scores, ids = self._index.search(queries, k, params=params)
        del bitmap  # the selector points into it: kept alive until here
        return ids, scores

    def _search_flat_filtered(
        self, queries: np.ndarray, k: int, mask: np.ndarray, shared: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Filtered exact search on the inner flat index, the filter given by position.

        The same result as a selector by id on the ``IndexIDMap2``, a third faster: FAISS
        then checks a bitmap per vector instead of translating each position to its id first.
        """
        faiss = self._faiss
        if self._flat is None:
            self._flat = (faiss.downcast_index(self._index.index), faiss.vector_to_array(self._index.id_map))
        inner, ids_by_position = self._flat
        if shared is not None:  # a read-only filter, kept between requests: search its own copy
            subset = self._subsets.get(shared)
            if subset is None:
                keep = np.flatnonzero(mask[ids_by_position])
                vectors = faiss.rev_swig_ptr(inner.get_xb(), inner.ntotal * self.dim).reshape(inner.ntotal, self.dim)
                sub = faiss.IndexFlatIP(self.dim)
                sub.add(np.ascontiguousarray(vectors[keep]))
                subset = self._subsets.put(shared, (sub, ids_by_position[keep]))
            return self._search_subset(subset, queries, k)
        bitmap = np.packbits(mask[ids_by_position], bitorder="little")
        selector = faiss.IDSelectorBitmap(len(ids_by_position), faiss.swig_ptr(bitmap))
        faiss.omp_set_num_threads(1 if len(queries) < 16 else self._threads)
        scores, positions = inner.search(queries, k, params=faiss.SearchParameters(sel=selector))
        del selector, bitmap  # the selector points into the bitmap: both kept alive until here
        return np.where(positions >= 0, ids_by_position[positions], -1), scores

    def _search_subset(self, subset: tuple[Any, np.ndarray], queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        sub, sub_ids = subset
        self._faiss.omp_set_num_threads(1 if len(queries) < 16 else self._threads)
        scores, positions = sub.search(queries, k)
        return np.where(positions >= 0, sub_ids[positions], -1), scores

    def set_nprobe(self, nprobe: int) -> None:
        """Cells visited per search by an ``ivf-sq8`` index (no effect on ``flat``)."""
        if self.structure == IVF_SQ8:
            self.params["nprobe"] = max(1, min(int(nprobe), self.params["nlist"]))
            self._index.nprobe = self.params["nprobe"]

    # -- persistence ---------------------------------------------------------
    def fingerprint(self) -> str:
        """A short hash of the sorted ids (to compare the index with the store)."""
        h = hashlib.sha256(self.id_array().tobytes())
        return h.hexdigest()[:16]

    def metadata(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "count": len(self),
            "kind": self.structure,
            "params": dict(self.params),
            "policy": self.policy.as_dict(),
            "fingerprint": self.fingerprint(),
        }

    def save(self, path: str | Path, extra: dict[str, Any] | None = None, arrays: dict[str, np.ndarray] | None = None) -> None:
        """Write metadata and index to one file, atomically (temp file + ``os.replace``).

        ``arrays``: more named arrays kept in the same file (``read_arrays``).
        """
        self.write(path, *self.serialized(extra), arrays=arrays)

    def serialized(self, extra: dict[str, Any] | None = None) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        """What ``save`` writes: metadata, the serialised FAISS index, the ids (a copy: the index
        may change while the file is written)."""
        return self.metadata() | (extra or {}), self._faiss.serialize_index(self._index), self.id_array()

    @staticmethod
    def write(
        path: str | Path, meta: dict[str, Any], blob: np.ndarray, ids: np.ndarray, *, arrays: dict[str, np.ndarray] | None = None
    ) -> None:
        """Write a serialised index to one file, atomically (``embeddings.npzfile``)."""
        npzfile.write_atomic(path, meta, index=blob, ids=ids, **(arrays or {}))

    read_metadata = staticmethod(npzfile.read_metadata)

    @staticmethod
    def read_arrays(path: str | Path, names: Iterable[str]) -> dict[str, np.ndarray]:
        """The named arrays saved with an index (``save(arrays=)``); those absent are left out."""
        with np.load(path) as data:
            return {name: data[name] for name in names if name in data.files}

    @classmethod
    def load(cls, path: str | Path, *, model_id: str | None = None, policy: IndexPolicy | None = None) -> VectorIndex:
        """Load a saved index; if ``model_id`` is given it must match the saved one.

        The saved structure and parameters are kept; ``policy`` governs later growth.
        """
        import faiss

        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            blob = data["index"]
            ids = data["ids"] if "ids" in data.files else None
        if model_id is not None and meta["model_id"] != model_id:
            raise IndexMismatch(f"index construit avec {meta['model_id']}, encodeur actuel {model_id}")
        self = cls(meta["dim"], meta["model_id"], policy=policy)
        index = faiss.deserialize_index(blob)  # already downcast; keep this reference alive
        if isinstance(index, faiss.IndexIDMap2):
            self.structure = FLAT
            if ids is None:
                ids = faiss.vector_to_array(index.id_map)
        elif isinstance(index, faiss.IndexIVFScalarQuantizer) and ids is not None:
            self.structure = IVF_SQ8
            self.params = {"nlist": int(index.nlist), "nprobe": int(meta.get("params", {}).get("nprobe", index.nprobe))}
            if policy is not None and policy.nprobe:
                self.params["nprobe"] = min(policy.nprobe, self.params["nlist"])
            index.nprobe = self.params["nprobe"]
        else:
            raise IndexMismatch(f"{path}: type d'index inattendu {type(index).__name__}")
        self._index = index
        self._mark(np.asarray(ids, dtype=np.int64), True)
        if len(ids) != index.ntotal:
            raise IndexMismatch(f"{path}: {len(ids)} ids pour {index.ntotal} vecteurs")
        return self
