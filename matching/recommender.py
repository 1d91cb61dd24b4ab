"""The facade used by the API, the CLI and the notebooks: it opens, writes and dispatches.

A ``Recommender`` wires four parts and holds no cache of its own:

- the **store** (``matching.store``): the source of truth, every SQL statement;
- the **index set** (``embeddings.indexset``): per entity kind, the dense channels (one FAISS
  index per encoder) and the lexical index;
- the **read models** (``matching.readmodel``): the candidates' side of each territory;
- the **questions** (``matching.questions``): one pipeline, one spec per question.

A write: validate -> ``indexes.prepare`` (encode, cache first) -> one store unit of work
(rows, new vectors, change-log entries) -> ``apply(changes)`` on the read models and the index
set. Another process's write: the change log, read by ``feed`` (``matching.follower``) -> the
same ``apply(changes)``. A question: its spec run on one store read, the territory's read
model, the index set and the current weights.

Example:
    >>> rec = Recommender(Settings(data_dir="/tmp/maillage-doc"))
    >>> rec.open()
    >>> rec.member_for_need("sceaux-valley", "p0001-n1", k=5)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from embeddings import CachedEncoder, Encoder, build_encoder
from embeddings.indexset import IndexSet
from matching import health, privacy, questions, reports
from matching import text as textlib
from matching.clock import Clock, SystemClock
from matching.domain import (
    INDEXED_KINDS,
    FeedbackEvent,
    Match,
    Member,
    Partner,
    Project,
    RecordedEvent,
    Report,
    Stage,
    SuggestionState,
    Target,
    Territory,
)
from matching.errors import InvalidRequest
from matching.follower import Chores, Follower
from matching.questions import Ask, Context, QuestionSpec
from matching.readmodel import ReadModels
from matching.scoring import Weights, WeightsFile
from matching.settings import Settings
from matching.store import Changes, Store, Tx, changelog, events, queries

BULK_ROWS = 50  # an ingest of this many rows of a territory loads its rows at once
T = TypeVar("T")


class Recommender:
    """Store + index set + read models + weights, and the questions.

    Args:
        settings: where the data lives and which encoder to use.
        store: an open store (default: from ``settings.database_url``).
        encoder: an encoder (default: built from ``settings.encoder`` when the indexes open).
        weights: score weights, pinned (default: ``settings.weights``, read again when it changes).
        clock: what "now" and "today" are (default: the system's).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        encoder: Encoder | None = None,
        weights: Weights | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()
        self.store = store or Store(self.settings.database_url, clock=self.clock)
        self._weights = WeightsFile(self.settings, weights)
        self.models = ReadModels(self.clock)
        self._raw_encoder = encoder
        self._indexes: IndexSet | None = None
        self._lock = threading.RLock()  # one write at a time in this process (local, or from the feed)
        chores = Chores((self.settings.snapshot_seconds, self.snapshot), (3600.0, self.compact_log), (300.0, self.check_sync))
        self.feed = Follower(self.store, self._lock, self.apply, self.resync, chores.run, poll=self.settings.feed_poll_seconds)

    # -- set-up ---------------------------------------------------------------------------------
    @property
    def indexes(self) -> IndexSet:
        """The index set (builds the encoder the first time)."""
        if self._indexes is None:
            raw = self._raw_encoder or build_encoder(self.settings.encoder)
            self._indexes = IndexSet(
                INDEXED_KINDS,
                {self.settings.encoder: CachedEncoder(raw, self.store.vectors)},
                self.settings.index_dir,
                policy=self.settings.index_policy(),
                analyzer=textlib.lexical_tokens,
            )
        return self._indexes

    @property
    def is_open(self) -> bool:
        """Whether the indexes are loaded (without building the model to find out)."""
        return self._indexes is not None and self._indexes.is_open

    @property
    def encoder(self) -> CachedEncoder:
        """The primary encoder (through the vector cache)."""
        return self.indexes.encoder

    @property
    def weights(self) -> Weights:
        return self._weights.current

    @weights.setter
    def weights(self, weights: Weights) -> None:
        """Use these weights from now on, whatever the weights file says (pinned)."""
        self._weights = WeightsFile(self.settings, weights)

    def index_path(self, kind: str) -> Path:
        return self.indexes.index_path(kind)

    def adapter_path(self, kind: str) -> Path:
        return self.indexes.adapter_path(kind)

    def open(self, *, progress: bool = False) -> dict[str, str]:
        """Load the saved indexes (snapshots) and replay the change log since each one's position;
        rebuild those that cannot be (unreadable, log compacted past them and not matching the
        store). Per kind ``loaded``, ``replayed`` or ``rebuilt``."""
        with self._lock:
            self.models.reset()
            position = self._position()
            done = self.indexes.open(
                self.store, progress=progress, position=position, replay=lambda kind, since: self._replay(kind, since, position)
            )
            self.feed.reset(position)
            return done

    def _position(self) -> int:
        with self.store.read() as tx:
            return changelog.last_seq(tx)

    def _replay(self, kind: str, since: int, upto: int) -> Changes | None:
        """What changed for one kind between two positions of the log (None: no longer kept)."""
        if since >= upto:
            return Changes()
        with self.store.read() as tx:
            oldest = changelog.oldest_seq(tx)
            if oldest is None or oldest > since + 1:
                return None
            return changelog.changes_of(tx, changelog.read(tx, after=since, upto=upto, limit=None, kind=kind))

    def resync(self, position: int) -> None:
        """The log no longer holds what this process missed: check every index against the store."""
        with self._lock:
            self.models.reset()
            self.indexes.open(self.store, position=position)

    def rebuild(
        self, *, progress: bool = False, engine: Literal["local", "ray"] = "local", workers: int = 1, address: str | None = None
    ) -> dict[str, int]:
        """Recreate every index from the store (see ``IndexSet.rebuild``)."""
        if engine not in ("local", "ray"):
            raise InvalidRequest(f"moteur inconnu {engine!r} (local, ray)")
        with self._lock:
            self.models.reset()
            position = self._position()
            counts = self.indexes.rebuild(
                self.store, progress=progress, engine=engine, workers=workers, address=address, position=position
            )
            self.feed.reset(position)
            return counts

    def snapshot(self, *, every_kind: bool = False) -> dict[str, Any]:
        """Save the changed indexes (``every_kind``: all) with their log position; a failure is in ``error``."""
        if self._indexes is None or not self._indexes.is_open:
            return {"saved": [], "position": None, "error": None}
        position = self.feed.applied  # read first: the copies reflect at least this position
        saved = self.indexes.snapshot(position, kinds=INDEXED_KINDS if every_kind else None)
        return {"saved": saved, "position": position, "error": self.indexes.saving.error}

    def compact_log(self) -> int:
        """Delete the change-log entries older than the retention (``feed_retention_hours``)."""
        with self.store.transaction() as tx:
            return changelog.compact(tx, older_than=time.time() - 3600 * self.settings.feed_retention_hours)

    def fit_adapter(self, kind: str = "member", *, min_pairs: int = 1000) -> dict[str, Any]:
        """Train the query adapter of one index on its own texts (no labels), save and use it."""
        with self.store.read() as tx:
            texts = list(queries.texts(tx, kind=kind).values())
        return self.indexes.fit_adapter(
            kind, texts, sentences=textlib.sentences, rewrite=textlib.verb_phrase, min_pairs=min_pairs
        )

    def drop_adapter(self, kind: str) -> None:
        self.indexes.drop_adapter(kind)

    def warm_up(self) -> None:
        """Load the model, the lexical indexes and the read models ahead of the first request
        (the model in a thread of its own meanwhile: its files are read while the rest is built)."""
        from threadpoolctl import threadpool_limits

        # small matrix products: one BLAS thread each, requests side by side (docs/performance.md)
        threadpool_limits(1, user_api="blas")
        model = threading.Thread(target=self.indexes.query_vector, args=("préchauffage du modèle",), name="maillage-model")
        model.start()
        for kind in INDEXED_KINDS:
            self.indexes.lexical(kind).search("préchauffage", k=1)
        with self.store.read() as tx:
            self.models.warm_up(tx)  # 100 000 members: about a second, once
        model.join()

    def close(self) -> dict[str, Any]:
        """Stop following the log, save what changed, close the store; returns ``snapshot()``'s
        report (a failed save is reported there, not raised: the store has the data)."""
        self.feed.stop()
        saved = self.snapshot()
        self.store.dispose()
        return saved

    def health(self) -> dict[str, Any]:
        """The state of this process against the store (``matching.health``)."""
        return health.report(self)

    def check_sync(self) -> dict[str, bool | None]:
        """Compare each index with the store; rebuild those that differ while nothing is pending."""
        return health.check_sync(self, repair=True)

    # -- writes -----------------------------------------------------------------------------------
    def write(self, texts: dict[str, list[str]], fn: Callable[[Tx], T], *, progress: bool = False) -> T:
        """Run ``fn`` in one unit of work, then bring the read models and the indexes up to date.

        ``texts``: per indexed kind, the texts the write will store; they are encoded *before*
        the transaction (cache first), so an encoder failure writes nothing and the SQLite
        writer lock is never held while encoding.
        """
        prepared = self.indexes.prepare(texts, progress=progress, keep=False)
        with self._lock:
            result, changes = self.store.run(fn, vectors=prepared.fresh)
            self.apply(changes, prepared)
            self.feed.local(changes)
        return result

    def apply(self, changes: Changes, prepared: Any = None) -> None:
        """Follow a committed unit of work: the read models, the index set, the vector cache."""
        self.models.apply(changes)
        self.indexes.forget(changes.forgotten)
        self.indexes.apply(changes, prepared)

    def upsert_territory(self, territory: Territory) -> None:
        self.write({}, lambda tx: tx.upsert_territory(territory))

    def upsert_members(self, territory_id: str, members: list[Member], *, progress: bool = False) -> None:
        self.write(
            {"member": [m.text() for m in members]},
            lambda tx: [tx.upsert_member(territory_id, m) for m in members],
            progress=progress,
        )

    def upsert_projects(self, territory_id: str, projects: list[Project], *, progress: bool = False) -> None:
        self.write(
            {"project": [p.text() for p in projects], "need": [n.full_text() for p in projects for n in p.needs]},
            lambda tx: [tx.upsert_project(territory_id, p) for p in projects],
            progress=progress,
        )

    def upsert_partners(self, territory_id: str, partners: list[Partner]) -> None:
        self.write(
            {"offering": [o.full_text() for p in partners for o in p.offerings]},
            lambda tx: [tx.upsert_partner(territory_id, p) for p in partners],
        )

    def ingest(self, batch: Any, *, progress: bool = False) -> dict[str, int]:
        """Write a validated ``ingest.Batch`` in one unit of work (all or nothing)."""
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

        return self.write(texts, write, progress=progress)

    def delete_member(self, territory_id: str, member_id: str) -> None:
        self.write({}, lambda tx: tx.delete_member(territory_id, member_id))

    def delete_project(self, territory_id: str, project_id: str) -> None:
        self.write({}, lambda tx: tx.delete_project(territory_id, project_id))

    def delete_partner(self, territory_id: str, partner_id: str) -> None:
        self.write({}, lambda tx: tx.delete_partner(territory_id, partner_id))

    def record_events(self, territory_id: str, evs: list[FeedbackEvent] | list[Report]) -> dict[str, int]:
        """Store events in one unit of work (all or nothing); idempotent by event id.

        Each is a ``Report`` (an event, its side, whether the suggestion must have been served
        first: ``matching.access.event_report``) or a bare event, recorded on the subject side
        (a ``RecordedEvent`` on its own side): what staff and the service's own tools report.
        Events are applied in time order, so a batch may hold a whole story (shown, contacted,
        accepted) of one suggestion. No event may be dated after now plus
        ``settings.event_skew_seconds``.
        """
        reports = [e if isinstance(e, Report) else Report(e, getattr(e, "side", "subject")) for e in evs]
        not_after = self.clock.now() + dt.timedelta(seconds=self.settings.event_skew_seconds)

        def record(tx: Tx) -> dict[str, int]:
            counts = {"recorded": 0, "duplicates": 0}
            for r in sorted(reports, key=lambda r: r.event.at):
                outcome = events.record_event(
                    tx, territory_id=territory_id, ev=r.event, side=r.side, served_first=r.served_first, not_after=not_after
                )
                counts["recorded" if outcome == "recorded" else "duplicates"] += 1
            return counts

        with self.store.transaction() as tx:
            counts = record(tx)
            changes = tx.changes
        with self._lock:
            self.models.apply(changes)
            self.feed.local(changes)
        return counts

    def record_shown(
        self, territory_id: str, question: str, subject_id: str, matches: list[Match], *, at: dt.datetime | None = None
    ) -> None:
        """The service served these matches for ``subject_id``: a ``shown`` on the service's side for
        each suggestion not served before, with its score and components (one statement)."""
        if not matches:
            return
        with self.store.transaction() as tx:
            events.record_shown(
                tx,
                territory_pk=self.models.territory_pk(tx, territory_id),
                question=question,
                subject_id=subject_id,
                shown=[(m.id, m.score, m.breakdown) for m in matches],
                at=at or self.clock.now(),
            )

    # -- reads ------------------------------------------------------------------------------------
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

    def project_of_need(self, territory_id: str, need_id: str) -> str:
        """The id of the project a call for skills belongs to (NotFound if unknown)."""
        return self._read(lambda tx: tx.get_need(territory_id, need_id)[1])

    def list_events(self, territory_id: str, **filters: Any) -> list[RecordedEvent]:
        return self._read(lambda tx: events.list_events(tx, territory_pk=tx.territory_pk(territory_id), **filters))

    def suggestions(self, territory_id: str, question: str, **filters: Any) -> dict[tuple[str, str], SuggestionState]:
        """Each side's state of the suggestions of a question: (subject, candidate) -> state."""
        return self._read(
            lambda tx: events.suggestions(tx, territory_pk=tx.territory_pk(territory_id), question=question, **filters)
        )

    def party(self, territory_id: str, kind: str, ident: str) -> str | None:
        """Who speaks for an entity in a suggestion: a need's or a project's holder, an offering's
        partner, a member or a partner themself (NotFound if the entity does not exist)."""
        return self._read(lambda tx: queries.party(tx, territory_pk=tx.territory_pk(territory_id), kind=kind, ext_id=ident))

    def holds_projects(self, territory_id: str, holder: str) -> list[str]:
        """The ids of the projects whose ``holder`` is this value."""
        return self._read(lambda tx: queries.projects_of(tx, territory_pk=tx.territory_pk(territory_id), holder=holder))

    # -- the questions --------------------------------------------------------------------------------
    def reload_weights(self) -> bool:
        """Re-read the weights file if it changed on disk (each question calls this)."""
        return self._weights.reload()

    def ask(self, spec: QuestionSpec, territory_id: str, ask: Ask) -> list[Match]:
        """Run one question's spec (``matching.questions``) for a territory."""
        self.reload_weights()
        if not 1 <= ask.k <= self.settings.max_k:
            raise InvalidRequest(f"k doit être entre 1 et {self.settings.max_k}")
        with self.store.read() as tx:
            ctx = Context(tx, self.models.of(tx, territory_id), self.indexes, self.weights, self.clock, ask)
            return questions.ask(spec, ctx)

    def member_for_need(
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
                last ``window_days`` are left out, those contacted fewer times rank lower.
            diversity: MMR trade-off in [0, 1) so one list does not hold near-identical
                profiles (default: the policy's).
            now: the reference time of the rolling window (default: the clock's).
        """
        return self.ask(questions.MEMBER_FOR_NEED, territory_id, Ask(need_id, k, fair=fair, diversity=diversity, now=now))

    def need_for_member(self, territory_id: str, member_id: str, k: int = 10) -> list[Match]:
        """Which open calls for skills fit this member?"""
        return self.ask(questions.NEED_FOR_MEMBER, territory_id, Ask(member_id, k))

    def offering_for_project(self, territory_id: str, project_id: str, k: int = 10) -> list[Match]:
        """Which partner offerings fit this project at its stage (and the next one)?"""
        return self.ask(questions.OFFERING_FOR_PROJECT, territory_id, Ask(project_id, k))

    def project_for_partner(self, territory_id: str, partner_id: str, k: int = 10) -> list[Match]:
        """Which projects should this partner look at?"""
        return self.ask(questions.PROJECT_FOR_PARTNER, territory_id, Ask(partner_id, k))

    def route_project(self, territory_id: str, project_id: str) -> dict[str, Any]:
        """The best eligible offering for the project's current stage, and for the next one.

        Returns ``{"stage", "current", "next_stage", "next"}`` where ``current`` and ``next``
        are a ``Match`` or None (no eligible offering at that stage, or end of the chain).
        For the next stage, sentences about later needs ("Plus tard, il faudra…") lead.
        """
        k = self.settings.max_k
        ranked = self.offering_for_project(territory_id, project_id, k=k)
        current = next((m for m in ranked if m.breakdown.get("stage") == 1.0), None)
        later = self.ask(questions.OFFERING_FOR_NEXT_STAGE, territory_id, Ask(project_id, k))
        nxt = next((m for m in later if current is None or m.id != current.id), None)
        stage = self.get_project(territory_id, project_id).stage
        return {"stage": stage, "current": current, "next_stage": stage.next(), "next": nxt}

    def search_text(
        self, territory_id: str, text: str, target: Target, *, stage: Stage | None = None, k: int = 10
    ) -> list[Match]:
        """Free text against members, needs, offerings or projects (optionally at a stage)."""
        return self.ask(questions.FREE_TEXT, territory_id, Ask(text, k, target=target, stage=stage))

    # -- after a suggestion, personal data, reports ------------------------------------------------------
    def outcomes_frame(self, territory_id: str, question: str = "member_for_need") -> Any:
        """One row per closed suggestion: its components when shown, and label 1/0 (``reports``)."""
        return reports.outcomes_frame(self.list_events(territory_id, question=question))

    def partner_digest(self, territory_id: str, partner_id: str, k: int = 10) -> dict[str, Any]:
        """The projects a partner should look at this week (``reports.partner_digest``)."""
        return reports.partner_digest(self, territory_id, partner_id, k)

    def round_candidates(
        self, territory_id: str, k: int = 20
    ) -> tuple[dict[str, list[tuple[str, float]]], dict[str, int], dict[str, int]]:
        """Inputs of a territory-wide matching round (``reports.round_candidates``)."""
        return reports.round_candidates(self, territory_id, k)

    def export_member(self, territory_id: str, member_id: str) -> dict[str, Any]:
        """Everything stored about a member (``privacy.export_member``)."""
        return privacy.export_member(self, territory_id, member_id)

    def anonymise_member(self, territory_id: str, member_id: str) -> None:
        """Replace a member's personal fields by neutral values (``privacy.anonymise_member``)."""
        privacy.anonymise_member(self, territory_id, member_id)

    def apply_retention(self, territory_id: str, inactive_days: int, *, dry_run: bool = False) -> list[str]:
        """Anonymise the members inactive for ``inactive_days`` (``privacy.apply_retention``)."""
        return privacy.apply_retention(self, territory_id, inactive_days, dry_run=dry_run)


__all__ = ["Recommender"]
