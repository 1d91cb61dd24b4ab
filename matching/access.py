"""Who may do what: API keys bound to one territory and one role, and the rules of each role,
for the JSON API and the web pages alike.

| role | who | may |
|---|---|---|
| ``admin`` | the deployment's operator for a territory | everything in its territory |
| ``agent`` | city staff | everything in its territory but the territory itself |
| ``holder`` | a project holder (``subject`` = the projects' ``holder`` field: a member id or an organisation) | their projects, their calls for skills and the answers to them |
| ``partner`` | a partner organisation (``subject`` = the partner id) | their organisation, its offerings, the projects suggested to it |
| ``analyst`` | evaluation and tuning | read and evaluate; never a personal contact field |
| ``member`` | a resident (``subject`` = their member id) | their own profile, export, deletion and the calls that fit them |

A key reads ``mlg_<key id>_<secret>``. Only the SHA-256 of the whole key is stored (the
secret has 256 random bits, so a plain hash is enough, as for other API tokens); the key is
shown once, when it is created. A key of territory A sees territory B as if it did not
exist (404).

**What each role reads** (``read_project``, ``project_view``, ``read_member``, ``member_view``,
``check_search``): everyone reads the territory, the partners and a project's public view
(without its ``holder``); the project's working view (its suggestions) is for staff,
analysts and its holder. Member profiles and the member search are for staff, analysts, the
member themself (their own profile) and a holder who holds at least one project; a holder
key whose subject holds nothing reads public things only.

**Contact details show once both sides agreed** (``matching.domain.agreed``): a member's
e-mail to a holder when, on one of that holder's calls for skills, the member's latest answer
is ``accepted`` (their side: only a member key, or their one-time answer link, records it)
and the holder's side is ``accepted`` or ``completed``; a project's holder to a partner (or
a member) likewise, on a suggestion between them and that project. Admins, agents and the
member themself always see the e-mail; partners and analysts never.

**Who may report which event on whose behalf** (``EVENT_SIDES``, ``event_report``): a key
reports for the side of the suggestion it is: the subject's (it asked) or the candidate's
(it was suggested); staff report for the subject side of any suggestion. The side is never
read from the event. ``shown`` is the service's own (``served``): only staff may also
report it. A key that is not staff reports ``contacted`` only on a suggestion the service
served it. ``docs/operations.md`` has the same table.

Example:
    >>> from matching.store import Store
    >>> store = Store("sqlite://")
    >>> token, info = create_key(store, "sceaux", Role.AGENT, label="mairie", force=True)
    >>> authenticate(store, token).role
    <Role.AGENT: 'agent'>
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from matching.domain import ID_PATTERN, QUESTION_KINDS, FeedbackEvent, Match, Member, Project, Report
from matching.errors import InvalidRequest, MaillageError, NotFound
from matching.store import Store, keys, queries
from matching.textnorm import normalise_text

if TYPE_CHECKING:
    from matching.recommender import Recommender

PREFIX = "mlg_"


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    HOLDER = "holder"
    PARTNER = "partner"
    ANALYST = "analyst"
    MEMBER = "member"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "administrateur",
    Role.AGENT: "agent de la ville",
    Role.HOLDER: "porteur de projet",
    Role.PARTNER: "partenaire",
    Role.ANALYST: "analyste",
    Role.MEMBER: "membre",
}
# roles whose key names the entity it acts for, and what that subject is
SUBJECT_OF: dict[Role, str] = {Role.HOLDER: "holder", Role.PARTNER: "partner", Role.MEMBER: "member"}
SUBJECT_LABELS = {"member": "membre", "partner": "partenaire", "holder": "porteur"}
SUBJECT_HINTS = {
    "member": "l'identifiant du membre",
    "partner": "l'identifiant du partenaire",
    "holder": "le porteur tel que ses projets le nomment : identifiant de membre ou nom d'organisation",
}
STAFF = (Role.ADMIN, Role.AGENT)
ALL_ROLES = tuple(Role)
# who may see similar initiatives of other territories (their public fields only: id, title,
# stage, territory), so that towns learn from each other; everyone else sees their own territory
LOOK_ACROSS = (Role.ADMIN, Role.AGENT)
# who reads the report of likely duplicates of a territory
DUPLICATES_REPORT = (Role.ADMIN, Role.AGENT, Role.ANALYST)


class Unauthenticated(MaillageError):
    """No key, an unknown key or a revoked key (HTTP 401)."""


class Forbidden(MaillageError):
    """The key is valid but its role may not do this (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's territory, role and subject."""

    key_id: str
    territory_id: str
    role: Role
    subject: str | None = None

    @property
    def staff(self) -> bool:
        return self.role in STAFF

    def deny(self, what: str) -> Forbidden:
        return Forbidden(f"rôle {self.role.value} ({ROLE_LABELS[self.role]}) : {what}")


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    territory_id: str
    role: Role
    subject: str | None
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, key: keys.StoredKey) -> KeyInfo:
        return cls(key.key_id, key.territory_id, Role(key.role), key.subject, key.label, key.created_at, key.revoked_at)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now(store: Store) -> dt.datetime:
    return store.clock.now().astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _check_subject(store: Store, territory_id: str, role: Role, subject: str | None) -> None:
    """The territory exists, and so does what the key acts for (``--force`` skips this)."""
    with store.read() as tx:
        try:
            tpk = tx.territory_pk(territory_id)
        except NotFound:
            raise InvalidRequest(f"territoire inconnu : {territory_id!r} (--force pour créer la clé quand même)") from None
        if role == Role.PARTNER and subject not in queries.ids_in(tx, kind="partner", territory_pk=tpk, ext_ids=[subject or ""]):
            raise InvalidRequest(f"partenaire inconnu : {subject!r} dans {territory_id!r} (--force pour créer la clé quand même)")
        is_member = subject in queries.ids_in(tx, kind="member", territory_pk=tpk, ext_ids=[subject or ""])
        if role == Role.MEMBER and not is_member:
            raise InvalidRequest(f"membre inconnu : {subject!r} dans {territory_id!r} (--force pour créer la clé quand même)")
        if role == Role.HOLDER and not is_member and not queries.projects_of(tx, territory_pk=tpk, holder=subject or ""):
            raise InvalidRequest(
                f"{subject!r} ne porte aucun projet dans {territory_id!r} et n'en est pas membre : le sujet d'une clé "
                "holder est la valeur du champ holder de ses projets (--force pour créer la clé quand même)"
            )


