"""Web pages for city agents, project holders and partners: French, server-rendered, phone-sized.

Mounted under ``/ui`` by ``install(app)``; ``/`` redirects there. The pages call the same
``Recommender`` methods and the same ``matching.access`` rules as the JSON API, with the
key kept in the ``maillage_key`` cookie (HttpOnly, SameSite=Strict) set by the login form.

Every form is a POST protected against cross-site requests three ways: the cookie is
SameSite=Strict, the ``Origin`` (or ``Referer``) must be this host when the browser sends
one, and the form carries a token derived from the session key (login: a double-submit
token kept in its own cookie). The pages send a strict Content-Security-Policy (scripts
from this origin only) and refuse to be framed.

Example:
    >>> app = FastAPI()
    >>> install(app)
    >>> sorted(r.path for r in app.routes if r.path.startswith("/ui/login"))
    ['/ui/login', '/ui/login']
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.deps import KEY_COOKIE
from matching import access, links, listing, overview, policy, similar
from matching.access import SEARCH_TARGETS, Forbidden, Principal, Role, Unauthenticated
from matching.domain import (
    EVENT_LABELS,
    ID_PATTERN,
    SIDE_TRANSITIONS,
    STAGE_LABELS,
    TARGET_LABELS,
    FeedbackEvent,
    Match,
    Stage,
    SuggestionState,
    Target,
)
from matching.errors import Conflict, InvalidRequest, NotFound
from matching.recommender import Recommender
from matching.scoring import COMPONENT_LABELS

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

LOGIN_COOKIE = "maillage_login"  # double-submit token of the login form (no session yet)
FLASH_COOKIE = "maillage_flash"  # one message shown on the next page (post/redirect/get)
SESSION_SECONDS = 8 * 3600
A, G, H, P, N, M = Role.ADMIN, Role.AGENT, Role.HOLDER, Role.PARTNER, Role.ANALYST, Role.MEMBER

# what a person may say happened to a suggestion from the pages: the one who asked (the subject
# side: a holder, a partner, staff for them), and the answers of the one suggested
ACTIONS: tuple[str, ...] = ("contacted", "accepted", "declined")
ACTION_LABELS = {"contacted": "Contacté", "accepted": "Accepté", "declined": "Refusé"}
ANSWERS: tuple[str, ...] = tuple(links.ANSWER_LABELS)
SUGGESTIONS_PER_NEED = 5
INTERESTED = frozenset({"interested", "accepted"})  # the answers that put a member on the holder's short list
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class CsrfRefused(Exception):
    """A form that does not come from our own pages."""


# -- errors as French pages ---------------------------------------------------------------------------


class WebRoute(APIRoute):
    """Domain errors become French HTML pages here (the JSON API keeps its own mapping)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except Unauthenticated as exc:  # no session yet, or its key was revoked
                stale = bool(request.cookies.get(KEY_COOKIE))
                response = _redirect("/ui/login", flash=("error", f"Reconnectez-vous : {exc}.") if stale else None)
                response.delete_cookie(KEY_COOKIE, path="/")
            except Forbidden as exc:
                response = _error(request, 403, "Accès refusé", f"Votre clé ne permet pas cette page ({exc}).")
            except NotFound as exc:
                response = _error(request, 404, "Introuvable", f"{exc}.")
            except CsrfRefused:
                response = _error(
                    request,
                    403,
                    "Formulaire refusé",
                    "Ce formulaire ne vient pas de cette page (protection contre les requêtes intersites). "
                    "Rechargez la page et recommencez.",
                )
            except (InvalidRequest, Conflict) as exc:
                response = _error(request, 422, "Demande invalide", f"{exc}.")
            except RequestValidationError as exc:
                fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "formulaire" for e in exc.errors())
                response = _error(request, 422, "Demande invalide", f"Valeur refusée : {fields}.")
            response.headers.update({k: v for k, v in SECURITY_HEADERS.items() if k not in response.headers})
            return response

        return route


router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
root = APIRouter(include_in_schema=False)


fallback = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)


def install(app: FastAPI) -> None:
    """Add the pages under ``/ui``, their static files, ``/`` → ``/ui/``, and last, a French 404
    page for any other path under ``/ui``."""
    app.include_router(root)
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.include_router(fallback)


