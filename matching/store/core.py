"""The store's core: the engine, units of work (``Tx``) and what each write changed (``Changes``).

SQLAlchemy 2 over SQLite (default, WAL mode) or PostgreSQL. The store is the source of
truth; the indexes and the read models can always be rebuilt from it.

Upserts are idempotent by external id: writing the same document twice changes nothing and
keeps the same integer ids (so the indexes stay valid).

Example:
    >>> store = Store("sqlite://")
    >>> with store.transaction() as tx:
    ...     _ = tx.upsert_territory(Territory(id="t", name="T"))
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from embeddings.cache import text_hash
from matching.clock import Clock, SystemClock, utc_naive
from matching.domain import INDEXED_KINDS, Member, Need, Partner, Project, Territory
from matching.errors import InvalidRequest, NotFound
from matching.store.failures import Unavailable, unavailable_as_domain_error
from matching.store.schema import (
    Base,
    MemberRow,
    MemberSeenRow,
    NeedRow,
    OfferingRow,
    PartnerRow,
    ProjectRow,
    TerritoryRow,
)
from matching.store.vectors import SqlVectorCache

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Changes:
    """What one unit of work changed: the one description every cache of the service follows.

    The index set reads ``upserted`` / ``removed`` (texts to embed, pks to drop); the read
    models read ``written`` and ``events`` (which territory's members, projects, partners or
    events changed); the vector cache drops ``forgotten`` (texts of deleted people).
    """

    upserted: dict[str, dict[int, str]] = field(default_factory=lambda: {k: {} for k in INDEXED_KINDS})
    removed: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in INDEXED_KINDS})
    # text hashes of deleted entities: their cached vectors are forgotten too (personal data)
    forgotten: set[str] = field(default_factory=set)
    # entity written in any way (created, changed, deleted; text or not):
    # "member" / "project" (its needs with it) / "partner" (its offerings with it) -> territory pk -> pks
    written: dict[str, dict[int, set[int]]] = field(default_factory=lambda: {k: {} for k in ("member", "project", "partner")})
    events: set[int] = field(default_factory=set)  # territory pks where feedback events were recorded
    # the change log's numbers of the unit of work's first and last entries (or of the entries a follower read)
    position: tuple[int, int] | None = None

    def wrote(self, kind: str, territory_pk: int, pk: int) -> None:
        self.written[kind].setdefault(territory_pk, set()).add(pk)

    @property
    def touches_indexes(self) -> bool:
        """Whether a text was (re-)written or an indexed entity removed."""
        return any(self.upserted[k] or self.removed[k] for k in INDEXED_KINDS)

    def __bool__(self) -> bool:
        return self.touches_indexes or any(self.written.values()) or bool(self.events or self.forgotten)


def _set_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        from sqlalchemy.pool import StaticPool

        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            from pathlib import Path

            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Opens the database and creates the tables if needed."""

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        from matching.store import changelog

        self.url = url
        self.clock = clock or SystemClock()
        self.engine = make_engine(url)
        with unavailable_as_domain_error():  # unreachable, read-only: said in French, not a traceback
            Base.metadata.create_all(self.engine)
            self._upgrade()
            self.vectors = SqlVectorCache(self.engine)  # the vector cache of every encoder, shared by processes
            changelog.ensure_counter(self.engine)
        # this store's name in the change log: a process skips the entries it wrote itself
        self.origin = uuid.uuid4().hex[:16]

    def _upgrade(self) -> None:
        """Add the columns that later versions introduced to a store created earlier."""
        from sqlalchemy import inspect, text

        def columns(table: str) -> dict[str, Any]:
            return {c["name"]: c for c in inspect(self.engine).get_columns(table)}

        if "deadline" not in columns("needs"):
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE needs ADD COLUMN deadline DATE"))
            with Session(self.engine) as session:
                for row in session.scalars(select(NeedRow)):
                    row.deadline = dt.date.fromisoformat(row.data["deadline"]) if row.data.get("deadline") else None
                session.commit()
        if "holder" not in columns("projects"):
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE projects ADD COLUMN holder VARCHAR(200)"))
                conn.execute(text("CREATE INDEX IF NOT EXISTS ix_projects_holder ON projects (holder)"))
            with Session(self.engine) as session:
                for row in session.scalars(select(ProjectRow)):
                    row.holder = row.data.get("holder")
                session.commit()
        if "side" not in columns("feedback_events"):
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE feedback_events ADD COLUMN side VARCHAR(16) NOT NULL DEFAULT 'subject'"))
        subject = columns("api_keys")["subject"]["type"]
        if self.engine.dialect.name != "sqlite" and getattr(subject, "length", 200) < 200:
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE api_keys ALTER COLUMN subject TYPE VARCHAR(200)"))

    @contextmanager
    def transaction(self, *, vectors: dict[str, dict[str, Any]] | None = None) -> Iterator[Tx]:
        """One unit of work: everything inside commits together or not at all, its entries in
        the change log included (``changelog``: numbered last, just before the commit).

        ``vectors``: model id -> text hash -> vector of the texts it stores, kept in the vector
        cache by the same transaction (a follower then always finds them).
        """
        from matching.store import changelog

        with unavailable_as_domain_error(), Session(self.engine, expire_on_commit=False) as session:
            tx = Tx(session, self.clock)
            try:
                yield tx
                tx.resolve()  # deferred inserts of a bulk write
                for model_id, items in (vectors or {}).items():
                    self.vectors.put_many(model_id, items, connection=session.connection())
                tx._changes.position = changelog.append(session, tx._changes, tx._gone, self.origin)
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with unavailable_as_domain_error(), Session(self.engine, expire_on_commit=False) as session:
            yield Tx(session, self.clock)

    def run(
        self, fn: Callable[[Tx], T], *, attempts: int = 3, vectors: dict[str, dict[str, Any]] | None = None
    ) -> tuple[T, Changes]:
        """Run ``fn`` in one unit of work; again if another process won a race on the same ids,
        or held the database (SQLite's lock, a PostgreSQL deadlock).

        Two service processes may insert the same new external id at once; the loser gets a
        unique-constraint error. Upserts are idempotent, so running the whole unit again
        (now as an update) is safe. The vectors of the texts it stores are written in the
        same unit (``transaction``), so they are retried with it. Returns ``fn``'s result and
        what the unit changed. A store that stays unreachable or busy raises ``Unavailable``.
        """
        from sqlalchemy.exc import IntegrityError

        for attempt in range(attempts):
            try:
                with self.transaction(vectors=vectors) as tx:
                    result = fn(tx)
                    return result, tx.changes
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                log.info("écriture concurrente (insertion en double) : nouvel essai")
            except Unavailable as exc:
                if attempt == attempts - 1 or not exc.transient:
                    raise
                log.info("stockage occupé ou injoignable (%s) : nouvel essai", exc)
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- the index set's source (embeddings.indexset.DocumentSource) -----------------------------
    def documents(self, kind: str) -> list[tuple[int, str, str]]:
        """(pk, text, text hash) of every entity of an indexed kind, in pk order."""
        from matching.store import queries

        with self.read() as tx:
            return queries.indexed_documents(tx, kind=kind)

    def text_hashes(self, kind: str) -> dict[int, str]:
        from matching.store import queries

        with self.read() as tx:
            return queries.text_hashes(tx, kind=kind)

    def dispose(self) -> None:
        self.engine.dispose()


