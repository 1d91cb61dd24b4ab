"""The store: SQLAlchemy 2 over SQLite (default, WAL mode) or PostgreSQL.

The store is the source of truth; the vector index can always be rebuilt from it.
Each entity row keeps the validated pydantic document as JSON, plus the few columns
that filters need (territory, stage, status, consent). Integer primary keys are the
ids the FAISS index uses; external ids are unique within a territory.

Upserts are idempotent by external id: writing the same document twice changes
nothing and keeps the same integer ids (so the index stays valid).

Example:
    >>> store = Store("sqlite://")
    >>> with store.transaction() as tx:
    ...     _ = tx.upsert_territory(Territory(id="t", name="T"))
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

from matching.domain import QUESTION_KINDS, TRANSITIONS, FeedbackEvent, Member, Need, Partner, Project, Territory
from matching.errors import Conflict, InvalidRequest, NotFound

# Entity kinds that are embedded and indexed (one FAISS index each).
INDEXED_KINDS = ("member", "need", "offering", "project")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Base(DeclarativeBase):
    pass


class TerritoryRow(Base):
    __tablename__ = "territories"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(128), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class _Entity:
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text, default="")
    text_hash: Mapped[str] = mapped_column(String(64), default="")


class MemberRow(_Entity, Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("territory_pk", "ext_id"),)
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # consent given and below the maximum number of engagements: may be suggested
    available: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class MemberSeenRow(Base):
    """When a member's profile was last written (for the retention rule)."""

    __tablename__ = "member_seen"
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.pk", ondelete="CASCADE"), primary_key=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ProjectRow(_Entity, Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("territory_pk", "ext_id"),)
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32), index=True)
    needs: Mapped[list[NeedRow]] = relationship(back_populates="project", cascade="all, delete-orphan")


class NeedRow(_Entity, Base):
    __tablename__ = "needs"
    __table_args__ = (UniqueConstraint("territory_pk", "ext_id"),)
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    project_pk: Mapped[int] = mapped_column(ForeignKey("projects.pk", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    project: Mapped[ProjectRow] = relationship(back_populates="needs")


class PartnerRow(Base):
    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("territory_pk", "ext_id"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(128))
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    offerings: Mapped[list[OfferingRow]] = relationship(back_populates="partner", cascade="all, delete-orphan")


class OfferingRow(_Entity, Base):
    __tablename__ = "offerings"
    __table_args__ = (UniqueConstraint("territory_pk", "ext_id"),)
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    partner_pk: Mapped[int] = mapped_column(ForeignKey("partners.pk", ondelete="CASCADE"), index=True)
    partner: Mapped[PartnerRow] = relationship(back_populates="offerings")


class EventRow(Base):
    """One feedback event on a suggestion (question, subject, candidate)."""

    __tablename__ = "feedback_events"
    __table_args__ = (
        UniqueConstraint("territory_pk", "ext_id"),
        Index("ix_event_suggestion", "territory_pk", "question", "subject_id", "candidate_id"),
        Index("ix_event_candidate", "territory_pk", "question", "candidate_id", "type", "at"),
    )
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(128))
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(128))
    candidate_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive (portable across SQLite/PostgreSQL)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the secret is kept (the secret is shown once)."""

    __tablename__ = "api_keys"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    territory_id: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


ROW_OF_KIND: dict[str, type[Base]] = {
    "member": MemberRow,
    "need": NeedRow,
    "offering": OfferingRow,
    "project": ProjectRow,
}


@dataclass
class Changes:
    """What a write did to indexed entities: pks to (re-)embed, pks to drop from the index."""

    upserted: dict[str, dict[int, str]] = field(default_factory=lambda: {k: {} for k in INDEXED_KINDS})
    removed: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in INDEXED_KINDS})
    # text hashes of deleted entities: their cached vectors are forgotten too (personal data)
    forgotten: set[str] = field(default_factory=set)
    # members written in any way (text or not): in-memory read caches drop them
    members_written: set[int] = field(default_factory=set)
    projects_written: set[int] = field(default_factory=set)  # their needs with them

    def __bool__(self) -> bool:
        return any(self.upserted[k] or self.removed[k] for k in INDEXED_KINDS)


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

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        self._upgrade()

    def _upgrade(self) -> None:
        """Add the columns that later versions introduced to a store created earlier."""
        from sqlalchemy import inspect, text

        columns = {c["name"] for c in inspect(self.engine).get_columns("needs")}
        if "deadline" not in columns:
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE needs ADD COLUMN deadline DATE"))
            with Session(self.engine) as session:
                for row in session.scalars(select(NeedRow)):
                    row.deadline = dt.date.fromisoformat(row.data["deadline"]) if row.data.get("deadline") else None
                session.commit()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: everything inside commits together or not at all."""
        with Session(self.engine, expire_on_commit=False) as session:
            tx = Tx(session)
            try:
                yield tx
                tx.resolve()  # deferred inserts of a bulk write
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield Tx(session)

    def dispose(self) -> None:
        self.engine.dispose()


