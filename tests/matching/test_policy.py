"""Alignment of projects with the territory's policy axes (issue 18, part 3): the domain field,
the alignment and its reason, the per-axis overview with its gaps, the CSV, the command line,
the API routes and the overview page."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from matching import policy
from matching.domain import PolicyAxis, RecordedEvent, Territory

AXES = [
    PolicyAxis(
        id="ecologie", title="Transition écologique", description="Jardiner et composter en ville, réparer les objets, le vélo."
    ),
    PolicyAxis(
        id="solidarites",
        title="Solidarités",
        description="Aider les familles modestes, l'aide alimentaire, lutter contre la précarité.",
    ),
    PolicyAxis(id="spatial", title="Conquête spatiale", description="Lancer des fusées et des satellites en orbite."),
]


@pytest.fixture
def with_axes(rec):
    territory = rec.get_territory("mini")
    rec.upsert_territory(territory.model_copy(update={"axes": AXES}))
    return rec


def test_axes_are_a_validated_field_of_the_territory() -> None:
    t = Territory.model_validate({"id": "t", "name": "T", "axes": [{"id": "a", "title": "Jeunesse"}]})
    assert t.axes[0].text() == "Jeunesse"
    with pytest.raises(ValidationError, match="double"):
        Territory.model_validate({"id": "t", "name": "T", "axes": [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]})
    with pytest.raises(ValidationError):
        Territory.model_validate({"id": "t", "name": "T", "axes": [{"id": "a", "title": ""}]})
    assert Territory(id="t", name="T").axes == []


def test_phrases_of_an_axis_are_its_title_and_the_pieces_of_its_description() -> None:
    assert policy.phrases(AXES[0]) == ["Transition écologique", "Jardiner", "composter en ville", "réparer les objets", "le vélo"]


def test_each_project_gets_an_explained_alignment_with_each_axis(with_axes) -> None:
    garden = policy.project_alignment(with_axes, "mini", "p2")
    assert garden[0].axis_id == "ecologie"
    assert all(0 <= a.value <= 1 for a in garden)
    best = garden[0]
    assert best.serves and best.reason.startswith("axe « Transition écologique » : « ")
    assert "↔" in best.reason
    grocery = policy.project_alignment(with_axes, "mini", "p1")
    assert grocery[0].axis_id == "solidarites"


def test_the_overview_counts_per_axis_and_shows_the_gaps(with_axes) -> None:
    now = with_axes.clock.now()
    common = {"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m1", "at": now}
    with_axes.record_events(
        "mini",
        [
            RecordedEvent(id="c", type="contacted", **common),
            RecordedEvent(id="a", type="accepted", **common),
            RecordedEvent(id="y", type="accepted", side="candidate", **common),
        ],
    )
    report = policy.policy_overview(with_axes, "mini")
    by_id = {line.axis.id: line for line in report.axes}
    assert [a.id for a in report.gaps] == ["spatial"]
    assert not by_id["spatial"].projects
    solidarity = by_id["solidarites"]
    assert "p1" in [p.id for p, _ in solidarity.projects]
    assert solidarity.members_engaged == 1 and solidarity.needs_filled == 1
    assert sum(n for _, n in solidarity.by_stage) == len(solidarity.projects)
    data = policy.report_dict(report)
    assert data["gaps"] == ["spatial"] and json.dumps(data, ensure_ascii=False)


def test_csv_has_one_row_per_axis_and_project(with_axes) -> None:
    text = policy.to_csv(policy.rows(with_axes, "mini"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(AXES) * 3
    assert set(rows[0]) == set(policy.CSV_COLUMNS)
    assert {r["serves"] for r in rows} <= {"oui", "non"}


def test_evaluation_against_labels(with_axes) -> None:
    result = policy.evaluate(with_axes, "mini", {"p1": ["solidarites"], "p2": ["ecologie"], "p3": ["ecologie"]})
    assert result["projects"] == 3 and result["positives"] == 3
    assert 0 <= result["current"]["precision"] <= 1 and result["top1_accuracy"] >= 2 / 3


def test_a_territory_without_axes_has_an_empty_view(rec) -> None:
    report = policy.policy_overview(rec, "mini")
    assert report.axes == [] and report.gaps == []
    from matching.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="axes"):
        policy.evaluate(rec, "mini", {"p1": []})


def test_api_routes(with_axes, client, key_for) -> None:
    r = client.get("/territories/mini/policy")
    assert r.status_code == 200 and r.json()["gaps"] == ["spatial"]
    r = client.get("/territories/mini/policy.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0] == ",".join(policy.CSV_COLUMNS)
    r = client.get("/territories/mini/projects/p2/alignment")
    assert r.status_code == 200 and r.json()[0]["axis_id"] == "ecologie"
    assert client.get("/territories/mini/projects/nope/alignment").status_code == 404
    member = key_for("member", "m1")
    assert client.get("/territories/mini/policy", headers=member).status_code == 403
    assert client.get("/territories/mini/projects/p2/alignment", headers=member).status_code == 200


def test_overview_page_shows_the_axes_and_the_gaps(with_axes, client) -> None:
    client.cookies.set("maillage_key", client.headers["X-API-Key"])
    page = client.get("/ui/overview")
    assert page.status_code == 200
    assert "Axes de politique publique" in page.text and "Lacunes" in page.text and "Conquête spatiale" in page.text
    assert client.get("/ui/overview/axes.csv").text.startswith("axis_id,")


def test_cli(with_axes, tmp_path) -> None:
    from matching.cli import app

    env = {"MAILLAGE_DATA_DIR": str(with_axes.settings.data_dir)}
    with_axes.close()
    out = tmp_path / "axes.csv"
    result = CliRunner().invoke(app, ["policy", "show", "-t", "mini", "--json", "--csv", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["gaps"] == ["spatial"] and out.read_text().startswith("axis_id,")
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"project_axes": {"p1": ["solidarites"], "p2": ["ecologie"]}}))
    result = CliRunner().invoke(app, ["policy", "eval", "-t", "mini", "--truth", str(truth)], env=env)
    assert result.exit_code == 0 and json.loads(result.output)["projects"] == 2
    result = CliRunner().invoke(app, ["policy", "eval", "-t", "mini", "--truth", str(tmp_path / "none.json")], env=env)
    assert result.exit_code == 2 and "illisible" in result.output
    result = CliRunner().invoke(app, ["policy", "show", "-t", "ailleurs"], env=env)
    assert result.exit_code == 2 and "territoire" in result.output
