"""Hard rules a candidate must pass; one that fails is never scored nor returned.

- territory: only entities of the asking territory (every read is by territory);
- members: consent to be suggested and below their maximum engagements (the store keeps it
  as the ``available`` column; ``matching.readmodel`` holds it as a mask);
- needs: open, deadline not passed (``matching.readmodel``, by the clock's day);
- offerings: serve the project's stage (or the next one), eligibility, capacity > 0 (here).

These are pure functions of domain objects: what they are applied to comes from the read model.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from matching.domain import Offering, Project, Stage
from matching.text import strip_accents


@lru_cache(maxsize=65536)  # communes and causes come from small vocabularies: a million projects, a few names
def norm(name: str) -> str:
    """How communes and causes are compared by eligibility rules: no accents, no case, no margins."""
    return strip_accents(name).lower().strip()


def eligible(offering: Offering, project: Project) -> bool:
    """Whether a project satisfies an offering's eligibility rules."""
    rules = offering.eligibility
    if rules.requires_legal_structure and not project.legal_structure:
        return False
    if rules.communes and (not project.commune or norm(project.commune) not in {norm(c) for c in rules.communes}):
        return False
    if rules.causes and not {norm(c) for c in rules.causes} & {norm(c) for c in project.causes}:
        return False
    return offering.capacity > 0


def eligibility_key(offering: Offering) -> str:
    """What the projects eligible for an offering depend on, besides the projects: its stages,
    its rules and whether it has capacity (``eligible``); equal keys, equal eligible projects."""
    return offering.model_dump_json(include={"stages", "eligibility"}) + ("" if offering.capacity > 0 else " full")


def eligible_offerings(offerings: Iterable[tuple[int, Offering]], project: Project, stages: set[Stage]) -> set[int]:
    """The pks of the offerings serving one of ``stages`` for which the project is eligible."""
    return {pk for pk, off in offerings if stages & set(off.stages) and eligible(off, project)}
