"""The web pages without a browser: login, role boundaries, contact fields, CSRF, messages."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web import session_token, transition_message
from matching import access

SAME_ORIGIN = {"origin": "http://testserver"}


def T(response) -> str:
    """The page's text with HTML entities decoded."""
    return html.unescape(response.text)


@pytest.fixture
def web(rec):
    """A client without any key: it logs in through the form like a browser."""
    with TestClient(create_app(recommender=rec), follow_redirects=False) as c:
        yield c


def _login_token(web: TestClient) -> str:
    page = web.get("/ui/login")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def login(web: TestClient, rec, role: str, subject: str | None = None) -> str:
    key, _ = access.create_key(rec.store, "mini", role, subject)
    r = web.post("/ui/login", data={"key": key, "csrf": _login_token(web)}, headers=SAME_ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/ui/", r.text
    return key


def _event_form(key: str, **over) -> dict:
    return {
        "csrf": session_token(key),
        "question": "member_for_need",
        "subject_id": "p1-n1",
        "candidate_id": "m1",
        "type": "contacted",
        "back": "/ui/projects/p1",
    } | over


def test_root_and_pages_without_a_session_lead_to_the_login(web) -> None:
    assert web.get("/").headers["location"] == "/ui/"
    assert web.get("/ui/").headers["location"] == "/ui/login"
    r = web.get("/ui/projects/p1")
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    page = web.get("/ui/login")
    assert 'lang="fr"' in T(page) and '<label for="key">' in T(page)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_login_with_a_bad_key_says_so_in_french(web, rec) -> None:
    r = web.post("/ui/login", data={"key": "mlg_faux_0000", "csrf": _login_token(web)}, headers=SAME_ORIGIN)
    assert r.status_code == 401
    assert "Connexion refusée : clé d'API invalide" in T(r) and "maillage_key" not in r.headers.get("set-cookie", "")
    r = web.post("/ui/login", data={"key": "", "csrf": _login_token(web)}, headers=SAME_ORIGIN)
    assert r.status_code == 401 and "Saisissez votre clé d'accès" in T(r)
    key, info = access.create_key(rec.store, "mini", "agent")
    access.revoke_key(rec.store, info.key_id)
    r = web.post("/ui/login", data={"key": key, "csrf": _login_token(web)}, headers=SAME_ORIGIN)
    assert r.status_code == 401 and "révoquée" in T(r)


def test_the_session_cookie_is_httponly_and_strict_and_logout_clears_it(web, rec) -> None:
    key, _ = access.create_key(rec.store, "mini", "agent")
    r = web.post("/ui/login", data={"key": key, "csrf": _login_token(web)}, headers=SAME_ORIGIN)
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("maillage_key="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert web.get("/ui/").status_code == 200
    assert web.post("/ui/logout", data={"csrf": "faux"}, headers=SAME_ORIGIN).status_code == 403
    r = web.post("/ui/logout", data={"csrf": session_token(key)}, headers=SAME_ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert web.get("/ui/").headers["location"] == "/ui/login"


def test_forms_from_another_site_are_refused(web, rec) -> None:
    # login: the double-submit token is required, and the origin must be ours
    key, _ = access.create_key(rec.store, "mini", "agent")
    r = web.post("/ui/login", data={"key": key, "csrf": "deviné"}, headers=SAME_ORIGIN)
    assert r.status_code == 403 and "Formulaire refusé" in T(r)
    token = _login_token(web)
    r = web.post("/ui/login", data={"key": key, "csrf": token}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    key = login(web, rec, "agent")
    # an action without the session's token, with a wrong one, or from another origin
    for data, headers in (
        (_event_form(key, csrf=""), SAME_ORIGIN),
        (_event_form(key, csrf=session_token("mlg_autre_clé")), SAME_ORIGIN),
        (_event_form(key), {"origin": "https://evil.example"}),
        (_event_form(key), {"referer": "https://evil.example/page"}),
    ):
        r = web.post("/ui/events", data=data, headers=headers)
        assert r.status_code == 403 and "protection contre les requêtes intersites" in T(r)
    assert rec.list_events("mini") == []
    r = web.post("/ui/events", data=_event_form(key), headers=SAME_ORIGIN)
    assert r.status_code == 303 and len(rec.list_events("mini")) == 1


def test_a_transition_that_is_not_allowed_is_a_french_message(web, rec) -> None:
    key = login(web, rec, "agent")
    r = web.post("/ui/events", data=_event_form(key, type="accepted"), headers=SAME_ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/ui/projects/p1#s-p1-n1-m1"
    page = web.get("/ui/projects/p1")
    assert page.status_code == 200
    assert "Marquez-la d'abord « contacté »" in T(page) and 'role="alert"' in T(page)
    assert rec.list_events("mini") == []
    for type_ in ("contacted", "accepted"):
        web.post("/ui/events", data=_event_form(key, type=type_), headers=SAME_ORIGIN)
    assert [e.type for e in rec.list_events("mini")] == ["contacted", "accepted"]
    web.post("/ui/events", data=_event_form(key, type="contacted"), headers=SAME_ORIGIN)
    assert "Possible maintenant : « refusé »" in T(web.get("/ui/projects/p1"))
    web.post("/ui/events", data=_event_form(key, type="declined"), headers=SAME_ORIGIN)
    web.post("/ui/events", data=_event_form(key, type="contacted"), headers=SAME_ORIGIN)
    assert "plus aucune action possible" in T(web.get("/ui/projects/p1"))
    # bad values are a French page, never a 500
    r = web.post("/ui/events", data=_event_form(key, type="adopted"), headers=SAME_ORIGIN)
    assert r.status_code == 422 and "Valeur refusée" in T(r)
    r = web.post("/ui/events", data=_event_form(key, candidate_id="m404"), headers=SAME_ORIGIN)
    assert r.status_code == 404 and "Introuvable" in T(r)


def test_transition_messages() -> None:
    assert "Marquez-la d'abord « contacté »" in transition_message(None, "accepted")
    assert "Marquez-la d'abord" not in transition_message("accepted", "contacted")
    assert "plus aucune action possible" in transition_message("declined", "accepted")
    # the side of the one suggested has its own answers
    msg = transition_message("not_interested", "accepted", "candidate")
    assert "« pas intéressé·e »" in msg and "Possible maintenant : « intéressé·e »" in msg
    assert "aucune réponse" in transition_message(None, "completed", "candidate")


def test_the_back_address_stays_on_these_pages(web, rec) -> None:
    key = login(web, rec, "agent")
    for back in ("https://evil.example/", "//evil.example/ui/", "/docs", "/ui\\..\\x"):
        r = web.post("/ui/events", data=_event_form(key, back=back, candidate_id="m2"), headers=SAME_ORIGIN)
        assert r.headers["location"].startswith("/ui/#"), back


def test_partner_sees_only_its_digest_and_no_project_page(web, rec) -> None:
    partner = rec.get_partner("mini", "cowork")
    offices = partner.offerings[0].model_copy(update={"examples": ["il nous faut un bureau à trois"]})
    rec.upsert_partners("mini", [partner.model_copy(update={"offerings": [offices]})])
    key = login(web, rec, "partner", "cowork")
    assert web.get("/ui/").headers["location"] == "/ui/partners/cowork"
    page = web.get("/ui/partners/cowork")
    assert "Demandes types (1)" in T(page) and "« il nous faut un bureau à trois »" in T(page)
    assert page.status_code == 200 and "Espace partagé" in T(page) and "Atelier de réparation" in T(page)
    for url in ("/ui/partners/banque", "/ui/overview"):
        r = web.get(url)
        assert r.status_code == 403 and "Accès refusé" in T(r), url
        assert "Banque solidaire" not in T(r) and "Épicerie" not in T(r)
    # a project: its public view, as through the API (no suggestion, no holder, no action)
    r = web.get("/ui/projects/p1")
    assert r.status_code == 200 and "Épicerie solidaire du centre" in T(r) and "Quelqu'un pour tenir la trésorerie" in T(r)
    assert "Membres suggérés" not in T(r) and "Claire B." not in T(r) and "Porté par" not in T(r)
    assert 'action="/ui/events"' not in T(r)
    r = web.get("/ui/search", params={"text": "comptable", "target": "members"})
    assert r.status_code == 403
    r = web.get("/ui/search", params={"text": "un bureau pour trois personnes"})
    assert r.status_code == 200 and '<option value="projects" selected>' in T(r) and 'value="members"' not in T(r)
    # actions only on its own suggestions
    ev = _event_form(key, question="project_for_partner", subject_id="banque", candidate_id="p1", back="/ui/partners/cowork")
    assert web.post("/ui/events", data=ev, headers=SAME_ORIGIN).status_code == 403
    ev |= {"subject_id": "cowork", "candidate_id": "p3"}
    assert web.post("/ui/events", data=ev, headers=SAME_ORIGIN).status_code == 303


def test_holder_sees_only_their_projects_and_a_contact_only_once_both_agreed(web, rec) -> None:
    key = login(web, rec, "holder", "m7")
    home = web.get("/ui/")
    assert "Épicerie solidaire du centre" in T(home) and "Jardin partagé" not in T(home)
    other = web.get("/ui/projects/p2")  # another project: its public view only
    assert other.status_code == 200 and "Conseils pour les plantations" in T(other) and "Membres suggérés" not in T(other)
    page = web.get("/ui/projects/p1")
    assert "Claire B." in T(page) and "claire.b@example.org" not in T(page)
    for type_ in ("contacted", "accepted"):
        web.post("/ui/events", data=_event_form(key, type=type_), headers=SAME_ORIGIN)
    page = web.get("/ui/projects/p1")
    assert "claire.b@example.org" not in T(page)  # the holder's "accepted" is only their side
    assert "réponse du membre : pas encore de réponse" in T(page)
    m1, _ = access.create_key(rec.store, "mini", "member", "m1")
    answer = {"id": "m1-yes", "question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1", "type": "accepted"}
    with TestClient(create_app(recommender=rec)) as api:
        answer["at"] = rec.clock.now().isoformat()
        assert api.post("/territories/mini/events", json={"events": [answer]}, headers={"X-API-Key": m1}).status_code == 200
    page = web.get("/ui/projects/p1")
    assert "claire.b@example.org" in T(page) and "karim.d@example.org" not in T(page)
    assert "réponse du membre : accepté" in T(page)
    assert web.get("/ui/overview").status_code == 403


def test_the_holder_cannot_answer_for_the_member_from_the_pages(web, rec) -> None:
    key = login(web, rec, "holder", "m7")
    web.get("/ui/projects/p1")
    r = web.post("/ui/events", data=_event_form(key, type="interested"), headers=SAME_ORIGIN)
    assert r.status_code == 303  # refused with a message: not the holder's side
    assert "Impossible de marquer cette suggestion « intéressé·e »" in T(web.get("/ui/projects/p1"))
    assert [e.side for e in rec.list_events("mini")] == ["service"] * len(rec.list_events("mini"))


def test_analyst_reads_without_contact_fields_or_actions(web, rec) -> None:
    login(web, rec, "analyst")
    page = web.get("/ui/projects/p1")
    assert page.status_code == 200 and "Claire B." in T(page)
    assert "@example.org" not in T(page) and 'action="/ui/events"' not in T(page)
    search = web.get("/ui/search", params={"text": "comptabilité trésorerie", "target": "members"})
    assert "Claire B." in T(search) and "@example.org" not in T(search)
    overview = web.get("/ui/overview")
    assert overview.status_code == 200 and "@example.org" not in T(overview)
    partner = web.get("/ui/partners/cowork")
    assert partner.status_code == 200 and 'action="/ui/events"' not in T(partner)
    r = web.post("/ui/events", data=_event_form(web.cookies["maillage_key"]), headers=SAME_ORIGIN)
    assert r.status_code == 403 and rec.list_events("mini") == []


def test_agent_sees_contacts_and_the_overview(web, rec) -> None:
    login(web, rec, "agent")
    assert "claire.b@example.org" in T(web.get("/ui/projects/p1"))
    page = web.get("/ui/overview")
    assert page.status_code == 200 and "Projets par étape" in T(page) and "Indice de Gini" in T(page)
    assert "Banque solidaire" in T(web.get("/ui/"))


def test_member_sees_the_calls_that_fit_them(web, rec) -> None:
    login(web, rec, "member", "m1")
    home = web.get("/ui/")
    assert home.status_code == 200 and "Quelqu'un pour tenir la trésorerie" in T(home)
    project = web.get("/ui/projects/p1")  # the public view: no suggestion, no holder
    assert project.status_code == 200 and "Membres suggérés" not in T(project) and "Porté par" not in T(project)
    assert web.get("/ui/search", params={"text": "x", "target": "members"}).status_code == 403


def test_search_results_fragment_and_bad_input(web, rec) -> None:
    login(web, rec, "agent")
    r = web.get("/ui/search/results", params={"text": "une garantie pour le prêt", "target": "offerings", "stage": ""})
    assert r.status_code == 200 and "Contre-garantie bancaire" in T(r) and "<html" not in T(r)
    r = web.get("/ui/search", params={"text": "x", "target": "offerings", "stage": "lune"})
    assert r.status_code == 422 and "Demande invalide" in T(r)
    assert web.get("/ui/projects/p404").status_code == 404
    assert web.get("/ui/projects/..%2Fx").status_code in (404, 422)


def test_another_territory_is_not_there(web, rec) -> None:
    key, _ = access.create_key(rec.store, "autre", "agent", force=True)
    r = web.post("/ui/login", data={"key": key, "csrf": _login_token(web)}, headers=SAME_ORIGIN)
    assert r.status_code == 303
    r = web.get("/ui/projects/p1")
    assert r.status_code == 404 and "Épicerie" not in T(r)


def test_a_revoked_key_ends_the_session(web, rec) -> None:
    key = login(web, rec, "agent")
    assert web.get("/ui/overview").status_code == 200
    access.revoke_key(rec.store, access.authenticate(rec.store, key).key_id)
    r = web.get("/ui/overview")
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert "Reconnectez-vous : clé d'API révoquée" in T(web.get("/ui/login"))


def test_a_member_answers_through_a_one_time_link(web, rec, monkeypatch) -> None:
    import datetime as dt

    from matching.clock import FixedClock

    admin, _ = access.create_key(rec.store, "mini", "agent")
    suggestion = {"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1"}
    with TestClient(create_app(recommender=rec)) as api:
        made = api.post("/territories/mini/answer-links", json=suggestion, headers={"X-API-Key": admin})
        assert made.status_code == 200, made.text
        path = made.json()["path"]
        holder, _ = access.create_key(rec.store, "mini", "holder", "m7")
        assert api.post("/territories/mini/answer-links", json=suggestion, headers={"X-API-Key": holder}).status_code == 403
    assert path.startswith("/ui/answer/")
    page = web.get(path)  # no key: the signed link is the authority; opening it records nothing
    assert page.status_code == 200 and "Quelqu'un pour tenir la trésorerie (Épicerie solidaire du centre)" in T(page)
    assert "J'accepte" in T(page) and "Pas pour moi" in T(page) and rec.list_events("mini") == []
    # a forged or damaged link, another site's form
    assert "invalide" in T(web.get(path[:-3] + "abc"))
    r = web.post(path, data={"answer": "accepted"}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and rec.list_events("mini") == []
    r = web.post(path, data={"answer": "accepted"}, headers=SAME_ORIGIN)
    assert r.status_code == 200 and "Votre réponse « accepté » est enregistrée" in T(r)
    (ev,) = rec.list_events("mini")
    assert (ev.type, ev.side, ev.candidate_id) == ("accepted", "candidate", "m1")
    # once only
    again = web.get(path)
    assert again.status_code == 410 and "déjà servi" in T(again)
    assert web.post(path, data={"answer": "declined"}, headers=SAME_ORIGIN).status_code == 410
    # the holder's side accepts too: now the holder sees the e-mail
    with TestClient(create_app(recommender=rec)) as api:
        agent = {"X-API-Key": admin}
        at = rec.clock.now().isoformat()
        story = [{"id": f"g{i}", "type": t, "at": at, **suggestion} for i, t in enumerate(("contacted", "accepted"))]
        assert api.post("/territories/mini/events", json={"events": story}, headers=agent).status_code == 200
        assert api.get("/territories/mini/members/m1", headers={"X-API-Key": holder}).json()["email"] == "claire.b@example.org"
        path = api.post("/territories/mini/answer-links", json=suggestion, headers=agent).json()["path"]
    # a link expires
    monkeypatch.setattr(rec, "clock", FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=15)))
    expired = web.get(path)
    assert expired.status_code == 410 and "expiré" in T(expired)
