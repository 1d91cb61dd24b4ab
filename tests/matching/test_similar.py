"""Similar initiatives (issue 18, part 2): the projects that look like a project or an idea, with why;
across territories for the roles that may; the report of likely duplicates; the calibration on the
generator's labelled pairs; the API, the pages, the ingest and the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from matching import similar
from matching.domain import Project, Territory

TWIN = Project(
    id="p9",
    title="Potager partagé des Blagis",
    description="Nous aimerions essayer un jardin collectif quelques semaines avec les habitants du quartier.",
    stage="idee",
    commune="Sceaux",
)


@pytest.fixture
def twins(rec):
    rec.upsert_projects("mini", [TWIN])
    return rec


def test_a_project_finds_its_lookalike_with_a_quoted_reason(twins) -> None:
    found = similar.similar_to_project(twins, "mini", "p9")
    assert found[0].id == "p2" and found[0].territory_id == "mini"
    assert found[0].similarity >= similar.similar_min() and found[0].duplicate
    assert found[0].reason.startswith("ressemble : « ") and "↔" in found[0].reason
    assert "p9" not in [s.id for s in found]


def test_an_idea_before_it_is_created(rec) -> None:
    found = similar.similar_to_text(rec, ["mini"], "Un jardin potager collectif entre voisins")
    assert found and found[0].id == "p2"
    assert similar.similar_to_text(rec, ["mini"], "Lancer des satellites en orbite basse") == []
    from matching.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        similar.similar_to_text(rec, ["mini"], "   ")


def test_duplicates_report_lists_the_pair_once(twins) -> None:
    pairs = similar.duplicates(twins, "mini")
    assert [(p.a.id, p.b.id) for p in pairs] == [("p2", "p9")]
    assert similar.duplicates(twins, "mini", among={"p3"}) == []


def test_calibration_on_labelled_pairs(rec) -> None:
    pairs = [
        {
            "a": "Jardin partagé de Sceaux. Un potager collectif.",
            "b": "Potager des voisins à Sceaux. Un jardin partagé.",
            "duplicate": True,
        },
        {
            "a": "Jardin partagé de Sceaux. Un potager collectif.",
            "b": "Repair café de Sceaux. Réparer les objets.",
            "duplicate": False,
        },
    ]
    result = similar.calibrate(rec, pairs)
    assert result["pairs"] == 2 and result["duplicates"] == 1
    assert result["best_f1"]["f1"] == 1.0


def test_the_generator_writes_labelled_pairs_without_touching_the_demo(tmp_path) -> None:
    from data import generate_demo

    pairs = generate_demo.similar_pairs(42, n=20)
    assert len(pairs) == 20 and sum(p["duplicate"] for p in pairs) == 10
    assert all(p["types"][0] == p["types"][1] for p in pairs if p["duplicate"])
    assert all(p["types"][0] != p["types"][1] for p in pairs if not p["duplicate"])
    assert generate_demo.similar_pairs(42, n=20) == pairs


def test_api_across_territories_only_for_staff(twins, client, key_for) -> None:
    twins.upsert_territory(Territory(id="autre", name="Autre ville"))
    twins.upsert_projects("autre", [TWIN.model_copy(update={"id": "q1", "holder": "quelqu-un"})])
    r = client.get("/territories/mini/projects/p2/similar", params={"across": "true"})
    assert r.status_code == 200
    ids = {(s["territory_id"], s["id"]) for s in r.json()}
    assert {("mini", "p9"), ("autre", "q1")} <= ids
    assert all("holder" not in s for s in r.json())
    member = key_for("member", "m1")
    assert client.get("/territories/mini/projects/p2/similar", params={"across": "true"}, headers=member).status_code == 403
    mine = client.get("/territories/mini/projects/p2/similar", headers=member)
    assert mine.status_code == 200 and {s["territory_id"] for s in mine.json()} == {"mini"}
    r = client.post("/territories/mini/similar", json={"text": "Un potager collectif entre voisins", "k": 3})
    assert r.status_code == 200 and r.json()[0]["id"] in ("p2", "p9")
    assert client.post("/territories/mini/similar", json={"text": ""}).status_code == 422
    r = client.get("/territories/mini/similar/duplicates")
    assert r.status_code == 200 and r.json()[0]["a"]["id"] == "p2"
    assert client.get("/territories/mini/similar/duplicates", headers=member).status_code == 403


def test_put_project_names_its_lookalikes(rec, client) -> None:
    r = client.put("/territories/mini/projects/p9", json=TWIN.model_dump(mode="json"))
    assert r.status_code == 200 and r.headers["X-Similar-Projects"].split(",")[0] == "p2"


def test_pages(twins, client) -> None:
    client.cookies.set("maillage_key", client.headers["X-API-Key"])
    page = client.get("/ui/projects/p9")
    assert page.status_code == 200 and "Initiatives semblables" in page.text and "Jardin partagé des Blagis" in page.text
    report = client.get("/ui/similar")
    assert report.status_code == 200 and "Doublons probables" in report.text and "Potager partagé des Blagis" in report.text


def test_cli_and_ingest(tmp_path, use_encoder) -> None:
    from matching.cli import app
    from tests.conftest import MINI

    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(MINI)], env=env).exit_code == 0
    doc = {"territory": {"id": "mini", "name": "Mini"}, "projects": [TWIN.model_dump(mode="json")]}
    extra = tmp_path / "twin.json"
    extra.write_text(json.dumps(doc, ensure_ascii=False))
    result = runner.invoke(app, ["ingest", str(extra)], env=env)
    assert result.exit_code == 0 and "probablement en double" in result.output and "p9" in result.output
    result = runner.invoke(app, ["similar", "--report", "-t", "mini"], env=env)
    assert result.exit_code == 0 and json.loads(result.output)[0]["b"]["id"] == "p9"
    result = runner.invoke(app, ["similar", "--project", "p9", "-t", "mini"], env=env)
    assert result.exit_code == 0 and json.loads(result.output)[0]["id"] == "p2"
    result = runner.invoke(app, ["similar", "--text", "un potager entre voisins", "-t", "mini"], env=env)
    assert result.exit_code == 0 and json.loads(result.output)
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps({"pairs": [{"a": "Jardin", "b": "Potager", "duplicate": True}]}))
    result = runner.invoke(app, ["similar", "--calibrate", str(pairs)], env=env)
    assert result.exit_code == 0 and json.loads(result.output)["pairs"] == 1
    result = runner.invoke(app, ["similar", "-t", "mini"], env=env)
    assert result.exit_code == 2 and "exactement une" in result.output
    result = runner.invoke(app, ["similar", "--project", "nope", "-t", "mini"], env=env)
    assert result.exit_code == 2
