"""The demo territory end to end: generator, `maillage demo`, and a real HTTP server."""

from __future__ import annotations

import json
import string

import httpx
import pytest
from typer.testing import CliRunner

from data import generate_demo as vocab
from data.generate_demo import generate
from matching.cli import DEMO_FILE, DEMO_KEY_FILE, app
from matching.domain import Member, Partner, Project, Stage
from tests.conftest import start_server


def test_generator_is_deterministic_and_valid() -> None:
    doc1, truth1 = generate(members=60, projects=12, seed=7)
    doc2, _ = generate(members=60, projects=12, seed=7)
    assert json.dumps(doc1, sort_keys=True) == json.dumps(doc2, sort_keys=True)
    assert json.dumps(doc1) != json.dumps(generate(members=60, projects=12, seed=8)[0])
    assert len(doc1["members"]) == 60 and len(doc1["projects"]) == 12
    for m in doc1["members"]:
        Member.model_validate(m)
    for p in doc1["projects"]:
        Project.model_validate(p)
    for p in doc1["partners"]:
        Partner.model_validate(p)
    assert set(truth1["project_offerings"]) == {p["id"] for p in doc1["projects"]}


def test_shipped_demo_matches_the_generator() -> None:
    doc, _ = generate(members=320, projects=64, seed=42)
    assert json.loads(DEMO_FILE.read_text(encoding="utf-8")) == json.loads(json.dumps(doc, ensure_ascii=False))


def fields(text: str) -> set[str]:
    """Names of the ``{placeholders}`` of a template."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("path", sorted(vocab.VOCABULARY.glob("*.json")), ids=lambda p: p.name)
def test_vocabulary_json_is_canonical(path) -> None:
    """Each vocabulary file is written as json.dumps(indent=2, ensure_ascii=False): stable, readable diffs."""
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n", f"reformat {path.name}"


def test_vocabulary_is_well_formed() -> None:
    assert len(vocab.FIRST_NAMES) > 50 and {g for _, g in vocab.FIRST_NAMES} == set(vocab.GENDER_FORMS) == {"F", "M"}
    assert set(vocab.GENDER_FORMS["F"]) == set(vocab.GENDER_FORMS["M"])
    member_fields = set(vocab.GENDER_FORMS["F"]) | {"a_commune", "years"}
    for key, fam in vocab.FAMILIES.items():
        assert fam["label"] and fam["weight"] > 0 and isinstance(fam["remote"], bool), key
        assert fam["tags"] and fam["skills"] and fam["bios"] and fam["needs"], key
        assert set(fam["causes"]) <= set(vocab.CAUSES), key
        assert all(fields(t) <= member_fields for t in fam["skills"] + fam["bios"]), key
        assert all(0 < len(n["title"]) <= 80 and n["text"] and set(n) == {"title", "text"} for n in fam["needs"]), key
    assert all(fields(t) <= member_fields for t in vocab.GENERIC_BIOS)
    assert set(vocab.SUPPORT_FAMILIES) <= set(vocab.FAMILIES)
    for ptype in vocab.PROJECT_TYPES:
        assert set(ptype["families"]) <= set(vocab.FAMILIES) and set(ptype["causes"]) <= set(vocab.CAUSES), ptype["key"]
        assert all(fields(t) == {"de"} for t in ptype["titles"]) and all(fields(t) == {"a"} for t in ptype["intros"])
    assert [s.value for s in Stage] == vocab.STAGES
    for table in (vocab.STAGE_WEIGHTS, vocab.LEGAL_STRUCTURE_P, vocab.STAGE_SENTENCES, vocab.STAGE_OFFERINGS):
        assert list(table) == vocab.STAGES
    assert set(vocab.LEGAL_SENTENCES) == {True, False} and len(vocab.MONTHS) == 12 and len(vocab.WEEKDAYS) == 7


def test_vocabulary_offerings_exist() -> None:
    """Every offering named in the sentences and stage tables is one of the partners'; each has its sentences."""
    offerings = {o["id"] for p in vocab.PARTNERS for o in p["offerings"]}
    by_stage = {s: {o["offering"] for o in opts} for s, opts in vocab.STAGE_OFFERINGS.items()}
    assert set().union(*by_stage.values()) == set(vocab.OFFERING_NEED_SENTENCES) == offerings
    assert set().union(*(by_stage[s] for s in vocab.STAGES[1:])) == set(vocab.OFFERING_NEXT_HINTS)
    for sentences in vocab.OFFERING_NEED_SENTENCES.values():
        assert all(fields(t) <= {"amount", "small", "goal"} for t in sentences)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`maillage demo` then `maillage serve` in a subprocess, as the README says."""
    data_dir = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo"], env={"MAILLAGE_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    key = (data_dir / DEMO_KEY_FILE).read_text(encoding="utf-8").strip()
    assert key in result.output  # the demo prints the admin key it made
    proc, base = start_server(data_dir)
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    "path",
    [
        "needs/p0001-n1/members",
        "projects/p0001/offerings",
        "partners/hdsi/projects",
        "members/m00002/needs",
    ],
)
def test_four_questions_over_http(demo_server, path) -> None:
    r = demo_server.get(f"/territories/sceaux-valley/{path}", params={"k": 5})
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert 1 <= len(matches) <= 5
    for m in matches:
        assert m["reasons"] and m["breakdown"] and 0 <= m["score"] <= 1


def test_health_over_http(demo_server) -> None:
    assert demo_server.get("/health", headers={"X-API-Key": ""}).json() == {"status": "ok", "encoder": "use-multilingual-v3"}
    body = demo_server.get("/health").json()  # the demo's admin key: the details
    assert body["indexes"]["member"]["count"] == 320 and body["indexes"]["offering"]["count"] == 12


@pytest.mark.parametrize(
    ("text", "stage", "expected"),
    [
        ("il nous faut une garantie pour obtenir le prêt", "financement", "hdsi-garantie"),
        ("un bureau à Sceaux pour trois personnes", None, "sceaux-smart-bureaux"),
    ],
)
def test_free_text_routing_on_the_demo(demo_server, text, stage, expected) -> None:
    body = {"text": text, "target": "offerings", "k": 3} | ({"stage": stage} if stage else {})
    r = demo_server.post("/territories/sceaux-valley/search", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["matches"][0]["id"] == expected


def test_routing_endpoint_on_the_demo(demo_server) -> None:
    body = demo_server.get("/territories/sceaux-valley/projects/p0001/routing").json()
    assert body["stage"] == "financement" and body["current"]["id"] == "hdsi-garantie"
    assert body["next_stage"] == "lancement" and body["next"] is not None
    assert any("étape" in r for r in body["current"]["reasons"])
