"""API Engagement: the mission feed out (XML, POST /v2/mission bodies), a feed in (``maillage ingest
--format api-engagement``), the refusals that name the mission and the field, and the round trip."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring
from typer.testing import CliRunner

from matching import engagement
from matching.cli import app
from matching.clock import FixedClock
from matching.domain import Territory
from matching.errors import IngestError
from matching.ingest import read_file
from tests.conftest import FIXTURES, MINI

FEED = FIXTURES / "api_engagement" / "correct-feed.xml"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
BASE = "https://maillage.example"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fixed(settings, use_encoder):
    from matching.recommender import Recommender

    r = Recommender(settings, encoder=use_encoder, clock=FixedClock(NOW))
    r.open()
    r.ingest(read_file(MINI))
    yield r
    r.close()


def structure(xml: bytes) -> list[tuple[str, ...]]:
    """The element paths of a feed (what API Engagement's parser walks)."""
    paths: set[tuple[str, ...]] = set()

    def walk(node, path):
        here = (*path, node.tag)
        paths.add(here)
        for child in node:
            walk(child, here)

    walk(fromstring(xml), ())
    return sorted(paths)


def test_the_domain_table_maps_every_domain_and_exports_each_cause_as_one_of_them() -> None:
    table = engagement.domain_table()
    with (ROOT / "data" / "engagement" / "domains.csv").open(encoding="utf-8") as fh:
        assert list(table.domains) == [r["domain"] for r in csv.DictReader(fh)]
    assert len(table.domains) == 20
    for cause, domain in table.domain_of.items():  # what is exported comes back as the same cause
        assert table.cause_of[domain].casefold() == cause
    territory_causes = json.loads((ROOT / "data/demo/vocabulary/territory.json").read_text(encoding="utf-8"))["causes"]
    assert {c.casefold() for c in territory_causes} == set(table.domain_of)
    assert table.domain([]) == "autre" and table.domain(["Sport pour tous"]) == "sport"


def test_export_has_the_shape_of_api_engagements_example_feed(fixed) -> None:
    xml = engagement.feed_xml(fixed, "mini", base_url=BASE)
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = fromstring(xml)
    assert [c.tag for c in root][:3] == ["publisher", "publisherurl", "lastBuildDate"]
    assert root.findtext("lastBuildDate") == "Mon, 02 Mar 2026 09:30:00 GMT"
    missions = root.findall("mission")
    assert [m.findtext("clientId") for m in missions] == ["p1-n1", "p2-n1", "p3-n1"]  # open calls only (p1-n2 is closed)
    example = set(structure(FEED.read_bytes()))
    assert set(structure(xml)) <= example | {("source", "mission", "organizationDescription"), ("source", "mission", "type")}
    first = missions[0]
    assert first.findtext("title") == "Quelqu'un pour tenir la trésorerie"
    assert first.findtext("organizationName") == "Épicerie solidaire du centre"
    assert first.findtext("organizationClientId") == "p1"
    assert first.findtext("applicationUrl") == f"{BASE}/ui/projects/p1"
    assert first.findtext("remote") == "full" and first.findtext("places") == "1"
    assert first.findtext("schedule") == "2 heures par semaine"
    address = first.find("addresses/address")
    assert [address.findtext(k) for k in ("postalCode", "city", "departmentCode")] == ["92330", "Sceaux", "92"]
    assert float(address.findtext("location/lat")) == pytest.approx(48.776, abs=0.01)
    assert "m7" not in xml.decode()  # the holder never leaves


def test_missions_are_post_v2_mission_bodies(fixed) -> None:
    bodies = engagement.missions(fixed, "mini", base_url=BASE)
    required = {"clientId", "title"}
    allowed = required | {
        "description", "applicationUrl", "domain", "remote", "schedule", "places", "addresses", "organizationName",
        "organizationClientId", "organizationDescription", "type", "romeSkills", "startAt", "endAt", "postedAt",
        "openToMinors", "reducedMobilityAccessible",
    }  # fmt: skip
    for body in bodies:
        assert required <= set(body) <= allowed
        assert body["remote"] in ("no", "possible", "full", "local") and body["type"] == "benevolat"
        assert isinstance(body["places"], int) and body["places"] >= 1
        assert set(body["addresses"][0]) <= {"street", "postalCode", "city", "departmentCode", "country", "location"}


def test_import_reads_projects_and_calls_from_a_feed() -> None:
    batch = engagement.read_feed(FEED, territory="lyon")
    projects = {p.id: p for _, p in batch.projects}
    assert set(projects) == {"org-epicerie", "org-velo"}
    epicerie = projects["org-epicerie"]
    assert [n.id for n in epicerie.needs] == ["ex-1001", "ex-1002"]  # one organisation, one project, two calls
    assert epicerie.causes == ["Solidarité et Insertion"] and epicerie.commune == "Lyon"
    first, second = epicerie.needs
    assert (first.headcount, first.hours_per_week, first.remote, first.deadline) == (2, 3.0, False, dt.date(2030, 11, 1))
    assert first.rome_skills == ["300361", "300412"] and first.posted_on == dt.date(2026, 1, 15)
    assert (first.open_to_minors, first.reduced_mobility_accessible) == (False, True)
    assert second.remote is True and second.hours_per_week == 2.0  # "1 demi-journée par mois": the default hours
    # a street nobody can place, a city everyone can: the city's place (as API Engagement does)
    assert projects["org-velo"].commune == "Saint-Étienne"  # "St Etienne", 42000


def test_the_round_trip_is_identical(fixed, settings, use_encoder, tmp_path) -> None:
    from matching.recommender import Recommender
    from matching.settings import Settings

    fixed.upsert_projects("mini", [p.model_copy(update={"causes": ["Sport pour tous"]}) for _, p in engagement.read_feed(
        FEED, territory="mini").projects])  # fmt: skip
    first = engagement.feed_xml(fixed, "mini", base_url=BASE)
    path = tmp_path / "missions.xml"
    path.write_bytes(first)
    other = Recommender(Settings(data_dir=tmp_path / "other"), encoder=use_encoder, clock=FixedClock(NOW))
    other.open()
    try:
        other.upsert_territory(Territory(id="mini", name="Mini-territoire de test"))
        other.ingest(engagement.read_feed(path, territory="mini"))
        again = engagement.feed_xml(other, "mini", base_url=BASE)
    finally:
        other.close()
    assert again == first
    assert first.count(b"<mission>") == 6 and b"<romeSkills>300361,300412</romeSkills>" in first


def _broken(tmp_path: Path, old: str, new: str, name: str = "broken.xml") -> Path:
    text = FEED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "client_id", "field"),
    [
        ("<![CDATA[0]]></compensationAmount>", "<![CDATA[-10]]></compensationAmount>", "ex-1001", "compensationAmount"),
        ("<![CDATA[environnement]]></domain>", "<![CDATA[jardinage]]></domain>", "ex-2001", "domain"),
        ("<![CDATA[11/01/2030]]></endAt>", "<![CDATA[le 1er novembre]]></endAt>", "ex-1001", "endAt"),
        ("<![CDATA[2026-02-01T00:00:00.000Z]]>", "<![CDATA[2026-13-01]]>", "ex-1001", "startAt"),
        ("<![CDATA[300361,300412]]>", "<![CDATA[Rome 1,Rome 2]]>", "ex-1001", "romeSkills"),
        ("<![CDATA[yes]]></reducedMobilityAccessible>", "<![CDATA[peut-être]]></reducedMobilityAccessible>", "ex-1001",
         "reducedMobilityAccessible"),
        ("<![CDATA[ex-1002]]>", "<![CDATA[ex-1001]]>", "ex-1001", "clientId"),
        ("<![CDATA[Tenir la trésorerie de l'épicerie]]>", "<![CDATA[]]>", "ex-1002", "title"),
    ],
)  # fmt: skip
def test_an_invalid_mission_is_refused_with_its_client_id_and_field(tmp_path, old, new, client_id, field) -> None:
    with pytest.raises(IngestError) as caught:
        engagement.read_feed(_broken(tmp_path, old, new), territory="lyon")
    assert caught.value.field == field
    assert f"« {client_id} »" in caught.value.message
    assert caught.value.line > 1


