"""Reads: every query of the service outside the units of work' own getters, as functions of a
unit of work (``Tx``) with keyword arguments (the shape of the FastAPI full-stack template's
``crud.py``). None returns a row: they return documents (plain dicts as stored), domain
objects, ids or small tuples.

The read path's statements are built once at import (SQLAlchemy caches their compiled form),
so a question pays for their execution only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, func, or_, select

from matching.errors import NotFound
from matching.store.core import Tx
from matching.store.schema import (
    KIND_LABEL,
    ROW_OF_KIND,
    EventRow,
    MemberRow,
    NeedRow,
    OfferingRow,
    PartnerRow,
    ProjectRow,
    TerritoryRow,
)

_CHUNK = 500  # ids per "IN (...)" (SQLite limits bound parameters)

# -- the subject of a question, read fresh on every request -------------------------------------------
_NEED_BY_ID = (
    select(NeedRow.pk, NeedRow.data, ProjectRow.ext_id, ProjectRow.data)
    .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
    .where(NeedRow.territory_pk == bindparam("tpk"), NeedRow.ext_id == bindparam("ext"))
)
_MEMBER_BY_ID = select(MemberRow.data).where(MemberRow.territory_pk == bindparam("tpk"), MemberRow.ext_id == bindparam("ext"))
_PROJECT_BY_ID = select(ProjectRow.data).where(ProjectRow.territory_pk == bindparam("tpk"), ProjectRow.ext_id == bindparam("ext"))


def _subject(tx: Tx, stmt: Any, territory_pk: int, ext_id: str, what: str) -> Any:
    row = tx.session.connection().execute(stmt, {"tpk": territory_pk, "ext": ext_id}).first()
    if row is None:
        raise NotFound(what, ext_id)
    return row


def need_subject(tx: Tx, *, territory_pk: int, need_id: str) -> tuple[int, dict[str, Any], str, dict[str, Any]]:
    """A call for skills by external id: its pk, its document, its project's id and document."""
    pk, data, project_id, project = _subject(tx, _NEED_BY_ID, territory_pk, need_id, "besoin")
    return pk, data, project_id, project


def member_document(tx: Tx, *, territory_pk: int, member_id: str) -> dict[str, Any]:
    """A member's document by external id (NotFound if none)."""
    return _subject(tx, _MEMBER_BY_ID, territory_pk, member_id, "membre")[0]


def project_document(tx: Tx, *, territory_pk: int, project_id: str) -> dict[str, Any]:
    """A project's document (without its needs) by external id (NotFound if none)."""
    return _subject(tx, _PROJECT_BY_ID, territory_pk, project_id, "projet")[0]


# -- the candidates' side (read models) ---------------------------------------------------------------
def territory_ids(tx: Tx) -> list[str]:
    return list(tx.session.scalars(select(TerritoryRow.ext_id).order_by(TerritoryRow.pk)))


def territory_pks(tx: Tx) -> list[int]:
    return list(tx.session.scalars(select(TerritoryRow.pk).order_by(TerritoryRow.pk)))


def available_member_pks(tx: Tx, *, territory_pk: int) -> list[int]:
    """Members who may be suggested: consent given, below their maximum engagements."""
    stmt = select(MemberRow.pk).where(MemberRow.territory_pk == territory_pk, MemberRow.available.is_(True))
    return list(tx.session.scalars(stmt))


def member_states(tx: Tx, *, pks: list[int]) -> dict[int, tuple[int, bool]]:
    """pk -> (territory pk, available) of these members (deleted ones are absent)."""
    out: dict[int, tuple[int, bool]] = {}
    for start in range(0, len(pks), _CHUNK):
        stmt = select(MemberRow.pk, MemberRow.territory_pk, MemberRow.available).where(
            MemberRow.pk.in_(pks[start : start + _CHUNK])
        )
        out.update({pk: (tpk, bool(available)) for pk, tpk, available in tx.session.execute(stmt)})
    return out