def create_key(
    store: Store,
    territory_id: str,
    role: Role | str,
    subject: str | None = None,
    label: str = "",
    *,
    force: bool = False,
) -> tuple[str, KeyInfo]:
    """Create a key; returns the key (shown once) and what is stored about it.

    The territory and the subject must exist (``force``: make the key all the same, for what
    will be created later). A holder's subject is what their projects' ``holder`` field says
    (a member id or an organisation's name, 200 characters at most); a member's or a
    partner's is their id.
    """
    role = Role(role)
    if not re.match(ID_PATTERN, territory_id):
        raise InvalidRequest(f"territoire : identifiant invalide {territory_id!r}")
    if role in SUBJECT_OF and not subject:
        raise InvalidRequest(f"le rôle {role.value} exige un sujet ({SUBJECT_HINTS[SUBJECT_OF[role]]})")
    if role not in SUBJECT_OF and subject:
        raise InvalidRequest(f"le rôle {role.value} n'a pas de sujet")
    if subject and role == Role.HOLDER:
        try:
            subject = normalise_text(subject)  # as the projects' holder field is stored
        except ValueError as exc:
            raise InvalidRequest(f"sujet : {exc}") from None
        if not subject or len(subject) > 200:
            raise InvalidRequest("sujet : un porteur est nommé en 1 à 200 caractères au plus")
    elif subject and not re.match(ID_PATTERN, subject):
        raise InvalidRequest(f"sujet : identifiant invalide {subject!r}")
    if not force:
        _check_subject(store, territory_id, role, subject)
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with store.transaction() as tx:
        stored = keys.add_key(
            tx,
            key_id=key_id,
            secret_hash=_digest(token),
            territory_id=territory_id,
            role=role.value,
            subject=subject,
            label=label[:200],
            created_at=_now(store),
        )
    return token, KeyInfo.of(stored)


def list_keys(store: Store, territory_id: str | None = None) -> list[KeyInfo]:
    with store.read() as tx:
        return [KeyInfo.of(k) for k in keys.list_keys(tx, territory_id=territory_id)]


def revoke_key(store: Store, key_id: str) -> KeyInfo:
    """Revoke a key by its id (idempotent); it is refused from the next request on."""
    with store.transaction() as tx:
        return KeyInfo.of(keys.revoke_key(tx, key_id=key_id, at=_now(store)))


