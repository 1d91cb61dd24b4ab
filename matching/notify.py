"""Being told: the e-mail digests of ``maillage notify``.

Three digests, French, as text and HTML (templates in ``data/mail/``):

- **members**, who opted in on their page (``Member.preferences.digest``), have an e-mail and may
  be suggested: the open calls for skills that fit them (``need_for_member``), each with its
  one-time answer link (``matching.links``), and a one-click unsubscribe link (signed, no key);
- **holders** whose ``holder`` is a member with an e-mail: on each open call for skills of their
  projects, the members who said they are interested (or accepted) and the members suggested;
- **partners** with an e-mail (``Partner.email``): their weekly digest (``partner_digest``).

Never the same item twice: what each digest told whom is recorded in the store
(``matching.store.notices``) through the facade's write, after the message was accepted by the
SMTP server. A person gets at most one digest every ``settings.digest_days`` days (7), and only
when there is something new. Messages go out at ``settings.notify_per_minute`` at most, through
``settings.smtp_url`` (stdlib ``smtplib``). ``schedule`` runs it again and again (``maillage
notify --every``).

Example:
    >>> report = notify(rec, dry_run=True)  # doctest: +SKIP
    >>> report["planned"]  # doctest: +SKIP
    {'member': 3, 'holder': 2, 'partner': 1}
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

from matching import links
from matching.clock import utc_naive
from matching.errors import InvalidRequest
from matching.settings import PACKAGE_DATA, Settings
from matching.store import notices, queries

if TYPE_CHECKING:
    from matching.recommender import Recommender

log = logging.getLogger("maillage.notify")
MAIL_TEMPLATES = PACKAGE_DATA / "mail"
UNSUBSCRIBE_SALT = "maillage-unsubscribe"
CHANNELS = ("member", "holder", "partner")
PER_DIGEST = 5  # items at most in one digest (the rest waits for the next one)
INTERESTED = ("interested", "accepted")


@dataclass(frozen=True)
class Digest:
    """One e-mail to one person: who, what it says, and the items it tells (recorded once sent)."""

    channel: str
    recipient: str
    to: str
    subject: str
    text: str
    html: str
    items: tuple[str, ...]
    unsubscribe: str | None = None


@cache
def _templates() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(MAIL_TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(channel: str, **context: Any) -> tuple[str, str]:
    env = _templates()
    return env.get_template(f"{channel}.txt").render(**context), env.get_template(f"{channel}.html").render(**context)


# -- one-click unsubscribe (a signed link, no key) ------------------------------------------------------


def _unsubscribe_serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(links.secret(settings), salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(settings: Settings, territory_id: str, member_id: str) -> str:
    return _unsubscribe_serializer(settings).dumps({"t": territory_id, "m": member_id})


def read_unsubscribe(settings: Settings, token: str) -> tuple[str, str]:
    """(territory, member) of an unsubscribe link; InvalidRequest (French) when it was altered."""
    try:
        data = _unsubscribe_serializer(settings).loads(token)
        return str(data["t"]), str(data["m"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidRequest("lien de désinscription invalide (incomplet ou modifié)") from None


def unsubscribe(rec: Recommender, token: str) -> str:
    """Stop a member's weekly digest (their preference, through the facade's write); returns their
    display name. Idempotent."""
    territory_id, member_id = read_unsubscribe(rec.settings, token)
    member = rec.get_member(territory_id, member_id)
    if member.preferences.digest:
        prefs = member.preferences.model_copy(update={"digest": False})
        rec.upsert_members(territory_id, [member.model_copy(update={"preferences": prefs})])
    return member.display_name


# -- what to tell whom ------------------------------------------------------------------------------------


class Planner:
    """The digests of one territory at one time (reads only)."""

    def __init__(self, rec: Recommender, territory_id: str, since: dt.datetime | None, force: bool) -> None:
        self.rec = rec
        self.t = territory_id
        self.since = utc_naive(since) if since else None
        self.force = force
        self.now = utc_naive(rec.clock.now())
        with rec.store.read() as tx:
            self.tpk = tx.territory_pk(territory_id)
            self.territory = tx.get_territory(territory_id)
            self.last = {c: notices.last_told(tx, territory_pk=self.tpk, channel=c) for c in CHANNELS}
            self.members = {
                ext: (data, available) for ext, data, available in queries.members_overview(tx, territory_pk=self.tpk)
            }

    def due(self, channel: str, recipient: str) -> bool:
        last = self.last[channel].get(recipient)
        return self.force or last is None or self.now - last >= dt.timedelta(days=self.rec.settings.digest_days)

    def told(self, channel: str, recipient: str) -> set[str]:
        with self.rec.store.read() as tx:
            return notices.told(tx, territory_pk=self.tpk, channel=channel, recipient=recipient)

    def url(self, path: str) -> str:
        return self.rec.settings.public_url.rstrip("/") + path

    def member_digests(self) -> Iterator[Digest]:
        for ext, (data, available) in self.members.items():
            if not ((data.get("preferences") or {}).get("digest") and data.get("email") and available):
                continue
            if not self.due("member", ext):
                continue
            told = self.told("member", ext)
            fresh = [m for m in self.rec.need_for_member(self.t, ext, k=20) if m.id not in told][:PER_DIGEST]
            if not fresh:
                continue
            calls = [
                {
                    "match": m,
                    "answer": self.url("/ui/answer/" + links.make_link(self.rec, self.t, "member_for_need", m.id, ext)[0]),
                }
                for m in fresh
            ]
            unsubscribe = self.url("/ui/unsubscribe/" + unsubscribe_token(self.rec.settings, self.t, ext))
            context = {"name": data["display_name"], "calls": calls, "territory": self.territory, "unsubscribe": unsubscribe}
            text, html = _render("member", **context)
            subject = f"{len(fresh)} appel{'s' if len(fresh) > 1 else ''} à compétences pour vous — {self.territory.name}"
            yield Digest("member", ext, data["email"], subject, text, html, tuple(m.id for m in fresh), unsubscribe)

    def holder_digests(self) -> Iterator[Digest]:
        with self.rec.store.read() as tx:
            projects = queries.projects_overview(tx, territory_pk=self.tpk)
        by_holder: dict[str, list[str]] = {}
        for ext, data, open_needs in projects:
            if data.get("holder") and open_needs:
                by_holder.setdefault(data["holder"], []).append(ext)
        for holder, project_ids in by_holder.items():
            person = self.members.get(holder)
            if person is None or not person[0].get("email") or not self.due("holder", holder):
                continue  # an organisation (no address on file), or told recently
            told = self.told("holder", holder)
            sections, items = [], []
            for pid in project_ids:
                project = self.rec.get_project(self.t, pid)
                for need in (n for n in project.needs if n.status == "open"):
                    section = self._need_section(project, need, told)
                    if section["interested"] or section["suggested"]:
                        sections.append(section)
                        items += section["items"]
            if not items:
                continue
            context = {"name": person[0]["display_name"], "sections": sections, "territory": self.territory, "url": self.url}
            text, html = _render("holder", **context)
            subject = f"Vos appels à compétences : nouvelles réponses et suggestions — {self.territory.name}"
            yield Digest("holder", holder, person[0]["email"], subject, text, html, tuple(items))

    def _need_section(self, project: Any, need: Any, told: set[str]) -> dict[str, Any]:
        interested = []
        for (_, cand), state in self.rec.suggestions(self.t, "member_for_need", subject_id=need.id).items():
            item = f"interested:{need.id}:{cand}"
            answered_at = state.last_at.get("candidate")
            if state.candidate not in INTERESTED or item in told or cand not in self.members:
                continue
            if self.since is not None and answered_at is not None and answered_at < self.since:
                continue
            interested.append((item, self.members[cand][0]["display_name"], state.candidate))
        suggested = [
            (f"suggested:{need.id}:{m.id}", m)
            for m in self.rec.member_for_need(self.t, need.id, k=3)
            if f"suggested:{need.id}:{m.id}" not in told
        ]
        return {
            "project": project,
            "need": need,
            "interested": interested,
            "suggested": suggested,
            "items": [i for i, _, _ in interested] + [i for i, _ in suggested],
        }

    def partner_digests(self) -> Iterator[Digest]:
        with self.rec.store.read() as tx:
            partners = queries.partners_listing(tx, territory_pk=self.tpk)
        for ext, data, _ in partners:
            if not data.get("email") or not self.due("partner", ext):
                continue
            told = self.told("partner", ext)
            digest = self.rec.partner_digest(self.t, ext, k=10)
            fresh = [m for m in digest["projects"] if f"project:{m.id}" not in told]
            if not fresh:
                continue
            context = {"digest": digest, "projects": fresh, "territory": self.territory, "url": self.url}
            text, html = _render("partner", **context)
            subject = f"{data['name']} : projets à regarder, semaine {digest['week']}"
            yield Digest("partner", ext, data["email"], subject, text, html, tuple(f"project:{m.id}" for m in fresh))

    def digests(self) -> list[Digest]:
        return [*self.member_digests(), *self.holder_digests(), *self.partner_digests()]


# -- sending ------------------------------------------------------------------------------------------------


def message(d: Digest, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = d.to
    msg["Subject"] = d.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="maillage")
    if d.unsubscribe:  # RFC 8058: the mail client's own "unsubscribe" button posts to the link
        msg["List-Unsubscribe"] = f"<{d.unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(d.text)
    msg.add_alternative(d.html, subtype="html")
    return msg


@contextmanager
def smtp_connection(url: str, timeout: float = 30.0) -> Iterator[smtplib.SMTP]:
    """An SMTP session from ``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://…``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InvalidRequest("MAILLAGE_SMTP_URL : smtp://hôte[:port] ou smtps://hôte[:port] attendu")
    if parts.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=timeout)
    else:
        smtp = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=timeout)
    try:
        if parts.scheme == "smtp" and parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "oui"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        yield smtp
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:
            smtp.close()