def documents(tx: Tx, *, kind: str, pks: list[int]) -> dict[int, dict[str, Any]]:
    """pk -> document of entities of one kind (member, need, offering, project)."""
    cls = ROW_OF_KIND[kind]
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(pks), _CHUNK):
        out.update(dict(tx.session.execute(select(cls.pk, cls.data).where(cls.pk.in_(pks[start : start + _CHUNK]))).all()))
    return out


# -- the fields the column arrays read, without decoding whole documents (a million members) ---------------
# Core statements (no ORM rows); list fields come as JSON text, decoded a chunk at a time.
_MEMBER_FIELDS = (
    MemberRow.pk,
    MemberRow.ext_id,
    MemberRow.data["hours_per_week"].as_float(),
    MemberRow.data["remote_ok"].as_boolean(),
    MemberRow.data["max_engagements"].as_integer(),
    MemberRow.data["active_engagements"].as_integer(),
    MemberRow.data["commune"].as_string(),
    MemberRow.data["postcode"].as_string(),
    MemberRow.data["causes"].as_string(),
)


def _decoded(rows: list[Any]) -> list[tuple[Any, ...]]:
    """Rows whose last field is a JSON list as text (or None), with that list decoded: one
    ``json.loads`` for the whole chunk."""
    lists = json.loads("[" + ",".join(row[-1] or "[]" for row in rows) + "]") if rows else []
    return [(*row[:-1], value) for row, value in zip(rows, lists, strict=True)]


def _columns(rows: list[Any], width: int) -> list[list[Any]]:
    """Rows as columns (one list per field); the last field, a JSON list as text (or None),
    decoded with one ``json.loads`` for the whole chunk."""
    if not rows:
        return [[] for _ in range(width)]
    columns = [list(c) for c in zip(*rows, strict=True)]
    columns[-1] = json.loads("[" + ",".join(v or "[]" for v in columns[-1]) + "]")
    return columns


def member_fields(tx: Tx, *, territory_pk: int | None = None, pks: list[int] | None = None) -> Iterator[list[list[Any]]]:
    """Chunks of columns (pk, id, hours per week, remote, maximum and active engagements,
    commune, postcode, causes) of these members, or of a territory's available ones in pk
    order (None for a field a document lacks). Only these fields are read: no document is
    decoded whole."""
    conn = tx.session.connection()
    width = len(_MEMBER_FIELDS)
    if pks is not None:
        for start in range(0, len(pks), _CHUNK):
            rows = conn.execute(select(*_MEMBER_FIELDS).where(MemberRow.pk.in_(pks[start : start + _CHUNK]))).all()
            yield _columns(rows, width)
        return
    stmt = (
        select(*_MEMBER_FIELDS)
        .where(MemberRow.territory_pk == territory_pk, MemberRow.available.is_(True))
        .order_by(MemberRow.pk)
    )
    result = conn.execution_options(yield_per=50_000).execute(stmt)
    for part in result.partitions():
        yield _columns(part, width)


def need_fields(tx: Tx, *, territory_pk: int, today: dt.date) -> list[tuple[Any, ...]]:
    """(pk, id, hours per week, remote, its project's commune and causes) of a territory's open
    calls for skills (``open_need_pks``), in pk order."""
    stmt = (
        select(
            NeedRow.pk,
            NeedRow.ext_id,
            NeedRow.data["hours_per_week"].as_float(),
            NeedRow.data["remote"].as_boolean(),
            ProjectRow.data["commune"].as_string(),
            ProjectRow.data["causes"].as_string(),
        )
        .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
        .where(
            NeedRow.territory_pk == territory_pk,
            NeedRow.status == "open",
            or_(NeedRow.deadline.is_(None), NeedRow.deadline >= today),
        )
        .order_by(NeedRow.pk)
    )
    return _decoded(tx.session.connection().execute(stmt).all())


