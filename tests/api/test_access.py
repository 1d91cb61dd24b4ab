"""Role boundaries over HTTP: each role of a key, its territory, and the contact fields it sees."""

from __future__ import annotations

import datetime as dt

import pytest

from matching import access

EVENT = {"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1"}


def _event(i: str, type_: str, at: str, **over) -> dict:
    return {"id": i, "type": type_, "at": at} | EVENT | over


def test_a_key_is_required_and_checked(client, rec) -> None:
    url = "/territories/mini/needs/p1-n1/members"
    assert client.get(url, headers={"X-API-Key": ""}).status_code == 401
    r = client.get(url, headers={"X-API-Key": "mlg_faux_0000"})
    assert r.status_code == 401 and "invalide" in r.json()["detail"]
    key, info = access.create_key(rec.store, "mini", "agent")
    assert client.get(url, headers={"X-API-Key": key}).status_code == 200
    access.revoke_key(rec.store, info.key_id)
    r = client.get(url, headers={"X-API-Key": key})
    assert r.status_code == 401 and "révoquée" in r.json()["detail"]
    assert client.get("/health", headers={"X-API-Key": ""}).status_code == 200


def test_keys_are_hashed_at_rest(rec) -> None:
    from sqlalchemy import text

    key, _ = access.create_key(rec.store, "mini", "admin")
    with rec.store.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_keys")) for v in row)
    secret = key.split("_", 2)[2]
    assert secret not in dump and key not in dump


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/territories/mini"),
        ("GET", "/territories/mini/members/m1"),
        ("GET", "/territories/mini/needs/p1-n1/members"),
        ("GET", "/territories/mini/projects/p1/routing"),
        ("DELETE", "/territories/mini/members/m1"),
        ("GET", "/territories/mini/events"),
    ],
)
def test_another_territory_does_not_exist_for_a_key(client, key_for, method, path) -> None:
    other = key_for("admin", territory="autre", force=True)
    r = client.request(method, path, headers=other)
    assert r.status_code == 404 and "territoire" in r.json()["detail"]
    assert client.get("/territories/mini/members/m1").status_code == 200  # still there


def test_holder_sees_and_changes_only_their_projects(client, key_for) -> None:
    h = key_for("holder", "m7")  # p1's holder
    assert client.get("/territories/mini/projects/p1/offerings", headers=h).status_code == 200
    assert client.get("/territories/mini/projects/p1/routing", headers=h).status_code == 200
    assert client.get("/territories/mini/needs/p1-n1/members", headers=h).status_code == 200
    for url in ("/territories/mini/projects/p2/offerings", "/territories/mini/needs/p2-n1/members"):
        r = client.get(url, headers=h)
        assert r.status_code == 403 and "n'est pas le vôtre" in r.json()["detail"], url
    # another project: its public view only
    assert client.get("/territories/mini/projects/p1", headers=h).json()["holder"] == "m7"
    p2 = client.get("/territories/mini/projects/p2", headers=h)
    assert p2.status_code == 200 and p2.json()["title"] == "Jardin partagé des Blagis" and p2.json()["holder"] is None
    assert client.delete("/territories/mini/projects/p2", headers=h).status_code == 403
    mine = {"id": "p9", "title": "Atelier vélo", "holder": "m7", "needs": [{"id": "p9-n1", "title": "Mécanicien vélo"}]}
    assert client.put("/territories/mini/projects/p9", json=mine, headers=h).status_code == 200
    assert client.put("/territories/mini/projects/p9", json=mine | {"holder": "m3"}, headers=h).status_code == 403
    p2 = client.get("/territories/mini/projects/p2").json()
    assert client.put("/territories/mini/projects/p2", json=p2 | {"holder": "m7"}, headers=h).status_code == 403
    assert client.get("/territories/mini/partners/cowork/projects", headers=h).status_code == 403
    assert client.get("/territories/mini/members/m2/needs", headers=h).status_code == 403
    assert (
        client.put("/territories/mini/members/m2", json={"id": "m2", "display_name": "X", "skills": "y"}, headers=h).status_code
        == 403
    )