def territories(rec: Recommender) -> list[str]:
    with rec.store.read() as tx:
        return queries.territory_ids(tx)


def notify(
    rec: Recommender,
    territory_id: str | None = None,
    *,
    since: dt.datetime | None = None,
    dry_run: bool = False,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Plan the digests of a territory (of every one by default) and send them.

    Args:
        since: interested members are told only if they answered after this time (default: any
            answer not told yet).
        dry_run: plan and say, send and record nothing.
        force: ignore the cadence (``digest_days``); an item is still never told twice.
        sleep: how to wait between two messages (the rate limit).

    Returns ``{"planned": {channel: n}, "sent": n, "messages": [{channel, to, subject, items}]}``.
    """
    planned: list[tuple[str, Digest]] = []
    for t in [territory_id] if territory_id else territories(rec):
        planned += [(t, d) for d in Planner(rec, t, since, force).digests()]
    report: dict[str, Any] = {
        "planned": {c: sum(1 for _, d in planned if d.channel == c) for c in CHANNELS},
        "sent": 0,
        "messages": [{"channel": d.channel, "to": d.to, "subject": d.subject, "items": list(d.items)} for _, d in planned],
    }
    if dry_run or not planned:
        return report
    if rec.settings.smtp_url is None:
        raise InvalidRequest("MAILLAGE_SMTP_URL n'est pas réglé : aucun e-mail ne peut partir (--dry-run pour voir le plan)")
    pause = 60.0 / rec.settings.notify_per_minute
    with smtp_connection(rec.settings.smtp_url.get_secret_value()) as smtp:
        for n, (t, d) in enumerate(planned):
            if n:
                sleep(pause)
            smtp.send_message(message(d, rec.settings))
            record(rec, t, d.channel, d.recipient, d.items)
            report["sent"] += 1
            log.info("point envoyé : %s %s (%d éléments)", d.channel, d.recipient, len(d.items))
    return report


def record(rec: Recommender, territory_id: str, channel: str, recipient: str, items: tuple[str, ...]) -> int:
    """Record what a digest told (the facade's write: one unit of work)."""
    at = rec.clock.now()
    return rec.write(
        {},
        lambda tx: notices.record_told(
            tx, territory_pk=tx.territory_pk(territory_id), channel=channel, recipient=recipient, items=items, at=at
        ),
    )


def schedule(
    rec: Recommender, every: float, *, runs: int | None = None, sleep: Callable[[float], None] = time.sleep, **kw: Any
) -> list[dict[str, Any]]:
    """``notify`` every ``every`` seconds (``runs`` times, or until stopped); a failed run is logged
    and the next one tries again (an item not sent is not recorded, so it goes next time)."""
    reports: list[dict[str, Any]] = []
    n = 0
    while runs is None or n < runs:
        if n:
            sleep(every)
        try:
            reports.append(notify(rec, sleep=sleep, **kw))
        except (OSError, smtplib.SMTPException, InvalidRequest) as exc:
            log.warning("envoi des points impossible : %s", exc)
            reports.append({"error": str(exc)})
        n += 1
    return reports
