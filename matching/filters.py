"""Hard rules -> allowed ids. A candidate that fails one is never scored nor returned.

- territory: only entities of the asking territory;
- members: consent to be suggested and below their maximum engagements;
- needs: open, deadline not passed;
- offerings: serve the project's stage (or the next one), eligibility, capacity > 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import or_, select

from matching.domain import Offering, Project, Stage
from matching.store import MemberRow, NeedRow, OfferingRow, ProjectRow, Tx
from matching.text import strip_accents


def available_members(tx: Tx, territory_pk: int) -> set[int]:
    stmt = select(MemberRow.pk).where(MemberRow.territory_pk == territory_pk, MemberRow.available.is_(True))
    return set(tx.s.scalars(stmt))


def open_needs(tx: Tx, territory_pk: int, today: dt.date | None = None) -> set[int]:
    today = today or dt.date.today()
    stmt = select(NeedRow.pk).where(
        NeedRow.territory_pk == territory_pk,
        NeedRow.status == "open",
        or_(NeedRow.deadline.is_(None), NeedRow.deadline >= today),
    )
    return set(tx.s.scalars(stmt))


def projects_at(tx: Tx, territory_pk: int, stages: set[Stage] | None = None) -> set[int]:
    stmt = select(ProjectRow.pk).where(ProjectRow.territory_pk == territory_pk)
    if stages is not None:
        stmt = stmt.where(ProjectRow.stage.in_([s.value for s in stages]))
    return set(tx.s.scalars(stmt))


def _norm(name: str) -> str:
    return strip_accents(name).lower().strip()


def eligible(offering: Offering, project: Project) -> bool:
    """Whether a project satisfies an offering's eligibility rules."""
    rules = offering.eligibility
    if rules.requires_legal_structure and not project.legal_structure:
        return False
    if rules.communes and (not project.commune or _norm(project.commune) not in {_norm(c) for c in rules.communes}):
        return False
    if rules.causes and not {_norm(c) for c in rules.causes} & {_norm(c) for c in project.causes}:
        return False
    return offering.capacity > 0


def eligibility_key(offering: Offering) -> str:
    """What the projects eligible for an offering depend on, besides the projects: its stages,
    its rules and whether it has capacity (``eligible``); equal keys, equal eligible projects."""
    return offering.model_dump_json(include={"stages", "eligibility"}) + ("" if offering.capacity > 0 else " full")


def eligible_offerings(offerings: Iterable[tuple[int, Offering]], project: Project, stages: set[Stage]) -> set[int]:
    """The pks of the offerings serving one of ``stages`` for which the project is eligible."""
    return {pk for pk, off in offerings if stages & set(off.stages) and eligible(off, project)}


def offerings_at(tx: Tx, territory_pk: int, stages: set[Stage] | None) -> set[int]:
    rows = tx.s.execute(select(OfferingRow.pk, OfferingRow.data).where(OfferingRow.territory_pk == territory_pk))
    if stages is None:
        return {pk for pk, _ in rows}
    return {pk for pk, data in rows if stages & {Stage(s) for s in data["stages"]}}
