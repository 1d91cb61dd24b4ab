"""The API's interoperability routes: the mission feed (XML and POST /v2/mission bodies), ROME 4.0
suggestions, ROME codes carried by a call for skills and a member."""

from __future__ import annotations

from defusedxml.ElementTree import fromstring


def test_the_mission_feed_is_served_as_xml_to_any_key_of_the_territory(client, key_for) -> None:
    r = client.get("/territories/mini/feeds/missions.xml", headers=key_for("member", "m1"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = fromstring(r.content)
    assert root.tag == "source" and [m.findtext("clientId") for m in root.findall("mission")] == ["p1-n1", "p2-n1", "p3-n1"]
    assert root.find("mission/applicationUrl").text == "http://testserver/ui/projects/p1"
    assert "m7" not in r.text and "@example.org" not in r.text
    assert client.get("/territories/mini/feeds/missions.xml", headers={"X-API-Key": "nope"}).status_code == 401
    assert client.get("/territories/ailleurs/feeds/missions.xml").status_code == 404


def test_the_same_missions_as_post_v2_mission_bodies(client) -> None:
    r = client.get("/territories/mini/feeds/missions.json")
    assert r.status_code == 200
    bodies = r.json()
    assert [b["clientId"] for b in bodies] == ["p1-n1", "p2-n1", "p3-n1"]
    assert bodies[0]["addresses"][0]["postalCode"] == "92330" and bodies[0]["domain"] == "autre"


def test_rome_suggestions_then_the_codes_confirmed_on_a_call_and_a_member(client, key_for) -> None:
    r = client.post("/territories/mini/rome/suggestions", json={"text": "tenir la comptabilité et la trésorerie", "k": 3})
    assert r.status_code == 200, r.text
    suggestions = r.json()["suggestions"]
    assert len(suggestions) == 3 and all(len(s["code"]) == 6 and 0 <= s["score"] <= 1 for s in suggestions)
    assert client.post("/territories/mini/rome/suggestions", json={"text": " ", "k": 3}).status_code == 422
    analyst = client.post("/territories/mini/rome/suggestions", json={"text": "x"}, headers=key_for("analyst"))
    assert analyst.status_code == 403
    codes = [suggestions[0]["code"]]
    project = client.get("/territories/mini/projects/p1").json()
    project["needs"][0]["rome_skills"] = codes
    assert client.put("/territories/mini/projects/p1", json=project).status_code == 200
    assert client.get("/territories/mini/projects/p1").json()["needs"][0]["rome_skills"] == codes
    feed = fromstring(client.get("/territories/mini/feeds/missions.xml").content)
    assert feed.find("mission/romeSkills").text == codes[0]
    project["needs"][0]["rome_skills"] = ["999999"]
    refused = client.put("/territories/mini/projects/p1", json=project)
    assert refused.status_code == 422 and "code ROME 4.0 inconnu : 999999" in refused.text
    member = client.get("/territories/mini/members/m1").json()
    member["rome_skills"] = codes
    assert client.put("/territories/mini/members/m1", json=member).json()["rome_skills"] == codes
