"""Who may do what: API keys bound to one territory and one role, and the rules of each role.

| role | who | may |
|---|---|---|
| ``admin`` | the deployment's operator for a territory | everything in its territory |
| ``agent`` | city staff | everything in its territory but the territory itself |
| ``holder`` | a project holder (``subject`` = their member id, the projects' ``holder`` field) | their projects, their calls for skills and the answers to them |
| ``partner`` | a partner organisation (``subject`` = the partner id) | their organisation, its offerings, the projects suggested to it |
| ``analyst`` | evaluation and tuning | read and evaluate; never a personal contact field |
| ``member`` | a resident (``subject`` = their member id) | their own profile, export, deletion and the calls that fit them |

A key reads ``mlg_<key id>_<secret>``. Only the SHA-256 of the whole key is stored (the
secret has 256 random bits, so a plain hash is enough, as for other API tokens); the key is
shown once, when it is created. A key of territory A sees territory B as if it did not
exist (404).

Contact fields (``Member.email``) are shown to admins, agents and the member themself; to
a holder only once the member has accepted one of that holder's calls for skills (the
resident agreed); never to partners or analysts.

Example:
    >>> from matching.store import Store
    >>> store = Store("sqlite://")
    >>> token, info = create_key(store, "sceaux", Role.AGENT, label="mairie")
    >>> authenticate(store, token).role
    <Role.AGENT: 'agent'>
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from matching.domain import ID_PATTERN, FeedbackEvent, Member, Project
from matching.errors import InvalidRequest, MaillageError, NotFound
from matching.store import Store, keys

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
SUBJECT_OF: dict[Role, str] = {Role.HOLDER: "member", Role.PARTNER: "partner", Role.MEMBER: "member"}
SUBJECT_LABELS = {"member": "membre", "partner": "partenaire"}
STAFF = (Role.ADMIN, Role.AGENT)
ALL_ROLES = tuple(Role)


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


def create_key(
    store: Store, territory_id: str, role: Role | str, subject: str | None = None, label: str = ""
) -> tuple[str, KeyInfo]:
    """Create a key; returns the key (shown once) and what is stored about it."""
    role = Role(role)
    if not re.match(ID_PATTERN, territory_id):
        raise InvalidRequest(f"territoire : identifiant invalide {territory_id!r}")
    if role in SUBJECT_OF and not subject:
        raise InvalidRequest(f"le rôle {role.value} exige un sujet (identifiant du {SUBJECT_LABELS[SUBJECT_OF[role]]})")
    if role not in SUBJECT_OF and subject:
        raise InvalidRequest(f"le rôle {role.value} n'a pas de sujet")
    if subject and not re.match(ID_PATTERN, subject):
        raise InvalidRequest(f"sujet : identifiant invalide {subject!r}")
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


def holder_of(rec: Recommender, territory_id: str, project_id: str) -> str | None:
    return rec.get_project(territory_id, project_id).holder


def need_project(rec: Recommender, territory_id: str, need_id: str) -> str:
    return rec.project_of_need(territory_id, need_id)


def check_project(p: Principal, rec: Recommender, territory_id: str, project_id: str) -> Project:
    """A holder acts only on the projects whose ``holder`` is their subject (404 if unknown).
    Returns the project, so that a caller does not read it twice."""
    project = rec.get_project(territory_id, project_id)
    if p.role == Role.HOLDER and project.holder != p.subject:
        raise p.deny(f"le projet {project_id!r} n'est pas le vôtre")
    return project


def check_need(p: Principal, rec: Recommender, territory_id: str, need_id: str) -> None:
    project_id = need_project(rec, territory_id, need_id)
    if p.role == Role.HOLDER:
        check_project(p, rec, territory_id, project_id)


def check_project_write(p: Principal, rec: Recommender, territory_id: str, project_id: str, holder: str | None) -> None:
    """A holder creates projects that name them as holder, and updates only their own."""
    if p.role != Role.HOLDER:
        return
    if holder != p.subject:
        raise p.deny(f"le champ holder doit être {p.subject!r}")
    with contextlib.suppress(NotFound):  # NotFound: a new project
        check_project(p, rec, territory_id, project_id)


SEARCH_TARGETS: dict[Role, frozenset[str]] = {
    Role.PARTNER: frozenset({"projects"}),
    Role.MEMBER: frozenset({"needs"}),
}


def check_search(p: Principal, target: str) -> None:
    allowed = SEARCH_TARGETS.get(p.role)
    if allowed is not None and target not in allowed:
        raise p.deny(f"recherche de {target} non autorisée (seulement : {', '.join(sorted(allowed))})")


def check_event(p: Principal, rec: Recommender, territory_id: str, ev: FeedbackEvent) -> None:
    """Who may report what happened to a suggestion: the side it concerns."""
    if p.staff:
        return
    if p.role == Role.ANALYST:
        raise p.deny("lecture seule")
    q = ev.question
    if p.role == Role.MEMBER and (
        (q == "need_for_member" and ev.subject_id == p.subject) or (q == "member_for_need" and ev.candidate_id == p.subject)
    ):
        return
    if p.role == Role.PARTNER and q == "project_for_partner" and ev.subject_id == p.subject:
        return
    if p.role == Role.HOLDER:
        if q == "member_for_need":
            check_need(p, rec, territory_id, ev.subject_id)
            return
        if q == "offering_for_project":
            check_project(p, rec, territory_id, ev.subject_id)
            return
    raise p.deny(f"événement {ev.id!r} ({q}) hors de votre périmètre")


CONTACT_FIELDS = ("email",)


def holder_may_contact(rec: Recommender, territory_id: str, holder: str, member_id: str) -> bool:
    """The member accepted (and did not withdraw from) a call for skills of this holder."""
    latest: dict[str, str] = {}
    for ev in rec.list_events(territory_id, question="member_for_need", candidate_id=member_id):
        latest[ev.subject_id] = ev.type
    for need_id, state in latest.items():
        if state in ("accepted", "completed"):
            try:
                if holder_of(rec, territory_id, need_project(rec, territory_id, need_id)) == holder:
                    return True
            except NotFound:
                continue
    return False


def visible_member(p: Principal, rec: Recommender, territory_id: str, member: Member) -> Member:
    """The member as this key may see it: contact fields hidden unless allowed."""
    if p.staff or (p.role == Role.MEMBER and p.subject == member.id):
        return member
    if p.role == Role.HOLDER and p.subject and holder_may_contact(rec, territory_id, p.subject, member.id):
        return member
    return member.model_copy(update=dict.fromkeys(CONTACT_FIELDS))
