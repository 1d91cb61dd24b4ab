"""Explainable scores: named components in [0, 1], weights as data, French reasons.

The score is the weighted mean of a question's components (``matching.fusion``). Weights
live in ``data/weights.json`` (one table per question, the retrieval parameters and the
exposure policy); analysts edit or fit them in notebooks and the service reads them
(``Weights.load``, ``WeightsFile``). This module holds their model, the definition of each
structured component for one candidate (the vectorised ones in ``matching.columns`` give the
same values) and the French reasons.

Example:
    >>> w = Weights.model_validate({"member_for_need": {"semantic": 3, "lexical": 1}})
    >>> w.for_question("member_for_need")
    {'semantic': 3.0, 'lexical': 1.0}
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from matching import explain
from matching import text as textlib
from matching.domain import OFFERING_KIND_LABELS, WEIGHTS_KEYS, Member, Need, Offering, Project, Stage, WeightsKey
from matching.geo import Communes, proximity
from matching.settings import PACKAGE_DATA

log = logging.getLogger(__name__)

COMPONENT_LABELS = {
    "semantic": "proximité du sens",
    "lexical": "mots en commun",
    "neighbours": "ressemble aux meilleurs candidats",
    "availability": "disponibilité",
    "place": "lieu",
    "load": "charge actuelle",
    "stage": "étape",
    "causes": "causes partagées",
    "exposure": "peu sollicité·e récemment",
    "examples": "proche d'une demande type de l'offre",
    "wants": "l'appel correspond à ce que souhaite le membre",
}

# the packaged weights are the defaults of every table left out of a weights file
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    key: table
    for key, table in json.loads((PACKAGE_DATA / "weights.json").read_text(encoding="utf-8")).items()
    if key in WEIGHTS_KEYS
}


class RetrievalParams(BaseModel):
    """How candidates are gathered before scoring (see ``matching.retrieval``)."""

    model_config = ConfigDict(extra="forbid")

    pool: int = Field(default=200, ge=1, le=10_000, description="Candidats par canal (dense, lexical)")
    feedback_top: int = Field(default=3, ge=0, le=50, description="Meilleurs candidats pour la composante neighbours")


class ExposurePolicy(BaseModel):
    """Fair exposure: nobody is asked too often, partners are not flooded."""

    model_config = ConfigDict(extra="forbid")

    member_cap: int = Field(
        default=2, ge=0, le=100, description="Sollicitations (contacts) par membre et par fenêtre ; 0 = sans plafond"
    )
    window_days: int = Field(default=30, ge=1, le=366, description="Fenêtre glissante, en jours")
    partner_caps: bool = Field(default=True, description="La capacité d'une offre borne ses suggestions en cours")
    diversity: float = Field(default=0.0, ge=0.0, lt=1.0, description="Diversité (MMR) des listes : 0 = aucune")


class ReciprocalPolicy(BaseModel):
    """How the member's side (``wants``, ``matching.reciprocal``) combines with the one-sided score."""

    model_config = ConfigDict(extra="forbid")

    combine: Literal["mean", "harmonic"] = Field(
        default="mean",
        description="mean : wants est une composante de la moyenne pondérée ; harmonic : moyenne harmonique du score "
        "sans wants et de wants (quand le poids de wants est > 0)",
    )


