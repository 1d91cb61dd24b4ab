"""Domain types of Maillage: territories, members, projects, needs, partners, offerings.

These are pydantic models so that the same definitions validate API payloads, ingest
files and stored rows. They know nothing about HTTP, SQL or FAISS.

The **support chain** (``Stage``) is the explicit taxonomy of stages a project goes
through, in order::

    idee -> test -> financement -> lancement -> croissance

- ``idee``: an idea being shaped (no structure yet);
- ``test``: the idea is tested with real users (e.g. My Social Business Model);
- ``financement``: looking for money: loans, crowdfunding, guarantees;
- ``lancement``: the activity starts (premises, first hires, training);
- ``croissance``: the activity grows (new sites, partners, scaling).

Example:
    >>> Stage.TEST.next()
    <Stage.FINANCEMENT: 'financement'>
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from matching.textnorm import normalise_text

# Bounds shared by every text and list field: they protect the store, the encoder and
# the API from oversized input (a 4xx instead of a slow or failed request).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
ExtId = Annotated[str, Field(pattern=ID_PATTERN, description="Identifiant externe (lettres, chiffres, _ . : -)")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
MAX_OFFERING_EXAMPLES = 10  # the examples a partner writes for an offering
LEARNED_EXAMPLES_PER_OFFERING = 20  # the newest projects an offering was accepted for, as more examples
LongText = Annotated[str, Field(max_length=4000)]
Tag = Annotated[str, Field(min_length=1, max_length=100)]
RomeCode = Annotated[str, Field(pattern=r"^\d{6}$", description="Code d'une macro-compétence ROME 4.0")]
ROME_DESCRIPTION = "Codes ROME 4.0 des macro-compétences (confirmés par une personne ; suggestions : /rome/suggestions)"


def _known_rome_codes(codes: list[str]) -> list[str]:
    from matching.rome import unknown

    if wrong := unknown(codes):
        raise ValueError(f"code ROME 4.0 inconnu : {wrong[0]}")
    if len(set(codes)) != len(codes):
        raise ValueError("codes ROME en double")
    return codes


RomeCodes = Annotated[list[RomeCode], AfterValidator(_known_rome_codes)]


class Stage(StrEnum):
    """A stage of the support chain, in order."""

    IDEE = "idee"
    TEST = "test"
    FINANCEMENT = "financement"
    LANCEMENT = "lancement"
    CROISSANCE = "croissance"

    @property
    def rank(self) -> int:
        return list(Stage).index(self)

    def next(self) -> Stage | None:
        """The following stage, or None at the end of the chain."""
        stages = list(Stage)
        return stages[self.rank + 1] if self.rank + 1 < len(stages) else None

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.IDEE: "idée",
    Stage.TEST: "test",
    Stage.FINANCEMENT: "financement",
    Stage.LANCEMENT: "lancement",
    Stage.CROISSANCE: "croissance",
}


class OfferingKind(StrEnum):
    """What a partner offering provides."""

    TEST = "test"  # test phase, experimentation programme
    FINANCING = "financing"  # loans, crowdfunding, grants
    GUARANTEE = "guarantee"  # bank counter-guarantee, honour loans
    TRAINING = "training"
    SPACE = "space"  # coworking, premises
    MENTORING = "mentoring"
    NETWORK = "network"
    OTHER = "other"


OFFERING_KIND_LABELS: dict[OfferingKind, str] = {
    OfferingKind.TEST: "phase de test",
    OfferingKind.FINANCING: "financement",
    OfferingKind.GUARANTEE: "garantie",
    OfferingKind.TRAINING: "formation",
    OfferingKind.SPACE: "espace de travail",
    OfferingKind.MENTORING: "accompagnement",
    OfferingKind.NETWORK: "mise en réseau",
    OfferingKind.OTHER: "autre",
}

Weekday = Literal["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]


def _types(annotation: object) -> set[object]:
    """The plain types an annotation admits (unions and Annotated unpacked)."""
    from typing import get_args

    args = get_args(annotation)
    if not args:
        return {annotation}
    return set().union(*(_types(a) for a in args))


@lru_cache(maxsize=1024)
def _field_rules(model: type[BaseModel], field: str) -> tuple[bool, bool, bool, bool]:
    """(numbers only, booleans only, no booleans, dates) for a field; cached: reading
    ``model_fields`` on every validated value is slow."""
    accepted = frozenset(_types(model.__pydantic_fields__[field].annotation))
    return (
        bool(accepted & {int, float}) and str not in accepted,
        bool in accepted and not accepted & {int, float, str},
        bool not in accepted,
        bool(accepted & {dt.date, dt.datetime}),
    )


@lru_cache(maxsize=1024)
def _as_declared(model: type[BaseModel], field: str) -> TypeAdapter:
    """The field's declared type and bounds, without the model's validators."""
    info = model.__pydantic_fields__[field]
    declared = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(declared, config=ConfigDict(str_strip_whitespace=True))


def _check_as_sent(model: type[BaseModel], field: str, value: object) -> None:
    """Raise the first error of ``value`` against the field's declared bounds (its type and
    context kept, so that the API's French message is the same as for any other error)."""
    try:
        _as_declared(model, field).validate_python(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PydanticCustomError(error["type"], "{detail}", {**error.get("ctx", {}), "detail": error["msg"]}) from None


def _normalised(value: object) -> object:
    """``normalise_text`` on the strings of a list, on the keys and strings of a dict; the
    value itself when nothing changes (``normalise_text`` returns an unchanged text as is)."""
    if isinstance(value, list):
        items = [normalise_text(v) if isinstance(v, str) else v for v in value]
        return value if all(map(operator.is_, items, value)) else items
    if isinstance(value, dict):
        pairs = [
            ((normalise_text(k) if isinstance(k, str) else k), (normalise_text(v) if isinstance(v, str) else v))
            for k, v in value.items()
        ]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    return value


class _Model(BaseModel):
    """Base: unknown fields are rejected; text is valid Unicode, without invisible characters,
    NFC-normalised and stripped (``matching.textnorm``), so a text of invisible characters
    only is empty like a text of spaces; numbers and booleans are not read from other types."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _normalise_text(cls, value: object, info: ValidationInfo) -> object:
        # pydantic's lax mode would read "3" as 3, "yes" as true, `false` as 0 and `0` as
        # 1970-01-01: refuse all of them (a CSV file's text is converted by the ingest first)
        numbers_only, booleans_only, no_booleans, dates = _field_rules(cls, info.field_name)
        if type(value) is str:  # the common case, first
            if numbers_only:
                raise ValueError("un nombre est attendu")
            if booleans_only:
                raise ValueError("true ou false est attendu")
            normalised: object = normalise_text(value)
        elif isinstance(value, list | dict):
            if booleans_only:
                raise ValueError("true ou false est attendu")
            normalised = _normalised(value)
        else:
            if isinstance(value, bool):
                if no_booleans:
                    raise ValueError("un booléen n'est pas accepté ici")
            elif booleans_only and value is not None:
                raise ValueError("true ou false est attendu")
            elif dates and isinstance(value, int | float):
                raise ValueError("une date au format ISO (AAAA-MM-JJ) est attendue")
            elif numbers_only and isinstance(value, str):  # a str subclass
                raise ValueError("un nombre est attendu")
            return value
        # Text: valid Unicode (a lone surrogate is refused by normalise_text, in French),
        # format and control characters removed, NFC, stripped; pydantic then checks the
        # bounds on the normalised text (a text of invisible characters only is empty). When
        # the normalisation changed something (rare), the bounds are first checked on what
        # was sent, so that it never turns a too long text or a malformed id into a valid
        # one. Nested models (needs, eligibility) arrive as dicts: their own validator
        # normalises their fields.
        if normalised is not value:
            _check_as_sent(cls, info.field_name, value)
        return normalised


# The same rules for input bodies that are not domain entities (the API's free-text search).
InputModel = _Model


class PolicyAxis(_Model):
    """An axis of the territory's public policy (e.g. « Transition écologique »): projects are
    aligned with it by meaning (``matching.policy``)."""

    id: ExtId
    title: ShortText
    description: LongText = Field(default="", description="Ce que l'axe recouvre, en quelques phrases")

    def text(self) -> str:
        return ". ".join(p for p in (self.title, self.description) if p)


class Territory(_Model):
    """A town and its ecosystem; territories never see each other's data."""

    id: ExtId
    name: ShortText
    communes: list[ShortText] = Field(default_factory=list, max_length=500)
    axes: list[PolicyAxis] = Field(default_factory=list, max_length=30, description="Axes de la politique publique du territoire")

    @model_validator(mode="after")
    def _unique_axes(self) -> Territory:
        ids = [a.id for a in self.axes]
        if len(ids) != len(set(ids)):
            raise ValueError("axes : identifiants en double")
        return self


class Preferences(_Model):
    """What a member would like, set on their page: kinds of task (``data/task_kinds.json``), how
    far they would go, and whether they want the weekly e-mail of the calls that fit them (opt-in).
    Kept in the member's document; the ranking reads them through the ``wants`` component when its
    weight is above 0 (``matching.reciprocal``)."""

    task_kinds: list[Tag] = Field(default_factory=list, max_length=20, description="Types de missions souhaités")
    max_km: float | None = Field(default=None, ge=0, le=500, description="Distance maximale (km)")
    digest: bool = Field(default=False, description="Reçoit chaque semaine les nouveaux appels qui lui correspondent")


class Member(_Model):
    """A resident who may be suggested for calls for skills."""

    id: ExtId
    display_name: ShortText = Field(description="Nom affiché (prénom et initiale)")
    skills: LongText = Field(default="", description="Compétences en texte libre")
    skill_tags: list[Tag] = Field(default_factory=list, max_length=50)
    bio: LongText = ""
    hours_per_week: float = Field(default=2.0, ge=0, le=80)
    days: list[Weekday] = Field(default_factory=list, max_length=7)
    commune: ShortText | None = None
    postcode: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None
    remote_ok: bool = True
    causes: list[Tag] = Field(default_factory=list, max_length=20)
    consent: bool = Field(default=False, description="Accepte d'être suggéré·e")
    max_engagements: int = Field(default=2, ge=0, le=20)
    active_engagements: int = Field(default=0, ge=0, le=100)
    email: Annotated[str, Field(max_length=254)] | None = None
    rome_skills: RomeCodes = Field(default_factory=list, max_length=30, description=ROME_DESCRIPTION)
    preferences: Preferences = Field(default_factory=Preferences, description="Préférences (page du membre)")

    @model_validator(mode="after")
    def _has_text(self) -> Member:
        if not (self.skills or self.skill_tags or self.bio):
            raise ValueError("un membre doit avoir au moins skills, skill_tags ou bio")
        return self

    def text(self) -> str:
        """The text that represents this member for matching."""
        parts = [self.skills, ", ".join(self.skill_tags), self.bio]
        return ". ".join(p for p in parts if p)


class Need(_Model):
    """A call for skills (appel à compétences) attached to a project."""

    id: ExtId
    title: ShortText
    text: LongText = ""
    hours_per_week: float = Field(default=2.0, ge=0, le=80)
    remote: bool = False
    deadline: dt.date | None = None
    status: Literal["open", "closed"] = "open"
    headcount: int = Field(default=1, ge=1, le=50)
    rome_skills: RomeCodes = Field(default_factory=list, max_length=30, description=ROME_DESCRIPTION)
    starts_on: dt.date | None = Field(default=None, description="Début souhaité (startAt d'API Engagement)")
    posted_on: dt.date | None = Field(default=None, description="Date de publication (postedAt d'API Engagement)")
    open_to_minors: bool | None = Field(default=None, description="Ouvert aux mineurs (openToMinors)")
    reduced_mobility_accessible: bool | None = Field(
        default=None, description="Accessible aux personnes à mobilité réduite (reducedMobilityAccessible)"
    )

    def full_text(self) -> str:
        return ". ".join(p for p in (self.title, self.text) if p)


class Project(_Model):
    """A project carried by a holder, at a stage of the support chain."""

    id: ExtId
    title: ShortText
    description: LongText = ""
    stage: Stage = Stage.IDEE
    causes: list[Tag] = Field(default_factory=list, max_length=20)
    commune: ShortText | None = None
    holder: Annotated[str, Field(max_length=200)] | None = None
    legal_structure: bool = Field(default=False, description="Le projet a une structure juridique")
    needs: list[Need] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _unique_needs(self) -> Project:
        ids = [n.id for n in self.needs]
        if len(ids) != len(set(ids)):
            raise ValueError("needs: identifiants en double")
        return self

    def text(self) -> str:
        return ". ".join(p for p in (self.title, self.description) if p)


class Eligibility(_Model):
    """Rules a project must satisfy to be eligible for an offering."""

    requires_legal_structure: bool = False
    communes: list[ShortText] = Field(default_factory=list, max_length=500, description="Vide = toutes")
    causes: list[Tag] = Field(default_factory=list, max_length=20, description="Vide = toutes")


class Offering(_Model):
    """Something a partner offers to projects at given stages."""

    id: ExtId
    title: ShortText
    text: LongText = ""
    stages: list[Stage] = Field(min_length=1, max_length=len(Stage))
    kind: OfferingKind = OfferingKind.OTHER
    eligibility: Eligibility = Field(default_factory=Eligibility)
    capacity: int = Field(default=10, ge=0, le=10_000, description="Projets suivis en même temps")
    examples: list[ShortText] = Field(
        default_factory=list,
        max_length=MAX_OFFERING_EXAMPLES,
        description=(
            "Demandes typiques auxquelles l'offre répond, dans les mots d'un porteur de projet "
            "(3 à 10 recommandées), par ex. « la banque me demande une caution »"
        ),
    )

    @field_validator("examples")
    @classmethod
    def _distinct_examples(cls, examples: list[str]) -> list[str]:
        examples = [" ".join(e.split()) for e in examples]
        if any(not e for e in examples):
            raise ValueError("un exemple est vide")
        if len({e.casefold() for e in examples}) != len(examples):
            raise ValueError("exemples en double")
        return examples

    def full_text(self) -> str:
        return ". ".join(p for p in (self.title, self.text) if p)


class Partner(_Model):
    """An organisation of the support chain."""

    id: ExtId
    name: ShortText
    description: LongText = ""
    email: Annotated[str, Field(max_length=254)] | None = Field(default=None, description="Adresse du point hebdomadaire")
    offerings: list[Offering] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _unique_offerings(self) -> Partner:
        ids = [o.id for o in self.offerings]
        if len(ids) != len(set(ids)):
            raise ValueError("offerings: identifiants en double")
        return self


class Match(BaseModel):
    """One ranked candidate with its explainable score."""

    id: str = Field(description="Identifiant externe du candidat")
    kind: Literal["member", "need", "offering", "project"]
    label: str = Field(description="Nom lisible du candidat")
    score: float = Field(ge=0, le=1)
    breakdown: dict[str, float] = Field(description="Composantes nommées du score, chacune dans [0,1]")
    reasons: list[str] = Field(description="Raisons en français")
    parent_id: str | None = Field(default=None, description="Projet d'un besoin, partenaire d'une offre")


ENTITY_KINDS = ("member", "project", "partner")

# -- names defined once: what is indexed, what a free-text search looks for, the questions ----

# Entity kinds whose text is embedded and indexed (one dense index per encoder, one lexical index each).
Kind = Literal["member", "need", "offering", "project"]
INDEXED_KINDS: tuple[Kind, ...] = ("member", "need", "offering", "project")

# What a free-text search looks for (API ``target``, CLI ``--target``, the search page), and its kind.
Target = Literal["members", "needs", "offerings", "projects"]
TARGET_KINDS: dict[str, Kind] = {"members": "member", "needs": "need", "offerings": "offering", "projects": "project"}
TARGETS: tuple[str, ...] = tuple(TARGET_KINDS)
TARGET_LABELS: dict[str, str] = {
    "members": "des membres (compétences)",
    "needs": "des appels à compétences ouverts",
    "offerings": "des offres de partenaires",
    "projects": "des projets",
}

# The questions, by the one name used in weights, events, API answers and method names.
QuestionName = Literal["member_for_need", "offering_for_project", "project_for_partner", "need_for_member"]
QUESTIONS: tuple[str, ...] = ("member_for_need", "offering_for_project", "project_for_partner", "need_for_member")
FREE_TEXT = "free_text"  # the free-text search has weights of its own
WeightsKey = Literal["member_for_need", "offering_for_project", "project_for_partner", "need_for_member", "free_text"]
WEIGHTS_KEYS: tuple[str, ...] = (*QUESTIONS, FREE_TEXT)


# -- feedback on suggestions ------------------------------------------------------------------

EventType = Literal["shown", "contacted", "accepted", "declined", "no_answer", "completed", "interested", "not_interested"]

EVENT_LABELS: dict[str, str] = {
    "shown": "proposé",
    "contacted": "contacté",
    "accepted": "accepté",
    "declined": "refusé",
    "no_answer": "sans réponse",
    "completed": "terminé",
    "interested": "intéressé·e",
    "not_interested": "pas intéressé·e",
}

# Every suggestion (question, subject, candidate) has two sides, and the service:
# - ``subject``: the one who asked (the holder of the call for skills or of the project, the
#   partner, the member asking for calls); staff (admin, agent) act for this side only;
# - ``candidate``: the one suggested (the member, the offering's partner, the project's holder);
# - ``service``: what the service itself records (``shown``, when it serves a suggestion).
# The side is set by the service from the key that reports the event, never read from a body
# (``matching.access.event_report``).
Side = Literal["subject", "candidate", "service"]
SIDES: tuple[str, ...] = ("subject", "candidate", "service")
SIDE_LABELS: dict[str, str] = {"subject": "demandeur", "candidate": "personne suggérée", "service": "service"}

# What may follow what on one side of a suggestion (None: nothing yet on that side).
# The subject side: a suggestion may be shown again; a "no answer" may be followed by a new
# contact; an accepted engagement may still be declined (withdrawal) or completed.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"shown", "contacted"}),
    "shown": frozenset({"shown", "contacted", "declined", "no_answer"}),
    "contacted": frozenset({"accepted", "declined", "no_answer"}),
    "no_answer": frozenset({"contacted", "accepted", "declined"}),
    "accepted": frozenset({"completed", "declined"}),
    "declined": frozenset(),
    "completed": frozenset(),
}
# The candidate side: the answers of the one suggested. "accepted" is their consent (the
# contact details show once both sides agreed); "declined" after it is a withdrawal; one may
# come back after "not interested" or a withdrawal by saying "interested" again.
CANDIDATE_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"interested", "not_interested", "accepted", "declined"}),
    "interested": frozenset({"accepted", "declined", "not_interested"}),
    "not_interested": frozenset({"interested"}),
    "accepted": frozenset({"declined"}),
    "declined": frozenset({"interested"}),
}
# The service records that it served a suggestion, once (its event id is deterministic).
SERVICE_TRANSITIONS: dict[str | None, frozenset[str]] = {None: frozenset({"shown"}), "shown": frozenset({"shown"})}
SIDE_TRANSITIONS: dict[str, dict[str | None, frozenset[str]]] = {
    "subject": TRANSITIONS,
    "candidate": CANDIDATE_TRANSITIONS,
    "service": SERVICE_TRANSITIONS,
}
SIDE_TYPES: dict[str, frozenset[str]] = {side: frozenset().union(*t.values()) for side, t in SIDE_TRANSITIONS.items()}

