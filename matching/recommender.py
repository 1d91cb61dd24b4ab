"""The facade used by the API, the CLI and the notebooks.

A ``Recommender`` owns the store, the (cached) encoder, one FAISS index per indexed
kind (member, need, offering, project) and the score weights. Writes go to the store
first (one transaction), then to the indexes, which are saved atomically. On open the
indexes on disk are checked against the store (count and fingerprint) and rebuilt if
they differ: the store is the source of truth.

Example:
    >>> rec = Recommender(Settings(data_dir="/tmp/maillage-doc"))
    >>> rec.open()
    >>> rec.members_for_need("sceaux-valley", "p0001-n1", k=5)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from sqlalchemy import bindparam, select

from embeddings import CachedEncoder, Encoder, IndexMismatch, VectorCache, VectorIndex, build_encoder
from embeddings.adapter import QueryAdapter
from embeddings.lexical import LexicalIndex
from matching import filters, scoring
from matching import store as storelib
from matching import text as textlib
from matching.columns import MemberColumns, NeedColumns, ProjectColumns
from matching.domain import PENDING_STATES, FeedbackEvent, Match, Member, Need, Offering, Partner, Project, Stage, Territory
from matching.errors import InvalidRequest, NotFound
from matching.retrieval import Candidate, Pool, retrieve
from matching.scoring import Weights
from matching.settings import Settings
from matching.store import (
    INDEXED_KINDS,
    ROW_OF_KIND,
    MemberRow,
    NeedRow,
    OfferingRow,
    PartnerRow,
    ProjectRow,
    Store,
    TerritoryRow,
    Tx,
)
from matching.text import lexical_tokens

log = logging.getLogger(__name__)
# the subject of a question, read on every request: statements built once (SQLAlchemy caches their compiled form)
_NEED_BY_ID = (
    select(NeedRow.pk, NeedRow.data, ProjectRow.ext_id, ProjectRow.data)
    .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
    .where(NeedRow.territory_pk == bindparam("tpk"), NeedRow.ext_id == bindparam("ext"))
)
_MEMBER_BY_ID = select(MemberRow.data).where(MemberRow.territory_pk == bindparam("tpk"), MemberRow.ext_id == bindparam("ext"))
_PROJECT_BY_ID = select(ProjectRow.data).where(ProjectRow.territory_pk == bindparam("tpk"), ProjectRow.ext_id == bindparam("ext"))
BULK_ROWS = 50  # an ingest of this many rows of a territory loads its rows at once
CONTACTS_TTL = 2.0  # seconds a live request may reuse the contact counts (exposure policy)
T = TypeVar("T")
Target = Literal["members", "needs", "offerings", "projects"]
ANONYMOUS = "Membre anonymisé"


def _contribution(pk: int, text_hash: str) -> int:
    digest = hashlib.blake2b(f"{pk}:{text_hash}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _fingerprint(contributions: Iterable[int]) -> str:
    """Order-independent hash of a set of (id, text hash) pairs."""
    return f"{sum(contributions) % (1 << 64):016x}"


class Recommender:
    """Store + encoder + indexes + weights, and the four questions.

    Args:
        settings: where the data lives and which encoder to use.
        store: an open store (default: from ``settings.database_url``).
        encoder: an encoder (default: built from ``settings.encoder`` on first use).
        weights: score weights (default: read from ``settings.weights``).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        encoder: Encoder | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.store = store or Store(self.settings.database_url)
        self._raw_encoder = encoder
        self._encoder: CachedEncoder | None = None
        # weights given by the caller are kept; weights read from the file follow the file
        self._weights_pinned = weights is not None
        self.weights = weights or Weights.load(self.settings.weights)
        self._weights_mtime: float | None = None if weights is not None else _mtime(self.settings.weights)
        self.indexes: dict[str, VectorIndex] = {}
        self.lexical: dict[str, LexicalIndex] = {}
        self.adapters: dict[str, QueryAdapter] = {}
        self._contrib: dict[str, dict[int, int]] = {k: {} for k in INDEXED_KINDS}
        self._lock = threading.RLock()
        # read caches of the hot path, dropped on every write that touches them: validated
        # members by pk, and per territory the mask (by member pk) of those who may be suggested
        self._members: dict[int, Member] = {}
        self._available: dict[int, np.ndarray] = {}
        self._members_dirty: set[int] = set()  # written since the masks and columns were read
        self._members_lock = threading.RLock()
        # needs by pk with their project's id and document; open needs per (territory, day)
        self._needs: dict[int, tuple[Need, str, dict[str, Any]]] = {}
        self._open_needs: dict[tuple[int, dt.date], np.ndarray] = {}
        self._projects: dict[int, Project] = {}
        # the same, as column arrays for scoring whole pools (matching.columns)
        self._member_cols: dict[int, MemberColumns] = {}
        self._need_cols: dict[tuple[int, dt.date], NeedColumns] = {}
        self._tpks: dict[str, int] = {}  # territories are never deleted: their pk never changes
        self._project_pks: dict[int, dict[str, int]] = {}
        # per territory: offering pk -> (offering, partner id, partner name); dropped on every write
        self._catalogue: dict[int, dict[int, tuple[Offering, str, str]]] = {}
        # (offering pk, filters.eligibility_key) -> eligible project pks; dropped on project writes
        self._eligible: dict[tuple[int, str], np.ndarray] = {}
        self._project_cols: dict[int, ProjectColumns] = {}  # territory pk -> stages and id order; the same
        self._contacts: dict[int, tuple[float, dict[str, int]]] = {}  # territory pk -> (when, contacts per member)

    # -- setup -------------------------------------------------------------------------
    @property
    def encoder(self) -> CachedEncoder:
        if self._encoder is None:
            raw = self._raw_encoder or build_encoder(self.settings.encoder)
            self._encoder = CachedEncoder(raw, VectorCache(self.store.engine))
        return self._encoder

    def index_path(self, kind: str) -> Path:
        return self.settings.index_dir / f"{kind}.faiss.npz"

    def open(self, *, progress: bool = False) -> dict[str, str]:
        """Load the indexes, rebuilding those that do not match the store.

        Returns what was done per kind: ``loaded`` or ``rebuilt``.
        """
        done = {}
        with self._lock:
            self._forget_members(None)
            self._forget_needs()
            self._forget_catalogue()
            for kind in INDEXED_KINDS:
                done[kind] = self._open_kind(kind, progress=progress)
                self._load_lexical(kind)
                self._load_adapter(kind)
        return done

    def adapter_path(self, kind: str) -> Path:
        return self.settings.index_dir / f"{kind}.adapter.npz"

    def _load_adapter(self, kind: str) -> None:
        path = self.adapter_path(kind)
        self.adapters.pop(kind, None)
        if path.exists():
            try:
                adapter = QueryAdapter.load(path)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("adaptateur %s illisible (%s) : ignoré", kind, exc)
                return
            if adapter.model_id == self.encoder.model_id and adapter.dim == self.encoder.dim:
                self.adapters[kind] = adapter

    def fit_adapter(self, kind: str = "member", *, min_pairs: int = 1000) -> dict[str, Any]:
        """Train the query adapter of one index on its own texts (no labels), save and use it.

        Returns the training facts, or ``{"trained": False, ...}`` when the texts give too few
        sentence pairs (the queries are then left as they are).
        """
        with self.store.read() as tx:
            texts = list(tx.texts(kind).values())
        adapter = QueryAdapter.fit(
            self.encoder, texts, sentences=textlib.sentences, rewrite=textlib.verb_phrase, min_pairs=min_pairs
        )
        if adapter is None:
            self.adapter_path(kind).unlink(missing_ok=True)
            self.adapters.pop(kind, None)
            return {"kind": kind, "trained": False, "reason": f"moins de {min_pairs} paires de phrases"}
        adapter.save(self.adapter_path(kind))
        self.adapters[kind] = adapter
        return {"kind": kind, "trained": True, **adapter.info}

    def _load_lexical(self, kind: str) -> None:
        with self.store.read() as tx:
            texts = tx.texts(kind)
        lexical = LexicalIndex(lexical_tokens)
        lexical.upsert(texts.keys(), texts.values())
        self.lexical[kind] = lexical

    def _store_contributions(self, kind: str) -> dict[int, int]:
        cls = ROW_OF_KIND[kind]
        with self.store.read() as tx:
            return {pk: _contribution(pk, h) for pk, h in tx.s.execute(select(cls.pk, cls.text_hash))}

    def _open_kind(self, kind: str, *, progress: bool) -> str:
        contrib = self._store_contributions(kind)
        expected = _fingerprint(contrib.values())
        path = self.index_path(kind)
        if path.exists():
            try:
                meta = VectorIndex.read_metadata(path)
                policy = self.settings.index_policy()
                if (
                    meta.get("store_fingerprint") == expected
                    and meta.get("count") == len(contrib)
                    and meta.get("model_id") == self.encoder.model_id
                    and meta.get("kind") == policy.structure_for(len(contrib))
                    and _same_policy(meta.get("policy"), policy)
                ):
                    self.indexes[kind] = VectorIndex.load(path, model_id=self.encoder.model_id, policy=policy)
                    self._contrib[kind] = contrib
                    return "loaded"
                log.warning("index %s différent du store ou des réglages : reconstruction", kind)
            except (OSError, ValueError, KeyError, IndexMismatch) as exc:
                log.warning("index %s illisible (%s) : reconstruction", kind, exc)
        self._rebuild_kind(kind, progress=progress)
        return "rebuilt"

    def warm_up(self) -> None:
        """Load the model, the lexical indexes and the read path's columns ahead of the first request."""
        self.encoder.encoder.encode(["préchauffage du modèle"], kind="query")
        for lexical in self.lexical.values():
            lexical.search("préchauffage", k=1)
        with self.store.read() as tx:
            for tpk in tx.s.scalars(select(TerritoryRow.pk)).all():
                self._member_columns(tx, tpk)  # 100 000 members: about 10 s, once
                self._need_columns(tx, tpk)

    def rebuild(
        self, *, progress: bool = False, engine: Literal["local", "ray"] = "local", workers: int = 1, address: str | None = None
    ) -> dict[str, int]:
        """Recreate every index from the store (vectors come from the cache when unchanged).

        Args:
            engine: ``local`` encodes in this process; ``ray`` encodes the texts missing
                from the cache with Ray Data (``workers`` model actors, on the cluster at
                ``address`` or ``RAY_ADDRESS``, else on a local Ray instance).
        """
        with self._lock:
            counts = {
                kind: self._rebuild_kind(kind, progress=progress, engine=engine, workers=workers, address=address)
                for kind in INDEXED_KINDS
            }
            for kind in INDEXED_KINDS:
                self._load_lexical(kind)
            return counts

    def _encode_documents(
        self, texts: list[str], *, progress: bool, engine: str, workers: int, address: str | None
    ) -> np.ndarray:
        if engine == "local":
            return self.encoder.encode(texts, kind="document", progress=progress)
        if engine != "ray":
            raise InvalidRequest(f"moteur inconnu {engine!r} (local, ray)")
        from embeddings.cache import text_hash
        from embeddings.distributed import encode_with_ray

        cache, model_id = self.encoder.cache, self.encoder.model_id
        hashes = [text_hash(t) for t in texts]
        found = cache.get_many(model_id, list(dict.fromkeys(hashes)))
        missing = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in found))
        if missing:
            vectors = encode_with_ray(missing, self.settings.encoder, workers=workers, address=address)
            fresh = {text_hash(t): v for t, v in zip(missing, vectors, strict=True)}
            cache.put_many(model_id, fresh)
            found.update(fresh)
        return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def _rebuild_kind(
        self, kind: str, *, progress: bool, engine: str = "local", workers: int = 1, address: str | None = None
    ) -> int:
        with self.store.read() as tx:
            cls = ROW_OF_KIND[kind]
            rows = tx.s.execute(select(cls.pk, cls.text, cls.text_hash).order_by(cls.pk)).all()
        index = VectorIndex(self.encoder.dim, self.encoder.model_id, policy=self.settings.index_policy())
        if rows:
            texts = [r.text for r in rows]
            vectors = self._encode_documents(texts, progress=progress, engine=engine, workers=workers, address=address)
            index.upsert([r.pk for r in rows], vectors)
        self.indexes[kind] = index
        self._contrib[kind] = {r.pk: _contribution(r.pk, r.text_hash) for r in rows}
        self._save(kind)
        return len(rows)

    def _save(self, kind: str) -> None:
        extra = {"store_fingerprint": _fingerprint(self._contrib[kind].values()), "entity": kind}
        self.indexes[kind].save(self.index_path(kind), extra=extra)

    def close(self) -> None:
        self.store.dispose()

    def health(self) -> dict[str, Any]:
        with self.store.read() as tx:
            counts = {kind: tx.count(kind) for kind in INDEXED_KINDS}
        return {
            "status": "ok",
            "encoder": self.encoder.model_id,
            "dim": self.encoder.dim,
            "indexes": {
                kind: {
                    "count": len(self.indexes[kind]),
                    "kind": self.indexes[kind].structure,
                    "params": self.indexes[kind].params,
                    "store_count": counts[kind],
                    "fingerprint": _fingerprint(self._contrib[kind].values()),
                    "in_sync": len(self.indexes[kind]) == counts[kind],
                }
                for kind in self.indexes
            },
        }

    # -- writes ------------------------------------------------------------------------
    def _write(self, texts: dict[str, list[str]], fn: Callable[[Tx], T], *, progress: bool = False) -> T:
        """Run ``fn`` in one store transaction, then bring the indexes up to date.

        Texts are encoded *before* the transaction (cache first), so an encoder failure
        writes nothing, and the SQLite writer lock is never held while encoding.
        """
        vectors: dict[str, dict[str, np.ndarray]] = {}
        for kind, items in texts.items():
            unique = list(dict.fromkeys(items))
            vecs = self.encoder.encode(unique, kind="document", progress=progress) if unique else []
            vectors[kind] = dict(zip(unique, vecs, strict=True))
        with self._lock:
            result, changes = self._transact(fn)
            self._forget_catalogue()
            if changes.members_written:
                self._forget_members(changes.members_written)
            if changes.projects_written:
                self._forget_needs()
            if changes.forgotten:
                self.encoder.cache.discard(None, changes.forgotten)
            for kind in INDEXED_KINDS:
                removed, upserted = changes.removed[kind], changes.upserted[kind]
                if not removed and not upserted:
                    continue
                index = self.indexes[kind]
                index.remove(removed)
                self.lexical[kind].remove(removed)
                for pk in removed:
                    self._contrib[kind].pop(pk, None)
                if upserted:
                    pks = list(upserted)
                    missing = [t for t in upserted.values() if t not in vectors.get(kind, {})]
                    if missing:  # defensive: texts computed differently than announced
                        vectors.setdefault(kind, {}).update(
                            zip(missing, self.encoder.encode(missing, kind="document"), strict=True)
                        )
                    index.upsert(pks, np.vstack([vectors[kind][upserted[pk]] for pk in pks]))
                    self.lexical[kind].upsert(pks, [upserted[pk] for pk in pks])
                    for pk in pks:
                        self._contrib[kind][pk] = _contribution(pk, hashlib.sha256(upserted[pk].encode()).hexdigest())
                self._save(kind)
        return result

    def _transact(self, fn: Callable[[Tx], T], attempts: int = 3) -> tuple[T, Any]:
        """Run ``fn`` in a transaction, again if another process won a race on the same ids.

        Two service processes may insert the same new external id at once; the loser gets a
        unique-constraint error. Upserts are idempotent, so running the whole unit again
        (now as an update) is safe.
        """
        from sqlalchemy.exc import IntegrityError, OperationalError

        for attempt in range(attempts):
            try:
                with self.store.transaction() as tx:
                    result = fn(tx)
                    return result, tx.changes
            except (IntegrityError, OperationalError) as exc:
                if attempt == attempts - 1:
                    raise
                log.info("écriture concurrente (%s) : nouvel essai", type(exc).__name__)
        raise AssertionError("unreachable")

    def upsert_territory(self, territory: Territory) -> None:
        self._write({}, lambda tx: tx.upsert_territory(territory))

    def upsert_members(self, territory_id: str, members: list[Member], *, progress: bool = False) -> None:
        self._write(
            {"member": [m.text() for m in members]},
            lambda tx: [tx.upsert_member(territory_id, m) for m in members],
            progress=progress,
        )

    def upsert_projects(self, territory_id: str, projects: list[Project], *, progress: bool = False) -> None:
        self._write(
            {"project": [p.text() for p in projects], "need": [n.full_text() for p in projects for n in p.needs]},
            lambda tx: [tx.upsert_project(territory_id, p) for p in projects],
            progress=progress,
        )

    def upsert_partners(self, territory_id: str, partners: list[Partner]) -> None:
        self._write(
            {"offering": [o.full_text() for p in partners for o in p.offerings]},
            lambda tx: [tx.upsert_partner(territory_id, p) for p in partners],
        )

    def ingest(self, batch: Any, *, progress: bool = False) -> dict[str, int]:
        """Write a validated ``ingest.Batch`` in one transaction (all or nothing)."""
        texts = {
            "member": [m.text() for _, m in batch.members],
            "project": [p.text() for _, p in batch.projects],
            "need": [n.full_text() for _, p in batch.projects for n in p.needs],
            "offering": [o.full_text() for _, p in batch.partners for o in p.offerings],
        }

        def write(tx: Tx) -> dict[str, int]:
            for t in batch.territories:
                tx.upsert_territory(t)
            rows: dict[str, int] = {}
            for tid, _ in [*batch.members, *batch.projects, *batch.partners]:
                rows[tid] = rows.get(tid, 0) + 1
            for tid, n in rows.items():
                if n >= BULK_ROWS:  # one query per kind instead of one per row
                    tx.preload(tid)
            for tid, m in batch.members:
                tx.upsert_member(tid, m)
            for tid, p in batch.partners:
                tx.upsert_partner(tid, p)
            for tid, p in batch.projects:
                tx.upsert_project(tid, p)
            return batch.counts()

        return self._write(texts, write, progress=progress)

    def delete_member(self, territory_id: str, member_id: str) -> None:
        self._write({}, lambda tx: tx.delete_member(territory_id, member_id))

    def delete_project(self, territory_id: str, project_id: str) -> None:
        self._write({}, lambda tx: tx.delete_project(territory_id, project_id))

    def delete_partner(self, territory_id: str, partner_id: str) -> None:
        self._write({}, lambda tx: tx.delete_partner(territory_id, partner_id))

    # -- read caches of the hot path ---------------------------------------------------
    def _forget_catalogue(self) -> None:
        """Drop the offerings (a handful of rows per territory: cheaper to reload after any
        write than to track). Their eligible projects stay, keyed by what they depend on."""
        self._catalogue = {}

    def _forget_members(self, pks: set[int] | None) -> None:
        """Drop cached members: all when ``pks`` is None, else those written (brought up to date
        in the masks and columns by the next read, ``_refresh_members``)."""
        with self._members_lock:
            if pks is None:
                self._members, self._available, self._member_cols, self._members_dirty = {}, {}, {}, set()
                return
            for pk in pks:
                self._members.pop(pk, None)
            self._members_dirty |= pks

    def _refresh_members(self, tx: Tx) -> None:
        """Bring the availability masks and member columns up to date with the members written.

        Only the written members are read again: a profile update costs a few milliseconds
        on the next question instead of rebuilding the territory's masks and columns.
        """
        with self._members_lock:
            if not self._members_dirty:
                return
            dirty = sorted(self._members_dirty)
            state: dict[int, tuple[int, bool]] = {}
            for start in range(0, len(dirty), 500):
                stmt = select(MemberRow.pk, MemberRow.territory_pk, MemberRow.available).where(
                    MemberRow.pk.in_(dirty[start : start + 500])
                )
                state.update({pk: (tpk, bool(available)) for pk, tpk, available in tx.s.execute(stmt)})
            for tpk, mask in list(self._available.items()):
                now_available = [pk for pk in dirty if state.get(pk) == (tpk, True)]
                mask = np.concatenate([mask, np.zeros(max(0, max(dirty) + 1 - len(mask)), dtype=bool)])
                mask[dirty] = False  # deleted, moved, no longer available
                mask[now_available] = True
                mask.flags.writeable = False
                self._available[tpk] = mask
                cols = self._member_cols.get(tpk)
                if cols is not None:
                    cols = cols.with_members(self._members_by_pk(tx, now_available))
                    # rows replaced pile up: past the live ones, the next question rebuilds
                    self._member_cols[tpk] = cols if cols.unused_rows <= len(cols.pk_of) else None
            self._member_cols = {t: c for t, c in self._member_cols.items() if c is not None}
            self._members_dirty = set()

    def _members_by_pk(self, tx: Tx, pks: list[int]) -> dict[int, Member]:
        """Validated members, from the cache or validated once from their rows."""
        cache = self._members
        missing = [pk for pk in pks if pk not in cache]
        if missing:
            if len(cache) + len(missing) > 200_000:  # bounded: a national store does not fit
                cache = self._members = {}
            for pk, row in tx.rows_by_pk("member", missing).items():
                cache[pk] = Member.model_validate(row.data)
        return {pk: cache[pk] for pk in pks}

    def _forget_needs(self) -> None:
        """Drop the caches of needs and projects, and the eligible projects of each offering
        (any project write)."""
        self._needs, self._open_needs, self._projects, self._need_cols = {}, {}, {}, {}
        self._project_pks, self._eligible, self._project_cols = {}, {}, {}

    def _projects_by_pk(self, tx: Tx, pks: list[int]) -> dict[int, Project]:
        """Validated projects (without their needs) by pk."""
        cache = self._projects
        missing = [pk for pk in pks if pk not in cache]
        if missing:
            if len(cache) + len(missing) > 200_000:
                cache = self._projects = {}
            for pk, row in tx.rows_by_pk("project", missing).items():
                cache[pk] = Project.model_validate(row.data | {"needs": []})
        return {pk: cache[pk] for pk in pks if pk in cache}

    def _needs_by_pk(self, tx: Tx, pks: list[int]) -> dict[int, tuple[Need, str, dict[str, Any]]]:
        """Validated needs with their project's external id and document (one query for all)."""
        cache = self._needs
        missing = [pk for pk in pks if pk not in cache]
        if missing:
            if len(cache) + len(missing) > 200_000:
                cache = self._needs = {}
            for start in range(0, len(missing), 500):
                rows = tx.s.execute(
                    select(NeedRow.pk, NeedRow.data, ProjectRow.ext_id, ProjectRow.data)
                    .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
                    .where(NeedRow.pk.in_(missing[start : start + 500]))
                )
                for pk, data, project_id, pdata in rows:
                    cache[pk] = (Need.model_validate(data), project_id, pdata)
        return {pk: cache[pk] for pk in pks if pk in cache}

    def _open_needs_mask(self, tx: Tx, tpk: int) -> np.ndarray:
        """Boolean array by need pk: open, deadline not passed (recomputed each day)."""
        key = (tpk, dt.date.today())
        mask = self._open_needs.get(key)
        if mask is None:
            pks = np.fromiter(filters.open_needs(tx, tpk), dtype=np.int64)
            mask = np.zeros(int(pks.max()) + 1 if len(pks) else 0, dtype=bool)
            mask[pks] = True
            mask.flags.writeable = False
            self._open_needs = {key: mask} | {k: v for k, v in self._open_needs.items() if k[1] == key[1]}
        return mask

    def _available_mask(self, tx: Tx, tpk: int) -> np.ndarray:
        """Boolean array by member pk: in the territory, consenting, below maximum engagements."""
        with self._members_lock:  # a write in between cannot be missed (see _refresh_members)
            self._refresh_members(tx)
            mask = self._available.get(tpk)
            if mask is None:
                pks = np.fromiter(filters.available_members(tx, tpk), dtype=np.int64)
                mask = np.zeros(int(pks.max()) + 1 if len(pks) else 0, dtype=bool)
                mask[pks] = True
                mask.flags.writeable = False  # shared between requests: callers copy before changing it
                self._available[tpk] = mask
            return mask

    def _territory_pk(self, tx: Tx, territory_id: str) -> int:
        pk = self._tpks.get(territory_id)
        if pk is None:
            pk = self._tpks[territory_id] = tx.territory_pk(territory_id)
        return pk

    @staticmethod
    def _subject(tx: Tx, stmt: Any, tpk: int, ext_id: str, what: str) -> Any:
        """The row of the subject of a question, read fresh with a prebuilt statement (NotFound if none)."""
        row = tx.s.connection().execute(stmt, {"tpk": tpk, "ext": ext_id}).first()
        if row is None:
            raise NotFound(what, ext_id)
        return row

    def _need(self, tx: Tx, tpk: int, need_id: str) -> tuple[int, Need, str, dict[str, Any]]:
        """A need by external id, read fresh (one query): its pk, the need, its project's id and document."""
        pk, data, project_id, pdata = self._subject(tx, _NEED_BY_ID, tpk, need_id, "besoin")
        return pk, Need.model_validate(data), project_id, pdata

    def _member(self, tx: Tx, tpk: int, member_id: str) -> Member:
        """A member by external id, read fresh (one query)."""
        return Member.model_validate(self._subject(tx, _MEMBER_BY_ID, tpk, member_id, "membre")[0])

    def _project_pks_of(self, tx: Tx, tpk: int) -> dict[str, int]:
        """External id -> pk of the territory's projects."""
        pks = self._project_pks.get(tpk)
        if pks is None:
            stmt = select(ProjectRow.ext_id, ProjectRow.pk).where(ProjectRow.territory_pk == tpk)
            pks = self._project_pks[tpk] = dict(tx.s.execute(stmt).all())  # type: ignore[arg-type]
        return pks

    def _project(self, tx: Tx, tpk: int, project_id: str) -> Project:
        """A project by external id, read fresh (one query), without its needs."""
        data = self._subject(tx, _PROJECT_BY_ID, tpk, project_id, "projet")[0]
        return Project.model_validate(data | {"needs": []})

    def _offerings(self, tx: Tx, tpk: int) -> dict[int, tuple[Offering, str, str]]:
        """The territory's offerings by pk, with their partner's id and name."""
        catalogue = self._catalogue.get(tpk)
        if catalogue is None:
            rows = tx.s.execute(
                select(OfferingRow.pk, OfferingRow.data, PartnerRow.ext_id, PartnerRow.data)
                .join(PartnerRow, OfferingRow.partner_pk == PartnerRow.pk)
                .where(OfferingRow.territory_pk == tpk)
                .order_by(OfferingRow.pk)
            )
            catalogue = {pk: (Offering.model_validate(data), pid, pdata["name"]) for pk, data, pid, pdata in rows}
            self._catalogue[tpk] = catalogue
        return catalogue

    def _contact_counts(self, tx: Tx, tpk: int, since: dt.datetime, *, cached: bool) -> dict[str, int]:
        """Contacts per member since a date; live requests reuse a count at most CONTACTS_TTL old.

        Events recorded by this process drop the count at once; those of another process
        sharing the store count after at most ``CONTACTS_TTL`` seconds.
        """
        if not cached:
            return storelib.contact_counts(tx, tpk, since)
        hit = self._contacts.get(tpk)
        if hit is not None and time.monotonic() - hit[0] < CONTACTS_TTL:
            return hit[1]
        counts = storelib.contact_counts(tx, tpk, since)
        self._contacts[tpk] = (time.monotonic(), counts)
        return counts

    def _member_columns(self, tx: Tx, tpk: int) -> MemberColumns:
        """Column arrays of the territory's suggestible members (dropped with the mask)."""
        with self._members_lock:
            self._refresh_members(tx)
            cols = self._member_cols.get(tpk)
            if cols is None:
                pks = np.flatnonzero(self._available_mask(tx, tpk)).tolist()
                cols = self._member_cols[tpk] = MemberColumns(self._members_by_pk(tx, pks))
            return cols

    def _need_columns(self, tx: Tx, tpk: int) -> NeedColumns:
        """Column arrays of the territory's open needs of the day (dropped on project writes)."""
        key = (tpk, dt.date.today())
        cols = self._need_cols.get(key)
        if cols is None:
            pks = np.flatnonzero(self._open_needs_mask(tx, tpk)).tolist()
            cols = NeedColumns(self._needs_by_pk(tx, pks))
            self._need_cols = {key: cols} | {k: v for k, v in self._need_cols.items() if k[1] == key[1]}
        return cols

    # -- reads ---------------------------------------------------------------------------
    def _read(self, fn: Callable[[Tx], T]) -> T:
        with self.store.read() as tx:
            return fn(tx)

    def get_territory(self, territory_id: str) -> Territory:
        return self._read(lambda tx: tx.get_territory(territory_id))

    def get_member(self, territory_id: str, member_id: str) -> Member:
        return self._read(lambda tx: tx.get_member(territory_id, member_id))

    def get_project(self, territory_id: str, project_id: str) -> Project:
        return self._read(lambda tx: tx.get_project(territory_id, project_id))

    def get_partner(self, territory_id: str, partner_id: str) -> Partner:
        return self._read(lambda tx: tx.get_partner(territory_id, partner_id))

    # -- search helpers --------------------------------------------------------------------
    def _query_vector(self, text: str, kind: str | None = None) -> np.ndarray:
        """The query vector of a text, mapped by the adapter of the searched index if any."""
        vector = self.encoder.encode([text], kind="query")
        adapter = self.adapters.get(kind) if kind else None
        return (adapter.apply(vector) if adapter is not None else vector)[0]

    def _candidates(self, kind: str, question: str, query: np.ndarray, text: str, allowed: set[int] | np.ndarray) -> Pool:
        """Hybrid candidates (dense + lexical + feedback) for one question's weights."""
        weights = self.weights.for_question(question)  # type: ignore[arg-type]
        params = self.weights.retrieval
        with self._lock:
            return retrieve(
                self.indexes[kind],
                self.lexical.get(kind),
                query,
                text,
                allowed,
                pool=params.pool,
                weights=weights,
                feedback_top=params.feedback_top,
            )

    def _k(self, k: int) -> int:
        self.reload_weights()
        if not 1 <= k <= self.settings.max_k:
            raise InvalidRequest(f"k doit être entre 1 et {self.settings.max_k}")
        return k

    @staticmethod
    def _rank(matches: list[Match], k: int) -> list[Match]:
        return sorted(matches, key=lambda m: (-m.score, m.id))[:k]

    # -- the four questions -------------------------------------------------------------------
    def members_for_need(
        self,
        territory_id: str,
        need_id: str,
        k: int = 10,
        *,
        fair: bool = True,
        diversity: float | None = None,
        now: dt.datetime | None = None,
    ) -> list[Match]:
        """Who could answer this call for skills?

        Args:
            fair: apply the exposure policy: members contacted ``member_cap`` times in the
                last ``window_days`` are left out, those contacted fewer times rank lower
                (``exposure`` component).
            diversity: MMR trade-off in [0, 1) so one list does not hold near-identical
                profiles (default: the policy's).
            now: the reference time of the rolling window (default: now, UTC).
        """
        k = self._k(k)
        weights = self.weights.for_question("member_for_need")
        policy = self.weights.exposure
        with self.store.read() as tx:
            tpk = self._territory_pk(tx, territory_id)
            _, need, _, pdata = self._need(tx, tpk, need_id)
            commune, causes = pdata.get("commune"), pdata.get("causes", [])
            need_text = need.full_text()
            allowed = self._available_mask(tx, tpk)
            cols = self._member_columns(tx, tpk)
            contacts: dict[str, int] = {}
            if fair and policy.member_cap > 0:
                since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=policy.window_days)
                contacts = self._contact_counts(tx, tpk, since, cached=now is None)
                capped = [cols.pk_of[m] for m, n in contacts.items() if n >= policy.member_cap and m in cols.pk_of]
                if capped:  # contacted as often as the policy allows: left out
                    allowed = allowed.copy()
                    allowed[capped] = False
            pool = self._candidates("member", "member_for_need", self._query_vector(need_text, "member"), need_text, allowed)
            # the holder does not answer their own call for skills
            holder = cols.pk_of.get(pdata["holder"]) if pdata.get("holder") else None
            if holder is not None:
                pool = pool.select(pool.ids != holder)
            rows = cols.rows(pool.ids)
            comps = dict(pool.components)
            comps["availability"] = cols.availability(rows, need.hours_per_week)
            comps["place"] = cols.place_score(rows, need.remote, commune)
            comps["load"] = cols.load(rows)
            comps["causes"], has_causes = cols.causes_share(rows, causes)
            if fair and policy.member_cap > 0:
                counts = np.zeros(len(cols.ext_ids), dtype=np.int64)
                for member_id, n in contacts.items():
                    if member_id in cols.pk_of:
                        counts[cols.row[cols.pk_of[member_id]]] = n
                comps["exposure"] = 1.0 - counts[rows] / policy.member_cap
            scores = scoring.combine_many(comps, weights, {"causes": has_causes})
            lam = policy.diversity if diversity is None else diversity
            order = np.lexsort((cols.rank[rows], -np.asarray(scores)))[: max(3 * k, k) if lam > 0 else k]
            members = self._members_by_pk(tx, pool.ids[order].tolist())

        def match(n: int) -> Match:
            member = members[int(pool.ids[n])]
            breakdown = {name: float(values[n]) for name, values in comps.items() if name != "causes" or has_causes[n]}
            return Match(id=member.id, kind="member", label=member.display_name, score=scores[n], breakdown=breakdown, reasons=[])

        matches = [match(n) for n in order.tolist()]
        pk_of = {m.id: int(pool.ids[n]) for m, n in zip(matches, order.tolist(), strict=True)}
        top = self._diversify(matches, k, lam, "member", pk_of) if lam > 0 else matches
        for m in top:  # reasons only for what is returned: they cost more than the score
            m.reasons = scoring.member_reasons(members[pk_of[m.id]], need, need_text, commune, m.breakdown, causes)
            if contacts.get(m.id):
                m.reasons.append(f"déjà sollicité·e {contacts[m.id]} fois ces {policy.window_days} derniers jours")
        return top

    def _diversify(self, matches: list[Match], k: int, lam: float, kind: str, pks: dict[str, int]) -> list[Match]:
        """Maximal marginal relevance: each pick trades score against resemblance to those picked."""
        if not 0 <= lam < 1:
            raise InvalidRequest("diversity doit être dans [0, 1[")
        pool = self._rank(matches, max(3 * k, k))
        with self._lock:
            vectors = {m.id: self.indexes[kind].vector(pks[m.id]) for m in pool}
        picked: list[Match] = []
        while pool and len(picked) < k:

            def gain(m: Match) -> float:
                if not picked:
                    return m.score
                resemblance = max(float(vectors[m.id] @ vectors[p.id]) for p in picked)
                return (1 - lam) * m.score - lam * resemblance

            best = max(pool, key=lambda m: (gain(m), m.score))
            pool.remove(best)
            picked.append(best)
        return picked

    def offerings_for_project(self, territory_id: str, project_id: str, k: int = 10) -> list[Match]:
        """Which partner offerings fit this project at its stage (and the next one)?"""
        k = self._k(k)
        weights = self.weights.for_question("offering_for_project")
        with self.store.read() as tx:
            tpk = self._territory_pk(tx, territory_id)
            project = self._project(tx, tpk, project_id)
            catalogue = self._offerings(tx, tpk)
            stages = {project.stage} | ({project.stage.next()} if project.stage.next() else set())
            allowed = filters.eligible_offerings(((pk, off) for pk, (off, _, _) in catalogue.items()), project, stages)
            if self.weights.exposure.partner_caps:
                allowed -= self._full_offerings(tx, tpk, exclude_project=project.id)
            cands = self._offering_candidates(project, allowed)
        return self._rank(self._offering_matches(catalogue, project, cands, weights), k)

    @staticmethod
    def _offering_matches(
        catalogue: dict[int, tuple[Offering, str, str]],
        project: Project,
        cands: list[Candidate],
        weights: dict[str, float],
        *,
        next_stage: Stage | None = None,
    ) -> list[Match]:
        """Offering candidates -> matches; with ``next_stage`` they are judged for that stage."""
        matches = []
        for cand in cands:
            offering, partner_id, partner_name = catalogue[cand.id]
            stage = next_stage or project.stage
            comps = cand.components | {"stage": scoring.stage_fit(offering.stages, stage)}
            reasons = scoring.offering_reasons(offering, partner_name, project, comps)
            if next_stage is not None:
                reasons[1:2] = [f"étape suivante : {next_stage.label}"]
            matches.append(
                Match(
                    id=offering.id,
                    kind="offering",
                    label=f"{partner_name} — {offering.title}",
                    score=scoring.combine(comps, weights),
                    breakdown=comps,
                    reasons=reasons,
                    parent_id=partner_id,
                )
            )
        return matches

    def _offering_candidates(self, project: Project, allowed: set[int], *, later: bool = False) -> list[Candidate]:
        """Offerings scored against the project's description **sentence by sentence**.

        A holder states the need in one sentence among others ("la banque nous demande une
        caution"): ``semantic`` is the best cosine between an offering and the title or one
        sentence of the description. Sentences about later stages ("Plus tard, …") are left
        out. ``lexical`` is BM25 of the same text, divided by the best of the allowed offerings.
        """
        weights = self.weights.for_question("offering_for_project")
        parts = textlib.sentences(project.description)
        if later:  # the next stage: sentences about later needs if the holder wrote some
            queries = [s for s in parts if textlib.is_about_later(s)] or [project.title, *parts]
        else:
            now = [s for s in parts if not textlib.is_about_later(s)] or parts
            # the sentences that ask for something say what the project needs now
            queries = [s for s in now if textlib.is_request(s)] or [project.title, *now]
        text = " ".join(queries)
        if len(allowed) > self.weights.retrieval.pool:  # large catalogues: hybrid pre-selection first
            full = self._query_vector(project.text())
            allowed = set(self._candidates("offering", "offering_for_project", full, text, allowed).ids.tolist())
        ids = sorted(allowed)
        if not ids:
            return []
        q = self.encoder.encode(queries, kind="query")
        with self._lock:
            vectors = np.vstack([self.indexes["offering"].vector(i) for i in ids])
            lexical = self.lexical["offering"].scores(text, ids) if weights.get("lexical", 0) > 0 else None
        semantic = np.clip((q @ vectors.T).max(axis=0), 0.0, 1.0)
        out = []
        for n, pk in enumerate(ids):
            comps = {"semantic": float(semantic[n])}
            if lexical is not None:
                comps["lexical"] = float(lexical[n] / lexical.max()) if lexical.max() > 0 else 0.0
            out.append(Candidate(pk, comps))
        return out

    def _full_offerings(self, tx: Tx, tpk: int, exclude_project: str | None = None) -> set[int]:
        """Offerings whose pending suggestions (shown, contacted, accepted) reach their capacity."""
        pending = storelib.pending_per_candidate(tx, tpk, "offering_for_project", PENDING_STATES, exclude_project)
        if not pending:
            return set()
        return {pk for pk, (off, _, _) in self._offerings(tx, tpk).items() if pending.get(off.id, 0) >= off.capacity}

    def route_project(self, territory_id: str, project_id: str) -> dict[str, Any]:
        """The best eligible offering for the project's current stage, and for the next one.

        Returns ``{"stage", "current", "next_stage", "next"}`` where ``current`` and ``next``
        are a ``Match`` or None (no eligible offering at that stage, or end of the chain).
        For the next stage, sentences about later needs ("Plus tard, il faudra…") lead.
        """
        ranked = self.offerings_for_project(territory_id, project_id, k=self.settings.max_k)
        current = next((m for m in ranked if m.breakdown.get("stage") == 1.0), None)
        with self.store.read() as tx:
            tpk = self._territory_pk(tx, territory_id)
            project = self._project(tx, tpk, project_id)
            catalogue = self._offerings(tx, tpk)
            nxt_stage = project.stage.next()
            offerings = ((pk, off) for pk, (off, _, _) in catalogue.items())
            allowed_next = filters.eligible_offerings(offerings, project, {nxt_stage}) if nxt_stage else set()
            if self.weights.exposure.partner_caps:
                allowed_next -= self._full_offerings(tx, tpk, exclude_project=project.id)
            cands = self._offering_candidates(project, allowed_next, later=True)
            weights = self.weights.for_question("offering_for_project")
            nxt_matches = [
                m
                for m in self._offering_matches(catalogue, project, cands, weights, next_stage=nxt_stage)
                if current is None or m.id != current.id
            ]
        nxt = self._rank(nxt_matches, 1)[0] if nxt_matches else None
        return {"stage": project.stage, "current": current, "next_stage": nxt_stage, "next": nxt}

    def projects_for_partner(self, territory_id: str, partner_id: str, k: int = 10) -> list[Match]:
        """Which projects should this partner look at?"""
        k = self._k(k)
        weights = self.weights.for_question("project_for_partner")
        with self.store.read() as tx:
            tpk = self._territory_pk(tx, territory_id)
            offerings = [(pk, off) for pk, (off, pid, _) in self._offerings(tx, tpk).items() if pid == partner_id]
            if not offerings:
                tx.get_partner(territory_id, partner_id)  # NotFound for an unknown partner
                return []
            # a project is a candidate if one of the partner's offerings serves its stage and it is eligible
            pools, every = [], None
            keys = [(off_pk, filters.eligibility_key(off)) for off_pk, off in offerings]
            cols = self._project_cols.get(tpk)
            if cols is None or any(key not in self._eligible for key in keys):
                # after a project write or an offering change: every project of the territory, validated once
                every = self._projects_by_pk(tx, sorted(self._project_pks_of(tx, tpk).values()))
                cols = self._project_cols[tpk] = ProjectColumns(every)
            for key, (off_pk, off) in zip(keys, offerings, strict=True):
                allowed = self._eligible.get(key)
                if allowed is None:
                    ok = [pk for pk, p in every.items() if p.stage in off.stages and filters.eligible(off, p)]  # type: ignore[union-attr]
                    allowed = self._eligible[key] = np.array(ok, dtype=np.int64)
                if not len(allowed):
                    continue
                with self._lock:
                    query = self.indexes["offering"].vector(off_pk)
                pool = self._candidates("project", "project_for_partner", query, off.full_text(), allowed)
                pool.components["stage"] = ProjectColumns.stage_fit(off)[cols.stage[pool.ids]]
                pools.append((off, pool, np.asarray(scoring.combine_many(pool.components, weights))))
            if not pools:
                return []
            # each project's best offering (the first one on a tie), then the same order as _rank
            pks = np.concatenate([pool.ids for _, pool, _ in pools])
            scores = np.concatenate([s for _, _, s in pools])
            which = np.concatenate([np.full(len(pool), o) for o, (_, pool, _) in enumerate(pools)])
            at = np.concatenate([np.arange(len(pool)) for _, pool, _ in pools])
            by_pk = np.lexsort((which, -scores, pks))
            first = np.ones(len(by_pk), dtype=bool)
            first[1:] = pks[by_pk][1:] != pks[by_pk][:-1]
            best = by_pk[first]
            top = best[np.lexsort((cols.rank[pks[best]], -scores[best]))][:k].tolist()
            projects = self._projects_by_pk(tx, [int(pks[i]) for i in top])
        out = []
        for i in top:  # reasons (word analysis) only for what is returned
            pk, score, (off, pool, _), n = int(pks[i]), float(scores[i]), pools[which[i]], int(at[i])
            comps = pool.row(n)
            out.append(
                Match(
                    id=projects[pk].id,
                    kind="project",
                    label=projects[pk].title,
                    score=score,
                    breakdown=comps,
                    reasons=scoring.project_reasons(projects[pk], off, comps),
                )
            )
        return out

    def needs_for_member(self, territory_id: str, member_id: str, k: int = 10) -> list[Match]:
        """Which open calls for skills fit this member?"""
        k = self._k(k)
        weights = self.weights.for_question("need_for_member")
        with self.store.read() as tx:
            tpk = self._territory_pk(tx, territory_id)
            member = self._member(tx, tpk, member_id)
            text = member.text()
            pool = self._candidates(
                "need", "need_for_member", self._query_vector(text, "need"), text, self._open_needs_mask(tx, tpk)
            )
            cols = self._need_columns(tx, tpk)
            rows = cols.rows(pool.ids)
            comps = dict(pool.components)
            comps["availability"] = cols.availability(rows, member.hours_per_week)
            comps["place"] = cols.place_score(rows, member)
            comps["causes"], has_causes = cols.causes_share(rows, member.causes)
            scores = scoring.combine_many(comps, weights, {"causes": has_causes})
            # the same order as _rank, but Match objects (and reasons) only for what is returned
            order = np.lexsort((cols.rank[rows], -np.asarray(scores)))[:k].tolist()
            needs = self._needs_by_pk(tx, [int(pool.ids[n]) for n in order])
        out = []
        for n in order:
            need, project_id, pdata = needs[int(pool.ids[n])]
            breakdown = {name: float(values[n]) for name, values in comps.items() if name != "causes" or has_causes[n]}
            out.append(
                Match(
                    id=need.id,
                    kind="need",
                    label=f"{need.title} ({pdata['title']})",
                    score=scores[n],
                    breakdown=breakdown,
                    reasons=scoring.need_reasons(member, need, pdata["title"], breakdown),
                    parent_id=project_id,
                )
            )
        return out

    def search_text(
        self, territory_id: str, text: str, target: Target, *, stage: Stage | None = None, k: int = 10
    ) -> list[Match]:
        """Free text against members, needs, offerings or projects (optionally at a stage)."""
        k = self._k(k)
        if not text.strip():
            raise InvalidRequest("le texte est vide")
        weights = self.weights.for_question("free_text")
        kind = {"members": "member", "needs": "need", "offerings": "offering", "projects": "project"}[target]
        with self.store.read() as tx:
            tpk = tx.territory_pk(territory_id)
            if kind == "member":
                allowed = filters.available_members(tx, tpk)
            elif kind == "need":
                allowed = filters.open_needs(tx, tpk)
            elif kind == "offering":
                allowed = filters.offerings_at(tx, tpk, {stage} if stage else None)
            else:
                allowed = filters.projects_at(tx, tpk, {stage} if stage else None)
            cands = self._candidates(kind, "free_text", self._query_vector(text, kind), text, allowed).candidates()
            rows = tx.rows_by_pk(kind, [c.id for c in cands])
            parents = {pk: _parent(kind, r) for pk, r in rows.items()}
        matches, texts = [], {}
        for cand in cands:
            row = rows[cand.id]
            label, parent_id = parents[cand.id]
            texts[row.ext_id] = row.text
            reasons: list[str] = []
            matches.append(
                Match(
                    id=row.ext_id,
                    kind=kind,  # type: ignore[arg-type]
                    label=label,
                    score=scoring.combine(cand.components, weights),
                    breakdown=cand.components,
                    reasons=reasons,
                    parent_id=parent_id,
                )
            )
        top = self._rank(matches, k)
        for m in top:
            words = textlib.shared_words(text, texts[m.id])
            m.reasons = ["sens proche du texte"] + (["mots en commun : " + ", ".join(words)] if words else [])
            if stage is not None and kind in ("offering", "project"):
                m.reasons.append(f"étape : {stage.label}")
        return top

    # -- feedback ------------------------------------------------------------------------------
    def record_events(self, territory_id: str, events: list[FeedbackEvent]) -> dict[str, int]:
        """Store events in one transaction (all or nothing); idempotent by event id.

        Events are applied in time order, so a batch may hold a whole story
        (shown, contacted, accepted) of one suggestion.
        """
        counts = {"recorded": 0, "duplicates": 0}
        self._contacts = {}
        with self.store.transaction() as tx:
            for ev in sorted(events, key=lambda e: e.at):
                outcome = storelib.record_event(tx, territory_id, ev)
                counts["recorded" if outcome == "recorded" else "duplicates"] += 1
        return counts

    def list_events(self, territory_id: str, **filters_: Any) -> list[FeedbackEvent]:
        with self.store.read() as tx:
            rows = storelib.list_events(tx, tx.territory_pk(territory_id), **filters_)
            return [FeedbackEvent.model_validate(r.data) for r in rows]

    def outcomes_frame(self, territory_id: str, question: str = "member_for_need"):
        """One row per closed suggestion: its components when shown, and label 1/0.

        Label 1 = accepted or completed, 0 = declined or no answer; suggestions still
        pending (shown, contacted) are left out. Columns: subject_id, candidate_id, the
        components, label.
        """
        import pandas as pd

        with self.store.read() as tx:
            rows = storelib.list_events(tx, tx.territory_pk(territory_id), question=question)
        shown: dict[tuple[str, str], dict[str, float]] = {}
        state: dict[tuple[str, str], str] = {}
        for row in rows:
            key = (row.subject_id, row.candidate_id)
            if row.data.get("breakdown"):
                shown[key] = row.data["breakdown"]
            state[key] = row.type
        records = []
        for key, last in state.items():
            if key not in shown or last in ("shown", "contacted"):
                continue
            label = 1 if last in ("accepted", "completed") else 0
            records.append({"subject_id": key[0], "candidate_id": key[1], **shown[key], "label": label})
        return pd.DataFrame.from_records(records, columns=None if records else ["subject_id", "candidate_id", "label"])

    def reload_weights(self) -> bool:
        """Re-read the weights file if it changed on disk (the service calls this per request).

        Weights passed to the constructor are pinned and never replaced.
        """
        if self._weights_pinned:
            return False
        path = self.settings.weights
        mtime = _mtime(path)
        if mtime is None or mtime == self._weights_mtime:
            return False
        try:
            weights = Weights.load(path)
        except (OSError, ValueError) as exc:
            log.warning("poids illisibles dans %s (%s) : poids précédents conservés", path, exc)
            return False
        self.weights, self._weights_mtime = weights, mtime
        return True

    # -- personal data ---------------------------------------------------------------------------
    def export_member(self, territory_id: str, member_id: str) -> dict[str, Any]:
        """Everything stored about a member: the profile and every event that names them."""
        with self.store.read() as tx:
            member = tx.get_member(territory_id, member_id)
            tpk = tx.territory_pk(territory_id)
            about = storelib.list_events(tx, tpk, candidate_id=member_id, question="member_for_need")
            by = storelib.list_events(tx, tpk, subject_id=member_id, question="need_for_member")
            events = [FeedbackEvent.model_validate(r.data) for r in sorted(about + by, key=lambda r: (r.at, r.pk))]
        return {
            "territory_id": territory_id,
            "member": member,
            "events": events,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }

    def anonymise_member(self, territory_id: str, member_id: str) -> None:
        """Replace a member's personal fields by neutral values (events keep the bare id).

        The member is no longer suggested (no consent, no text), its vector leaves the
        index and the cache.
        """
        member = self.get_member(territory_id, member_id)
        blank = Member(id=member.id, display_name=ANONYMOUS, bio="(profil anonymisé)", consent=False, max_engagements=0)
        self._write({"member": [blank.text()]}, lambda tx: _replace_member(tx, territory_id, blank, member))

    def apply_retention(self, territory_id: str, inactive_days: int, *, dry_run: bool = False) -> list[str]:
        """Anonymise the members inactive for ``inactive_days`` (no profile update, no event).

        Already anonymised members are left alone. Returns the ids concerned.
        """
        if inactive_days < 1:
            raise InvalidRequest("la durée d'inactivité doit être d'au moins un jour")
        before = dt.datetime.now(dt.UTC) - dt.timedelta(days=inactive_days)
        with self.store.read() as tx:
            tpk = tx.territory_pk(territory_id)
            ids = [
                m for m in storelib.inactive_members(tx, tpk, before) if tx.get_member(territory_id, m).display_name != ANONYMOUS
            ]
        if not dry_run:
            for member_id in ids:
                self.anonymise_member(territory_id, member_id)
        return ids

    # -- partner digest ---------------------------------------------------------------------------
    def partner_digest(self, territory_id: str, partner_id: str, k: int = 10) -> dict[str, Any]:
        """The projects a partner should look at this week: stage served, eligible, within
        the capacity of the offering, and never shown to this partner before."""
        with self.store.read() as tx:
            tpk = tx.territory_pk(territory_id)
            partner = tx.get_partner(territory_id, partner_id)
            states = storelib.suggestion_states(tx, tpk, "project_for_partner")
            full = self._full_offerings(tx, tpk) if self.weights.exposure.partner_caps else set()
            full_ids = {r.ext_id for r in tx.rows_by_pk("offering", sorted(full)).values()}
        already = {candidate for (subject, candidate) in states if subject == partner_id}
        ranked = self.projects_for_partner(territory_id, partner_id, k=self.settings.max_k)
        open_offerings = [o for o in partner.offerings if o.id not in full_ids]
        items = [m for m in ranked if m.id not in already][:k] if open_offerings else []
        today = dt.date.today()
        year, week, _ = today.isocalendar()
        return {
            "partner_id": partner.id,
            "partner": partner.name,
            "week": f"{year}-W{week:02d}",
            "offerings_open": [o.id for o in open_offerings],
            "offerings_full": sorted(full_ids & {o.id for o in partner.offerings}),
            "projects": items,
        }

    # -- matching round ---------------------------------------------------------------------------
    def round_candidates(
        self, territory_id: str, k: int = 20
    ) -> tuple[dict[str, list[tuple[str, float]]], dict[str, int], dict[str, int]]:
        """Inputs of a territory-wide matching round: candidates per open need, headcounts,
        and each member's remaining capacity (maximum engagements minus current ones)."""
        with self.store.read() as tx:
            tpk = tx.territory_pk(territory_id)
            need_rows = tx.rows_by_pk("need", sorted(filters.open_needs(tx, tpk)))
            capacity = {}
            for row in tx.rows("member", tpk):
                m = row.data
                capacity[m["id"]] = max(0, m.get("max_engagements", 0) - m.get("active_engagements", 0)) if row.available else 0
        candidates, headcount = {}, {}
        for row in need_rows.values():
            candidates[row.ext_id] = [(m.id, m.score) for m in self.members_for_need(territory_id, row.ext_id, k=k)]
            headcount[row.ext_id] = int(row.data.get("headcount", 1))
        return candidates, headcount, capacity


def _replace_member(tx: Tx, territory_id: str, blank: Member, old: Member) -> None:
    tx.changes.forgotten.add(hashlib.sha256(old.text().encode()).hexdigest())
    tx.upsert_member(territory_id, blank)


def _same_policy(saved: dict[str, Any] | None, policy: Any) -> bool:
    """Whether a saved index was built under the same structural settings (nprobe is free)."""
    if not saved:
        return False
    return {k: saved.get(k) for k in ("kind", "threshold", "nlist")} == {
        "kind": policy.kind,
        "threshold": policy.threshold,
        "nlist": policy.nlist,
    }


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _parent(kind: str, row: Any) -> tuple[str, str | None]:
    if kind == "member":
        return row.data["display_name"], None
    if kind == "need":
        return f"{row.data['title']} ({row.project.data['title']})", row.project.ext_id
    if kind == "offering":
        return f"{row.partner.data['name']} — {row.data['title']}", row.partner.ext_id
    return row.data["title"], None


__all__ = ["NeedRow", "OfferingRow", "ProjectRow", "Recommender", "Target"]
