"""One-time answer links: how the one suggested answers without a key.

A message to a member ("Claire, l'épicerie solidaire cherche quelqu'un pour sa trésorerie")
carries a link ``/ui/answer/<token>``. The token names one suggestion (territory, question,
subject, candidate), is signed with the service's secret (HMAC-SHA256 through
``itsdangerous``), expires after ``settings.answer_link_days`` days and serves once: the answer
it records has the event id ``link-<nonce>``, and a link whose event exists is used. Opening
the link shows a confirmation form (a mail client that prefetches links records nothing); the
form records the answer on the **candidate's side**, as the member's own key would.

The secret is ``MAILLAGE_LINK_SECRET``, else a random one generated once into
``<data dir>/link-secret`` (several processes sharing a database must share the setting).

Example:
    >>> token, link = make_link(rec, "sceaux-valley", "member_for_need", "p0001-n1", "m00002")  # doctest: +SKIP
    >>> read_link(rec, token).candidate_id  # doctest: +SKIP
    'm00002'
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeSerializer

from matching.domain import CANDIDATE_TRANSITIONS, QUESTION_KINDS, FeedbackEvent, Report
from matching.errors import InvalidRequest
from matching.settings import Settings
from matching.store import events

if TYPE_CHECKING:
    from matching.recommender import Recommender

SALT = "maillage-answer-link"
SECRET_FILE = "link-secret"
# what the one suggested may answer through a link, and the words of its buttons
ANSWER_LABELS = {
    "accepted": "J'accepte",
    "interested": "Je suis intéressé·e",
    "not_interested": "Pas pour moi",
    "declined": "Je me retire",
}


@dataclass(frozen=True)
class AnswerLink:
    """What a valid token says: the suggestion, its nonce and when it expires."""

    territory_id: str
    question: str
    subject_id: str
    candidate_id: str
    nonce: str
    expires_at: dt.datetime

    @property
    def event_id(self) -> str:
        """The id of the answer recorded through this link (the link serves once)."""
        return f"link-{self.nonce}"


def secret(settings: Settings) -> str:
    """The signing secret: the setting, else the data dir's file (created the first time)."""
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value()
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text(encoding="utf-8").strip()


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(secret(settings), salt=SALT)


def make_link(rec: Recommender, territory_id: str, question: str, subject_id: str, candidate_id: str) -> tuple[str, AnswerLink]:
    """A signed one-time token for the candidate's answer to one suggestion (entities must exist)."""
    if question not in QUESTION_KINDS:
        raise InvalidRequest(f"question inconnue {question!r}")
    subject_kind, candidate_kind = QUESTION_KINDS[question]
    rec.party(territory_id, subject_kind, subject_id)  # NotFound if either does not exist
    rec.party(territory_id, candidate_kind, candidate_id)
    expires = rec.clock.now().astimezone(dt.UTC).replace(microsecond=0) + dt.timedelta(days=rec.settings.answer_link_days)
    nonce = secrets.token_urlsafe(12)
    payload = {"t": territory_id, "q": question, "s": subject_id, "c": candidate_id, "n": nonce, "e": int(expires.timestamp())}
    token = _serializer(rec.settings).dumps(payload)
    return token, AnswerLink(territory_id, question, subject_id, candidate_id, nonce, expires)


def read_link(rec: Recommender, token: str) -> AnswerLink:
    """The link a token stands for; InvalidRequest (French) if forged, damaged, expired or used."""
    try:
        data = _serializer(rec.settings).loads(token)
        link = AnswerLink(
            data["t"], data["q"], data["s"], data["c"], data["n"], dt.datetime.fromtimestamp(int(data["e"]), dt.UTC)
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidRequest("lien de réponse invalide (incomplet ou modifié) : demandez-en un nouveau") from None
    if rec.clock.now() > link.expires_at:
        raise InvalidRequest(f"lien de réponse expiré le {link.expires_at:%d/%m/%Y} : demandez-en un nouveau")
    with rec.store.read() as tx:
        used = events.event_exists(tx, territory_pk=tx.territory_pk(link.territory_id), event_id=link.event_id)
    if used:
        raise InvalidRequest("ce lien de réponse a déjà servi : votre réponse est enregistrée")
    return link


def possible_answers(rec: Recommender, link: AnswerLink) -> list[str]:
    """The answers the candidate may give now (from their latest answer on this suggestion)."""
    state = rec.suggestions(link.territory_id, link.question, subject_id=link.subject_id, candidate_id=link.candidate_id)
    current = state.get((link.subject_id, link.candidate_id))
    answered = current.candidate if current else None
    allowed = CANDIDATE_TRANSITIONS[answered]
    # "je me retire" after saying yes (or being interested); before that, "pas pour moi" says no
    withdraw = answered in ("accepted", "interested")
    return [a for a in ANSWER_LABELS if a in allowed and (a != "declined" or withdraw)]


def answer(rec: Recommender, token: str, answer_type: str) -> AnswerLink:
    """Record the candidate's answer through a link (once): on the candidate's side, dated now."""
    link = read_link(rec, token)
    if answer_type not in possible_answers(rec, link):
        raise InvalidRequest(f"réponse « {answer_type} » impossible maintenant pour cette suggestion")
    ev = FeedbackEvent(
        id=link.event_id,
        question=link.question,  # type: ignore[arg-type]
        subject_id=link.subject_id,
        candidate_id=link.candidate_id,
        type=answer_type,  # type: ignore[arg-type]
        at=rec.clock.now(),
    )
    rec.record_events(link.territory_id, [Report(ev, "candidate")])
    return link