def test_partner_sees_only_its_organisation(client, key_for) -> None:
    p = key_for("partner", "cowork")
    assert client.get("/territories/mini/partners/cowork/projects", headers=p).status_code == 200
    assert client.get("/territories/mini/partners/cowork/digest", headers=p).status_code == 200
    for url in ("/territories/mini/partners/banque/projects", "/territories/mini/partners/banque/digest"):
        assert client.get(url, headers=p).status_code == 403, url
    assert client.get("/territories/mini/members/m1", headers=p).status_code == 403
    assert client.get("/territories/mini/needs/p1-n1/members", headers=p).status_code == 403
    assert client.get("/territories/mini/events", headers=p).status_code == 403
    search = {"text": "un bureau pour trois personnes", "k": 3}
    assert client.post("/territories/mini/search", json=search | {"target": "projects"}, headers=p).status_code == 200
    r = client.post("/territories/mini/search", json=search | {"target": "members"}, headers=p)
    assert r.status_code == 403 and "projects" in r.json()["detail"]
    me = client.get("/territories/mini/partners/cowork").json()
    assert client.put("/territories/mini/partners/cowork", json=me, headers=p).status_code == 200
    banque = client.get("/territories/mini/partners/banque").json()
    assert client.put("/territories/mini/partners/banque", json=banque, headers=p).status_code == 403
    assert client.delete("/territories/mini/partners/cowork", headers=p).status_code == 403
    served = [m["id"] for m in client.get("/territories/mini/partners/cowork/projects", headers=p).json()["matches"]]
    ev = _event("e-p1", "contacted", _now(), question="project_for_partner", subject_id="banque", candidate_id=served[0])
    assert client.post("/territories/mini/events", json={"events": [ev]}, headers=p).status_code == 403
    r = client.post("/territories/mini/events", json={"events": [ev | {"subject_id": "cowork", "type": "shown"}]}, headers=p)
    assert r.status_code == 403 and "le service" in r.json()["detail"]  # `shown` is the service's own
    ev |= {"subject_id": "cowork"}
    assert client.post("/territories/mini/events", json={"events": [ev]}, headers=p).status_code == 200
    got = client.get("/territories/mini/events", params={"question": "project_for_partner"}).json()
    assert {(e["type"], e["side"]) for e in got} >= {("shown", "service"), ("contacted", "subject")}


def test_analyst_reads_and_evaluates_without_contact_fields(client, key_for) -> None:
    a = key_for("analyst")
    member = client.get("/territories/mini/members/m1", headers=a).json()
    assert member["email"] is None and member["skills"]
    assert client.get("/territories/mini/members/m1").json()["email"] == "claire.b@example.org"  # admin
    assert client.get("/territories/mini/needs/p1-n1/members", headers=a).status_code == 200
    assert client.get("/territories/mini/events", headers=a).status_code == 200
    assert client.get("/territories/mini/members/m1/export", headers=a).status_code == 403
    assert client.put("/territories/mini/members/m1", json=member, headers=a).status_code == 403
    ev = _event("e-a1", "shown", "2026-11-01T10:00:00")
    assert client.post("/territories/mini/events", json={"events": [ev]}, headers=a).status_code == 403


def test_member_acts_only_for_themself(client, key_for) -> None:
    m = key_for("member", "m1")
    me = client.get("/territories/mini/members/m1", headers=m).json()
    assert me["email"] == "claire.b@example.org"
    assert client.get("/territories/mini/members/m2", headers=m).status_code == 403
    assert client.get("/territories/mini/members/m1/needs", headers=m).status_code == 200
    assert client.get("/territories/mini/members/m2/needs", headers=m).status_code == 403
    assert client.get("/territories/mini/members/m1/export", headers=m).status_code == 200
    assert client.get("/territories/mini/members/m2/export", headers=m).status_code == 403
    assert client.put("/territories/mini/members/m1", json=me | {"hours_per_week": 3}, headers=m).status_code == 200
    assert client.delete("/territories/mini/members/m2", headers=m).status_code == 403
    assert client.get("/territories/mini/needs/p1-n1/members", headers=m).status_code == 403
    r = client.post("/territories/mini/search", json={"text": "comptabilité", "target": "members"}, headers=m)
    assert r.status_code == 403
    assert client.post("/territories/mini/search", json={"text": "comptabilité", "target": "needs"}, headers=m).status_code == 200
    assert client.put("/territories/mini", json={"id": "mini", "name": "X"}, headers=m).status_code == 403


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _say(client, headers, i: str, type_: str, **over) -> int:
    """Post one event about (p1-n1, m1) dated now; the status code."""
    return client.post(
        "/territories/mini/events", json={"events": [_event(i, type_, _now(), **over)]}, headers=headers
    ).status_code


def _email(client, headers, member: str = "m1") -> str | None:
    return client.get(f"/territories/mini/members/{member}", headers=headers).json()["email"]


def test_holder_alone_cannot_reveal_a_contact(client, key_for) -> None:
    h = key_for("holder", "m7")
    assert "m1" in [m["id"] for m in client.get("/territories/mini/needs/p1-n1/members", headers=h).json()["matches"]]
    assert _say(client, h, "e1", "contacted") == 200 and _say(client, h, "e2", "accepted") == 200
    assert _email(client, h) is None
    # the holder cannot speak for the member either
    assert _say(client, h, "e3", "interested") == 422  # not an event of the holder's side
    got = client.get("/territories/mini/events", params={"candidate_id": "m1"}).json()
    assert [(e["type"], e["side"]) for e in got] == [("shown", "service"), ("contacted", "subject"), ("accepted", "subject")]


