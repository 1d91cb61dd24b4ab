"""The index set: for each kind of document, its dense channels and its lexical index.

A **dense channel** is an encoder (through the vector cache) and, per kind, one FAISS index of
its vectors (``VectorIndex``); the first channel is the primary one (query adapters, MMR and
the partner question's vectors use it). The **lexical index** of a kind is BM25 over the
analyzer's tokens. Kinds are names the caller chooses; this module knows nothing of members
or projects.

Life cycle:

- ``open(source)``: load each saved index whose fingerprint (an order-independent hash of
  the ``(id, text hash)`` pairs of the source), size, model and structure match the source;
  rebuild the others from the source (vectors from the cache, so only new texts are encoded);
- ``prepare(texts)`` before a write (encodes documents through the cache, outside any
  database transaction), then ``apply(changes, prepared)`` after it commits: the one way the
  indexes change (``changes`` says which ids got which text and which ids left);
- ``save(kind)``: every index of the kind, each file atomic (``VectorIndex.save``).

Queries are encoded here (``query_vector``): the text of a question goes down to retrieval,
which asks for the vector of the channel it searches.

Example:
    >>> from embeddings.cache import MemoryVectorCache
    >>> encoder = CachedEncoder(build_encoder("use-multilingual"), MemoryVectorCache())  # doctest: +SKIP
    >>> indexes = IndexSet(["doc"], {"use-multilingual": encoder}, Path("/tmp/idx"), analyzer=str.split)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from embeddings.adapter import QueryAdapter
from embeddings.cache import CachedEncoder, text_hash
from embeddings.index import IndexMismatch, IndexPolicy, VectorIndex
from embeddings.lexical import LexicalIndex

log = logging.getLogger(__name__)


class DocumentSource(Protocol):
    """Where the documents of each kind are: the source of truth the indexes are built from."""

    def documents(self, kind: str) -> list[tuple[int, str, str]]:
        """(id, text, text hash) of every document of a kind, in id order."""
        ...

    def text_hashes(self, kind: str) -> dict[int, str]:
        """id -> text hash of every document of a kind."""
        ...


class IndexChanges(Protocol):
    """What a write did: per kind, the ids (re-)written with their new text, and the ids removed."""

    upserted: dict[str, dict[int, str]]
    removed: dict[str, set[int]]


Prepared = dict[str, dict[str, np.ndarray]]  # channel -> text -> document vector


def contribution(pk: int, hash_: str) -> int:
    """One document's share of a fingerprint."""
    digest = hashlib.blake2b(f"{pk}:{hash_}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def fingerprint(contributions: Iterable[int]) -> str:
    """Order-independent hash of a set of (id, text hash) pairs."""
    return f"{sum(contributions) % (1 << 64):016x}"


def _same_policy(saved: dict[str, Any] | None, policy: IndexPolicy) -> bool:
    """Whether a saved index was built under the same structural settings (nprobe is free)."""
    if not saved:
        return False
    return {k: saved.get(k) for k in ("kind", "threshold", "nlist")} == {
        "kind": policy.kind,
        "threshold": policy.threshold,
        "nlist": policy.nlist,
    }


class IndexSet:
    """Per kind: one dense index per channel (encoder) and one lexical index.

    Args:
        kinds: the kinds of documents (e.g. the entity kinds of the caller).
        channels: channel name -> cached encoder, the primary channel first. The name is the
            encoder's setting (what ``build_encoder`` and Ray workers rebuild it from).
        directory: where the index files live.
        policy: structure of the dense indexes (exact, approximate past a size).
        analyzer: text -> tokens of the lexical channel.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        channels: dict[str, CachedEncoder],
        directory: Path,
        *,
        policy: IndexPolicy | None = None,
        analyzer: Callable[[str], list[str]] = str.split,
    ) -> None:
        if not channels:
            raise ValueError("au moins un encodeur est nécessaire")
        self.kinds = tuple(kinds)
        self.channels = dict(channels)
        self.directory = Path(directory)
        self.policy = policy or IndexPolicy()
        self._analyzer = analyzer
        self._dense: dict[tuple[str, str], VectorIndex] = {}  # (channel, kind) -> index
        self._lexical: dict[str, LexicalIndex] = {}
        self._adapters: dict[str, QueryAdapter] = {}  # kind -> adapter of the primary channel
        self._contrib: dict[str, dict[int, int]] = {k: {} for k in self.kinds}  # kind -> id -> fingerprint share
        self._lock = threading.RLock()

    # -- what is where --------------------------------------------------------------------
    @property
    def primary(self) -> str:
        return next(iter(self.channels))

    @property
    def encoder(self) -> CachedEncoder:
        """The primary channel's encoder."""
        return self.channels[self.primary]

    def index_path(self, kind: str, channel: str | None = None) -> Path:
        channel = channel or self.primary
        if channel == self.primary:
            return self.directory / f"{kind}.faiss.npz"
        slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in channel)
        return self.directory / f"{kind}.{slug}.faiss.npz"

    def adapter_path(self, kind: str) -> Path:
        return self.directory / f"{kind}.adapter.npz"

    def dense(self, kind: str, channel: str | None = None) -> VectorIndex:
        return self._dense[(channel or self.primary, kind)]

    def lexical(self, kind: str) -> LexicalIndex:
        return self._lexical[kind]

    @property
    def is_open(self) -> bool:
        return bool(self._dense)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the indexes still while searching them (a write waits)."""
        with self._lock:
            yield

    def fingerprint(self, kind: str) -> str:
        return fingerprint(self._contrib[kind].values())

    # -- open, rebuild, save ------------------------------------------------------------------
    def open(self, source: DocumentSource, *, progress: bool = False) -> dict[str, str]:
        """Load the indexes that match the source, rebuild the others; per kind ``loaded`` or ``rebuilt``."""
        done = {}
        with self._lock:
            for kind in self.kinds:
                done[kind] = self._open_kind(source, kind, progress=progress)
                self._load_lexical(source, kind)
                self._load_adapter(kind)
        return done

    def _open_kind(self, source: DocumentSource, kind: str, *, progress: bool) -> str:
        contrib = {pk: contribution(pk, h) for pk, h in source.text_hashes(kind).items()}
        expected = fingerprint(contrib.values())
        loaded = {}
        for channel, encoder in self.channels.items():
            path = self.index_path(kind, channel)
            if not path.exists():
                break
            try:
                meta = VectorIndex.read_metadata(path)
                if not (
                    meta.get("store_fingerprint") == expected
                    and meta.get("count") == len(contrib)
                    and meta.get("model_id") == encoder.model_id
                    and meta.get("kind") == self.policy.structure_for(len(contrib))
                    and _same_policy(meta.get("policy"), self.policy)
                ):
                    log.warning("index %s (%s) différent du store ou des réglages : reconstruction", kind, channel)
                    break
                loaded[channel] = VectorIndex.load(path, model_id=encoder.model_id, policy=self.policy)
            except (OSError, ValueError, KeyError, IndexMismatch) as exc:
                log.warning("index %s (%s) illisible (%s) : reconstruction", kind, channel, exc)
                break
        if len(loaded) == len(self.channels):
            for channel, index in loaded.items():
                self._dense[(channel, kind)] = index
            self._contrib[kind] = contrib
            return "loaded"
        self._rebuild_kind(source, kind, progress=progress)
        return "rebuilt"

    def rebuild(
        self,
        source: DocumentSource,
        *,
        progress: bool = False,
        engine: Literal["local", "ray"] = "local",
        workers: int = 1,
        address: str | None = None,
    ) -> dict[str, int]:
        """Recreate every index from the source (vectors come from the cache when unchanged).

        Args:
            engine: ``local`` encodes in this process; ``ray`` encodes the texts missing from
                the cache with Ray Data (``workers`` model actors, on the cluster at
                ``address`` or ``RAY_ADDRESS``, else on a local Ray instance).
        """
        if engine not in ("local", "ray"):
            raise ValueError(f"moteur inconnu {engine!r} (local, ray)")
        with self._lock:
            counts = {
                kind: self._rebuild_kind(source, kind, progress=progress, engine=engine, workers=workers, address=address)
                for kind in self.kinds
            }
            for kind in self.kinds:
                self._load_lexical(source, kind)
            return counts

    def _rebuild_kind(
        self,
        source: DocumentSource,
        kind: str,
        *,
        progress: bool,
        engine: str = "local",
        workers: int = 1,
        address: str | None = None,
    ) -> int:
        docs = source.documents(kind)
        for channel, encoder in self.channels.items():
            index = VectorIndex(encoder.dim, encoder.model_id, policy=self.policy)
            if docs:
                texts = [text for _, text, _ in docs]
                vectors = self._encode_documents(
                    channel, texts, progress=progress, engine=engine, workers=workers, address=address
                )
                index.upsert([pk for pk, _, _ in docs], vectors)
            self._dense[(channel, kind)] = index
        self._contrib[kind] = {pk: contribution(pk, h) for pk, _, h in docs}
        self.save(kind)
        return len(docs)

    def _encode_documents(
        self, channel: str, texts: list[str], *, progress: bool, engine: str, workers: int, address: str | None
    ) -> np.ndarray:
        encoder = self.channels[channel]
        if engine == "local":
            return encoder.encode(texts, kind="document", progress=progress)
        from embeddings.distributed import encode_with_ray

        hashes = [text_hash(t) for t in texts]
        found = encoder.cache.get_many(encoder.model_id, list(dict.fromkeys(hashes)))
        missing = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in found))
        if missing:
            vectors = encode_with_ray(missing, channel, workers=workers, address=address)
            fresh = {text_hash(t): v for t, v in zip(missing, vectors, strict=True)}
            encoder.cache.put_many(encoder.model_id, fresh)
            found.update(fresh)
        return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def _load_lexical(self, source: DocumentSource, kind: str) -> None:
        lexical = LexicalIndex(self._analyzer)
        docs = source.documents(kind)
        lexical.upsert([pk for pk, _, _ in docs], [text for _, text, _ in docs])
        self._lexical[kind] = lexical

    def save(self, kind: str) -> None:
        extra = {"store_fingerprint": self.fingerprint(kind), "entity": kind}
        for channel in self.channels:
            self._dense[(channel, kind)].save(self.index_path(kind, channel), extra=extra)

    # -- writes ---------------------------------------------------------------------------------
    def prepare(self, texts: dict[str, list[str]], *, progress: bool = False) -> Prepared:
        """Encode the documents a write is about to store (cache first), before its transaction:
        an encoder failure then writes nothing, and no database lock is held while encoding."""
        prepared: Prepared = {channel: {} for channel in self.channels}
        for items in texts.values():  # kind by kind: each kind's texts are encoded as one list
            unique = list(dict.fromkeys(items))
            if not unique:
                continue
            for channel, encoder in self.channels.items():
                vectors = encoder.encode(unique, kind="document", progress=progress)
                prepared[channel].update(zip(unique, vectors, strict=True))
        return prepared

    def apply(self, changes: IndexChanges, prepared: Prepared | None = None) -> None:
        """Bring every index up to date with a committed write, and save the kinds it touched.

        Vectors come from ``prepared`` when the write was prepared here, else from the cache
        (the vectors of another process's write), encoded only if missing from both.
        """
        prepared = prepared or {}
        with self._lock:
            for kind in self.kinds:
                removed, upserted = changes.removed.get(kind, set()), changes.upserted.get(kind, {})
                if not removed and not upserted:
                    continue
                self._lexical[kind].remove(removed)
                for pk in removed:
                    self._contrib[kind].pop(pk, None)
                pks = list(upserted)
                texts = [upserted[pk] for pk in pks]
                for channel, encoder in self.channels.items():
                    index = self._dense[(channel, kind)]
                    index.remove(removed)
                    if pks:
                        known = prepared.get(channel, {})
                        missing = list(dict.fromkeys(t for t in texts if t not in known))
                        if missing:
                            known = known | dict(zip(missing, encoder.encode(missing, kind="document"), strict=True))
                        index.upsert(pks, np.vstack([known[t] for t in texts]))
                if pks:
                    self._lexical[kind].upsert(pks, texts)
                    for pk, text in zip(pks, texts, strict=True):
                        self._contrib[kind][pk] = contribution(pk, text_hash(text))
                self.save(kind)

    def forget(self, hashes: Iterable[str]) -> None:
        """Drop the cached vectors of these texts, for every model (the texts of deleted people)."""
        hashes = list(hashes)
        if hashes:
            self.encoder.cache.discard(None, hashes)

    # -- queries ----------------------------------------------------------------------------------
    def query_vector(self, text: str, kind: str | None = None, *, channel: str | None = None) -> np.ndarray:
        """The query vector of a text, mapped by the query adapter of ``kind`` when it has one
        (primary channel only); no ``kind``: the plain vector."""
        channel = channel or self.primary
        vector = self.channels[channel].encode([text], kind="query")
        adapter = self._adapters.get(kind) if kind and channel == self.primary else None
        return (adapter.apply(vector) if adapter is not None else vector)[0]

    def query_vectors(self, texts: list[str], *, channel: str | None = None) -> np.ndarray:
        """Plain query vectors of several texts (no adapter), one row each."""
        return self.channels[channel or self.primary].encode(texts, kind="query")

    # -- query adapters ---------------------------------------------------------------------------
    def _load_adapter(self, kind: str) -> None:
        path = self.adapter_path(kind)
        self._adapters.pop(kind, None)
        if path.exists():
            try:
                adapter = QueryAdapter.load(path)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("adaptateur %s illisible (%s) : ignoré", kind, exc)
                return
            if adapter.model_id == self.encoder.model_id and adapter.dim == self.encoder.dim:
                self._adapters[kind] = adapter

    def fit_adapter(self, kind: str, texts: list[str], **fit: Any) -> dict[str, Any]:
        """Train the query adapter of one kind on its texts (no labels), save and use it.

        Returns the training facts, or ``{"trained": False, ...}`` when the texts give too few
        sentence pairs (queries are then left as they are). ``fit``: ``QueryAdapter.fit``'s options.
        """
        adapter = QueryAdapter.fit(self.encoder, texts, **fit)
        if adapter is None:
            self.drop_adapter(kind)
            return {"kind": kind, "trained": False, "reason": f"moins de {fit.get('min_pairs', 1000)} paires de phrases"}
        adapter.save(self.adapter_path(kind))
        self._adapters[kind] = adapter
        return {"kind": kind, "trained": True, **adapter.info}

    def drop_adapter(self, kind: str) -> None:
        self.adapter_path(kind).unlink(missing_ok=True)
        self._adapters.pop(kind, None)

    # -- state ----------------------------------------------------------------------------------
    def status(self, counts: dict[str, int]) -> dict[str, Any]:
        """Per kind: size, structure and parameters of the primary index, its fingerprint, and
        whether it agrees with the source (``counts``: documents per kind in the source)."""
        out = {}
        for kind in self.kinds:
            index = self.dense(kind)
            out[kind] = {
                "count": len(index),
                "kind": index.structure,
                "params": index.params,
                "store_count": counts[kind],
                "fingerprint": self.fingerprint(kind),
                "in_sync": len(index) == counts[kind],
            }
            if len(self.channels) > 1:
                out[kind]["channels"] = {ch: len(self.dense(kind, ch)) for ch in self.channels}
        return out