def authenticate(store: Store, token: str | None) -> Principal:
    """The principal of a key, or ``Unauthenticated``."""
    if not token:
        raise Unauthenticated("clé d'API manquante : en-tête X-API-Key attendu")
    if not token.startswith(PREFIX) or len(token) > 200:
        raise Unauthenticated("clé d'API invalide")
    with store.read() as tx:
        found = keys.key_by_hash(tx, secret_hash=_digest(token))
    if found is None:  # looked up by the digest of a 256-bit secret: nothing to compare further
        raise Unauthenticated("clé d'API invalide")
    if found.revoked_at is not None:
        raise Unauthenticated("clé d'API révoquée")
    return Principal(found.key_id, found.territory_id, Role(found.role), found.subject)


# -- the rules, per role -----------------------------------------------------------------------


def check_territory(p: Principal, territory_id: str) -> None:
    """Another territory does not exist for this key."""
    if p.territory_id != territory_id:
        raise NotFound("territoire", territory_id)


def check_role(p: Principal, roles: Iterable[Role], what: str = "opération non autorisée") -> None:
    if p.role not in tuple(roles):
        raise p.deny(what)


def check_self(p: Principal, role: Role, ident: str) -> None:
    """A member (or partner) key acts only for its own subject."""
    if p.role == role and p.subject != ident:
        raise p.deny(f"seulement le {SUBJECT_LABELS[SUBJECT_OF[role]]} {p.subject!r}")


def check_project(p: Principal, rec: Recommender, territory_id: str, project_id: str) -> Project:
    """A holder acts only on the projects whose ``holder`` is their subject (404 if unknown).
    Returns the project, so that a caller does not read it twice."""
    project = rec.get_project(territory_id, project_id)
    if p.role == Role.HOLDER and project.holder != p.subject:
        raise p.deny(f"le projet {project_id!r} n'est pas le vôtre")
    return project


def check_need(p: Principal, rec: Recommender, territory_id: str, need_id: str) -> None:
    """A holder asks only about their own calls for skills (404 if unknown)."""
    holder = rec.party(territory_id, "need", need_id)
    if p.role == Role.HOLDER and holder != p.subject:
        raise p.deny(f"l'appel à compétences {need_id!r} n'est pas le vôtre")


def check_project_write(p: Principal, rec: Recommender, territory_id: str, project_id: str, holder: str | None) -> None:
    """A holder creates projects that name them as holder, and updates only their own."""
    if p.role != Role.HOLDER:
        return
    if holder != p.subject:
        raise p.deny(f"le champ holder doit être {p.subject!r}")
    with contextlib.suppress(NotFound):  # NotFound: a new project
        check_project(p, rec, territory_id, project_id)


# who edits a project and its calls for skills from the pages (the API's PUT allows the same roles)
PROJECT_EDITORS = (Role.ADMIN, Role.AGENT, Role.HOLDER)


def may_edit_project(p: Principal, project: Project) -> bool:
    return p.staff or (p.role == Role.HOLDER and project.holder == p.subject)


def check_project_edit(p: Principal, rec: Recommender, territory_id: str, project_id: str) -> Project:
    """Staff, or the project's holder (404 if unknown); returns the project."""
    check_role(p, PROJECT_EDITORS, "seuls les agents et le porteur du projet le modifient")
    return check_project(p, rec, territory_id, project_id)


def check_partner_edit(p: Principal, partner_id: str) -> None:
    """Staff, or the partner itself (its description and its offerings)."""
    check_role(p, (Role.ADMIN, Role.AGENT, Role.PARTNER), "seuls les agents et le partenaire lui-même le modifient")
    check_self(p, Role.PARTNER, partner_id)


def check_member_edit(p: Principal, member_id: str) -> None:
    """Staff, or the member themself (their profile and preferences)."""
    check_role(p, (Role.ADMIN, Role.AGENT, Role.MEMBER), "seuls les agents et le membre lui-même modifient un profil")
    check_self(p, Role.MEMBER, member_id)


def check_holds_projects(p: Principal, rec: Recommender, territory_id: str) -> None:
    """A holder key reads members only while its subject holds a project (else: public things only)."""
    if p.role == Role.HOLDER and not rec.holds_projects(territory_id, p.subject or ""):
        raise p.deny(f"aucun projet ne vous est rattaché ({p.subject!r} n'est le porteur d'aucun projet)")


# -- what each role reads -------------------------------------------------------------------------