# The subject side's states of a suggestion still under way (an offering's capacity counts them).
PENDING_STATES = frozenset({"shown", "contacted", "accepted", "no_answer"})
# Both sides agreed: the subject side accepted (or completed) and the candidate's latest answer is
# "accepted". Contact details show then, and a call for skills counts the member as found.
AGREED_SUBJECT = frozenset({"accepted", "completed"})
AGREED_CANDIDATE = frozenset({"accepted"})
# A refusal of the one suggested: the suggestion is closed for them.
REFUSED_CANDIDATE = frozenset({"declined", "not_interested"})


def agreed(subject_state: str | None, candidate_state: str | None) -> bool:
    """Whether both sides of a suggestion agreed (given each side's latest event type)."""
    return subject_state in AGREED_SUBJECT and candidate_state in AGREED_CANDIDATE


@dataclass(frozen=True)
class SuggestionState:
    """Where one suggestion stands, side by side (from its events in time order).

    Attributes:
        subject: the latest event type of the subject side (None: none yet).
        candidate: the latest answer of the candidate (None: none yet).
        served_at: when the service first served it (its ``shown``), UTC naive.
        first_at: its first event, of any side: when the suggestion came to exist.
        last_at: the time of the latest event of each side.
    """

    subject: str | None = None
    candidate: str | None = None
    served_at: dt.datetime | None = None
    first_at: dt.datetime | None = None
    last_at: dict[str, dt.datetime] = field(default_factory=dict)

    @classmethod
    def replay(cls, history: Iterable[tuple[str, str, dt.datetime]]) -> SuggestionState:
        """From ``(side, type, at)`` in time then insertion order."""
        latest: dict[str, str] = {}
        last_at: dict[str, dt.datetime] = {}
        served_at = first_at = None
        for side, type_, at in history:
            latest[side] = type_
            last_at[side] = at
            first_at = first_at or at
            if side == "service" and served_at is None:
                served_at = at
        return cls(latest.get("subject"), latest.get("candidate"), served_at, first_at, last_at)

    def of(self, side: str) -> str | None:
        """The state a side's state machine starts from: the subject side is at ``shown`` once the
        service served the suggestion (until its own first event)."""
        if side == "subject":
            return self.subject_state
        if side == "candidate":
            return self.candidate
        return "shown" if self.served_at is not None else None

    @property
    def subject_state(self) -> str | None:
        return self.subject or ("shown" if self.served_at is not None else None)

    @property
    def agreed(self) -> bool:
        return agreed(self.subject, self.candidate)

    @property
    def refused(self) -> bool:
        """The one suggested said no (not interested, or withdrew)."""
        return self.candidate in REFUSED_CANDIDATE


