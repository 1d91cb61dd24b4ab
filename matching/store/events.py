"""Feedback events on suggestions: recorded in a unit of work, read for the exposure policy,
partner capacities, learning, the overview, the access rules and personal-data exports.

Every event belongs to one side of its suggestion (``matching.domain.SIDES``): the subject's
(who asked), the candidate's (who was suggested) or the service's (``shown``, recorded when
a suggestion is served). Each side has its own state machine; the side is a column, set by
the caller from the key that reported the event, never read from the event's body.

Every function takes the unit of work (``Tx``) and keyword arguments; none returns a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select

from matching.clock import utc_naive
from matching.domain import (
    QUESTION_KINDS,
    SIDE_LABELS,
    SIDE_TRANSITIONS,
    SIDE_TYPES,
    FeedbackEvent,
    RecordedEvent,
    SuggestionState,
    shown_event_id,
)
from matching.errors import Conflict, InvalidRequest, NotFound
from matching.store.core import Tx
from matching.store.schema import EXT_ROW, KIND_LABEL, EventRow, MemberRow, MemberSeenRow


def _stamp(at: dt.datetime) -> str:
    return at.isoformat(timespec="seconds") + "Z"


def record_event(
    tx: Tx,
    *,
    territory_id: str,
    ev: FeedbackEvent,
    side: str = "subject",
    served_first: bool = False,
    not_after: dt.datetime | None = None,
) -> str:
    """Store one event on one side of its suggestion; returns ``"recorded"`` or ``"duplicate"``
    (same id, same content, same side).

    Args:
        side: ``subject``, ``candidate`` or ``service`` (who reported it).
        served_first: the suggestion must have been served (or followed) before a ``contacted``
            on the subject side (keys that are not staff).
        not_after: the latest time an event may carry (now plus a small clock skew).

    Raises:
        Conflict: the id is already used by a different event.
        NotFound: the subject or the candidate does not exist in the territory.
        InvalidRequest: the type does not belong to the side, the transition is not allowed on
            that side, or the time is after ``not_after``, before the suggestion existed (its
            first event) or before the last event of that side.
    """
    tpk = tx.territory_pk(territory_id)
    data = ev.model_dump(mode="json", exclude={"side"})
    existing = tx.session.scalar(select(EventRow).where(EventRow.territory_pk == tpk, EventRow.ext_id == ev.id))
    if existing is not None:
        if existing.data == data and existing.side == side:
            return "duplicate"
        raise Conflict(f"l'événement {ev.id!r} existe déjà avec un autre contenu")
    subject_kind, candidate_kind = QUESTION_KINDS[ev.question]
    for kind, ident in ((subject_kind, ev.subject_id), (candidate_kind, ev.candidate_id)):
        cls = EXT_ROW[kind]
        if tx.session.scalar(select(cls.pk).where(cls.territory_pk == tpk, cls.ext_id == ident)) is None:
            raise NotFound(KIND_LABEL[kind], ident)
    label = SIDE_LABELS[side]
    if ev.type not in SIDE_TYPES[side]:
        possible = ", ".join(sorted(SIDE_TYPES[side]))
        raise InvalidRequest(
            f"événement {ev.id!r} : « {ev.type} » n'est pas un événement du côté {label} (possibles : {possible})"
        )
    history = tx.session.execute(
        select(EventRow.side, EventRow.type, EventRow.at)
        .where(
            EventRow.territory_pk == tpk,
            EventRow.question == ev.question,
            EventRow.subject_id == ev.subject_id,
            EventRow.candidate_id == ev.candidate_id,
        )
        .order_by(EventRow.at, EventRow.pk)
    ).all()
    state = SuggestionState.replay((s, t, a) for s, t, a in history)
    current = state.of(side)
    if ev.type not in SIDE_TRANSITIONS[side][current]:
        allowed = ", ".join(sorted(SIDE_TRANSITIONS[side][current])) or "aucun (suggestion close de ce côté)"
        raise InvalidRequest(
            f"événement {ev.id!r} : « {ev.type} » ne peut pas suivre « {current or 'aucun événement'} » "
            f"(côté {label}) pour ({ev.subject_id}, {ev.candidate_id}) ; possibles : {allowed}"
        )
    if served_first and side == "subject" and ev.type == "contacted" and current is None:
        raise InvalidRequest(
            f"événement {ev.id!r} : ({ev.subject_id}, {ev.candidate_id}) ne vous a jamais été proposé "
            "par le service ; on ne contacte que les suggestions reçues"
        )
    at = utc_naive(ev.at)
    if not_after is not None and at > utc_naive(not_after):
        raise InvalidRequest(f"événement {ev.id!r} : daté dans le futur ({_stamp(at)}) ; au plus {_stamp(utc_naive(not_after))}")
    if state.first_at is not None and at < state.first_at:
        raise InvalidRequest(
            f"événement {ev.id!r} : daté avant la suggestion elle-même (son premier événement : {_stamp(state.first_at)})"
        )
    last_at = state.last_at.get(side)
    if last_at is not None and at < last_at:
        raise InvalidRequest(
            f"événement {ev.id!r} : daté avant le dernier événement de cette suggestion côté {label} ({_stamp(last_at)})"
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
            side=side,
            data=data,
        )
    )
    tx.session.flush()
    tx.changes.events.add(tpk)
    return "recorded"


def record_shown(
    tx: Tx,
    *,
    territory_pk: int,
    question: str,
    subject_id: str,
    shown: list[tuple[str, float | None, dict[str, float] | None]],
    at: dt.datetime,
) -> None:
    """The service served these candidates for ``subject_id``: one ``shown`` per suggestion, on the
    service's side, once (its id is deterministic: a suggestion served again is ignored).

    One statement (a batched ``INSERT … ON CONFLICT DO NOTHING``), whatever the number of
    candidates; no entity is looked up (the service just read them).
    """
    if not shown:
        return
    stamp = utc_naive(at).replace(microsecond=0)  # a later event dated "now" is never before it
    rows = []
    for candidate_id, score, breakdown in shown:
        ev = FeedbackEvent(
            id=shown_event_id(question, subject_id, candidate_id),
            question=question,  # type: ignore[arg-type]
            subject_id=subject_id,
            candidate_id=candidate_id,
            type="shown",
            at=stamp,
            score=score,
            breakdown=breakdown,
        )
        rows.append(
            {
                "ext_id": ev.id,
                "territory_pk": territory_pk,
                "question": question,
                "subject_id": subject_id,
                "candidate_id": candidate_id,
                "type": "shown",
                "at": stamp,
                "side": "service",
                "data": ev.model_dump(mode="json"),
            }
        )
    if tx.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(EventRow).on_conflict_do_nothing(index_elements=["territory_pk", "ext_id"])
    tx.session.execute(stmt, rows)


def _recorded(row: EventRow) -> RecordedEvent:
    return RecordedEvent.model_validate(row.data | {"side": row.side})


def list_events(
    tx: Tx,
    *,
    territory_pk: int,
    question: str | None = None,
    subject_id: str | None = None,
    candidate_id: str | None = None,
    side: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[RecordedEvent]:
    """The events of a territory, filtered, in time then insertion order, each with its side."""
    stmt = select(EventRow).where(EventRow.territory_pk == territory_pk)
    if question:
        stmt = stmt.where(EventRow.question == question)
    if subject_id:
        stmt = stmt.where(EventRow.subject_id == subject_id)
    if candidate_id:
        stmt = stmt.where(EventRow.candidate_id == candidate_id)
    if side:
        stmt = stmt.where(EventRow.side == side)
    if since is not None:
        stmt = stmt.where(EventRow.at >= utc_naive(since))
    stmt = stmt.order_by(EventRow.at, EventRow.pk)
    if limit:
        stmt = stmt.limit(limit)
    return [_recorded(row) for row in tx.session.scalars(stmt)]


def event_exists(tx: Tx, *, territory_pk: int, event_id: str) -> bool:
    """Whether an event of this id was recorded (a one-time answer link is used once)."""
    stmt = select(EventRow.pk).where(EventRow.territory_pk == territory_pk, EventRow.ext_id == event_id)
    return tx.session.scalar(stmt) is not None


def member_events(tx: Tx, *, territory_pk: int, member_id: str) -> list[RecordedEvent]:
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
    return [_recorded(row) for row in tx.session.scalars(stmt)]


def contact_counts(tx: Tx, *, territory_pk: int, since: dt.datetime) -> dict[str, int]:
    """How many times each member was contacted (any need) since a date: the subject side's
    ``contacted`` events (those who asked, or staff for them)."""
    rows = tx.session.execute(
        select(EventRow.candidate_id, func.count())
        .where(
            EventRow.territory_pk == territory_pk,
            EventRow.question == "member_for_need",
            EventRow.type == "contacted",
            EventRow.side == "subject",
            EventRow.at >= utc_naive(since),
        )
        .group_by(EventRow.candidate_id)
    )
    return {cid: int(n) for cid, n in rows.all()}


def _pending_statement(exclude_subject: bool) -> Any:
    """The query of ``pending_per_candidate``, built once (parameters: tpk, question, states,
    refused, exclude)."""
    latest = (
        select(
            EventRow.subject_id,
            EventRow.candidate_id,
            EventRow.side,
            EventRow.type,
            func.row_number()
            .over(
                partition_by=(EventRow.subject_id, EventRow.candidate_id, EventRow.side),
                order_by=(EventRow.at.desc(), EventRow.pk.desc()),
            )
            .label("rank"),
        )
        .where(
            EventRow.territory_pk == bindparam("tpk"),
            EventRow.question == bindparam("question"),
            EventRow.side.in_(("subject", "candidate")),
        )
        .subquery()
    )
    pending = case(
        ((latest.c.side == "subject") & latest.c.type.in_(bindparam("states", expanding=True)), 1),
        else_=0,
    )
    refused = case(
        ((latest.c.side == "candidate") & latest.c.type.in_(bindparam("refused", expanding=True)), 1),
        else_=0,
    )
    per_suggestion = select(latest.c.candidate_id, func.max(pending).label("pending"), func.max(refused).label("refused")).where(
        latest.c.rank == 1
    )
    if exclude_subject:
        per_suggestion = per_suggestion.where(latest.c.subject_id != bindparam("exclude"))
    suggestions = per_suggestion.group_by(latest.c.subject_id, latest.c.candidate_id).subquery()
    return (
        select(suggestions.c.candidate_id, func.count())
        .where(suggestions.c.pending == 1, suggestions.c.refused == 0)
        .group_by(suggestions.c.candidate_id)
    )


_PENDING = {False: _pending_statement(False), True: _pending_statement(True)}


def pending_per_candidate(
    tx: Tx,
    *,
    territory_pk: int,
    question: str,
    states: Iterable[str],
    refused: Iterable[str] = (),
    exclude_subject: str | None = None,
) -> dict[str, int]:
    """How many suggestions of each candidate are pending: the subject side's latest event is in
    ``states`` and the candidate's latest answer is not in ``refused``. A suggestion the service
    only served (its ``shown``) is not pending.

    One query: the latest event of each (subject, candidate, side) by time then insertion order,
    as ``suggestions`` reads them, counted per candidate in the database. The statement is
    built once: a request pays for its execution only.
    """
    params: dict[str, Any] = {
        "tpk": territory_pk,
        "question": question,
        "states": list(states),
        "refused": list(refused) or ["-"],
    }
    if exclude_subject is not None:
        params["exclude"] = exclude_subject
    rows = tx.session.connection().execute(_PENDING[exclude_subject is not None], params)
    return {candidate: int(n) for candidate, n in rows.all()}


def suggestions(
    tx: Tx,
    *,
    territory_pk: int,
    question: str,
    subject_id: str | None = None,
    candidate_id: str | None = None,
    subject_ids: Iterable[str] | None = None,
) -> dict[tuple[str, str], SuggestionState]:
    """Each side's state of the suggestions of a question: (subject, candidate) -> ``SuggestionState``."""
    stmt = select(EventRow.subject_id, EventRow.candidate_id, EventRow.side, EventRow.type, EventRow.at).where(
        EventRow.territory_pk == territory_pk, EventRow.question == question
    )
    if subject_id is not None:
        stmt = stmt.where(EventRow.subject_id == subject_id)
    if candidate_id is not None:
        stmt = stmt.where(EventRow.candidate_id == candidate_id)
    if subject_ids is not None:
        stmt = stmt.where(EventRow.subject_id.in_(list(subject_ids)))
    histories: dict[tuple[str, str], list[tuple[str, str, dt.datetime]]] = {}
    for row in tx.session.execute(stmt.order_by(EventRow.at, EventRow.pk)):
        histories.setdefault((row.subject_id, row.candidate_id), []).append((row.side, row.type, row.at))
    return {key: SuggestionState.replay(history) for key, history in histories.items()}


def inactive_members(tx: Tx, *, territory_pk: int, before: dt.datetime) -> list[str]:
    """Members whose profile was not written and who were named in no event since ``before`` (an
    event someone reported: being served by the service is not being active)."""
    cutoff = utc_naive(before)
    acted = (EventRow.territory_pk == territory_pk, EventRow.at >= cutoff, EventRow.side != "service")
    recent = set(tx.session.scalars(select(EventRow.candidate_id).where(*acted, EventRow.question == "member_for_need"))) | set(
        tx.session.scalars(select(EventRow.subject_id).where(*acted, EventRow.question == "need_for_member"))
    )
    rows = tx.session.execute(
        select(MemberRow.ext_id, MemberSeenRow.updated_at)
        .join(MemberSeenRow, MemberSeenRow.member_pk == MemberRow.pk, isouter=True)
        .where(MemberRow.territory_pk == territory_pk)
    )
    return sorted(ext for ext, updated in rows if ext not in recent and (updated is None or updated < cutoff))
