"""The index set: for each kind of document, its dense channels and its lexical index.

A **dense channel** is an encoder (through the vector cache) and, per kind, one FAISS index of
its vectors (``VectorIndex``); the first channel is the primary one (query adapters, MMR and
the partner question's vectors use it). The **lexical index** of a kind is BM25 over the
analyzer's tokens. Kinds are names the caller chooses; this module knows nothing of members
or projects.

Life cycle:

- ``open(source, position=, replay=)``: load each saved index (a **snapshot**: it records the
  source position it reflects, e.g. the store's change-log sequence, and the fingerprint
  share of each id); with ``replay``, bring it forward with the changes since that position;
  without, keep it only if its fingerprint (an order-independent hash of the ``(id, text
  hash)`` pairs), size, model and structure match the source; rebuild the others from the
  source (vectors from the cache, so only new texts are encoded). An unreadable file
  (truncated, flipped bits, empty) is rebuilt with a warning; temporary files left by a
  process killed while saving are removed;
- ``prepare(texts)`` before a write (encodes documents through the cache, outside any
  database transaction), then ``apply(changes, prepared)`` after it commits: the one way the
  indexes change (``changes`` says which ids got which text and which ids left). ``apply``
  changes memory only: the kinds it touched are saved by the next ``snapshot(position)``;
- ``save(kind)`` / ``snapshot(position)``: every index of a kind (of the changed kinds), each
  file atomic (``VectorIndex.save``). A failed save (disk full, read-only) leaves the
  indexes serving from memory, the kinds still to save, and the reason in ``save_error``.

Queries are encoded here (``query_vector``): the text of a question goes down to retrieval,
which asks for the vector of the channel it searches.

Example:
    >>> from embeddings.cache import MemoryVectorCache
    >>> encoder = CachedEncoder(build_encoder("use-multilingual"), MemoryVectorCache())  # doctest: +SKIP
    >>> indexes = IndexSet(["doc"], {"use-multilingual": encoder}, Path("/tmp/idx"), analyzer=str.split)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from embeddings.adapter import QueryAdapter
from embeddings.cache import CachedEncoder, text_hash
from embeddings.index import IndexPolicy, VectorIndex
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


class Prepared(dict[str, dict[str, np.ndarray]]):
    """Channel -> text -> document vector, for a write about to be stored; ``fresh``: the vectors
    encoded for it and not yet in the cache (model id -> text hash -> vector), when
    ``prepare(keep=False)`` left them to the caller's transaction."""

    fresh: dict[str, dict[str, np.ndarray]]


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


@dataclass
class Saving:
    """What is left to save, and why the last save failed (None when it did not)."""

    dirty: set[str] = field(default_factory=set)
    error: str | None = None
    lock: Any = field(default_factory=threading.Lock)  # one file write at a time
    written: dict[str, int] = field(default_factory=dict)  # kind -> generation of the copy on disk
    generations: Any = field(default_factory=lambda: itertools.count())

    def next_generation(self) -> int:
        return next(self.generations)

    def failed(self, kind: str, exc: OSError) -> None:
        self.error = f"index {kind} non sauvegardé ({exc.strerror or exc}) : servi depuis la mémoire, reconstruit au prochain démarrage si besoin"
        log.warning("%s", self.error)