def test_member_alone_does_not_reveal_to_a_holder_who_did_not_accept(client, key_for) -> None:
    h, m1 = key_for("holder", "m7"), key_for("member", "m1")
    assert _say(client, m1, "e1", "accepted") == 200
    assert _email(client, h) is None
    # the member answers for themself only, never on the holder's side
    assert _say(client, m1, "e2", "accepted", candidate_id="m2") == 403
    assert _say(client, m1, "e3", "contacted") == 422


def test_both_sides_agreed_reveal_the_contact_and_a_withdrawal_hides_it(client, key_for) -> None:
    h, m1 = key_for("holder", "m7"), key_for("member", "m1")
    client.get("/territories/mini/needs/p1-n1/members", headers=h)  # served to the holder
    assert _say(client, m1, "a1", "interested") == 200
    assert _say(client, h, "h1", "contacted") == 200 and _say(client, h, "h2", "accepted") == 200
    assert _email(client, h) is None  # interested is not consent
    assert _say(client, m1, "a2", "accepted") == 200
    assert _email(client, h) == "claire.b@example.org"
    assert _email(client, h, "m2") is None
    other = {"id": "p9", "title": "Potager", "holder": "m3", "needs": [{"id": "p9-n1", "title": "Comptable"}]}
    assert client.put("/territories/mini/projects/p9", json=other).status_code == 200
    assert _email(client, key_for("holder", "m3")) is None  # another holder
    # the member withdraws: hidden again
    assert _say(client, m1, "a3", "declined") == 200
    assert _email(client, h) is None


def test_staff_cannot_give_a_members_consent(client, key_for) -> None:
    """Staff report for the subject side only: their "accepted" is the holder's, never the member's."""
    h = key_for("holder", "m7")
    agent = key_for("agent")
    assert _say(client, agent, "g1", "contacted") == 200 and _say(client, agent, "g2", "accepted") == 200
    assert _say(client, agent, "g3", "interested") == 422
    assert _email(client, h) is None


def test_a_partner_sees_a_projects_holder_once_both_sides_agreed(client, key_for) -> None:
    h, banque = key_for("holder", "m7"), key_for("partner", "banque")
    offered = [m["id"] for m in client.get("/territories/mini/projects/p1/offerings", headers=h).json()["matches"]]
    offer = next(o for o in offered if o.startswith("banque-"))
    suggestion = {"question": "offering_for_project", "subject_id": "p1", "candidate_id": offer}
    assert client.get("/territories/mini/projects/p1", headers=banque).json()["holder"] is None
    assert _say(client, h, "o1", "contacted", **suggestion) == 200 and _say(client, h, "o2", "accepted", **suggestion) == 200
    assert client.get("/territories/mini/projects/p1", headers=banque).json()["holder"] is None
    # another partner cannot answer for banque's offering
    assert _say(client, key_for("partner", "cowork"), "o3", "accepted", **suggestion) == 403
    assert _say(client, banque, "o4", "accepted", **suggestion) == 200
    assert client.get("/territories/mini/projects/p1", headers=banque).json()["holder"] == "m7"
    assert client.get("/territories/mini/projects/p1", headers=key_for("partner", "cowork")).json()["holder"] is None


def test_agent_does_everything_but_the_territory(client, key_for) -> None:
    g = key_for("agent")
    assert client.get("/territories/mini/members/m1", headers=g).json()["email"] == "claire.b@example.org"
    assert client.get("/territories/mini/members/m1/export", headers=g).status_code == 200
    assert client.get("/territories/mini/partners/banque/digest", headers=g).status_code == 200
    r = client.put("/territories/mini", json={"id": "mini", "name": "X"}, headers=g)
    assert r.status_code == 403 and "agent" in r.json()["detail"]


def test_openapi_declares_the_key(client) -> None:
    spec = client.get("/openapi.json").json()
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])
    members = spec["paths"]["/territories/{territory_id}/needs/{need_id}/members"]["get"]
    assert members["security"] and {"401", "403"} <= set(members["responses"])
    assert "security" not in spec["paths"]["/health"]["get"]


def test_the_web_cookie_does_not_authorise_the_json_api(client, key_for) -> None:
    key = key_for("admin")["X-API-Key"]
    client.cookies.set("maillage_key", key)
    r = client.delete("/territories/mini/members/m1", headers={"X-API-Key": ""})
    assert r.status_code == 401
    client.cookies.clear()
    assert client.get("/territories/mini/members/m1").status_code == 200