@fallback.api_route("/{path:path}", methods=["GET", "HEAD", "POST"])
def not_found_page(request: Request, path: str) -> HTMLResponse:
    """An unknown page: a French page, not the API's JSON."""
    return _error(request, 404, "Page introuvable", "Cette page n'existe pas. Elle a peut-être été déplacée ou supprimée.")


@root.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


# -- session, CSRF, flash -------------------------------------------------------------------------------


def get_rec(request: Request) -> Recommender:
    return request.app.state.recommender


def viewer(request: Request) -> Principal:
    """The principal of the session cookie (a redirect to the login page without one)."""
    return access.authenticate(get_rec(request).store, request.cookies.get(KEY_COOKIE))


Rec = Annotated[Recommender, Depends(get_rec)]
Viewer = Annotated[Principal, Depends(viewer)]
EntityId = Annotated[str, PathParam(pattern=ID_PATTERN)]
# the forms' "toutes" sends an empty stage
StageParam = Annotated[Literal[("", *(s.value for s in Stage))], Query()]  # type: ignore[valid-type]


def session_token(key: str) -> str:
    """The form token of a session: derived from the key, which scripts and other sites cannot read."""
    return hmac.new(key.encode("utf-8"), b"maillage-web-form", hashlib.sha256).hexdigest()


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:  # not a browser form (scripts, tests): the token alone decides
        return True
    return urlsplit(source).netloc == request.headers.get("host", "")


def check_form(request: Request, token: str) -> None:
    """Refuse a POST from another site: Origin/Referer of this host and the session's token."""
    key = request.cookies.get(KEY_COOKIE) or ""
    if not _same_origin(request) or not key or not hmac.compare_digest(token.encode(), session_token(key).encode()):
        raise CsrfRefused


def _redirect(url: str, *, flash: tuple[str, str] | None = None, target: str | None = None) -> RedirectResponse:
    """A 303 to ``url``; ``flash`` is shown on that page, inside the card ``target`` when it is there."""
    response = RedirectResponse(url + (f"#{target}" if target else ""), status_code=303)
    if flash:
        value = quote(json.dumps({"kind": flash[0], "text": flash[1], "target": target or ""}, ensure_ascii=False))
        response.set_cookie(FLASH_COOKIE, value, max_age=60, path="/ui", httponly=True, samesite="strict")
    return response


def _take_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
        return {
            "kind": "error" if data.get("kind") == "error" else "ok",
            "text": str(data.get("text", ""))[:500],
            "target": str(data.get("target", ""))[:300],
        }
    except (ValueError, AttributeError):
        return None


def card_id(subject_id: str, candidate_id: str) -> str:
    """The HTML id of a suggestion's card (ids are [A-Za-z0-9_.:-], valid in HTML ids)."""
    return f"s-{subject_id}-{candidate_id}"