def project_fields(tx: Tx, *, territory_pk: int) -> list[tuple[Any, ...]]:
    """(pk, id, stage, legal structure, commune, causes) of a territory's projects, in pk order."""
    stmt = (
        select(
            ProjectRow.pk,
            ProjectRow.ext_id,
            ProjectRow.stage,
            ProjectRow.data["legal_structure"].as_boolean(),
            ProjectRow.data["commune"].as_string(),
            ProjectRow.data["causes"].as_string(),
        )
        .where(ProjectRow.territory_pk == territory_pk)
        .order_by(ProjectRow.pk)
    )
    return _decoded(tx.session.connection().execute(stmt).all())


def open_need_pks(tx: Tx, *, territory_pk: int, today: dt.date) -> list[int]:
    """Calls for skills that are open and whose deadline has not passed."""
    stmt = select(NeedRow.pk).where(
        NeedRow.territory_pk == territory_pk,
        NeedRow.status == "open",
        or_(NeedRow.deadline.is_(None), NeedRow.deadline >= today),
    )
    return list(tx.session.scalars(stmt))


def needs_with_projects(tx: Tx, *, pks: list[int]) -> dict[int, tuple[dict[str, Any], str, dict[str, Any]]]:
    """pk -> (need document, project id, project document), one query per 500."""
    out: dict[int, tuple[dict[str, Any], str, dict[str, Any]]] = {}
    for start in range(0, len(pks), _CHUNK):
        rows = tx.session.execute(
            select(NeedRow.pk, NeedRow.data, ProjectRow.ext_id, ProjectRow.data)
            .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
            .where(NeedRow.pk.in_(pks[start : start + _CHUNK]))
        )
        out.update({pk: (data, project_id, pdata) for pk, data, project_id, pdata in rows})
    return out


def project_pks(tx: Tx, *, territory_pk: int) -> dict[str, int]:
    """External id -> pk of a territory's projects."""
    stmt = select(ProjectRow.ext_id, ProjectRow.pk).where(ProjectRow.territory_pk == territory_pk)
    return dict(tx.session.execute(stmt).all())  # type: ignore[arg-type]


def catalogue(tx: Tx, *, territory_pk: int) -> list[tuple[int, dict[str, Any], str, dict[str, Any]]]:
    """The territory's offerings in pk order: (pk, offering document, partner id, partner document)."""
    rows = tx.session.execute(
        select(OfferingRow.pk, OfferingRow.data, PartnerRow.ext_id, PartnerRow.data)
        .join(PartnerRow, OfferingRow.partner_pk == PartnerRow.pk)
        .where(OfferingRow.territory_pk == territory_pk)
        .order_by(OfferingRow.pk)
    )
    return [(pk, data, pid, pdata) for pk, data, pid, pdata in rows]


def learned_examples(tx: Tx, *, territory_pk: int, question: str, per_offering: int) -> tuple[dict[str, list[str]], bool]:
    """Offering id -> the texts of the projects it was accepted for (``accepted`` events of
    ``question``), newest first, at most ``per_offering`` each; and whether any project was
    accepted at all (consent withdrawn or not).

    Read through the projects as they are now: a deleted project is gone from here, and so is
    one whose holder (a member) has withdrawn consent.
    """
    holder = MemberRow.__table__.alias("holder")
    latest = func.max(EventRow.at)
    stmt = (
        select(EventRow.candidate_id, ProjectRow.text, or_(holder.c.pk.is_(None), holder.c.consent.is_(True)), latest)
        .join(ProjectRow, (ProjectRow.territory_pk == EventRow.territory_pk) & (ProjectRow.ext_id == EventRow.subject_id))
        .outerjoin(holder, (holder.c.territory_pk == ProjectRow.territory_pk) & (holder.c.ext_id == ProjectRow.holder))
        .where(EventRow.territory_pk == territory_pk, EventRow.question == question, EventRow.type == "accepted")
        .group_by(EventRow.candidate_id, ProjectRow.pk, ProjectRow.text, holder.c.pk, holder.c.consent)
        .order_by(EventRow.candidate_id, latest.desc(), ProjectRow.pk)
    )
    out: dict[str, list[str]] = {}
    accepted = False
    for offering_id, text, consents, _ in tx.session.execute(stmt):
        accepted = True
        texts = out.setdefault(offering_id, [])
        if consents and text and len(texts) < per_offering:
            texts.append(text)
    return out, accepted