# who reads member profiles (and searches members): a holder only while holding a project,
# a member only their own profile (``read_member``)
MEMBER_READERS = (Role.ADMIN, Role.AGENT, Role.HOLDER, Role.ANALYST, Role.MEMBER)
# who sees a project's working view (its suggestions, its routing) and its holder: staff,
# analysts, its holder; the others see its public view
PROJECT_WORKERS = (Role.ADMIN, Role.AGENT, Role.ANALYST)
SEARCH_TARGETS: dict[Role, frozenset[str]] = {
    Role.PARTNER: frozenset({"projects"}),
    Role.MEMBER: frozenset({"needs"}),
}


def check_search(p: Principal, rec: Recommender, territory_id: str, target: str) -> None:
    allowed = SEARCH_TARGETS.get(p.role)
    if allowed is not None and target not in allowed:
        raise p.deny(f"recherche de {target} non autorisée (seulement : {', '.join(sorted(allowed))})")
    if target == "members":
        check_holds_projects(p, rec, territory_id)


def works_on(p: Principal, project: Project) -> bool:
    """Whether this key sees the project's working view (suggestions, routing, actions) and its holder."""
    return p.role in PROJECT_WORKERS or (p.role == Role.HOLDER and project.holder == p.subject)


def sees_holder(p: Principal, holder: str | None) -> bool:
    """Whether a list shows this key a project's holder: as ``works_on``, without reading the project
    (lists do not look for agreements: the project's own page does)."""
    return p.role in PROJECT_WORKERS or (p.role == Role.HOLDER and holder is not None and holder == p.subject)


# who lists the members (``GET /territories/{t}/members``, the agents' page): no member, no partner;
# a holder only while holding a project
MEMBER_LISTERS = (Role.ADMIN, Role.AGENT, Role.HOLDER, Role.ANALYST)


def check_list_members(p: Principal, rec: Recommender, territory_id: str) -> None:
    check_role(p, MEMBER_LISTERS, "la liste des membres ne vous est pas accessible")
    check_holds_projects(p, rec, territory_id)


def read_project(p: Principal, rec: Recommender, territory_id: str, project_id: str) -> tuple[Project, bool]:
    """A project as this key may read it, and whether it sees the working view (404 if unknown)."""
    project = rec.get_project(territory_id, project_id)
    return project_view(p, rec, territory_id, project), works_on(p, project)


def project_view(p: Principal, rec: Recommender, territory_id: str, project: Project) -> Project:
    """The project as this key may see it: its ``holder`` (who carries it, the project's contact)
    only for those who work on it, or once both sides agreed on a suggestion between the key's
    subject and this project."""
    if works_on(p, project) or (project.holder and agreed_with_project(p, rec, territory_id, project)):
        return project
    return project.model_copy(update={"holder": None})


def agreed_with_project(p: Principal, rec: Recommender, territory_id: str, project: Project) -> bool:
    """Both sides agreed on a suggestion between this key's subject (a partner, a member) and the project."""
    if p.role == Role.PARTNER and p.subject:
        if any(
            s.agreed
            for s in rec.suggestions(territory_id, "project_for_partner", subject_id=p.subject, candidate_id=project.id).values()
        ):
            return True
        try:
            offerings = {o.id for o in rec.get_partner(territory_id, p.subject).offerings}
        except NotFound:  # a key for a partner that does not exist (yet)
            return False
        return any(
            s.agreed and cand in offerings
            for (_, cand), s in rec.suggestions(territory_id, "offering_for_project", subject_id=project.id).items()
        )
    if p.role == Role.MEMBER and p.subject and project.needs:
        found = rec.suggestions(
            territory_id, "member_for_need", candidate_id=p.subject, subject_ids=[n.id for n in project.needs]
        )
        return any(s.agreed for s in found.values())
    return False


CONTACT_FIELDS = ("email",)


def holder_may_contact(rec: Recommender, territory_id: str, holder: str, member_id: str) -> bool:
    """Both sides agreed on one of this holder's calls for skills: the member's latest answer is
    "accepted" (theirs alone to give) and the holder's side accepted or completed it."""
    for (need_id, _), state in rec.suggestions(territory_id, "member_for_need", candidate_id=member_id).items():
        if state.agreed:
            with contextlib.suppress(NotFound):  # a need deleted since
                if rec.party(territory_id, "need", need_id) == holder:
                    return True
    return False


def member_view(p: Principal, rec: Recommender, territory_id: str, member: Member) -> Member:
    """The member as this key may see it: contact fields hidden unless allowed."""
    if p.staff or (p.role == Role.MEMBER and p.subject == member.id):
        return member
    if p.role == Role.HOLDER and p.subject and holder_may_contact(rec, territory_id, p.subject, member.id):
        return member
    return member.model_copy(update=dict.fromkeys(CONTACT_FIELDS))