class Weights(BaseModel):
    """Component weights per question (non-negative; normalised at use)."""

    model_config = ConfigDict(extra="forbid")

    member_for_need: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS["member_for_need"]))
    offering_for_project: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS["offering_for_project"]))
    project_for_partner: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS["project_for_partner"]))
    need_for_member: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS["need_for_member"]))
    free_text: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS["free_text"]))
    retrieval: RetrievalParams = Field(default_factory=RetrievalParams)
    exposure: ExposurePolicy = Field(default_factory=ExposurePolicy)
    reciprocal: ReciprocalPolicy = Field(default_factory=ReciprocalPolicy)

    @field_validator(*WEIGHTS_KEYS)
    @classmethod
    def _check(cls, table: dict[str, float]) -> dict[str, float]:
        unknown = set(table) - set(COMPONENT_LABELS)
        if unknown:
            raise ValueError(f"composantes inconnues : {sorted(unknown)}")
        if any(v < 0 for v in table.values()) or not any(v > 0 for v in table.values()):
            raise ValueError("les poids doivent être positifs ou nuls, au moins un > 0")
        return table

    def for_question(self, question: WeightsKey) -> dict[str, float]:
        return getattr(self, question)

    @classmethod
    def load(cls, path: str | Path) -> Weights:
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.model_dump(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class WeightsFile:
    """The weights a service uses: those given (pinned), or those of the settings' file, read
    again when it changes on disk (``maillage weights fit`` writes it; no restart needed)."""

    def __init__(self, settings: Any, weights: Weights | None = None) -> None:
        self._settings = settings  # the file is ``settings.weights``, read at each reload
        self.pinned = weights is not None
        self._weights = weights or Weights.load(settings.weights)
        self._mtime = None if self.pinned else _mtime(settings.weights)

    @property
    def current(self) -> Weights:
        return self._weights

    def reload(self) -> bool:
        """Read the file again if it changed; False when pinned, unchanged or unreadable."""
        if self.pinned:
            return False
        path = self._settings.weights
        mtime = _mtime(path)
        if mtime is None or mtime == self._mtime:
            return False
        try:
            weights = Weights.load(path)
        except (OSError, ValueError) as exc:
            log.warning("poids illisibles dans %s (%s) : poids précédents conservés", path, exc)
            return False
        self._weights, self._mtime = weights, mtime
        return True


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


# -- components ---------------------------------------------------------------------


def semantic(similarity: float) -> float:
    """Cosine similarity clipped to [0, 1] (negative means unrelated)."""
    return min(1.0, max(0.0, float(similarity)))


def availability(offered_hours: float, asked_hours: float) -> float:
    """1 when the member offers at least the hours asked, else the share offered."""
    if asked_hours <= 0:
        return 1.0
    return min(1.0, offered_hours / asked_hours)


def member_distance_km(member: Member, commune: str | None) -> float | None:
    """Distance between a member's commune (or postcode) and a commune, None if unknown."""
    return Communes.default().distance_km(member.commune, commune, postcode_a=member.postcode)


def place(member: Member, need_remote: bool, commune: str | None) -> float:
    """1 for remote work the member accepts; else decreasing with distance (0.5 if unknown).

    See ``matching.geo.proximity``: 1 in the same commune, ~0.6 at 3 km, ~0.2 at 10 km.
    """
    if need_remote and member.remote_ok:
        return 1.0
    return proximity(member_distance_km(member, commune))


def causes(member_causes: list[str], project_causes: list[str]) -> float | None:
    """Share of the project's causes the member cares about (None if either list is empty)."""
    if not member_causes or not project_causes:
        return None
    wanted = {cause_key(c) for c in project_causes}
    return len(wanted & {cause_key(c) for c in member_causes}) / len(wanted)


@lru_cache(maxsize=4096)  # causes come from a short vocabulary; called per candidate per request
@lru_cache(maxsize=65536)  # a small vocabulary, asked for every member and project
def cause_key(cause: str) -> str:
    """How causes are compared: without accents nor case."""
    return textlib.strip_accents(cause).lower()


def load(member: Member) -> float:
    """1 with no engagement, decreasing as the member approaches their maximum."""
    if member.max_engagements <= 0:
        return 0.0
    return max(0.0, 1.0 - member.active_engagements / member.max_engagements)


def stage_fit(served: list[Stage], stage: Stage) -> float:
    """1 if the offering serves the stage, 0.5 if it serves the next one, else 0."""
    if stage in served:
        return 1.0
    nxt = stage.next()
    return 0.5 if nxt is not None and nxt in served else 0.0


# -- reasons ------------------------------------------------------------------------


def _fmt_km(d: float) -> str:
    return f"{d:.1f} km".replace(".", ",")


def _fmt_hours(h: float) -> str:
    return f"{h:g} h"


def member_reasons(
    member: Member,
    need: Need,
    need_text: str,
    commune: str | None,
    comps: dict[str, float],
    project_causes: list[str] | None = None,
) -> list[str]:
    reasons = []
    words = textlib.shared_words(need_text, member.text())
    if words:
        reasons.append("compétences proches : " + ", ".join(words))
    elif member.skill_tags:
        reasons.append("profil : " + ", ".join(member.skill_tags[:3]))
    else:
        reasons.append("profil : " + _excerpt(member.skills or member.bio))
    reasons.append(f"disponibilité : {_fmt_hours(member.hours_per_week)}/sem. pour {_fmt_hours(need.hours_per_week)} demandées")
    if need.remote and member.remote_ok:
        reasons.append("lieu : à distance possible")
    elif member.commune:
        distance = member_distance_km(member, commune)
        where = f"lieu : habite {member.commune}"
        if distance is not None and distance >= 0.5:
            where += f", à {_fmt_km(distance)} du projet ({commune})"
        reasons.append(where)
    shared = sorted({c.lower() for c in member.causes} & {c.lower() for c in project_causes or []})
    if shared:
        reasons.append("causes partagées : " + ", ".join(shared))
    if member.active_engagements:
        reasons.append(f"déjà engagé·e sur {member.active_engagements} mission(s) sur {member.max_engagements}")
    return reasons


def need_reasons(member: Member, need: Need, project_title: str, comps: dict[str, float]) -> list[str]:
    reasons = [f"projet : {project_title}"]
    words = textlib.shared_words(member.text(), need.full_text())
    if words:
        reasons.append("compétences demandées proches des vôtres : " + ", ".join(words))
    reasons.append(f"temps demandé : {_fmt_hours(need.hours_per_week)}/sem. (vous : {_fmt_hours(member.hours_per_week)})")
    if need.remote:
        reasons.append("lieu : à distance")
    if need.deadline:
        reasons.append(f"échéance : {need.deadline.strftime('%d/%m/%Y')}")
    return reasons


def offering_reasons(offering: Offering, partner_name: str, project: Project, comps: dict[str, float]) -> list[str]:
    reasons = [f"{partner_name} : {OFFERING_KIND_LABELS[offering.kind]}"]
    if comps.get("stage", 0) >= 1:
        reasons.append(f"étape : {project.stage.label}")
    elif comps.get("stage", 0) > 0:
        nxt = project.stage.next()
        reasons.append(f"étape suivante : {nxt.label if nxt else ''}")
    words = textlib.shared_words(project.text(), offering.full_text())
    if words:
        reasons.append("mots en commun : " + ", ".join(words))
    if offering.eligibility.requires_legal_structure:
        reasons.append("éligible : le projet a une structure juridique")
    return reasons


def project_reasons(project: Project, best_offering: Offering | None, comps: dict[str, float]) -> list[str]:
    reasons = [f"étape : {project.stage.label}"]
    if best_offering is not None:
        reasons.append(
            f"{'proche de' if explain.is_close(comps.get('semantic')) else 'pour'} votre offre « {best_offering.title} »"
        )
        words = textlib.shared_words(best_offering.full_text(), project.text())
        if words:
            reasons.append("mots en commun : " + ", ".join(words))
    if project.commune:
        reasons.append(f"lieu : {project.commune}")
    return reasons


def _excerpt(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"