def labels(tx: Tx, *, kind: str, pks: list[int]) -> dict[int, tuple[str, str, str | None, str]]:
    """pk -> (external id, label, parent id, embedded text): how a candidate of any kind is shown.

    Labels: a member's display name; "need title (project title)" with the project as parent;
    "partner name — offering title" with the partner as parent; a project's title.
    """
    cls = ROW_OF_KIND[kind]
    out: dict[int, tuple[str, str, str | None, str]] = {}
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        if kind == "need":
            stmt = select(NeedRow.pk, NeedRow.ext_id, NeedRow.data, NeedRow.text, ProjectRow.ext_id, ProjectRow.data).join(
                ProjectRow, NeedRow.project_pk == ProjectRow.pk
            )
            for pk, ext, data, text, parent, pdata in tx.session.execute(stmt.where(NeedRow.pk.in_(chunk))):
                out[pk] = (ext, f"{data['title']} ({pdata['title']})", parent, text)
        elif kind == "offering":
            stmt = select(
                OfferingRow.pk, OfferingRow.ext_id, OfferingRow.data, OfferingRow.text, PartnerRow.ext_id, PartnerRow.data
            ).join(PartnerRow, OfferingRow.partner_pk == PartnerRow.pk)
            for pk, ext, data, text, parent, pdata in tx.session.execute(stmt.where(OfferingRow.pk.in_(chunk))):
                out[pk] = (ext, f"{pdata['name']} — {data['title']}", parent, text)
        else:
            field = "display_name" if kind == "member" else "title"
            stmt = select(cls.pk, cls.ext_id, cls.data, cls.text).where(cls.pk.in_(chunk))
            for pk, ext, data, text in tx.session.execute(stmt):
                out[pk] = (ext, data[field], None, text)
    return out


# -- the index set's source ---------------------------------------------------------------------------
def indexed_documents(tx: Tx, *, kind: str) -> list[tuple[int, str, str]]:
    """(pk, text, text hash) of every entity of an indexed kind, in pk order (to (re)build its indexes)."""
    cls = ROW_OF_KIND[kind]
    return [(pk, text, h) for pk, text, h in tx.session.execute(select(cls.pk, cls.text, cls.text_hash).order_by(cls.pk))]


def text_hashes(tx: Tx, *, kind: str) -> dict[int, str]:
    """pk -> text hash of every entity of an indexed kind (to check an index against the store)."""
    cls = ROW_OF_KIND[kind]
    return dict(tx.session.execute(select(cls.pk, cls.text_hash)).all())  # type: ignore[arg-type]


def texts(tx: Tx, *, kind: str) -> dict[int, str]:
    """pk -> text of every entity of an indexed kind, in pk order."""
    cls = ROW_OF_KIND[kind]
    return dict(tx.session.execute(select(cls.pk, cls.text).order_by(cls.pk)).all())  # type: ignore[arg-type]


def count(tx: Tx, *, kind: str, territory_pk: int | None = None) -> int:
    cls = ROW_OF_KIND[kind]
    stmt = select(func.count()).select_from(cls)
    if territory_pk is not None:
        stmt = stmt.where(cls.territory_pk == territory_pk)
    return int(tx.session.scalar(stmt))


def ext_ids(
    tx: Tx, *, kind: str, territory_pk: int | None = None, available: bool | None = None, limit: int | None = None
) -> list[str]:
    """External ids of one kind (member, need, offering, project, partner) in pk order."""
    cls = PartnerRow if kind == "partner" else ROW_OF_KIND[kind]
    stmt = select(cls.ext_id).order_by(cls.pk)
    if territory_pk is not None:
        stmt = stmt.where(cls.territory_pk == territory_pk)
    if available is not None and kind == "member":
        stmt = stmt.where(MemberRow.available.is_(available))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(tx.session.scalars(stmt))