def read_member(p: Principal, rec: Recommender, territory_id: str, member_id: str) -> Member:
    """A member's profile as this key may read it (403 for whom may not, 404 if unknown)."""
    check_role(p, MEMBER_READERS, "les profils des membres ne vous sont pas accessibles")
    check_self(p, Role.MEMBER, member_id)
    check_holds_projects(p, rec, territory_id)
    return member_view(p, rec, territory_id, rec.get_member(territory_id, member_id))


# -- who reports which event, on whose behalf ------------------------------------------------------

# For a key that is not staff: per question, the side of the suggestion it reports for, which is
# the party it must be (the subject: it asked; the candidate: it was suggested). Staff (admin,
# agent) report for the subject side of any suggestion; analysts report nothing.
EVENT_SIDES: dict[Role, dict[str, str]] = {
    Role.HOLDER: {
        "member_for_need": "subject",  # their call for skills: the members suggested for it
        "offering_for_project": "subject",  # their project: the offerings suggested for it
        "project_for_partner": "candidate",  # their project suggested to a partner
        "need_for_member": "candidate",  # their call suggested to a member
    },
    Role.PARTNER: {
        "project_for_partner": "subject",  # the projects suggested to them
        "offering_for_project": "candidate",  # their offering suggested to a project
    },
    Role.MEMBER: {
        "need_for_member": "subject",  # the calls suggested to them
        "member_for_need": "candidate",  # they were suggested for a call: their answer
    },
}
# keys for which the service records what it serves (their "contacted" needs it first)
SERVED_ROLES = tuple(EVENT_SIDES)
PARTY_LABELS = {"subject": "le demandeur", "candidate": "la personne suggérée"}


def acting_side(p: Principal, rec: Recommender, territory_id: str, question: str, subject_id: str, candidate_id: str) -> str:
    """The side of the suggestion (question, subject, candidate) this key reports for, or Forbidden
    (NotFound when the entity it would speak for does not exist)."""
    if p.staff:
        return "subject"
    side = EVENT_SIDES.get(p.role, {}).get(question)
    if side is None:
        raise p.deny(f"aucun événement sur {question} pour ce rôle" if p.role != Role.ANALYST else "lecture seule")
    kind = QUESTION_KINDS[question][0 if side == "subject" else 1]
    party = rec.party(territory_id, kind, subject_id if side == "subject" else candidate_id)
    if party is None or party != p.subject:
        raise p.deny(
            f"suggestion ({subject_id}, {candidate_id}) hors de votre périmètre : vous n'en êtes pas {PARTY_LABELS[side]}"
        )
    return side


def may_report(p: Principal, rec: Recommender, territory_id: str, question: str, subject_id: str) -> bool:
    """Whether this key reports for the subject side of the suggestions of ``subject_id`` (the
    buttons of the pages)."""
    if p.staff:
        return True
    if EVENT_SIDES.get(p.role, {}).get(question) != "subject":
        return False
    try:
        return rec.party(territory_id, QUESTION_KINDS[question][0], subject_id) == p.subject
    except NotFound:
        return False


def event_report(p: Principal, rec: Recommender, territory_id: str, ev: FeedbackEvent) -> Report:
    """How an event reported with this key is recorded: on the key's side, and for a key that is
    not staff, a ``contacted`` only on a suggestion the service served it."""
    side = acting_side(p, rec, territory_id, ev.question, ev.subject_id, ev.candidate_id)
    if ev.type == "shown" and not p.staff:
        raise p.deny(f"événement {ev.id!r} : « shown » est enregistré par le service quand il vous sert une suggestion")
    return Report(ev, side, served_first=not p.staff)


def served(p: Principal, rec: Recommender, territory_id: str, question: str, subject_id: str, matches: list[Match]) -> None:
    """What the service just served to a key that acts on events: recorded as ``shown`` (once per
    suggestion, one statement), so that its ``contacted`` can follow. Staff and analysts: nothing."""
    if p.role in SERVED_ROLES and matches:
        rec.record_shown(territory_id, question, subject_id, matches)


def similar_scope(p: Principal, territory_id: str, across: bool, every: Callable[[], list[str]]) -> list[str]:
    """The territories whose projects a key's search for similar initiatives covers: its own, or
    every territory (``across``) for the roles of ``LOOK_ACROSS`` (403 for the others)."""
    if not across:
        return [territory_id]
    check_role(p, LOOK_ACROSS, "seuls les agents et administrateurs voient les initiatives des autres territoires")
    return [territory_id, *(t for t in every() if t != territory_id)]
