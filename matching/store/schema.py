"""The tables (SQLAlchemy 2 declarative rows). Private to the store package: nothing outside
``matching.store`` sees a row; the query functions return domain objects or plain values.

Each entity row keeps the validated pydantic document as JSON, plus the few columns that
filters need (territory, stage, status, availability) and the embedded text with its hash.
Integer primary keys are the ids the FAISS indexes use; external ids are unique within a
territory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
    # who carries it (free text: a member id or an organisation): keys and access rules look it up
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
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
    # who reported it: subject, candidate or service (matching.domain.SIDES); rows older than the
    # column are the subject side's
    side: Mapped[str] = mapped_column(String(16), default="subject", server_default="subject")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the event as reported (without its side)


class NoticeRow(Base):
    """One item told to one recipient by e-mail (``matching.notify``): never the same item twice."""

    __tablename__ = "notices_sent"
    __table_args__ = (UniqueConstraint("territory_pk", "channel", "recipient", "item"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_pk: Mapped[int] = mapped_column(ForeignKey("territories.pk", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))  # member, holder, partner
    recipient: Mapped[str] = mapped_column(String(200))  # a member id, a holder, a partner id
    item: Mapped[str] = mapped_column(String(300))  # what was told: a need id, "interested:need:member"...
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the secret is kept (the secret is shown once)."""

    __tablename__ = "api_keys"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    territory_id: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a holder may be an organisation
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ChangeRow(Base):
    """One entry of the change log (outbox): what a unit of work changed, written in its transaction.

    ``seq`` comes from ``FeedCounterRow``, updated in the same transaction just before the
    commit: its row lock serialises the writers' last step, so sequences are committed in
    order and without gaps (a reader that sees 12 also sees 11).
    """

    __tablename__ = "change_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))  # member, need, offering, project, partner, event, text
    op: Mapped[str] = mapped_column(String(8))  # upsert, write, remove, event, forget
    pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    territory_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ext_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    text_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    origin: Mapped[str] = mapped_column(String(32))  # the writing store instance (a process skips its own)
    at: Mapped[float] = mapped_column(Float)  # wall time of the writer (seconds since the epoch): lag in seconds


class FeedCounterRow(Base):
    """The last sequence of the change log (one row)."""

    __tablename__ = "feed_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


ROW_OF_KIND: dict[str, type[Base]] = {
    "member": MemberRow,
    "need": NeedRow,
    "offering": OfferingRow,
    "project": ProjectRow,
}


# rows by external id (events name their subject and candidate this way), and their French names
EXT_ROW: dict[str, type[Base]] = {
    "member": MemberRow,
    "need": NeedRow,
    "offering": OfferingRow,
    "project": ProjectRow,
    "partner": PartnerRow,
}
KIND_LABEL = {"member": "membre", "need": "besoin", "offering": "offre", "project": "projet", "partner": "partenaire"}
