"""The list endpoints (issue 17, item 3): filters, pages, who may list members, no contact field."""

from __future__ import annotations


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_projects_filtered_and_paged(client) -> None:
    assert ids(client.get("/territories/mini/projects")) == ["p2", "p1", "p3"]  # stage order: test, financement, lancement
    assert ids(client.get("/territories/mini/projects", params={"stage": "financement"})) == ["p1"]
    assert ids(client.get("/territories/mini/projects", params={"commune": "SCEAUX"})) == ["p2", "p1"]
    assert ids(client.get("/territories/mini/projects", params={"q": "epicerie familles"})) == ["p1"]
    assert ids(client.get("/territories/mini/projects", params={"q": "épicerie vélos"})) == []
    page = client.get("/territories/mini/projects", params={"per_page": 2, "page": 2}).json()
    assert (page["total"], page["pages"], page["page"], [p["id"] for p in page["items"]]) == (3, 2, 2, ["p3"])
    assert client.get("/territories/mini/projects", params={"page": 9}).json()["items"] == []
    first = client.get("/territories/mini/projects", params={"stage": "financement"}).json()["items"][0]
    assert first["holder"] == "m7" and first["open_needs"] == 1


def test_bad_filters_are_a_french_422(client) -> None:
    for params in ({"stage": "lune"}, {"page": 0}, {"per_page": 1000}, {"q": "x" * 201}):
        r = client.get("/territories/mini/projects", params=params)
        assert r.status_code == 422, params
        (error,) = r.json()["detail"]
        assert error["loc"][-1] in params and error["msg"].startswith(f"paramètre « {error['loc'][-1]} »"), error
    r = client.get("/territories/mini/needs", params={"status": "fermé"})
    assert r.status_code == 422


def test_needs_partners_and_members(client, key_for) -> None:
    assert ids(client.get("/territories/mini/needs")) == ["p3-n1", "p1-n1", "p2-n1"]  # by project title, accents aside
    assert ids(client.get("/territories/mini/needs", params={"status": "closed"})) == ["p1-n2"]
    assert ids(client.get("/territories/mini/needs", params={"stage": "test"})) == ["p2-n1"]
    assert ids(client.get("/territories/mini/needs", params={"q": "tresorerie"})) == ["p1-n1"]
    assert ids(client.get("/territories/mini/partners", params={"stage": "croissance"})) == ["cowork"]
    assert ids(client.get("/territories/mini/partners", params={"q": "garantie"})) == ["banque"]
    assert ids(client.get("/territories/mini/members", params={"commune": "antony"})) == ["m8", "m2", "m7"]  # by name
    assert ids(client.get("/territories/mini/members", params={"q": "comptable"})) == ["m1", "m4"]
    items = client.get("/territories/mini/members").json()["items"]
    assert all("email" not in m for m in items)


def test_who_lists_members(client, key_for) -> None:
    assert client.get("/territories/mini/members", headers=key_for("analyst")).status_code == 200
    assert client.get("/territories/mini/members", headers=key_for("holder", "m7")).status_code == 200
    # a holder of nothing, a partner, a member: no
    assert client.get("/territories/mini/members", headers=key_for("holder", "m1")).status_code == 403
    assert client.get("/territories/mini/members", headers=key_for("partner", "cowork")).status_code == 403
    assert client.get("/territories/mini/members", headers=key_for("member", "m1")).status_code == 403
    # everyone lists projects, without the holder unless they work on it
    partner = client.get("/territories/mini/projects", headers=key_for("partner", "cowork")).json()["items"]
    assert {p["holder"] for p in partner} == {None}
    holder = client.get("/territories/mini/projects", headers=key_for("holder", "m7")).json()["items"]
    assert {p["id"]: p["holder"] for p in holder}["p1"] == "m7"
    # another territory does not exist
    other = client.get("/territories/autre/projects", headers=key_for("agent", territory="autre", force=True))
    assert other.status_code == 404 or other.json()["items"] == []
    assert client.get("/territories/autre/projects").status_code == 404