def _safe_back(url: str) -> str:
    """Only a path of these pages (no open redirect); the fragment is the server's to set."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/") or url.startswith("//") or "\\" in url:
        return "/ui/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def render(request: Request, name: str, who: Principal | None, *, status: int = 200, **context: Any) -> HTMLResponse:
    flash = context.pop("flash", None) or _take_flash(request)
    if flash and flash.get("target") and flash["target"] not in context.get("cards", ()):
        flash["target"] = ""  # the card is no longer on the page: the message goes on top
    key = request.cookies.get(KEY_COOKIE)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "role_label": access.ROLE_LABELS[who.role] if who else None,
            "csrf": session_token(key) if (who and key) else "",
            "flash": flash,
            "nav": _nav(who),
            **context,
        },
        status_code=status,
    )
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/ui")
    return response


def too_large_page(request: Request, message: str) -> HTMLResponse:
    """The 413 of a form too large (``api/limits.py``): a French page, without reading the session."""
    response = render(request, "error.html", None, status=413, title="Formulaire trop volumineux", message=f"{message}.")
    response.headers.update(SECURITY_HEADERS)
    return response


def _error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    who = None
    with contextlib.suppress(Unauthenticated):
        who = viewer(request)
    return render(request, "error.html", who, status=status, title=title, message=message)


def _nav(who: Principal | None) -> list[tuple[str, str]]:
    if who is None:
        return []
    items = [("/ui/", "Accueil")]
    if who.role == P:
        items = [(f"/ui/partners/{who.subject}", "Mes projets suggérés")]
    if who.role in (A, G, H):
        items.append(("/ui/projects/new", "Nouveau projet"))
    if who.role == M:
        items.append((f"/ui/members/{who.subject}/edit", "Mon profil"))
    if who.role == P:
        items.append((f"/ui/partners/{who.subject}/edit", "Nos offres"))
    items.append(("/ui/search", "Essayer une description"))
    if who.role in (A, G, N):
        items.append(("/ui/members", "Membres"))
        items.append(("/ui/overview", "Vue du territoire"))
        items.append(("/ui/similar", "Doublons probables"))
    return items


# -- filters used by the templates ----------------------------------------------------------------------


def _fr(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


templates.env.filters["fr"] = _fr
templates.env.filters["pct"] = lambda v: f"{max(0.0, min(1.0, float(v))) * 100:.0f}"
templates.env.globals.update(
    COMPONENT_LABELS=COMPONENT_LABELS,
    EVENT_LABELS=EVENT_LABELS,
    STAGE_LABELS=STAGE_LABELS,
    ACTIONS=ACTIONS,
    ACTION_LABELS=ACTION_LABELS,
    ANSWER_LABELS=links.ANSWER_LABELS,
    STAGES=list(Stage),
    NEED_STATE_LABELS=overview.NEED_STATE_LABELS,
)


# -- login -------------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_token=token)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/ui/login", httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request, key: Annotated[str, Form(max_length=200)] = "", csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    if not _same_origin(request) or not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise CsrfRefused
    key = key.strip()
    try:
        access.authenticate(get_rec(request).store, key)
    except Unauthenticated as exc:
        message = "Saisissez votre clé d'accès." if not key else f"Connexion refusée : {exc}. Vérifiez la clé reçue."
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, status=401, login_token=token, flash={"kind": "error", "text": message})
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/ui/login", httponly=True, samesite="strict")
        return response
    response = _redirect("/ui/", flash=("ok", "Vous êtes connecté·e."))
    response.set_cookie(
        KEY_COOKIE,
        key,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    if request.cookies.get(KEY_COOKIE):
        check_form(request, csrf)
    response = _redirect("/ui/login", flash=("ok", "Vous êtes déconnecté·e."))
    response.delete_cookie(KEY_COOKIE, path="/")
    return response


# -- pages --------------------------------------------------------------------------------------------


HOME_PER_PAGE = 30


@dataclass
class HomeQuery:
    """The home page's search box and filters (projects)."""

    q: Annotated[str, Query(max_length=200)] = ""
    stage: StageParam = ""
    commune: Annotated[str, Query(max_length=200)] = ""
    cause: Annotated[str, Query(max_length=100)] = ""
    page: Annotated[int, Query(ge=1, le=100_000)] = 1

    def filters(self) -> listing.Filters:
        return listing.Filters(
            Stage(self.stage) if self.stage else None, self.commune or None, self.cause or None, self.q or None
        )


@router.get("/")
def home(request: Request, rec: Rec, h: Annotated[HomeQuery, Depends()]) -> Response:
    try:
        who = viewer(request)
    except Unauthenticated:
        return RedirectResponse("/ui/login", status_code=303)
    t = who.territory_id
    if who.role == P:
        return RedirectResponse(f"/ui/partners/{who.subject}", status_code=303)
    context: dict[str, Any] = {"territory": rec.get_territory(t)}
    if who.role == M:
        needs = rec.need_for_member(t, who.subject or "", k=10)
        access.served(who, rec, t, "need_for_member", who.subject or "", needs)
        answers = rec.suggestions(t, "member_for_need", candidate_id=who.subject or "")
        context["needs"] = needs
        context["answers"] = {need: state for (need, _), state in answers.items()}
        context["cards"] = {card_id(m.id, who.subject or "") for m in needs}
    else:
        f = h.filters()
        holder = who.subject if who.role == H else None
        found = listing.projects(
            rec, t, f, page=h.page, per_page=HOME_PER_PAGE, holder=holder, show_holder=lambda x: access.sees_holder(who, x)
        )
        context["found"] = found
        context["by_stage"] = [(s, [p for p in found.items if p["stage"] == s.value]) for s in Stage]
        context["h"] = h
        context["query"] = urlencode({"q": h.q, "stage": h.stage, "commune": h.commune, "cause": h.cause})
        context["partners"] = overview.list_partners(rec, t) if who.role in (A, G, N) else []
    return render(request, "home.html", who, **context)


