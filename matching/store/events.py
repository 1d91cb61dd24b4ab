"""Feedback events on suggestions: recorded in a unit of work, read for the exposure policy,
partner capacities, learning, the overview and personal-data exports.

Every function takes the unit of work (``Tx``) and keyword arguments; none returns a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, func, or_, select

from matching.clock import utc_naive
from matching.domain import QUESTION_KINDS, TRANSITIONS, FeedbackEvent
from matching.errors import Conflict, InvalidRequest, NotFound
from matching.store.core import Tx
from matching.store.schema import EXT_ROW, KIND_LABEL, EventRow, MemberRow, MemberSeenRow


def record_event(tx: Tx, *, territory_id: str, ev: FeedbackEvent) -> str:
    """Store one event; returns ``"recorded"`` or ``"duplicate"`` (same id, same content).

    Raises:
        Conflict: the id is already used by a different event.
        NotFound: the subject or the candidate does not exist in the territory.
        InvalidRequest: the transition is not allowed, or the event is older than the last one.
    """
    tpk = tx.territory_pk(territory_id)
    data = ev.model_dump(mode="json")
    existing = tx.session.scalar(select(EventRow).where(EventRow.territory_pk == tpk, EventRow.ext_id == ev.id))
    if existing is not None:
        if existing.data == data:
            return "duplicate"
        raise Conflict(f"l'événement {ev.id!r} existe déjà avec un autre contenu")
    subject_kind, candidate_kind = QUESTION_KINDS[ev.question]
    for kind, ident in ((subject_kind, ev.subject_id), (candidate_kind, ev.candidate_id)):
        cls = EXT_ROW[kind]
        if tx.session.scalar(select(cls.pk).where(cls.territory_pk == tpk, cls.ext_id == ident)) is None:
            raise NotFound(KIND_LABEL[kind], ident)
    last = tx.session.scalar(
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
    at = utc_naive(ev.at)
    if last is not None and at < last.at:
        raise InvalidRequest(
            f"événement {ev.id!r} : daté avant le dernier événement de cette suggestion ({last.at.isoformat()}Z)"
        )
    tx.session.add(
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
    tx.session.flush()
    tx.changes.events.add(tpk)
    return "recorded"


def list_events(
    tx: Tx,
    *,
    territory_pk: int,
    question: str | None = None,
    subject_id: str | None = None,
    candidate_id: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[FeedbackEvent]:
    """The events of a territory, filtered, in time then insertion order."""
    stmt = select(EventRow).where(EventRow.territory_pk == territory_pk)
    if question:
        stmt = stmt.where(EventRow.question == question)
    if subject_id:
        stmt = stmt.where(EventRow.subject_id == subject_id)
    if candidate_id:
        stmt = stmt.where(EventRow.candidate_id == candidate_id)
    if since is not None:
        stmt = stmt.where(EventRow.at >= utc_naive(since))
    stmt = stmt.order_by(EventRow.at, EventRow.pk)
    if limit:
        stmt = stmt.limit(limit)
    return [FeedbackEvent.model_validate(row.data) for row in tx.session.scalars(stmt)]


def member_events(tx: Tx, *, territory_pk: int, member_id: str) -> list[FeedbackEvent]:
    """Every event that names a member: suggested for a call (candidate) or asking for calls (subject)."""
    stmt = (
        select(EventRow)
        .where(
            EventRow.territory_pk == territory_pk,
            or_(
                (EventRow.question == "member_for_need") & (EventRow.candidate_id == member_id),
                (EventRow.question == "need_for_member") & (EventRow.subject_id == member_id),
            ),
        )
        .order_by(EventRow.at, EventRow.pk)
    )
    return [FeedbackEvent.model_validate(row.data) for row in tx.session.scalars(stmt)]


def contact_counts(tx: Tx, *, territory_pk: int, since: dt.datetime) -> dict[str, int]:
    """How many times each member was contacted (any need) since a date."""
    rows = tx.session.execute(
        select(EventRow.candidate_id, func.count())
        .where(
            EventRow.territory_pk == territory_pk,
            EventRow.question == "member_for_need",
            EventRow.type == "contacted",
            EventRow.at >= utc_naive(since),
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
    tx: Tx, *, territory_pk: int, question: str, states: Iterable[str], exclude_subject: str | None = None
) -> dict[str, int]:
    """How many suggestions of each candidate are in one of ``states`` (their latest event).

    One query: the latest event of each (subject, candidate) by time then insertion order,
    as ``suggestion_states`` reads it, counted per candidate in the database. The statement
    is built once: a request pays for its execution only.
    """
    params: dict[str, Any] = {"tpk": territory_pk, "question": question, "states": list(states)}
    if exclude_subject is not None:
        params["exclude"] = exclude_subject
    rows = tx.session.connection().execute(_PENDING[exclude_subject is not None], params)
    return {candidate: int(n) for candidate, n in rows.all()}


def suggestion_states(tx: Tx, *, territory_pk: int, question: str) -> dict[tuple[str, str], str]:
    """Latest state of every suggestion of a question: (subject, candidate) -> event type."""
    states: dict[tuple[str, str], str] = {}
    for row in tx.session.execute(
        select(EventRow.subject_id, EventRow.candidate_id, EventRow.type)
        .where(EventRow.territory_pk == territory_pk, EventRow.question == question)
        .order_by(EventRow.at, EventRow.pk)
    ):
        states[(row.subject_id, row.candidate_id)] = row.type
    return states


def inactive_members(tx: Tx, *, territory_pk: int, before: dt.datetime) -> list[str]:
    """Members whose profile was not written and who were named in no event since ``before``."""
    cutoff = utc_naive(before)
    recent = set(
        tx.session.scalars(
            select(EventRow.candidate_id).where(
                EventRow.territory_pk == territory_pk, EventRow.question == "member_for_need", EventRow.at >= cutoff
            )
        )
    ) | set(
        tx.session.scalars(
            select(EventRow.subject_id).where(
                EventRow.territory_pk == territory_pk, EventRow.question == "need_for_member", EventRow.at >= cutoff
            )
        )
    )
    rows = tx.session.execute(
        select(MemberRow.ext_id, MemberSeenRow.updated_at)
        .join(MemberSeenRow, MemberSeenRow.member_pk == MemberRow.pk, isouter=True)
        .where(MemberRow.territory_pk == territory_pk)
    )
    return sorted(ext for ext, updated in rows if ext not in recent and (updated is None or updated < cutoff))