def test_empty_optional_fields_are_fine(tmp_path) -> None:
    path = _broken(tmp_path, "<![CDATA[2]]></places>", "</places>")
    assert engagement.read_feed(path, territory="lyon").counts()["needs"] == 3


def test_hostile_xml_is_refused(tmp_path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaa">]><source><mission>&a;</mission></source>')
    with pytest.raises(IngestError, match="DTD"):
        engagement.read_feed(bomb, territory="lyon")
    broken = tmp_path / "broken.xml"
    broken.write_text("<source><mission>\n<title>x</mission>")
    with pytest.raises(IngestError, match="XML invalide"):
        engagement.read_feed(broken, territory="lyon")


def test_the_command_line_creates_a_town_imports_a_feed_and_writes_nothing_of_a_bad_one(tmp_path) -> None:
    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    runner = CliRunner()
    made = runner.invoke(
        app, ["territory", "create", "lyon", "--name", "Lyon solidaire", "--communes", "Lyon, 69100, st etienne"], env=env
    )
    assert made.exit_code == 0, made.output
    assert "Lyon, Villeurbanne, Saint-Étienne" in made.output
    unknown = runner.invoke(app, ["territory", "create", "nulle", "--name", "Nulle part", "--communes", "Trifouillis"], env=env)
    assert unknown.exit_code == 2 and "commune introuvable" in unknown.output
    bad = _broken(tmp_path, "<![CDATA[environnement]]></domain>", "<![CDATA[jardinage]]></domain>")
    refused = runner.invoke(app, ["ingest", "--format", "api-engagement", str(bad), "--territory", "lyon"], env=env)
    assert refused.exit_code == 2
    assert re.search(r"broken\.xml, ligne \d+, champ 'domain' : mission « ex-2001 » : domaine inconnu", refused.output)
    empty = runner.invoke(app, ["feed", "export", "-t", "lyon", "--json"], env=env)
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []  # nothing of the bad file was written
    done = runner.invoke(app, ["ingest", "--format", "api-engagement", str(FEED), "--territory", "lyon"], env=env)
    assert done.exit_code == 0, done.output
    exported = runner.invoke(app, ["feed", "export", "-t", "lyon", "--base-url", BASE], env=env)
    assert exported.exit_code == 0 and exported.stdout.count("<mission>") == 3