class Tx:
    """Reads and writes inside one session. Every write records its ``changes``."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self._changes = Changes()
        self._tpks: dict[str, int] = {}
        # rows of a territory loaded at once for a bulk write: (row class, territory pk) -> ext id -> row
        self._preloaded: dict[tuple[type, int], dict[str, Any]] = {}
        # new rows of a bulk write, inserted by one flush at the end: (what to record, row, text)
        self._deferred: list[tuple[str, Any, str]] = []
        # rows deleted: (kind, pk) -> (territory pk, external id, text hash), for the change log
        self._gone: dict[tuple[str, int], tuple[int, str, str | None]] = {}

    @property
    def changes(self) -> Changes:
        """What this unit of work did to indexed entities (new rows of a bulk write included)."""
        self.resolve()
        return self._changes

    def resolve(self) -> None:
        """Insert the deferred new rows in one flush and record their pks in ``changes``.

        A bulk write (``preload``) does not flush row by row: SQLAlchemy then inserts the
        rows in batches. ``Store.transaction`` calls this before committing.
        """
        if not self._deferred:
            return
        self.session.flush()
        now = utc_naive(self.clock.now())
        for what, row, text in self._deferred:
            if what == "members_written":
                self._changes.wrote("member", row.territory_pk, row.pk)
                self.session.add(MemberSeenRow(member_pk=row.pk, updated_at=now))
            elif what == "projects_written":
                self._changes.wrote("project", row.territory_pk, row.pk)
            else:
                self._changes.upserted[what][row.pk] = text
        self._deferred = []
        self.session.flush()

    def preload(self, territory_id: str) -> None:
        """Load every member, project, need, partner and offering row of a territory in a few
        queries, so that a bulk write looks rows up in memory instead of one query per row."""
        tpk = self.territory_pk(territory_id)
        self._preloaded[(MemberRow, tpk)] = {
            r.ext_id: r for r in self.session.scalars(select(MemberRow).where(MemberRow.territory_pk == tpk))
        }
        projects = self.session.scalars(
            select(ProjectRow).where(ProjectRow.territory_pk == tpk).options(selectinload(ProjectRow.needs))
        )
        self._preloaded[(ProjectRow, tpk)] = {r.ext_id: r for r in projects}
        self._preloaded[(NeedRow, tpk)] = {n.ext_id: n for p in self._preloaded[(ProjectRow, tpk)].values() for n in p.needs}
        partners = self.session.scalars(
            select(PartnerRow).where(PartnerRow.territory_pk == tpk).options(selectinload(PartnerRow.offerings))
        )
        self._preloaded[(PartnerRow, tpk)] = {r.ext_id: r for r in partners}
        self._preloaded[(OfferingRow, tpk)] = {
            o.ext_id: o for p in self._preloaded[(PartnerRow, tpk)].values() for o in p.offerings
        }

    # -- territories -----------------------------------------------------------
    def upsert_territory(self, territory: Territory) -> int:
        row = self.session.scalar(select(TerritoryRow).where(TerritoryRow.ext_id == territory.id))
        data = territory.model_dump(mode="json")
        if row is None:
            row = TerritoryRow(ext_id=territory.id, data=data)
            self.session.add(row)
        else:
            row.data = data
        self.session.flush()
        return row.pk

    def territory_pk(self, territory_id: str) -> int:
        if territory_id in self._tpks:
            return self._tpks[territory_id]
        pk = self.session.scalar(select(TerritoryRow.pk).where(TerritoryRow.ext_id == territory_id))
        if pk is None:
            raise NotFound("territoire", territory_id)
        self._tpks[territory_id] = pk
        return pk

    def get_territory(self, territory_id: str) -> Territory:
        row = self.session.scalar(select(TerritoryRow).where(TerritoryRow.ext_id == territory_id))
        if row is None:
            raise NotFound("territoire", territory_id)
        return Territory.model_validate(row.data)

    # -- generic helpers ---------------------------------------------------------
    def _row(self, cls: type, territory_pk: int, ext_id: str) -> Any:
        loaded = self._preloaded.get((cls, territory_pk))
        if loaded is not None:
            return loaded.get(ext_id)
        return self.session.scalar(select(cls).where(cls.territory_pk == territory_pk, cls.ext_id == ext_id))

    def _new_row(self, row: Any) -> None:
        """Add a new row to the session (and to the preloaded rows of its territory)."""
        self.session.add(row)
        loaded = self._preloaded.get((type(row), row.territory_pk))
        if loaded is not None:
            loaded[row.ext_id] = row

    def _bulk(self, row: Any) -> bool:
        """Whether a new row belongs to a bulk write (its territory preloaded): its insert waits."""
        return row.pk is None and (type(row), row.territory_pk) in self._preloaded

    def _drop_unlisted(self, children: list[Any], wanted: Collection[str], kind: str, cls: type, tpk: int) -> None:
        """Remove the child rows (needs of a project, offerings of a partner) the new version no longer lists."""
        for child in list(children):
            if child.ext_id not in wanted:
                self._forget_row(kind, child)
                self._changes.removed[kind].add(child.pk)
                self._changes.upserted[kind].pop(child.pk, None)
                children.remove(child)
                self._preloaded.get((cls, tpk), {}).pop(child.ext_id, None)

    def _child(self, children: list[Any], by_id: dict[str, Any], cls: type, tpk: int, ext_id: str, **parent: int) -> Any:
        """The row of a need of a project (an offering of a partner), new if the parent lists it first.

        Raises InvalidRequest when the id belongs to another parent (stored, or new in this bulk write).
        """
        other = self._row(cls, tpk, ext_id)
        if other is not None and by_id.get(ext_id) is not other:
            if cls is NeedRow:
                raise InvalidRequest(f"le besoin {ext_id!r} appartient déjà au projet {other.project.ext_id!r}")
            raise InvalidRequest(f"l'offre {ext_id!r} appartient déjà au partenaire {other.partner.ext_id!r}")
        child = by_id.get(ext_id)
        if child is None:
            child = cls(territory_pk=tpk, ext_id=ext_id, **parent)
            children.append(child)
            loaded = self._preloaded.get((cls, tpk))
            if loaded is not None:
                loaded[ext_id] = child
        return child

    def _forget_row(self, kind: str, row: Any) -> None:
        """Note a row about to be deleted (the change log names it after it is gone)."""
        self._gone[(kind, row.pk)] = (row.territory_pk, row.ext_id, getattr(row, "text_hash", None))

    def _set_text(self, kind: str, row: Any, text: str) -> None:
        h = text_hash(text)
        if self._bulk(row):
            row.text, row.text_hash = text, h
            self._deferred.append((kind, row, text))
            return
        if row.pk is None or row.text_hash != h:
            row.text, row.text_hash = text, h
            self.session.flush()
            self._changes.upserted[kind][row.pk] = text
        self._changes.removed[kind].discard(row.pk)

    # -- members -------------------------------------------------------------------
    def upsert_member(self, territory_id: str, member: Member) -> int | None:
        tpk = self.territory_pk(territory_id)
        row = self._row(MemberRow, tpk, member.id)
        data = member.model_dump(mode="json")
        if row is not None and row.data == data:
            return row.pk  # unchanged: nothing to write, nothing to re-index
        new = row is None
        if row is None:
            row = MemberRow(territory_pk=tpk, ext_id=member.id)
            self._new_row(row)
        row.data = data
        row.consent = member.consent
        row.available = member.consent and member.active_engagements < member.max_engagements
        if self._bulk(row):
            self._set_text("member", row, member.text())
            self._deferred.append(("members_written", row, ""))
            return None
        self._set_text("member", row, member.text())
        self.session.flush()
        self._changes.wrote("member", row.territory_pk, row.pk)
        now = utc_naive(self.clock.now())
        seen = None if new else self.session.get(MemberSeenRow, row.pk)  # a new member has none yet
        if seen is None:
            self.session.add(MemberSeenRow(member_pk=row.pk, updated_at=now))
        else:
            seen.updated_at = now
        return row.pk

    def get_member(self, territory_id: str, member_id: str) -> Member:
        return Member.model_validate(self._get(MemberRow, "membre", territory_id, member_id).data)

    def delete_member(self, territory_id: str, member_id: str) -> None:
        row = self._get(MemberRow, "membre", territory_id, member_id)
        self._forget_row("member", row)
        self._changes.forgotten.add(row.text_hash)
        self._changes.wrote("member", row.territory_pk, row.pk)
        self._changes.removed["member"].add(row.pk)
        self._changes.upserted["member"].pop(row.pk, None)
        self.session.delete(row)
        self.session.flush()

    # -- projects and their needs ------------------------------------------------------
    def upsert_project(self, territory_id: str, project: Project) -> int:
        tpk = self.territory_pk(territory_id)
        row = self._row(ProjectRow, tpk, project.id)
        data = project.model_dump(mode="json", exclude={"needs"})
        needs_data = {n.id: n.model_dump(mode="json") for n in project.needs}
        if row is not None and row.data == data and {n.ext_id: n.data for n in row.needs} == needs_data:
            return row.pk  # unchanged, needs included
        if row is None:
            row = ProjectRow(territory_pk=tpk, ext_id=project.id)
            self._new_row(row)
        bulk = self._bulk(row)
        row.data = data
        row.stage = project.stage.value
        row.holder = project.holder
        self._set_text("project", row, project.text())
        wanted = {n.id: n for n in project.needs}
        if bulk:  # a new project of a bulk write: no needs to remove, inserts wait for resolve()
            self._deferred.append(("projects_written", row, ""))
        else:
            self.session.flush()
            self._changes.wrote("project", row.territory_pk, row.pk)
            self._drop_unlisted(row.needs, wanted, "need", NeedRow, tpk)
            self.session.flush()
        by_id = {n.ext_id: n for n in row.needs}
        for need in project.needs:
            need_row = self._child(row.needs, by_id, NeedRow, tpk, need.id, project_pk=row.pk)
            need_row.data = needs_data[need.id]
            need_row.status = need.status
            need_row.deadline = need.deadline
            self._set_text("need", need_row, need.full_text())
        if not bulk:  # a bulk write's new rows (the project's needs too) are inserted by resolve()
            self.session.flush()
        return row.pk

    def get_project(self, territory_id: str, project_id: str) -> Project:
        return self._project_from_row(self._get(ProjectRow, "projet", territory_id, project_id))

    @staticmethod
    def _project_from_row(row: ProjectRow) -> Project:
        data = dict(row.data)
        data["needs"] = [n.data for n in sorted(row.needs, key=lambda n: n.pk)]
        return Project.model_validate(data)

    def delete_project(self, territory_id: str, project_id: str) -> None:
        row = self._get(ProjectRow, "projet", territory_id, project_id)
        self._forget_row("project", row)
        self._changes.wrote("project", row.territory_pk, row.pk)
        self._changes.removed["project"].add(row.pk)
        for n in row.needs:
            self._forget_row("need", n)
            self._changes.removed["need"].add(n.pk)
            self._changes.upserted["need"].pop(n.pk, None)
        self._changes.upserted["project"].pop(row.pk, None)
        self.session.delete(row)
        self.session.flush()

    def get_need(self, territory_id: str, need_id: str) -> tuple[Need, str]:
        """A need and the external id of its project."""
        row = self._get(NeedRow, "besoin", territory_id, need_id)
        return Need.model_validate(row.data), row.project.ext_id

    # -- partners and their offerings -----------------------------------------------------
    def upsert_partner(self, territory_id: str, partner: Partner) -> int:
        tpk = self.territory_pk(territory_id)
        row = self._row(PartnerRow, tpk, partner.id)
        if row is None:
            row = PartnerRow(territory_pk=tpk, ext_id=partner.id, data={})
            self._new_row(row)
        row.data = partner.model_dump(mode="json", exclude={"offerings"})
        wanted = {o.id for o in partner.offerings}
        self._drop_unlisted(row.offerings, wanted, "offering", OfferingRow, tpk)
        self.session.flush()
        self._changes.wrote("partner", tpk, row.pk)
        by_id = {o.ext_id: o for o in row.offerings}
        for off in partner.offerings:
            off_row = self._child(row.offerings, by_id, OfferingRow, tpk, off.id, partner_pk=row.pk)
            off_row.data = off.model_dump(mode="json")
            self._set_text("offering", off_row, off.full_text())
        self.session.flush()
        return row.pk

    def get_partner(self, territory_id: str, partner_id: str) -> Partner:
        row = self._get(PartnerRow, "partenaire", territory_id, partner_id)
        data = dict(row.data)
        data["offerings"] = [o.data for o in sorted(row.offerings, key=lambda o: o.pk)]
        return Partner.model_validate(data)

    def delete_partner(self, territory_id: str, partner_id: str) -> None:
        row = self._get(PartnerRow, "partenaire", territory_id, partner_id)
        self._forget_row("partner", row)
        self._changes.wrote("partner", row.territory_pk, row.pk)
        for o in row.offerings:
            self._forget_row("offering", o)
            self._changes.removed["offering"].add(o.pk)
            self._changes.upserted["offering"].pop(o.pk, None)
        self.session.delete(row)
        self.session.flush()

    def _get(self, cls: type, label: str, territory_id: str, ext_id: str) -> Any:
        row = self._row(cls, self.territory_pk(territory_id), ext_id)
        if row is None:
            raise NotFound(label, ext_id)
        return row