def _writer_alive(tmp: Path) -> bool:
    """Whether the process that writes a temporary index file (``<name>.<pid>.<random>.tmp``) still runs."""
    parts = tmp.name.split(".")
    pid = int(parts[-3]) if len(parts) >= 3 and parts[-3].isdigit() else None
    if pid is None:  # an older name without the process id: alive while recently written
        try:
            return time.time() - tmp.stat().st_mtime < 60
        except OSError:
            return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        self.saving = Saving()  # kinds changed since saved, the last save failure

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

    def lexical_path(self, kind: str) -> Path:
        return self.directory / f"{kind}.lexical.npz"

    def _saved_lexical(self, kind: str, position: int) -> LexicalIndex | None:
        """The lexical index saved with the dense ones at ``position`` (None: absent, other, unreadable)."""
        path = self.lexical_path(kind)
        if not path.exists():
            return None
        try:
            if LexicalIndex.read_metadata(path).get("source_position") != position:
                return None
            return LexicalIndex.load(path, self._analyzer)
        except Exception as exc:  # truncated, flipped bits, empty: analysed again from the store
            log.warning("index lexical %s illisible (%s: %s) : reconstruit depuis le stockage", kind, type(exc).__name__, exc)
            return None

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
    def open(
        self,
        source: DocumentSource,
        *,
        progress: bool = False,
        position: int | None = None,
        replay: Callable[[str, int], IndexChanges | None] | None = None,
    ) -> dict[str, str]:
        """Load the saved indexes, rebuild the others; per kind ``loaded``, ``replayed`` or ``rebuilt``.

        Args:
            position: the source's position now (recorded by the indexes rebuilt here).
            replay: ``(kind, saved position) -> changes`` since that position, or None when
                they are no longer known: a snapshot is then kept only if it matches the source.
        """
        done = {}
        with self._lock:
            self.remove_temporary_files()
            for kind in self.kinds:
                done[kind] = self._open_kind(source, kind, progress=progress, position=position, replay=replay)
                self._load_adapter(kind)
        return done

    def remove_temporary_files(self) -> list[Path]:
        """Remove the temporary files of saves that never finished (a process killed while saving).

        A temporary file names the process that writes it; one whose process is gone is removed
        (one of an older version, without a process id, when it is over a minute old).
        """
        removed = []
        for tmp in self.directory.glob("*.npz*.tmp") if self.directory.is_dir() else []:
            if not _writer_alive(tmp):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
        if removed:
            log.warning("fichiers temporaires d'une sauvegarde interrompue supprimés : %s", ", ".join(p.name for p in removed))
        return removed

    def _load_channels(self, kind: str) -> tuple[dict[str, VectorIndex], dict[str, Any]]:
        """Every channel's saved index of a kind, if all can be read and were built by the same
        encoders under the same structural settings; else ``{}``. Also the primary's metadata."""
        loaded: dict[str, VectorIndex] = {}
        meta: dict[str, Any] = {}
        for channel, encoder in self.channels.items():
            path = self.index_path(kind, channel)
            if not path.exists():
                return {}, {}
            try:
                saved = VectorIndex.read_metadata(path)
                if saved.get("model_id") != encoder.model_id or not _same_policy(saved.get("policy"), self.policy):
                    log.warning("index %s (%s) construit avec d'autres réglages : reconstruction", kind, channel)
                    return {}, {}
                loaded[channel] = VectorIndex.load(path, model_id=encoder.model_id, policy=self.policy)
                if channel == self.primary:
                    meta = saved | VectorIndex.read_arrays(path, ("share_ids", "shares"))
            except Exception as exc:  # truncated, flipped bits (zip CRC), empty, foreign: rebuilt
                log.warning(
                    "index %s (%s) illisible (%s: %s) : reconstruction depuis le stockage", kind, channel, type(exc).__name__, exc
                )
                return {}, {}
        return loaded, meta

    def _open_kind(
        self,
        source: DocumentSource,
        kind: str,
        *,
        progress: bool,
        position: int | None,
        replay: Callable[[str, int], IndexChanges | None] | None,
    ) -> str:
        loaded, meta = self._load_channels(kind)
        saved_at = meta.get("source_position")
        if loaded and replay is not None and saved_at is not None and "shares" in meta:
            changes = replay(kind, int(saved_at))
            if changes is not None:  # the snapshot, brought forward with what changed since
                for channel, index in loaded.items():
                    self._dense[(channel, kind)] = index
                self._contrib[kind] = dict(zip(meta["share_ids"].tolist(), meta["shares"].tolist(), strict=True))
                lexical = self._saved_lexical(kind, int(saved_at))
                if lexical is None:
                    self._load_lexical(source, kind)  # the store's current texts: at least the position
                else:
                    self._lexical[kind] = lexical
                if not (changes.removed.get(kind) or changes.upserted.get(kind)):
                    return "loaded"
                self._apply_kind(
                    kind, changes.removed.get(kind, set()), changes.upserted.get(kind, {}), {}, lexical=lexical is not None
                )
                return "replayed"
        contrib = {pk: contribution(pk, h) for pk, h in source.text_hashes(kind).items()}
        if loaded and (
            meta.get("store_fingerprint") == fingerprint(contrib.values())
            and meta.get("count") == len(contrib)
            and meta.get("kind") == self.policy.structure_for(len(contrib))
        ):
            for channel, index in loaded.items():
                self._dense[(channel, kind)] = index
            self._contrib[kind] = contrib
            self._load_lexical(source, kind)
            return "loaded"
        if loaded:
            log.warning("index %s différent du stockage : reconstruction", kind)
        self._rebuild_kind(source, kind, progress=progress, position=position)
        return "rebuilt"

    def rebuild(
        self,
        source: DocumentSource,
        *,
        progress: bool = False,
        engine: Literal["local", "ray"] = "local",
        workers: int = 1,
        address: str | None = None,
        position: int | None = None,
    ) -> dict[str, int]:
        """Recreate every index from the source (vectors come from the cache when unchanged);
        ``position``: the source's position before it was read (recorded in the files).

        Args:
            engine: ``local`` encodes in this process; ``ray`` encodes the texts missing from
                the cache with Ray Data (``workers`` model actors, on the cluster at
                ``address`` or ``RAY_ADDRESS``, else on a local Ray instance).
        """
        if engine not in ("local", "ray"):
            raise ValueError(f"moteur inconnu {engine!r} (local, ray)")
        with self._lock:
            counts = {
                kind: self._rebuild_kind(
                    source, kind, progress=progress, engine=engine, workers=workers, address=address, position=position
                )
                for kind in self.kinds
            }
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
        position: int | None = None,
    ) -> int:
        docs = source.documents(kind)
        self._load_lexical(source, kind, docs)
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
        self.saving.dirty.add(kind)
        self.snapshot(position, kinds=[kind])  # a failure is reported, the index serves from memory
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

    def _load_lexical(self, source: DocumentSource, kind: str, docs: list[tuple[int, str, str]] | None = None) -> None:
        lexical = LexicalIndex(self._analyzer)
        docs = source.documents(kind) if docs is None else docs
        lexical.upsert([pk for pk, _, _ in docs], [text for _, text, _ in docs])
        self._lexical[kind] = lexical

    def save(self, kind: str, position: int | None = None) -> None:
        """Save every index of a kind (raises ``OSError`` when it cannot); ``position``: the
        source position the indexes reflect at least (a snapshot is replayed from there).

        The indexes are copied under the lock, and written to disk outside it: questions are
        not held up by the disk. Of two saves of a kind, the later copy wins.
        """
        with self._lock:
            extra = {"store_fingerprint": self.fingerprint(kind), "entity": kind, "source_position": position}
            contrib = self._contrib[kind]
            shares = {
                "share_ids": np.fromiter(contrib.keys(), dtype=np.int64, count=len(contrib)),
                "shares": np.fromiter(contrib.values(), dtype=np.uint64, count=len(contrib)),
            }
            copies = [
                (self.index_path(kind, channel), self._dense[(channel, kind)].serialized(extra), channel == self.primary)
                for channel in self.channels
            ]
            self.saving.dirty.discard(kind)
            generation = self.saving.next_generation()
        with self.saving.lock:
            if self.saving.written.get(kind, -1) > generation:
                return  # a later copy was written meanwhile
            try:
                for path, (meta, blob, ids), primary in copies:
                    VectorIndex.write(path, meta, blob, ids, arrays=shares if primary else None)
                self._lexical[kind].save(self.lexical_path(kind), extra={"source_position": position, "entity": kind})
            except BaseException:
                self.saving.dirty.add(kind)
                raise
            self.saving.written[kind] = generation

    def snapshot(self, position: int | None = None, *, kinds: Iterable[str] | None = None) -> list[str]:
        """Save the kinds changed since their last save (or ``kinds``); returns those saved.

        A failure (disk full, read-only, missing directory) is logged and kept in
        ``saving.error``: the indexes go on serving from memory and the kinds stay to save.
        """
        saved = []
        for kind in list(kinds if kinds is not None else sorted(self.saving.dirty)):
            try:
                self.save(kind, position)
            except OSError as exc:
                self.saving.failed(kind, exc)
                return saved
            saved.append(kind)
        if saved and not self.saving.dirty:
            self.saving.error = None
        return saved

    # -- writes ---------------------------------------------------------------------------------
    def prepare(self, texts: dict[str, list[str]], *, progress: bool = False, keep: bool = True) -> Prepared:
        """Encode the documents a write is about to store (cache first), before its transaction:
        an encoder failure then writes nothing, and no database lock is held while encoding.

        ``keep=False``: the new vectors are not written to the cache here but left in
        ``prepared.fresh`` for the caller to store with the write itself (one transaction).
        """
        prepared = Prepared({channel: {} for channel in self.channels})
        prepared.fresh = {}
        for items in texts.values():  # kind by kind: each kind's texts are encoded as one list
            unique = list(dict.fromkeys(items))
            if not unique:
                continue
            for channel, encoder in self.channels.items():
                vectors, fresh = encoder.encode_keeping(unique, kind="document", progress=progress, keep=keep)
                prepared[channel].update(zip(unique, vectors, strict=True))
                if fresh:
                    prepared.fresh.setdefault(encoder.model_id, {}).update(fresh)
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
                if removed or upserted:
                    self._apply_kind(kind, removed, upserted, prepared)

    def _apply_kind(
        self,
        kind: str,
        removed: set[int],
        upserted: dict[int, str],
        prepared: dict[str, dict[str, np.ndarray]],
        *,
        lexical: bool = True,
    ) -> None:
        if lexical:
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
            if lexical:
                self._lexical[kind].upsert(pks, texts)
            for pk, text in zip(pks, texts, strict=True):
                self._contrib[kind][pk] = contribution(pk, text_hash(text))
        self.saving.dirty.add(kind)

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

    def passage_vectors(self, texts: list[str], *, channel: str | None = None) -> np.ndarray:
        """Document vectors of texts that are not indexed documents (an offering's examples), kept
        in memory: the read path encodes them when first needed and never writes them."""
        return self.channels[channel or self.primary].encode_keeping(texts, kind="document", read_path=True)[0]

    # -- query adapters ---------------------------------------------------------------------------
    def _load_adapter(self, kind: str) -> None:
        path = self.adapter_path(kind)
        self._adapters.pop(kind, None)
        if path.exists():
            try:
                adapter = QueryAdapter.load(path)
            except Exception as exc:  # truncated, flipped bits, empty: the queries go unadapted
                log.warning("adaptateur %s illisible (%s: %s) : ignoré", kind, type(exc).__name__, exc)
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
    def status(self, counts: dict[str, int], fingerprints: dict[str, str | None] | None = None) -> dict[str, Any]:
        """Per kind: size, structure and parameters of the primary index, its fingerprint, and
        whether it agrees with the source (``counts``: documents per kind in the source;
        ``fingerprints``: the source's fingerprint of each kind, None where it could not be
        compared; without them, sizes are compared)."""
        out = {}
        with self._lock:
            for kind in self.kinds:
                index = self.dense(kind)
                mine = self.fingerprint(kind)
                theirs = (fingerprints or {}).get(kind) if fingerprints is not None else None
                out[kind] = {
                    "count": len(index),
                    "kind": index.structure,
                    "params": index.params,
                    "store_count": counts[kind],
                    "fingerprint": mine,
                    "store_fingerprint": theirs,
                    "in_sync": (mine == theirs if theirs is not None else None)
                    if fingerprints is not None
                    else len(index) == counts[kind],
                    "saved": kind not in self.saving.dirty,
                }
            if len(self.channels) > 1:
                out[kind]["channels"] = {ch: len(self.dense(kind, ch)) for ch in self.channels}
        return out
