"""Publishing and editing from the pages (issue 17, items 1 to 3): projects and calls for skills,
partners and offerings, members and their preferences, members' answers, the home page's filters,
the French 404 page. Forms are checked like every form (origin, session token); a refused field is
said in French next to it and nothing is written."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web import session_token
from matching import access
from tests.web.test_pages import SAME_ORIGIN, T, login


@pytest.fixture
def web(rec):
    with TestClient(create_app(recommender=rec), follow_redirects=False) as c:
        yield c


def post(web: TestClient, url: str, key: str, **fields) -> object:
    data = {"csrf": session_token(key), **fields}
    return web.post(url, data=data, headers=SAME_ORIGIN)


def test_an_agent_creates_a_project_with_two_calls_and_the_suggestions_follow(web, rec) -> None:
    key = login(web, rec, "agent")
    form = web.get("/ui/projects/new")
    assert form.status_code == 200 and '<label for="f-title">Titre' in T(form) and 'name="holder"' in T(form)
    r = post(
        web,
        "/ui/projects/new",
        key,
        title="Repair café des Blagis",
        description="Réparer ensemble petits appareils et vélos, une fois par mois.",
        stage="idee",
        commune="Sceaux",
        causes="Réemploi, Lien social",
        holder="m7",
    )
    assert r.status_code == 303, T(r)
    url = r.headers["location"]
    pid = url.rsplit("/", 1)[1]
    assert pid == "repair-cafe-des-blagis"
    project = rec.get_project("mini", pid)
    assert project.causes == ["Réemploi", "Lien social"] and project.holder == "m7" and project.needs == []
    for title, text in (
        ("Un bricoleur pour les vélos", "Réparer les freins et les chaînes des vélos le samedi."),
        ("Quelqu'un pour la trésorerie", "Tenir la caisse et les comptes de l'association."),
    ):
        r = post(web, f"{url}/needs/new", key, title=title, text=text, hours_per_week="2,5", remote="on", headcount="2")
        assert r.status_code == 303, T(r)
    project = rec.get_project("mini", pid)
    assert [n.id for n in project.needs] == [f"{pid}-n1", f"{pid}-n2"]
    assert project.needs[0].hours_per_week == 2.5 and project.needs[0].remote and project.needs[0].headcount == 2
    # the new calls are asked about at once: the indexes followed the write
    page = web.get(url)
    assert page.status_code == 200 and "Marc V." in T(page) and "Claire B." in T(page)
    assert [m.id for m in rec.member_for_need("mini", f"{pid}-n1", k=1)] == ["m6"]
    # close a call, move the project on
    r = post(web, f"{url}/needs/{pid}-n2/close", key)
    assert r.status_code == 303 and rec.get_project("mini", pid).needs[1].status == "closed"
    assert f"{pid}-n2" not in {m.id for m in rec.need_for_member("mini", "m1", k=10)}
    r = post(web, f"{url}/advance", key)
    assert r.status_code == 303 and rec.get_project("mini", pid).stage == "test"
    assert "passe à l'étape « test »" in T(web.get(url))


def test_refused_fields_are_said_in_french_next_to_them_and_nothing_is_written(web, rec) -> None:
    key = login(web, rec, "agent")
    before = rec.get_project("mini", "p1")
    r = post(web, "/ui/projects/p1/needs/p1-n1/edit", key, title="", hours_per_week="beaucoup", headcount="0")
    assert r.status_code == 422
    page = T(r)
    assert 'id="f-hours_per_week-err">un nombre est attendu' in page
    assert 'aria-invalid="true"' in page and "corrigez les champs signalés" in page
    assert 'value="beaucoup"' in page  # what was typed stays
    r = post(web, "/ui/projects/p1/needs/p1-n1/edit", key, title="", hours_per_week="3", headcount="0")
    page = T(r)
    assert r.status_code == 422 and 'id="f-title-err">ne doit pas être vide' in page
    assert re.search(r'id="f-headcount-err">[^<]*1', page)
    r = post(web, "/ui/projects/new", key, title="x" * 300)
    assert r.status_code == 422 and 'id="f-title-err">' in T(r)
    r = post(web, "/ui/projects/new", key, title="Doublon", id="p1")
    assert r.status_code == 422 and "existe déjà" in T(r)
    r = post(web, "/ui/members/m1/edit", key, display_name="Claire B.", postcode="923", skills="Comptable")
    assert r.status_code == 422 and 'id="f-postcode-err">cinq chiffres sont attendus' in T(r)
    assert rec.get_project("mini", "p1") == before and rec.get_member("mini", "m1").postcode == "92330"
    # the forms are protected as every form
    r = web.post("/ui/projects/p1/advance", data={"csrf": "faux"}, headers=SAME_ORIGIN)
    assert r.status_code == 403 and "protection contre les requêtes intersites" in T(r)
    r = web.post("/ui/projects/p1/advance", data={"csrf": session_token(key)}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and rec.get_project("mini", "p1").stage == before.stage


def test_who_edits_what_follows_the_access_policy(web, rec) -> None:
    key = login(web, rec, "holder", "m7")
    assert web.get("/ui/projects/p1/edit").status_code == 200
    assert web.get("/ui/projects/p2/edit").status_code == 403  # another holder's project
    r = post(web, "/ui/projects/p2/advance", key)
    assert r.status_code == 403 and rec.get_project("mini", "p2").stage == "test"
    # a holder's new project names them as holder (no holder field for them)
    form = web.get("/ui/projects/new")
    assert 'name="holder"' not in T(form)
    r = post(web, "/ui/projects/new", key, title="Cours de français", stage="idee", holder="m1")
    assert r.status_code == 303 and rec.get_project("mini", "cours-de-francais").holder == "m7"
    r = post(
        web,
        "/ui/projects/p1/edit",
        key,
        title="Épicerie solidaire du centre",
        stage="financement",
        description="Nouvelle description.",
    )
    assert r.status_code == 303 and rec.get_project("mini", "p1").description == "Nouvelle description."
    assert rec.get_project("mini", "p1").holder == "m7" and len(rec.get_project("mini", "p1").needs) == 2
    for url in ("/ui/partners/cowork/edit", "/ui/members/m1/edit", "/ui/members", "/ui/partners/new", "/ui/members/new"):
        assert web.get(url).status_code == 403, url
    web.cookies.clear()
    login(web, rec, "analyst")
    for url in ("/ui/projects/new", "/ui/projects/p1/edit", "/ui/partners/cowork/edit", "/ui/members/m1/edit"):
        assert web.get(url).status_code == 403, url
    assert web.get("/ui/members").status_code == 200


def test_a_partner_edits_its_offerings(web, rec) -> None:
    key = login(web, rec, "partner", "cowork")
    assert web.get("/ui/partners/banque/edit").status_code == 403
    page = web.get("/ui/partners/cowork/edit")
    assert page.status_code == 200 and "Bureaux et postes de travail" in T(page)
    r = post(
        web,
        "/ui/partners/cowork/edit",
        key,
        name="Espace partagé",
        description="Coworking et salles.",
        email="contact@cowork.example",
    )
    assert r.status_code == 303 and rec.get_partner("mini", "cowork").email == "contact@cowork.example"
    assert len(rec.get_partner("mini", "cowork").offerings) == 1  # the offerings stay
    data = {
        "title": "Salle de réunion à l'heure",
        "text": "Une salle pour dix personnes.",
        "kind": "space",
        "capacity": "4",
        "examples": "il nous faut une salle pour notre assemblée\nun endroit pour recevoir nos bénévoles\n\nune salle pour une formation",
    }
    r = web.post(
        "/ui/partners/cowork/offerings/new",
        data={"csrf": session_token(key), **data, "stages": ["lancement", "croissance"]},
        headers=SAME_ORIGIN,
    )
    assert r.status_code == 303, T(r)
    offering = rec.get_partner("mini", "cowork").offerings[1]
    assert (offering.id, offering.stages, offering.capacity) == ("cowork-o1", ["lancement", "croissance"], 4)
    assert offering.examples == [
        "il nous faut une salle pour notre assemblée",
        "un endroit pour recevoir nos bénévoles",
        "une salle pour une formation",
    ]
    page = T(web.get("/ui/partners/cowork/offerings/cowork-o1/edit"))
    assert "il nous faut une salle pour notre assemblée\nun endroit pour recevoir nos bénévoles" in page
    r = post(
        web, "/ui/partners/cowork/offerings/cowork-o1/edit", key, title="Salle", kind="space", stages="lancement", examples="a\nA"
    )
    assert r.status_code == 422 and 'id="f-examples-err">' in T(r) and "en double" in T(r)
    r = post(web, "/ui/partners/cowork/offerings/cowork-o1/edit", key, title="Salle", kind="space", capacity="4")
    assert r.status_code == 422 and 'id="f-stages-err">' in T(r)  # at least one stage
    r = post(web, "/ui/partners/cowork/offerings/cowork-o1/edit", key, title="Salle", kind="lune", stages="lancement")
    assert r.status_code == 422 and 'id="f-kind-err">' in T(r)
    assert rec.get_partner("mini", "cowork").offerings[1].title == "Salle de réunion à l'heure"


def test_an_agent_manages_members_and_partners(web, rec) -> None:
    key = login(web, rec, "agent")
    r = post(
        web,
        "/ui/members/new",
        key,
        display_name="Nadia K.",
        skills="Couturière, retouches",
        commune="Bagneux",
        consent="on",
        email="nadia@example.net",
    )
    assert r.status_code == 303, T(r)
    listed = web.get("/ui/members", params={"q": "couturiere"})
    assert "Nadia K." in T(listed) and "Claire B." not in T(listed)
    mid = re.search(r'href="/ui/members/([^/]+)/edit">Nadia K\.', T(listed)).group(1)
    assert rec.get_member("mini", mid).consent
    assert [m.id for m in rec.search_text("mini", "retouches de vêtements", "members", k=1)] == [mid]
    r = post(web, f"/ui/members/{mid}/delete", key)
    assert r.status_code == 303 and f"/ui/members/{mid}/edit" not in T(web.get("/ui/members"))
    r = post(web, "/ui/partners/new", key, name="Ressourcerie du Sud", description="Collecte et réemploi.")
    assert r.status_code == 303 and r.headers["location"] == "/ui/partners/ressourcerie-du-sud"
    r = post(web, "/ui/partners/ressourcerie-du-sud/delete", key)
    assert r.status_code == 303 and "/ui/partners/ressourcerie-du-sud" not in T(web.get("/ui/"))


def test_a_member_answers_the_calls_that_fit_them_and_edits_their_preferences(web, rec) -> None:
    key = login(web, rec, "member", "m1")
    home = web.get("/ui/")
    assert "Je suis intéressé·e" in T(home) and "Pas pour moi" in T(home)
    form = {"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1", "back": "/ui/"}
    r = post(web, "/ui/events", key, type="interested", **form)
    assert r.status_code == 303 and r.headers["location"] == "/ui/#s-p1-n1-m1"
    assert "votre réponse : intéressé·e" in T(web.get("/ui/"))
    (ev,) = [e for e in rec.list_events("mini") if e.side == "candidate"]
    assert (ev.type, ev.question, ev.subject_id) == ("interested", "member_for_need", "p1-n1")
    assert post(web, "/ui/events", key, type="not_interested", **(form | {"subject_id": "p3-n1"})).status_code == 303
    # only for themself
    r = post(web, "/ui/events", key, type="interested", **(form | {"candidate_id": "m2"}))
    assert r.status_code == 403
    # the holder sees the interested member on the project page
    web.cookies.clear()
    login(web, rec, "holder", "m7")
    page = T(web.get("/ui/projects/p1"))
    assert "Membres intéressés" in page and re.search(r"Claire B\.</strong> — intéressé·e", page)
    # preferences
    web.cookies.clear()
    key = login(web, rec, "member", "m1")
    page = web.get("/ui/members/m1/edit")
    assert page.status_code == 200 and "Types de missions souhaités" in T(page) and 'name="max_engagements"' not in T(page)
    assert web.get("/ui/members/m2/edit").status_code == 403
    r = web.post(
        "/ui/members/m1/edit",
        data={
            "csrf": session_token(key),
            "display_name": "Claire B.",
            "email": "claire.b@example.org",
            "skills": "Comptable à la retraite",
            "commune": "Sceaux",
            "postcode": "92330",
            "hours_per_week": "3",
            "causes": "Sport pour tous, Solidarité",
            "preferences.task_kinds": ["administratif", "conseil"],
            "preferences.max_km": "5",
            "preferences.digest": "on",
            "consent": "on",
        },
        headers=SAME_ORIGIN,
    )
    assert r.status_code == 303, T(r)
    member = rec.get_member("mini", "m1")
    assert member.preferences.task_kinds == ["administratif", "conseil"] and member.preferences.max_km == 5
    assert member.preferences.digest and member.causes == ["Sport pour tous", "Solidarité"] and not member.remote_ok
    assert member.email == "claire.b@example.org" and member.max_engagements == 2  # max_engagements: not on a member's form, kept


def test_the_home_page_groups_projects_by_stage_with_filters(web, rec) -> None:
    login(web, rec, "agent")
    page = T(web.get("/ui/"))
    assert page.index("Étape : test") < page.index("Étape : financement") < page.index("Étape : lancement")
    assert 'role="search"' in page
    found = T(web.get("/ui/", params={"q": "epicerie"}))
    assert "Épicerie solidaire du centre" in found and "Jardin partagé" not in found and "1 projet" in found
    found = T(web.get("/ui/", params={"commune": "bagneux"}))
    assert "Atelier de réparation" in found and "Épicerie" not in found
    found = T(web.get("/ui/", params={"stage": "test"}))
    assert "Jardin partagé" in found and "Atelier" not in found
    assert web.get("/ui/", params={"stage": "lune"}).status_code == 422


def test_an_unknown_page_is_a_french_404(web, rec) -> None:
    r = web.get("/ui/nothing")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "Page introuvable" in T(r)
    assert 'lang="fr"' in T(r)
    login(web, rec, "agent")
    r = web.get("/ui/nothing/deeper")
    assert r.status_code == 404 and "Page introuvable" in T(r) and "Se déconnecter" in T(r)
    assert web.get("/ui/static/maillage.css").status_code == 200
    assert web.get("/territories/mini/nothing").headers["content-type"].startswith("application/json")


def test_access_helpers_agree_with_the_api_put(rec) -> None:
    """The pages' edit rights are the API's PUT rights, role by role."""
    from fastapi.testclient import TestClient

    project = rec.get_project("mini", "p1").model_dump(mode="json")
    with TestClient(create_app(recommender=rec)) as api:
        for role, subject in (
            ("agent", None),
            ("holder", "m7"),
            ("holder", "m1"),
            ("partner", "cowork"),
            ("analyst", None),
            ("member", "m1"),
        ):
            key, _ = access.create_key(rec.store, "mini", role, subject)
            who = access.authenticate(rec.store, key)
            put = api.put("/territories/mini/projects/p1", json=project, headers={"X-API-Key": key}).status_code
            try:
                access.check_project_edit(who, rec, "mini", "p1")
                page = 200
            except access.Forbidden:
                page = 403
            assert (put, page) in ((200, 200), (403, 403)), (role, subject, put, page)


def test_the_holder_confirms_rome_codes_suggested_from_the_text(web, rec) -> None:
    """Issue 17, item 7: the codes are suggested from the call's text on its edit page, none is
    ticked for the holder; what they tick is kept and exported as ``romeSkills``."""
    from matching import engagement, rome

    key = login(web, rec, "holder", "m7")
    url = "/ui/projects/p1/needs/p1-n1/edit"
    page = T(web.get(url))
    need = next(n for n in rec.get_project("mini", "p1").needs if n.id == "p1-n1")
    suggested = [s.code for s in rome.suggest(rec.encoder, need.full_text(), k=5)]
    assert need.rome_skills == [] and len(suggested) == 5
    for code in suggested:
        assert f'name="rome_skills" value="{code}"' in page and f"{code} — {rome.label(code)}" in page
    assert 'name="rome_skills" value="' + suggested[0] + '" checked' not in page
    r = post(web, url, key, title=need.title, text=need.text, hours_per_week="2", headcount="1", rome_skills=suggested[0])
    assert r.status_code == 303, T(r)
    need = next(n for n in rec.get_project("mini", "p1").needs if n.id == "p1-n1")
    assert need.rome_skills == [suggested[0]]
    assert f'value="{suggested[0]}" checked' in T(web.get(url))
    assert f"<romeSkills>{suggested[0]}</romeSkills>".encode() in engagement.feed_xml(rec, "mini", base_url="http://t/")
    # a code that is not in the table is refused next to the field, nothing written
    r = post(web, url, key, title=need.title, hours_per_week="2", headcount="1", rome_skills="999999")
    assert r.status_code == 422 and "999999" in T(r)
    assert next(n for n in rec.get_project("mini", "p1").needs if n.id == "p1-n1").rome_skills == [suggested[0]]
