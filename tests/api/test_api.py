"""HTTP behaviour through FastAPI's TestClient (lifespan runs)."""

from __future__ import annotations

import pytest


def test_health(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["encoder"] == "use-multilingual-v3" and body["dim"] == 512
    assert body["indexes"]["member"]["count"] == 8 and body["indexes"]["member"]["in_sync"]


@pytest.mark.parametrize(
    ("url", "first"),
    [
        ("/territories/mini/needs/p1-n1/members", "m1"),
        ("/territories/mini/projects/p1/offerings", "banque-garantie"),
        ("/territories/mini/partners/cowork/projects", "p3"),
        ("/territories/mini/members/m2/needs", "p3-n1"),
    ],
)
def test_the_four_questions(client, url, first) -> None:
    r = client.get(url, params={"k": 3})
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert matches[0]["id"] == first and len(matches) <= 3
    for m in matches:
        assert m["reasons"] and all(0 <= v <= 1 for v in m["breakdown"].values())


def test_free_text(client) -> None:
    r = client.post(
        "/territories/mini/search",
        json={"text": "un bureau à Sceaux pour trois personnes", "target": "offerings", "k": 2},
    )
    assert r.status_code == 200 and r.json()["matches"][0]["id"] == "cowork-bureaux"
    r = client.post("/territories/mini/search", json={"text": "x", "target": "chats"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "target"


def test_k_is_bounded(client) -> None:
    r = client.get("/territories/mini/needs/p1-n1/members", params={"k": 51})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "k"]


def test_unknown_ids_are_404(client) -> None:
    assert client.get("/territories/mini/needs/zzz/members").status_code == 404
    assert client.get("/territories/autre/members/m1").status_code == 404
    r = client.get("/territories/mini/members/zzz")
    assert r.status_code == 404 and "zzz" in r.json()["detail"]


def test_member_crud_and_delete_then_recommend(client) -> None:
    new = {
        "id": "m9",
        "display_name": "Zoé F.",
        "skills": "Trésorière bénévole, comptabilité associative",
        "consent": True,
        "hours_per_week": 5,
    }
    r = client.put("/territories/mini/members/m9", json=new)
    assert r.status_code == 200, r.text
    assert client.get("/territories/mini/members/m9").json()["skills"] == new["skills"]
    got = [m["id"] for m in client.get("/territories/mini/needs/p1-n1/members").json()["matches"]]
    assert "m9" in got[:2]
    assert client.delete("/territories/mini/members/m9").status_code == 204
    got = [m["id"] for m in client.get("/territories/mini/needs/p1-n1/members", params={"k": 50}).json()["matches"]]
    assert "m9" not in got
    assert client.delete("/territories/mini/members/m9").status_code == 404


def test_bad_payloads_are_422_with_the_field(client) -> None:
    r = client.put("/territories/mini/members/m9", json={"id": "m9", "display_name": "A", "skills": "x", "hours_per_week": -1})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "hours_per_week"
    r = client.put("/territories/mini/members/m9", json={"id": "m9", "display_name": "A", "skills": "x", "colour": "bleu"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "colour"
    r = client.put("/territories/mini/members/m9", json={"id": "other", "display_name": "A", "skills": "x"})
    assert r.status_code == 422 and "other" in r.json()["detail"]
    r = client.put("/territories/mini/members/m9", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.put("/territories/mini/projects/p9", json={"id": "p9", "title": "T", "stage": "envol"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "stage"


def test_project_and_partner_crud(client) -> None:
    project = {
        "id": "p9",
        "title": "Fab lab de quartier",
        "description": "Imprimantes 3D et ateliers.",
        "stage": "lancement",
        "commune": "Sceaux",
        "legal_structure": True,
        "needs": [{"id": "p9-n1", "title": "Animer les ateliers d'impression 3D", "hours_per_week": 2}],
    }
    assert client.put("/territories/mini/projects/p9", json=project).status_code == 200
    assert client.get("/territories/mini/projects/p9").json()["needs"][0]["id"] == "p9-n1"
    partner = {
        "id": "fab",
        "name": "Réseau des fab labs",
        "offerings": [
            {
                "id": "fab-machines",
                "title": "Accès aux machines",
                "text": "Découpe laser et impression 3D",
                "stages": ["lancement"],
                "kind": "space",
            }
        ],
    }
    assert client.put("/territories/mini/partners/fab", json=partner).status_code == 200
    got = client.get("/territories/mini/partners/fab/projects").json()["matches"]
    assert got[0]["id"] == "p9"
    assert client.delete("/territories/mini/projects/p9").status_code == 204
    assert all(m["id"] != "p9" for m in client.get("/territories/mini/partners/fab/projects").json()["matches"])
    assert client.get("/territories/mini/needs/p9-n1/members").status_code == 404


def test_territory_upsert_and_isolation(client, key_for) -> None:
    other = key_for("admin", territory="autre", force=True)  # the key comes first: it creates the territory
    assert client.put("/territories/autre", json={"id": "autre", "name": "Autre ville"}, headers=other).status_code == 200
    member = {"id": "m1", "display_name": "Autre A.", "skills": "comptable", "consent": True}
    assert client.put("/territories/autre/members/m1", json=member, headers=other).status_code == 200
    # each key sees only its own territory: the other one does not exist for it
    assert client.get("/territories/autre/members/m1").status_code == 404
    assert client.get("/territories/mini/members/m1", headers=other).status_code == 404
    got = [m["label"] for m in client.get("/territories/mini/needs/p1-n1/members").json()["matches"]]
    assert "Autre A." not in got
    assert client.get("/territories/mini/members/m1").json()["display_name"] == "Claire B."


def test_openapi_is_in_french(client) -> None:
    spec = client.get("/openapi.json").json()
    assert "appel à compétences" in spec["paths"]["/territories/{territory_id}/needs/{need_id}/members"]["get"]["summary"]


def test_routing_current_and_next_stage(client) -> None:
    body = client.get("/territories/mini/projects/p1/routing").json()
    assert body["stage"] == "financement" and body["next_stage"] == "lancement"
    assert body["current"]["id"] == "banque-garantie"
    assert body["next"]["id"] in {"banque-pret", "cowork-bureaux"} and body["next"]["reasons"]
    body = client.get("/territories/mini/projects/p3/routing").json()
    assert body["current"]["id"] == "cowork-bureaux" and body["next_stage"] == "croissance"