# -- listings and overviews -----------------------------------------------------------------------------
def members_overview(tx: Tx, *, territory_pk: int) -> list[tuple[str, dict[str, Any], bool]]:
    """(id, document, available) of a territory's members, in pk order."""
    stmt = select(MemberRow.ext_id, MemberRow.data, MemberRow.available).where(MemberRow.territory_pk == territory_pk)
    return [(ext, data, bool(available)) for ext, data, available in tx.session.execute(stmt.order_by(MemberRow.pk))]


def projects_overview(tx: Tx, *, territory_pk: int) -> list[tuple[str, dict[str, Any], int]]:
    """(id, document, open calls for skills) of a territory's projects, in pk order."""
    open_needs = (
        select(func.count())
        .where(NeedRow.project_pk == ProjectRow.pk, NeedRow.status == "open")
        .correlate(ProjectRow)
        .scalar_subquery()
    )
    stmt = select(ProjectRow.ext_id, ProjectRow.data, open_needs).where(ProjectRow.territory_pk == territory_pk)
    return [(ext, data, int(n)) for ext, data, n in tx.session.execute(stmt.order_by(ProjectRow.pk))]


def needs_overview(tx: Tx, *, territory_pk: int) -> list[tuple[str, dict[str, Any], str, dt.date | None, str, str]]:
    """(id, document, status, deadline, project id, project title) of a territory's calls for skills."""
    stmt = (
        select(NeedRow.ext_id, NeedRow.data, NeedRow.status, NeedRow.deadline, ProjectRow.ext_id, ProjectRow.data)
        .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
        .where(NeedRow.territory_pk == territory_pk)
        .order_by(NeedRow.pk)
    )
    return [
        (ext, data, status, deadline, pid, pdata["title"]) for ext, data, status, deadline, pid, pdata in tx.session.execute(stmt)
    ]


def partner_names(tx: Tx, *, territory_pk: int) -> list[tuple[str, str]]:
    """(id, name) of a territory's partners, in pk order."""
    stmt = select(PartnerRow.ext_id, PartnerRow.data).where(PartnerRow.territory_pk == territory_pk).order_by(PartnerRow.pk)
    return [(ext, data["name"]) for ext, data in tx.session.execute(stmt)]


def records(tx: Tx, *, kind: str, territory_pk: int | None = None) -> list[dict[str, Any]]:
    """One flat record per entity of a kind (member, project, need, offering): its document's
    fields without nested lists, a need's ``project_id``, an offering's ``partner_id``."""
    cls = ROW_OF_KIND[kind]
    if kind == "need":
        stmt = select(NeedRow.data, ProjectRow.ext_id).join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
    elif kind == "offering":
        stmt = select(OfferingRow.data, PartnerRow.ext_id).join(PartnerRow, OfferingRow.partner_pk == PartnerRow.pk)
    else:
        stmt = select(cls.data)
    if territory_pk is not None:
        stmt = stmt.where(cls.territory_pk == territory_pk)
    out = []
    for row in tx.session.execute(stmt.order_by(cls.pk)):
        rec = {k: v for k, v in row[0].items() if k not in ("needs", "offerings")}
        if kind == "need":
            rec["project_id"] = row[1]
        elif kind == "offering":
            rec["partner_id"] = row[1]
        out.append(rec)
    return out


