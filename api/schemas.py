"""Request and response bodies that are HTTP-specific (entities reuse the domain models)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from matching.domain import ExtId, FeedbackEvent, InputModel, Match, Member, QuestionName, RecordedEvent, Stage, Target


class MatchList(BaseModel):
    question: str = Field(description="La question posée")
    subject_id: str = Field(description="L'entité (ou le texte) pour laquelle on cherche")
    matches: list[Match] = Field(description="Candidats classés, du meilleur au moins bon")


class SearchRequest(InputModel):
    """The domain's input rules (``matching.domain.InputModel``): unknown fields refused, the
    text normalised like every stored text (NFC, invisible characters removed: "empty" means
    empty after that), ``k`` a JSON integer (never ``"3"``, ``3.0`` or ``true``)."""

    text: str = Field(
        min_length=1,
        max_length=4000,
        description="Description libre d'un besoin ou d'un projet (non vide une fois les caractères invisibles retirés)",
    )
    target: Target = Field(description="Ce que l'on cherche : membres, besoins ouverts, offres de partenaires ou projets")
    stage: Stage | None = Field(default=None, description="Étape (pour les offres et les projets)")
    k: int = Field(default=10, ge=1, le=50, strict=True, description="Nombre de résultats (un entier JSON, de 1 à 50)")


class Feed(BaseModel):
    applied: int = Field(description="Dernière position du journal des changements appliquée par ce processus")
    last: int = Field(description="Dernière position du journal dans le stockage")
    lag_changes: int = Field(description="Changements pas encore appliqués")
    lag_seconds: float = Field(description="Âge du plus ancien changement pas encore appliqué (secondes)")
    mode: str = Field(description="notify (PostgreSQL LISTEN/NOTIFY, et sondage) ou poll (sondage seul)")
    following: bool = Field(description="Le suivi du journal tourne dans ce processus")
    error: str | None = Field(default=None, description="Dernière erreur du suivi, s'il ne s'en est pas remis")


class SnapshotState(BaseModel):
    saved: bool = Field(description="Les index sur disque reflètent la mémoire")
    error: str | None = Field(default=None, description="Pourquoi la dernière sauvegarde a échoué (servi depuis la mémoire)")


class Health(BaseModel):
    status: str = Field(
        description="ok ; degraded (sert, mais un index n'est pas sauvegardé ou diffère du stockage) ; lagging (503)"
    )
    encoder: str = Field(description="Modèle d'encodage des textes")
    dim: int | None = Field(default=None, description="Dimension des vecteurs (clé admin)")
    indexes: dict[str, dict[str, Any]] | None = Field(
        default=None, description="Par index : vecteurs, stockage, concordance (clé admin)"
    )
    feed: Feed | None = Field(default=None, description="Position dans le journal des changements et retard (clé admin)")
    snapshot: SnapshotState | None = Field(default=None, description="Dernière sauvegarde des index (clé admin)")


class Problem(BaseModel):
    detail: Any = Field(description="Ce qui ne va pas")


class Routing(BaseModel):
    project_id: str
    stage: Stage = Field(description="Étape actuelle du projet")
    current: Match | None = Field(description="Meilleure offre éligible pour l'étape actuelle")
    next_stage: Stage | None = Field(description="Étape suivante (aucune en fin de chaîne)")
    next: Match | None = Field(description="Meilleure offre éligible pour l'étape suivante")


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[FeedbackEvent] = Field(min_length=1, max_length=1000, description="Événements (1 à 1000)")


class EventReceipt(BaseModel):
    recorded: int = Field(description="Événements enregistrés")
    duplicates: int = Field(description="Événements déjà connus (même identifiant, même contenu)")


class Digest(BaseModel):
    partner_id: str
    partner: str
    week: str = Field(description="Semaine ISO")
    offerings_open: list[str] = Field(description="Offres qui ont encore de la capacité")
    offerings_full: list[str] = Field(description="Offres dont la capacité est atteinte")
    projects: list[Match] = Field(description="Projets à regarder, jamais suivis ni montrés à ce partenaire avant cette semaine")


class MemberExport(BaseModel):
    territory_id: str
    member: Member = Field(description="Le profil tel qu'enregistré")
    events: list[RecordedEvent] = Field(description="Les événements où ce membre est nommé, avec leur côté")
    exported_at: str = Field(description="Date de l'export (UTC)")


class AnswerLinkRequest(InputModel):
    """The suggestion whose candidate will answer through the link."""

    question: QuestionName = Field(description="La question (member_for_need : un membre suggéré pour un appel)")
    subject_id: ExtId = Field(description="Le sujet de la suggestion (l'appel à compétences, le projet…)")
    candidate_id: ExtId = Field(description="La personne suggérée, qui répondra")


class AnswerLink(BaseModel):
    path: str = Field(description="Chemin du lien à ajouter à l'adresse du service (/ui/answer/…)")
    expires_at: dt.datetime = Field(description="Fin de validité du lien (UTC)")


class RomeRequest(InputModel):
    """A text to suggest ROME 4.0 macro-competences for (a call for skills, a member's skills)."""

    text: str = Field(min_length=1, max_length=4000, description="Texte de l'appel à compétences ou des compétences")
    k: int = Field(default=5, ge=1, le=20, strict=True, description="Nombre de suggestions (1 à 20)")


class RomeSuggestion(BaseModel):
    code: str = Field(description="Code de la macro-compétence ROME 4.0")
    label: str = Field(description="Libellé (France Travail, ROME 4.0)")
    score: float = Field(ge=0, le=1, description="Proximité du libellé au texte, dans [0, 1]")


class RomeSuggestions(BaseModel):
    suggestions: list[RomeSuggestion]
    source: str = "ROME 4.0, France Travail (macro-compétences)"


# -- the list endpoints (matching.listing) ------------------------------------------------------------
class ProjectLine(BaseModel):
    id: str
    title: str
    stage: Stage
    commune: str | None = None
    causes: list[str] = Field(default_factory=list)
    holder: str | None = Field(default=None, description="Seulement pour qui travaille sur le projet")
    open_needs: int = Field(description="Appels à compétences ouverts")


class NeedLine(BaseModel):
    id: str
    title: str
    text: str = ""
    hours_per_week: float | None = None
    remote: bool = False
    deadline: dt.date | None = None
    headcount: int = 1
    status: str
    project_id: str
    project_title: str
    stage: Stage = Field(description="Étape du projet")
    commune: str | None = Field(default=None, description="Commune du projet")


class OfferingRef(BaseModel):
    id: str
    title: str


class PartnerLine(BaseModel):
    id: str
    name: str
    description: str = ""
    stages: list[Stage] = Field(description="Étapes servies par ses offres")
    offerings: list[OfferingRef]


class MemberLine(BaseModel):
    id: str
    display_name: str
    commune: str | None = None
    causes: list[str] = Field(default_factory=list)
    skill_tags: list[str] = Field(default_factory=list)
    hours_per_week: float | None = None
    available: bool = Field(description="Peut être suggéré·e (consentement, engagements)")


class _Page(BaseModel):
    total: int = Field(description="Résultats en tout (tous filtres appliqués)")
    page: int = Field(description="Numéro de la page (à partir de 1)")
    pages: int = Field(description="Nombre de pages")
    per_page: int = Field(description="Résultats par page")


class ProjectPage(_Page):
    items: list[ProjectLine]


class NeedPage(_Page):
    items: list[NeedLine]


class PartnerPage(_Page):
    items: list[PartnerLine]


class MemberPage(_Page):
    items: list[MemberLine]
