"""A territory at a glance, for city agents: needs, fairness of exposure, projects.

Read-only summaries computed from the store (no index, no model). The web pages and
notebooks use them; they are not part of the ranking.

Example:
    >>> ov = territory_overview(rec, "sceaux-valley")  # doctest: +SKIP
    >>> ov.needs["open"], ov.exposure.gini_contacts  # doctest: +SKIP
    (41, 0.12)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matching.domain import Stage
from matching.evaluation import gini
from matching.store import events, queries

if TYPE_CHECKING:
    from matching.recommender import Recommender

# what a call for skills looks like from the territory's side
NEED_STATES = ("open", "filled", "closed", "expired")
NEED_STATE_LABELS = {"open": "ouvert", "filled": "pourvu", "closed": "fermé", "expired": "échéance passée"}


@dataclass(frozen=True)
class NeedLine:
    id: str
    title: str
    project_id: str
    project_title: str
    headcount: int
    accepted: int  # members with whom both sides agreed (matching.domain.agreed)
    state: str  # one of NEED_STATES


@dataclass(frozen=True)
class MemberExposure:
    id: str
    display_name: str
    contacts: int  # "contacted" events in the rolling window
    suggestions: int  # distinct calls for skills on which the member has any event


@dataclass(frozen=True)
class Exposure:
    """How evenly members are asked: a Gini of 0 is everyone equally, near 1 is a few asked all the time."""

    window_days: int
    member_cap: int
    members: int  # members who may be suggested (consent, below their maximum engagements)
    contacted: int  # of those, contacted at least once in the window
    at_cap: int  # reached the contact cap: not suggested until the window passes
    gini_contacts: float
    gini_suggestions: float
    most_asked: list[MemberExposure] = field(default_factory=list)


@dataclass(frozen=True)
class TerritoryOverview:
    territory_id: str
    name: str
    members: int
    projects: int
    partners: int
    needs: dict[str, int]  # NEED_STATES -> count
    need_lines: list[NeedLine]
    projects_by_stage: list[tuple[Stage, int]]  # every stage, in chain order
    projects_by_cause: list[tuple[str, int]]  # most frequent first
    exposure: Exposure


@dataclass(frozen=True)
class ProjectLine:
    id: str
    title: str
    stage: Stage
    commune: str | None
    holder: str | None
    open_needs: int


def list_projects(rec: Recommender, territory_id: str, *, holder: str | None = None) -> list[ProjectLine]:
    """The projects of a territory (only those of ``holder`` when given), in stage then title order."""
    with rec.store.read() as tx:
        rows = queries.projects_overview(tx, territory_pk=tx.territory_pk(territory_id))
    lines = [
        ProjectLine(
            id=ext,
            title=data["title"],
            stage=Stage(data.get("stage", Stage.IDEE)),
            commune=data.get("commune"),
            holder=data.get("holder"),
            open_needs=open_needs,
        )
        for ext, data, open_needs in rows
        if holder is None or data.get("holder") == holder
    ]
    return sorted(lines, key=lambda p: (p.stage.rank, p.title.casefold(), p.id))


def list_partners(rec: Recommender, territory_id: str) -> list[tuple[str, str]]:
    """``(id, name)`` of the territory's partners, by name."""
    with rec.store.read() as tx:
        rows = queries.partner_names(tx, territory_pk=tx.territory_pk(territory_id))
    return sorted(rows, key=lambda p: (p[1].casefold(), p[0]))


def territory_overview(
    rec: Recommender, territory_id: str, *, now: dt.datetime | None = None, top: int = 10
) -> TerritoryOverview:
    """Open and filled calls for skills, exposure of members, projects per stage and per cause.

    A call for skills is **filled** when both sides agreed with as many members as its
    headcount: each member's latest answer (their side) is ``accepted`` and the holder's side
    (the holder, or staff for them) accepted or completed it; **closed** when its holder closed
    it; **expired** when its deadline passed while still open. Contacts are the holders' side
    ``contacted`` events in the window; suggestions, the calls on which a member has any event
    (served by the service included).
    """
    now = now or rec.clock.now()
    policy = rec.weights.exposure
    with rec.store.read() as tx:
        tpk = tx.territory_pk(territory_id)
        territory = tx.get_territory(territory_id)
        members = [
            (ext, data["display_name"], available) for ext, data, available in queries.members_overview(tx, territory_pk=tpk)
        ]
        projects = [data for _, data, _ in queries.projects_overview(tx, territory_pk=tpk)]
        needs = queries.needs_overview(tx, territory_pk=tpk)
        n_partners = len(queries.partner_names(tx, territory_pk=tpk))
        states = events.suggestions(tx, territory_pk=tpk, question="member_for_need")
        contacts = events.contact_counts(tx, territory_pk=tpk, since=now - dt.timedelta(days=policy.window_days))

    accepted = Counter(need for (need, _), state in states.items() if state.agreed)
    today = now.date()
    lines = []
    for need_id, data, status, deadline, project_id, project_title in needs:
        headcount = int(data.get("headcount", 1))
        if status == "closed":
            state = "closed"
        elif accepted[need_id] >= headcount:
            state = "filled"
        elif deadline is not None and deadline < today:
            state = "expired"
        else:
            state = "open"
        lines.append(NeedLine(need_id, data["title"], project_id, project_title, headcount, accepted[need_id], state))
    lines.sort(key=lambda n: (NEED_STATES.index(n.state), n.project_title.casefold(), n.id))

    suggested = Counter(member for (_, member) in states)
    per_member = [
        MemberExposure(ident, name, contacts.get(ident, 0), suggested.get(ident, 0))
        for ident, name, available in members
        if available
    ]
    most = sorted(per_member, key=lambda m: (-m.contacts, -m.suggestions, m.id))
    exposure = Exposure(
        window_days=policy.window_days,
        member_cap=policy.member_cap,
        members=len(per_member),
        contacted=sum(1 for m in per_member if m.contacts),
        at_cap=sum(1 for m in per_member if policy.member_cap > 0 and m.contacts >= policy.member_cap),
        gini_contacts=gini([m.contacts for m in per_member]),
        gini_suggestions=gini([m.suggestions for m in per_member]),
        most_asked=[m for m in most if m.contacts or m.suggestions][:top],
    )

    by_stage = Counter(Stage(p.get("stage", Stage.IDEE)) for p in projects)
    by_cause = Counter(c for p in projects for c in p.get("causes", []))
    return TerritoryOverview(
        territory_id=territory_id,
        name=territory.name,
        members=len(members),
        projects=len(projects),
        partners=n_partners,
        needs={s: sum(1 for n in lines if n.state == s) for s in NEED_STATES},
        need_lines=lines,
        projects_by_stage=[(s, by_stage.get(s, 0)) for s in Stage],
        projects_by_cause=sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0].casefold())),
        exposure=exposure,
    )