def _states(rec: Recommender, t: str, question: str, subject_id: str) -> dict[str, SuggestionState]:
    """Where each suggestion of one subject stands, side by side: candidate id -> state."""
    return {cand: state for (_, cand), state in rec.suggestions(t, question, subject_id=subject_id).items()}


def _followed(states: dict[str, SuggestionState]) -> dict[str, SuggestionState]:
    """The suggestions someone acted on (the service serving one is not following it)."""
    return {cand: st for cand, st in states.items() if st.subject or st.candidate}


@router.get("/projects/{project_id}")
def project_page(request: Request, project_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    t = who.territory_id
    project, full = access.read_project(who, rec, t, project_id)
    can_edit = access.may_edit_project(who, project)
    lookalikes = similar.similar_to_project(rec, t, project_id)
    if not full:  # the public view: what the project is and what it looks for, no suggestion
        return render(
            request, "project.html", who, project=project, full=False, needs=[], routing=None, cards=set(), similar=lookalikes
        )
    needs = []
    for need in project.needs:
        if need.status != "open":
            needs.append(
                {"need": need, "matches": [], "tracked": [], "interested": [], "states": {}, "contacts": {}, "can_act": False}
            )
            continue
        matches = rec.member_for_need(t, need.id, k=SUGGESTIONS_PER_NEED)
        access.served(who, rec, t, "member_for_need", need.id, matches)
        states = _states(rec, t, "member_for_need", need.id)
        shown = {m.id for m in matches}
        tracked = []
        for cand, state in _followed(states).items():
            if cand not in shown:
                try:
                    tracked.append((cand, rec.get_member(t, cand).display_name, state))
                except NotFound:
                    continue
        contacts = {}
        for mid in [m.id for m in matches] + [c for c, _, _ in tracked]:
            email = access.member_view(who, rec, t, rec.get_member(t, mid)).email
            if email:
                contacts[mid] = email
        names = {m.id: m.label for m in matches} | {c: label for c, label, _ in tracked}
        interested = [(c, names.get(c, c), st) for c, st in states.items() if st.candidate in INTERESTED and c in names]
        needs.append(
            {
                "need": need,
                "matches": matches,
                "tracked": tracked,
                "interested": interested,
                "states": states,
                "contacts": contacts,
                "can_act": access.may_report(who, rec, t, "member_for_need", need.id),
            }
        )
    routing = rec.route_project(t, project_id)
    routed = [m for m in (routing["current"], routing["next"]) if m is not None]
    access.served(who, rec, t, "offering_for_project", project_id, routed)
    off_states = _states(rec, t, "offering_for_project", project_id)
    off_tracked = [(cand, state) for cand, state in _followed(off_states).items() if cand not in {m.id for m in routed}]
    cards = {card_id(project_id, m) for m in [*(m.id for m in routed), *(c for c, _ in off_tracked)]}
    for n in needs:
        cards |= {card_id(n["need"].id, m.id) for m in n["matches"]} | {card_id(n["need"].id, c) for c, _, _ in n["tracked"]}
    return render(
        request,
        "project.html",
        who,
        full=True,
        cards=cards,
        project=project,
        needs=needs,
        routing=routing,
        off_states=off_states,
        off_tracked=off_tracked,
        can_edit=can_edit,
        can_act_offerings=access.may_report(who, rec, t, "offering_for_project", project_id),
        similar=lookalikes,
    )


@router.get("/partners/{partner_id}")
def partner_page(request: Request, partner_id: EntityId, rec: Rec, who: Viewer) -> HTMLResponse:
    t = who.territory_id
    access.check_role(who, (A, G, P, N), "les pages partenaire sont réservées aux agents, partenaires et analystes")
    access.check_self(who, P, partner_id)
    partner = rec.get_partner(t, partner_id)
    digest = rec.partner_digest(t, partner_id, k=10)
    access.served(who, rec, t, "project_for_partner", partner_id, digest["projects"])
    states = _states(rec, t, "project_for_partner", partner_id)
    in_digest = {m.id for m in digest["projects"]}
    tracked = []
    for cand, state in states.items():
        if cand in in_digest:
            continue
        try:
            tracked.append((cand, rec.get_project(t, cand).title, state))
        except NotFound:
            continue
    cards = {card_id(partner_id, m.id) for m in digest["projects"]} | {card_id(partner_id, c) for c, _, _ in tracked}
    return render(
        request,
        "partner.html",
        who,
        cards=cards,
        partner=partner,
        digest=digest,
        states=states,
        tracked=tracked,
        can_act=access.may_report(who, rec, t, "project_for_partner", partner_id),
    )


@router.get("/overview")
def overview_page(request: Request, rec: Rec, who: Viewer) -> HTMLResponse:
    access.check_role(who, (A, G, N), "la vue du territoire est réservée aux agents et analystes")
    axes = policy.policy_overview(rec, who.territory_id)
    return render(request, "overview.html", who, ov=overview.territory_overview(rec, who.territory_id), axes=axes)


@router.get("/similar")
def similar_page(request: Request, rec: Rec, who: Viewer) -> HTMLResponse:
    """The agent's report of likely duplicates: pairs of projects of the territory, most alike first."""
    access.check_role(who, access.DUPLICATES_REPORT, "le rapport des doublons est réservé aux agents et analystes")
    pairs = similar.duplicates(rec, who.territory_id)
    return render(request, "similar.html", who, pairs=pairs, threshold=similar.duplicate_min())


@router.get("/overview/axes.csv")
def overview_axes_csv(rec: Rec, who: Viewer) -> Response:
    """The alignment of each project with each policy axis, as the API's ``policy.csv``."""
    access.check_role(who, (A, G, N), "la vue du territoire est réservée aux agents et analystes")
    text = policy.to_csv(policy.rows(rec, who.territory_id))
    headers = {"Content-Disposition": f'attachment; filename="{who.territory_id}-axes.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def _search_context(who: Principal, rec: Recommender, text: str, target: Target | None, stage_value: str) -> dict[str, Any]:
    stage = Stage(stage_value) if stage_value else None
    targets = [tg for tg in TARGET_LABELS if tg in SEARCH_TARGETS.get(who.role, TARGET_LABELS)]
    target = target or targets[0]
    access.check_search(who, rec, who.territory_id, target)
    matches: list[Match] = []
    if text.strip():
        matches = rec.search_text(who.territory_id, text, target, stage=stage, k=8)
    return {
        "text": text,
        "target": target,
        "stage": stage,
        "targets": [(tg, TARGET_LABELS[tg]) for tg in targets],
        "matches": matches,
        "links": who.role in (A, G, N),
    }


SearchText = Annotated[str, Query(max_length=4000)]


@dataclass
class SearchQuery:
    """The search form's fields (the page and its results part take the same ones)."""

    text: SearchText = ""
    target: Target | None = None
    stage: StageParam = ""


@router.get("/search")
def search_page(request: Request, rec: Rec, who: Viewer, q: Annotated[SearchQuery, Depends()]) -> HTMLResponse:
    return render(request, "search.html", who, **_search_context(who, rec, q.text, q.target, q.stage))


@router.get("/search/results")
def search_results(request: Request, rec: Rec, who: Viewer, q: Annotated[SearchQuery, Depends()]) -> HTMLResponse:
    """The results part of the search page alone (the page's script fetches it as one types)."""
    return render(request, "_results.html", who, **_search_context(who, rec, q.text, q.target, q.stage))


# -- actions ------------------------------------------------------------------------------------------


def transition_message(state: str | None, wanted: str, side: str = "subject") -> str:
    """Why ``wanted`` may not follow ``state`` on a side of a suggestion, in French, with what may
    be done instead."""
    machine = SIDE_TRANSITIONS[side]
    now = EVENT_LABELS[state] if state else ("aucun suivi" if side == "subject" else "aucune réponse")
    offered = ACTIONS if side == "subject" else ANSWERS
    possible = [EVENT_LABELS[a] for a in offered if a in machine[state]]
    msg = f"Impossible de marquer cette suggestion « {EVENT_LABELS[wanted]} » : elle est à l'état « {now} »."
    if side == "subject" and wanted == "accepted" and "contacted" in machine[state]:
        return msg + " Marquez-la d'abord « contacté »."
    if not possible:
        return msg + " Elle est close : plus aucune action possible."
    return msg + " Possible maintenant : " + ", ".join(f"« {p} »" for p in possible) + "."


@router.post("/events")
def post_event(
    request: Request,
    rec: Rec,
    who: Viewer,
    question: Annotated[Literal["member_for_need", "offering_for_project", "project_for_partner", "need_for_member"], Form()],
    subject_id: Annotated[str, Form(pattern=ID_PATTERN)],
    candidate_id: Annotated[str, Form(pattern=ID_PATTERN)],
    type: Annotated[Literal["contacted", "accepted", "declined", "interested", "not_interested"], Form()],
    csrf: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[str, Form(max_length=500)] = "/ui/",
    score: Annotated[float | None, Form(ge=0, le=1)] = None,
    breakdown: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_form(request, csrf)
    t = who.territory_id
    shown: dict[str, float] | None = None
    try:  # the components the person saw: they teach `maillage weights fit`
        parsed = json.loads(breakdown) if breakdown else None
        shown = {str(k): float(v) for k, v in parsed.items()} if isinstance(parsed, dict) else None
    except (ValueError, TypeError):
        shown = None
    suggestion = {
        "id": f"web-{uuid.uuid4().hex[:20]}",
        "question": question,
        "subject_id": subject_id,
        "candidate_id": candidate_id,
        "type": type,
        "at": rec.clock.now(),
    }
    try:
        ev = FeedbackEvent(**suggestion, score=score, breakdown=shown)
    except ValueError:  # a breakdown out of bounds: record the event without it
        ev = FeedbackEvent(**suggestion)
    report = access.event_report(who, rec, t, ev)
    back, card = _safe_back(back), card_id(subject_id, candidate_id)
    state = _states(rec, t, question, subject_id).get(candidate_id, SuggestionState()).of(report.side)
    if type not in SIDE_TRANSITIONS[report.side][state]:
        return _redirect(back, flash=("error", transition_message(state, type, report.side)), target=card)
    try:
        rec.record_events(t, [report])
    except InvalidRequest as exc:  # a concurrent change between the check and the write
        return _redirect(back, flash=("error", f"Action impossible : {exc}."), target=card)
    return _redirect(back, flash=("ok", f"Suggestion marquée « {EVENT_LABELS[type]} »."), target=card)


# -- answering through a one-time link (no key: the signed link is the authority) -------------------


def _answer_context(rec: Recommender, token: str) -> dict[str, Any]:
    link = links.read_link(rec, token)
    context: dict[str, Any] = {"link": link, "token": token, "answers": links.possible_answers(rec, link)}
    if link.question == "member_for_need":
        project = rec.get_project(link.territory_id, rec.project_of_need(link.territory_id, link.subject_id))
        need = next(n for n in project.needs if n.id == link.subject_id)
        context["about"] = f"{need.title} ({project.title})"
        context["text"] = need.text
    else:
        context["about"] = link.subject_id
    context["territory"] = rec.get_territory(link.territory_id)
    return context


@router.get("/answer/{token}")
def answer_page(request: Request, token: Annotated[str, PathParam(max_length=1000)], rec: Rec) -> HTMLResponse:
    try:
        context = _answer_context(rec, token)
    except (InvalidRequest, NotFound) as exc:
        return render(request, "error.html", None, status=410, title="Lien de réponse", message=f"{exc}.")
    return render(request, "answer.html", None, **context)


@router.post("/answer/{token}")
def answer_post(
    request: Request,
    token: Annotated[str, PathParam(max_length=1000)],
    rec: Rec,
    answer: Annotated[Literal["accepted", "interested", "not_interested", "declined"], Form()],
) -> HTMLResponse:
    if not _same_origin(request):
        raise CsrfRefused
    try:
        link = links.answer(rec, token, answer)
    except (InvalidRequest, NotFound) as exc:
        return render(request, "error.html", None, status=410, title="Lien de réponse", message=f"{exc}.")
    except Conflict:  # the same link sent twice at once: the first answer won
        message = "Ce lien de réponse a déjà servi : votre réponse est enregistrée."
        return render(request, "error.html", None, status=410, title="Lien de réponse", message=message)
    return render(request, "answered.html", None, answer=answer, link=link)