def ids_in(tx: Tx, *, kind: str, territory_pk: int, ext_ids: Iterable[str]) -> set[str]:
    """Which of these external ids exist in the territory (member, need, offering, project, partner)."""
    cls = PartnerRow if kind == "partner" else ROW_OF_KIND[kind]
    wanted = list(dict.fromkeys(ext_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(cls.ext_id).where(cls.territory_pk == territory_pk, cls.ext_id.in_(wanted[start : start + _CHUNK]))
        found.update(tx.session.scalars(stmt))
    return found


def party(tx: Tx, *, territory_pk: int, kind: str, ext_id: str) -> str | None:
    """Who speaks for an entity in a suggestion: a need's project holder, a project's holder, an
    offering's partner id, a member's or a partner's own id (NotFound if the entity does not exist)."""
    if kind == "need":
        stmt: Any = select(ProjectRow.holder).join(NeedRow, NeedRow.project_pk == ProjectRow.pk)
        stmt = stmt.where(NeedRow.territory_pk == territory_pk, NeedRow.ext_id == ext_id)
    elif kind == "project":
        stmt = select(ProjectRow.holder).where(ProjectRow.territory_pk == territory_pk, ProjectRow.ext_id == ext_id)
    elif kind == "offering":
        stmt = select(PartnerRow.ext_id).join(OfferingRow, OfferingRow.partner_pk == PartnerRow.pk)
        stmt = stmt.where(OfferingRow.territory_pk == territory_pk, OfferingRow.ext_id == ext_id)
    else:
        cls = PartnerRow if kind == "partner" else MemberRow
        stmt = select(cls.ext_id).where(cls.territory_pk == territory_pk, cls.ext_id == ext_id)
    row = tx.session.execute(stmt).first()
    if row is None:
        raise NotFound(KIND_LABEL[kind], ext_id)
    return row[0]


def projects_of(tx: Tx, *, territory_pk: int, holder: str) -> list[str]:
    """The ids of a territory's projects whose ``holder`` is this value, in pk order."""
    stmt = select(ProjectRow.ext_id).where(ProjectRow.territory_pk == territory_pk, ProjectRow.holder == holder)
    return list(tx.session.scalars(stmt.order_by(ProjectRow.pk)))


def project_documents(tx: Tx, *, territory_pk: int) -> list[dict[str, Any]]:
    """A territory's projects as stored, each with its ``needs`` (in their order), in pk order: two statements."""
    needs: dict[int, list[dict[str, Any]]] = {}
    stmt = select(NeedRow.project_pk, NeedRow.data).where(NeedRow.territory_pk == territory_pk).order_by(NeedRow.pk)
    for project_pk, data in tx.session.execute(stmt):
        needs.setdefault(project_pk, []).append(data)
    stmt = select(ProjectRow.pk, ProjectRow.data).where(ProjectRow.territory_pk == territory_pk).order_by(ProjectRow.pk)
    return [dict(data, needs=needs.get(pk, [])) for pk, data in tx.session.execute(stmt)]


# -- the list endpoints and the home page (matching.listing filters and pages them) ---------------------
def needs_listing(
    tx: Tx, *, territory_pk: int, status: str | None = "open", today: dt.date | None = None
) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(id, document, project id, project document) of a territory's calls for skills, in pk order;
    ``status``: only those with this status (None: all); ``today``: only those whose deadline has
    not passed."""
    stmt = (
        select(NeedRow.ext_id, NeedRow.data, ProjectRow.ext_id, ProjectRow.data)
        .join(ProjectRow, NeedRow.project_pk == ProjectRow.pk)
        .where(NeedRow.territory_pk == territory_pk)
        .order_by(NeedRow.pk)
    )
    if status is not None:
        stmt = stmt.where(NeedRow.status == status)
    if today is not None:
        stmt = stmt.where(or_(NeedRow.deadline.is_(None), NeedRow.deadline >= today))
    return [(ext, data, pid, pdata) for ext, data, pid, pdata in tx.session.execute(stmt)]


def partners_listing(tx: Tx, *, territory_pk: int) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(id, document, offering documents) of a territory's partners, in pk order."""
    partners = {
        ext: (ext, data, [])
        for ext, data in tx.session.execute(
            select(PartnerRow.ext_id, PartnerRow.data).where(PartnerRow.territory_pk == territory_pk).order_by(PartnerRow.pk)
        )
    }
    for pk_data, pid in tx.session.execute(
        select(OfferingRow.data, PartnerRow.ext_id)
        .join(PartnerRow, OfferingRow.partner_pk == PartnerRow.pk)
        .where(OfferingRow.territory_pk == territory_pk)
        .order_by(OfferingRow.pk)
    ):
        partners[pid][2].append(pk_data)
    return list(partners.values())
