"""Another town: the demo generated for Lyon from its vocabulary (data/demo/vocabulary/towns/), served,
with distances from the national commune table; the default demo stays byte-identical."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from data import generate_demo as gen
from matching import access
from matching.ingest import read_file


@pytest.fixture(scope="module")
def lyon(tmp_path_factory):
    gen.use_town("Lyon")
    try:
        document, truth = gen.generate(members=120, projects=24, seed=7)
    finally:
        gen.use_town(None)
    path = tmp_path_factory.mktemp("lyon") / "lyon.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return document, truth, path


@pytest.mark.parametrize("path", sorted(gen.TOWNS.glob("*.json")), ids=lambda p: p.name)
def test_town_vocabulary_is_canonical(path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


def test_the_lyon_demo_is_lyons(lyon) -> None:
    document, _, _ = lyon
    assert document["territory"]["id"] == "lyon-solidaire" and document["territory"]["communes"][0] == "Lyon"
    text = json.dumps(document, ensure_ascii=False)
    assert "Sceaux" not in text and "Hauts-de-Seine" not in text
    assert {m["commune"] for m in document["members"]} <= set(
        json.loads(gen.TOWNS.joinpath("lyon.json").read_text())["member_commune_weights"]
    )
    assert any(p["commune"] == "Lyon" and "Croix-Rousse" in p["title"] + p["description"] for p in document["projects"])


def test_the_default_demo_is_still_sceaux_valley_byte_for_byte(tmp_path) -> None:
    assert gen.main(["--out", str(tmp_path / "d.json"), "--truth", str(tmp_path / "t.json")]) == 0
    assert (tmp_path / "d.json").read_bytes() == (gen.DEMO / "sceaux-valley.json").read_bytes()
    with pytest.raises(SystemExit):
        gen.main(["--town", "Atlantide", "--out", str(tmp_path / "x.json"), "--truth", str(tmp_path / "y.json")])


def test_a_lyon_territory_is_served_with_distances(lyon, settings, use_encoder) -> None:
    from api.app import create_app
    from matching.recommender import Recommender

    document, _, path = lyon
    rec = Recommender(settings, encoder=use_encoder)
    rec.open()
    try:
        rec.ingest(read_file(path))
        key, _ = access.create_key(rec.store, "lyon-solidaire", "admin")
        need = next(n["id"] for p in document["projects"] for n in p["needs"] if n["status"] == "open" and not n["remote"])
        with TestClient(create_app(recommender=rec), headers={"X-API-Key": key}) as client:
            r = client.get(f"/territories/lyon-solidaire/needs/{need}/members", params={"k": 5})
            assert r.status_code == 200, r.text
            matches = r.json()["matches"]
            assert matches and all(m["breakdown"]["place"] != 0.5 for m in matches)  # every place is known
            assert any(re.search(r"lieu : habite .+, à \d+,\d km", reason) for m in matches for reason in m["reasons"])
            feed = client.get("/territories/lyon-solidaire/feeds/missions.xml")
            assert feed.status_code == 200 and "<departmentCode>69</departmentCode>" in feed.text
    finally:
        rec.close()