class Tx:
    """Reads and writes inside one session. Every write records its ``changes``."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._changes = Changes()
        self._tpks: dict[str, int] = {}
        # rows of a territory loaded at once for a bulk write: (row class, territory pk) -> ext id -> row
        self._preloaded: dict[tuple[type, int], dict[str, Any]] = {}
        # new rows of a bulk write, inserted by one flush at the end: (what to record, row, text)
        self._deferred: list[tuple[str, Any, str]] = []

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
        self.s.flush()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for what, row, text in self._deferred:
            if what == "members_written":
                self._changes.members_written.add(row.pk)
                self.s.add(MemberSeenRow(member_pk=row.pk, updated_at=now))
            elif what == "projects_written":
                self._changes.projects_written.add(row.pk)
            else:
                self._changes.upserted[what][row.pk] = text
        self._deferred = []
        self.s.flush()

    def preload(self, territory_id: str) -> None:
        """Load every member, project, need, partner and offering row of a territory in a few
        queries, so that a bulk write looks rows up in memory instead of one query per row."""
        tpk = self.territory_pk(territory_id)
        self._preloaded[(MemberRow, tpk)] = {
            r.ext_id: r for r in self.s.scalars(select(MemberRow).where(MemberRow.territory_pk == tpk))
        }
        projects = self.s.scalars(
            select(ProjectRow).where(ProjectRow.territory_pk == tpk).options(selectinload(ProjectRow.needs))
        )
        self._preloaded[(ProjectRow, tpk)] = {r.ext_id: r for r in projects}
        self._preloaded[(NeedRow, tpk)] = {n.ext_id: n for p in self._preloaded[(ProjectRow, tpk)].values() for n in p.needs}
        partners = self.s.scalars(
            select(PartnerRow).where(PartnerRow.territory_pk == tpk).options(selectinload(PartnerRow.offerings))
        )
        self._preloaded[(PartnerRow, tpk)] = {r.ext_id: r for r in partners}
        self._preloaded[(OfferingRow, tpk)] = {
            o.ext_id: o for p in self._preloaded[(PartnerRow, tpk)].values() for o in p.offerings
        }

    # -- territories -----------------------------------------------------------
    def upsert_territory(self, territory: Territory) -> int:
        row = self.s.scalar(select(TerritoryRow).where(TerritoryRow.ext_id == territory.id))
        data = territory.model_dump(mode="json")
        if row is None:
            row = TerritoryRow(ext_id=territory.id, data=data)
            self.s.add(row)
        else:
            row.data = data
        self.s.flush()
        return row.pk

    def territory_pk(self, territory_id: str) -> int:
        if territory_id in self._tpks:
            return self._tpks[territory_id]
        pk = self.s.scalar(select(TerritoryRow.pk).where(TerritoryRow.ext_id == territory_id))
        if pk is None:
            raise NotFound("territoire", territory_id)
        self._tpks[territory_id] = pk
        return pk

    def get_territory(self, territory_id: str) -> Territory:
        row = self.s.scalar(select(TerritoryRow).where(TerritoryRow.ext_id == territory_id))
        if row is None:
            raise NotFound("territoire", territory_id)
        return Territory.model_validate(row.data)

    # -- generic helpers ---------------------------------------------------------
    def _row(self, cls: type, territory_pk: int, ext_id: str) -> Any:
        loaded = self._preloaded.get((cls, territory_pk))
        if loaded is not None:
            return loaded.get(ext_id)
        return self.s.scalar(select(cls).where(cls.territory_pk == territory_pk, cls.ext_id == ext_id))

    def _new_row(self, row: Any) -> None:
        """Add a new row to the session (and to the preloaded rows of its territory)."""
        self.s.add(row)
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
                self._changes.removed[kind].add(child.pk)
                self._changes.upserted[kind].pop(child.pk, None)
                children.remove(child)
                self._preloaded.get((cls, tpk), {}).pop(child.ext_id, None)

    def _set_text(self, kind: str, row: Any, text: str) -> None:
        h = _hash(text)
        if self._bulk(row):
            row.text, row.text_hash = text, h
            self._deferred.append((kind, row, text))
            return
        if row.pk is None or row.text_hash != h:
            row.text, row.text_hash = text, h
            self.s.flush()
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
        self.s.flush()
        self._changes.members_written.add(row.pk)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        seen = None if new else self.s.get(MemberSeenRow, row.pk)  # a new member has none yet
        if seen is None:
            self.s.add(MemberSeenRow(member_pk=row.pk, updated_at=now))
        else:
            seen.updated_at = now
        return row.pk

    def get_member(self, territory_id: str, member_id: str) -> Member:
        return Member.model_validate(self._get(MemberRow, "membre", territory_id, member_id).data)

    def delete_member(self, territory_id: str, member_id: str) -> None:
        row = self._get(MemberRow, "membre", territory_id, member_id)
        self._changes.forgotten.add(row.text_hash)
        self._changes.members_written.add(row.pk)
        self._changes.removed["member"].add(row.pk)
        self._changes.upserted["member"].pop(row.pk, None)
        self.s.delete(row)
        self.s.flush()

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
        self._set_text("project", row, project.text())
        wanted = {n.id: n for n in project.needs}
        if bulk:  # a new project of a bulk write: no needs to remove, inserts wait for resolve()
            self._deferred.append(("projects_written", row, ""))
        else:
            self.s.flush()
            self._changes.projects_written.add(row.pk)
            self._drop_unlisted(row.needs, wanted, "need", NeedRow, tpk)
            self.s.flush()
        by_id = {n.ext_id: n for n in row.needs}
        for need in project.needs:
            other = self._row(NeedRow, tpk, need.id)
            if other is not None and by_id.get(need.id) is not other:  # a need of another project
                raise InvalidRequest(f"le besoin {need.id!r} appartient déjà au projet {other.project.ext_id!r}")
            need_row = by_id.get(need.id)
            if need_row is None:
                need_row = NeedRow(territory_pk=tpk, ext_id=need.id, project_pk=row.pk)
                row.needs.append(need_row)
                loaded = self._preloaded.get((NeedRow, tpk))
                if loaded is not None:
                    loaded[need.id] = need_row
            need_row.data = needs_data[need.id]
            need_row.status = need.status
            need_row.deadline = need.deadline
            self._set_text("need", need_row, need.full_text())
        if not bulk:  # a bulk write's new rows (the project's needs too) are inserted by resolve()
            self.s.flush()
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
        self._changes.projects_written.add(row.pk)
        self._changes.removed["project"].add(row.pk)
        for n in row.needs:
            self._changes.removed["need"].add(n.pk)
            self._changes.upserted["need"].pop(n.pk, None)
        self._changes.upserted["project"].pop(row.pk, None)
        self.s.delete(row)
        self.s.flush()

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
        self.s.flush()
        by_id = {o.ext_id: o for o in row.offerings}
        for off in partner.offerings:
            other = self._row(OfferingRow, tpk, off.id)
            if other is not None and other.partner_pk != row.pk:
                raise InvalidRequest(f"l'offre {off.id!r} appartient déjà au partenaire {other.partner.ext_id!r}")
            off_row = by_id.get(off.id)
            if off_row is None:
                off_row = OfferingRow(territory_pk=tpk, ext_id=off.id, partner_pk=row.pk)
                row.offerings.append(off_row)
                loaded = self._preloaded.get((OfferingRow, tpk))
                if loaded is not None:
                    loaded[off.id] = off_row
            off_row.data = off.model_dump(mode="json")
            self._set_text("offering", off_row, off.full_text())
        self.s.flush()
        return row.pk

    def get_partner(self, territory_id: str, partner_id: str) -> Partner:
        row = self._get(PartnerRow, "partenaire", territory_id, partner_id)
        data = dict(row.data)
        data["offerings"] = [o.data for o in sorted(row.offerings, key=lambda o: o.pk)]
        return Partner.model_validate(data)

    def delete_partner(self, territory_id: str, partner_id: str) -> None:
        row = self._get(PartnerRow, "partenaire", territory_id, partner_id)
        for o in row.offerings:
            self._changes.removed["offering"].add(o.pk)
            self._changes.upserted["offering"].pop(o.pk, None)
        self.s.delete(row)
        self.s.flush()

    def _get(self, cls: type, label: str, territory_id: str, ext_id: str) -> Any:
        row = self._row(cls, self.territory_pk(territory_id), ext_id)
        if row is None:
            raise NotFound(label, ext_id)
        return row

    # -- bulk reads for ranking and indexing --------------------------------------------------
    def rows(self, kind: str, territory_pk: int | None = None) -> list[Any]:
        cls = ROW_OF_KIND[kind]
        stmt = select(cls)
        if territory_pk is not None:
            stmt = stmt.where(cls.territory_pk == territory_pk)
        return list(self.s.scalars(stmt.order_by(cls.pk)))

    def rows_by_pk(self, kind: str, pks: list[int]) -> dict[int, Any]:
        cls = ROW_OF_KIND[kind]
        out: dict[int, Any] = {}
        for start in range(0, len(pks), 500):
            for row in self.s.scalars(select(cls).where(cls.pk.in_(pks[start : start + 500]))):
                out[row.pk] = row
        return out

    def texts(self, kind: str) -> dict[int, str]:
        """All (pk -> text) of one indexed kind, for (re)building its index."""
        cls = ROW_OF_KIND[kind]
        return dict(self.s.execute(select(cls.pk, cls.text).order_by(cls.pk)).all())

    def count(self, kind: str, territory_pk: int | None = None) -> int:
        cls = ROW_OF_KIND[kind]
        stmt = select(func.count()).select_from(cls)
        if territory_pk is not None:
            stmt = stmt.where(cls.territory_pk == territory_pk)
        return int(self.s.scalar(stmt))


def to_frame(store: Store, kind: str, territory_id: str | None = None):
    """One row per entity of ``kind`` (member, project, need, offering), columns = document fields.

    Example:
        >>> to_frame(store, "member", "sceaux-valley")[["id", "commune"]].head()  # doctest: +SKIP
    """
    import pandas as pd

    with store.read() as tx:
        tpk = tx.territory_pk(territory_id) if territory_id else None
        rows = tx.rows(kind, tpk)
        records = []
        for r in rows:
            rec = dict(r.data)
            rec.pop("needs", None)
            rec.pop("offerings", None)
            if kind == "need":
                rec["project_id"] = r.project.ext_id
            elif kind == "offering":
                rec["partner_id"] = r.partner.ext_id
            records.append(rec)
    return pd.DataFrame.from_records(records)


# -- feedback events ------------------------------------------------------------------------------

EXT_ROW = {"member": MemberRow, "need": NeedRow, "offering": OfferingRow, "project": ProjectRow, "partner": PartnerRow}
KIND_LABEL = {"member": "membre", "need": "besoin", "offering": "offre", "project": "projet", "partner": "partenaire"}


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def record_event(tx: Tx, territory_id: str, ev: FeedbackEvent) -> str:
    """Store one event; returns ``"recorded"`` or ``"duplicate"`` (same id, same content).

    Raises:
        Conflict: the id is already used by a different event.
        NotFound: the subject or the candidate does not exist in the territory.
        InvalidRequest: the transition is not allowed, or the event is older than the last one.
    """
    tpk = tx.territory_pk(territory_id)
    data = ev.model_dump(mode="json")
    existing = tx.s.scalar(select(EventRow).where(EventRow.territory_pk == tpk, EventRow.ext_id == ev.id))
    if existing is not None:
        if existing.data == data:
            return "duplicate"
        raise Conflict(f"l'événement {ev.id!r} existe déjà avec un autre contenu")
    subject_kind, candidate_kind = QUESTION_KINDS[ev.question]
    for kind, ident in ((subject_kind, ev.subject_id), (candidate_kind, ev.candidate_id)):
        cls = EXT_ROW[kind]
        if tx.s.scalar(select(cls.pk).where(cls.territory_pk == tpk, cls.ext_id == ident)) is None:
            raise NotFound(KIND_LABEL[kind], ident)
    last = tx.s.scalar(
        select(EventRow)
        .where(
            EventRow.territory_pk == tpk,
            EventRow.question == ev.question,
            EventRow.subject_id == ev.subject_id,
            EventRow.candidate_id == ev.candidate_id,
        )
        .order_by(EventRow.at.desc(), EventRow.pk.desc())
        .limit(1)
    )
    state = last.type if last is not None else None
    if ev.type not in TRANSITIONS[state]:
        allowed = ", ".join(sorted(TRANSITIONS[state])) or "aucun (suggestion close)"
        raise InvalidRequest(
            f"événement {ev.id!r} : « {ev.type} » ne peut pas suivre « {state or 'aucun événement'} » "
            f"pour ({ev.subject_id}, {ev.candidate_id}) ; possibles : {allowed}"
        )
    at = _utc_naive(ev.at)
    if last is not None and at < last.at:
        raise InvalidRequest(
            f"événement {ev.id!r} : daté avant le dernier événement de cette suggestion ({last.at.isoformat()}Z)"
        )
    tx.s.add(
        EventRow(
            ext_id=ev.id,
            territory_pk=tpk,
            question=ev.question,
            subject_id=ev.subject_id,
            candidate_id=ev.candidate_id,
            type=ev.type,
            at=at,
            data=data,
        )
    )
    tx.s.flush()
    return "recorded"


def list_events(
    tx: Tx,
    territory_pk: int,
    *,
    question: str | None = None,
    subject_id: str | None = None,
    candidate_id: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[EventRow]:
    stmt = select(EventRow).where(EventRow.territory_pk == territory_pk)
    if question:
        stmt = stmt.where(EventRow.question == question)
    if subject_id:
        stmt = stmt.where(EventRow.subject_id == subject_id)
    if candidate_id:
        stmt = stmt.where(EventRow.candidate_id == candidate_id)
    if since is not None:
        stmt = stmt.where(EventRow.at >= _utc_naive(since))
    stmt = stmt.order_by(EventRow.at, EventRow.pk)
    if limit:
        stmt = stmt.limit(limit)
    return list(tx.s.scalars(stmt))


def contact_counts(tx: Tx, territory_pk: int, since: dt.datetime) -> dict[str, int]:
    """How many times each member was contacted (any need) since a date."""
    rows = tx.s.execute(
        select(EventRow.candidate_id, func.count())
        .where(
            EventRow.territory_pk == territory_pk,
            EventRow.question == "member_for_need",
            EventRow.type == "contacted",
            EventRow.at >= _utc_naive(since),
        )
        .group_by(EventRow.candidate_id)
    )
    return {cid: int(n) for cid, n in rows.all()}


def _pending_statement(exclude_subject: bool) -> Any:
    """The query of ``pending_per_candidate``, built once (parameters: tpk, question, states, exclude)."""
    latest = (
        select(
            EventRow.subject_id,
            EventRow.candidate_id,
            EventRow.type,
            func.row_number()
            .over(partition_by=(EventRow.subject_id, EventRow.candidate_id), order_by=(EventRow.at.desc(), EventRow.pk.desc()))
            .label("rank"),
        )
        .where(EventRow.territory_pk == bindparam("tpk"), EventRow.question == bindparam("question"))
        .subquery()
    )
    stmt = (
        select(latest.c.candidate_id, func.count())
        .where(latest.c.rank == 1, latest.c.type.in_(bindparam("states", expanding=True)))
        .group_by(latest.c.candidate_id)
    )
    return stmt.where(latest.c.subject_id != bindparam("exclude")) if exclude_subject else stmt


_PENDING = {False: _pending_statement(False), True: _pending_statement(True)}


def pending_per_candidate(
    tx: Tx, territory_pk: int, question: str, states: Iterable[str], exclude_subject: str | None = None
) -> dict[str, int]:
    """How many suggestions of each candidate are in one of ``states`` (their latest event).

    One query: the latest event of each (subject, candidate) by time then insertion order,
    as ``suggestion_states`` reads it, counted per candidate in the database. The statement
    is built once: a request pays for its execution only.
    """
    params: dict[str, Any] = {"tpk": territory_pk, "question": question, "states": list(states)}
    if exclude_subject is not None:
        params["exclude"] = exclude_subject
    rows = tx.s.connection().execute(_PENDING[exclude_subject is not None], params)
    return {candidate: int(n) for candidate, n in rows.all()}


def suggestion_states(tx: Tx, territory_pk: int, question: str) -> dict[tuple[str, str], str]:
    """Latest state of every suggestion of a question: (subject, candidate) -> event type."""
    states: dict[tuple[str, str], str] = {}
    for row in tx.s.execute(
        select(EventRow.subject_id, EventRow.candidate_id, EventRow.type)
        .where(EventRow.territory_pk == territory_pk, EventRow.question == question)
        .order_by(EventRow.at, EventRow.pk)
    ):
        states[(row.subject_id, row.candidate_id)] = row.type
    return states


def inactive_members(tx: Tx, territory_pk: int, before: dt.datetime) -> list[str]:
    """Members whose profile was not written and who were named in no event since ``before``."""
    cutoff = _utc_naive(before)
    recent = set(
        tx.s.scalars(
            select(EventRow.candidate_id).where(
                EventRow.territory_pk == territory_pk, EventRow.question == "member_for_need", EventRow.at >= cutoff
            )
        )
    ) | set(
        tx.s.scalars(
            select(EventRow.subject_id).where(
                EventRow.territory_pk == territory_pk, EventRow.question == "need_for_member", EventRow.at >= cutoff
            )
        )
    )
    rows = tx.s.execute(
        select(MemberRow.ext_id, MemberSeenRow.updated_at)
        .join(MemberSeenRow, MemberSeenRow.member_pk == MemberRow.pk, isouter=True)
        .where(MemberRow.territory_pk == territory_pk)
    )
    return sorted(ext for ext, updated in rows if ext not in recent and (updated is None or updated < cutoff))