def shown_event_id(question: str, subject_id: str, candidate_id: str) -> str:
    """The id of the service's ``shown`` of a suggestion: the same each time it is served, so it is
    recorded once (a hash when the ids are too long to spell out)."""
    ident = f"shown:{question}:{subject_id}:{candidate_id}"
    if len(ident) <= 128:
        return ident
    return "shown:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:48]


# Which entity kinds a question's subject and candidate are.
QUESTION_KINDS: dict[str, tuple[str, str]] = {
    "member_for_need": ("need", "member"),
    "offering_for_project": ("project", "offering"),
    "project_for_partner": ("partner", "project"),
    "need_for_member": ("member", "need"),
}


class FeedbackEvent(_Model):
    """Something that happened to a suggestion (subject, candidate) of a question."""

    id: ExtId = Field(description="Identifiant de l'événement (idempotence)")
    question: QuestionName
    subject_id: ExtId = Field(description="Besoin, projet, partenaire ou membre pour lequel on a suggéré")
    candidate_id: ExtId = Field(description="Le candidat suggéré")
    type: EventType
    at: dt.datetime = Field(description="Date et heure (ISO 8601)")
    score: float | None = Field(default=None, ge=0, le=1, description="Score affiché")
    breakdown: dict[Annotated[str, Field(max_length=40)], Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, max_length=20, description="Composantes du score affiché (pour apprendre les poids)"
    )

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        # naive timestamps are taken as UTC so that every comparison is well defined
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class RecordedEvent(FeedbackEvent):
    """An event as stored: what was reported, and the side that reported it (set by the service)."""

    side: Side = Field(default="subject", description="Côté qui a rapporté l'événement : subject, candidate ou service")


@dataclass(frozen=True)
class Report:
    """An event about to be recorded: the side it is recorded for, and whether the suggestion must
    have been served before a ``contacted`` (keys that are not staff: ``matching.access``)."""

    event: FeedbackEvent
    side: str = "subject"
    served_first: bool = False
