"""The member's side of a suggestion (issue 18, part 1): ``wants`` from stated preferences and past
answers, its French reason, the harmonic combination, and the default weights leaving it off."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matching import fusion, reciprocal
from matching.domain import Member, Need, Preferences, RecordedEvent

GARDENER = Member(
    id="g",
    display_name="G.",
    skills="jardinage",
    hours_per_week=2,
    causes=["Protection de la nature"],
    preferences=Preferences(task_kinds=["manuel"], max_km=5),
)
GARDEN = Need(id="n", title="Entretenir le potager", text="Arroser et composter.", hours_per_week=4)


def test_need_kinds_come_from_words() -> None:
    assert reciprocal.need_kinds("Entretenir le potager et le compost") == {"manuel"}
    assert "numerique" in reciprocal.need_kinds("Refaire notre site Internet")
    assert reciprocal.need_kinds("Quelque chose d'autre") == frozenset()


def test_wants_reads_kinds_distance_causes_hours_and_history() -> None:
    project = {"causes": ["Protection de la nature"], "commune": "Sceaux"}
    near = reciprocal.wants(GARDENER, GARDEN, project, 1.0)
    assert near.value == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    assert (
        reciprocal.reason(near)
        == "souhaite : travaux manuels, bricolage, jardinage, près de chez soi, cause Protection de la nature"
    )
    far = reciprocal.wants(GARDENER, GARDEN, project, 12.0, history=0.2)
    assert far.value < near.value and not far.near
    nothing = Member(id="x", display_name="X.", skills="compta")
    assert reciprocal.wants(nothing, GARDEN, {}, 3.0).value is None


def test_history_part() -> None:
    v = np.array([1.0, 0.0])
    assert reciprocal.history_part(v, np.array([[1.0, 0.0]]), np.zeros((0, 2))) == 1.0
    assert reciprocal.history_part(v, np.zeros((0, 2)), np.array([[1.0, 0.0]])) == 0.0
    assert reciprocal.history_part(v, np.zeros((0, 2)), np.zeros((0, 2))) is None


def test_harmonic_needs_both_sides() -> None:
    got = fusion.harmonic(np.array([0.8, 0.8, 0.8]), np.array([0.8, 0.0, 0.3]), np.array([True, True, False]))
    assert got == [0.8, 0.0, 0.8]


def test_default_weights_leave_it_off(rec) -> None:
    assert "wants" not in rec.weights.member_for_need
    assert all("wants" not in m.breakdown for m in rec.member_for_need("mini", "p1-n1", k=3))


def test_questions_with_the_member_side(rec) -> None:
    w = rec.weights.model_copy(deep=True)
    w.member_for_need["wants"] = 0.5
    w.need_for_member["wants"] = 0.5
    rec.weights = w
    m1 = rec.get_member("mini", "m1")
    rec.upsert_members("mini", [m1.model_copy(update={"preferences": Preferences(task_kinds=["administratif"], max_km=3)})])
    got = {m.id: m for m in rec.member_for_need("mini", "p1-n1", k=5)}
    assert got["m1"].breakdown["wants"] > 0.5
    assert any(r.startswith("souhaite : gestion, administratif") for r in got["m1"].reasons)
    needs = rec.need_for_member("mini", "m1", k=3)
    assert "wants" in needs[0].breakdown
    # a past « pas pour moi » on that call lowers it, through the member's side of the suggestion
    at = rec.clock.now() - dt.timedelta(minutes=1)
    common = {"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": "m2", "at": at}
    rec.record_events("mini", [RecordedEvent(id="no", type="not_interested", side="candidate", **common)])
    m2 = {m.id: m for m in rec.member_for_need("mini", "p1-n1", k=8)}.get("m2")
    assert m2 is not None and m2.breakdown["wants"] <= 0.5 and "a décliné des appels proches" in m2.reasons
    w.reciprocal.combine = "harmonic"
    rec.weights = w
    assert rec.member_for_need("mini", "p1-n1", k=3)


def test_simulated_month_compares_both_in_one_run(tmp_path, use_encoder) -> None:
    from matching.settings import Settings
    from matching.simulate import simulate

    result = simulate(Settings(data_dir=tmp_path), days=2, encoder=use_encoder)
    for name in ("one_sided", "reciprocal"):
        r = result[name]
        assert r["contacted"] > 0 and 0 <= r["acceptance_rate"] <= 1 and r["needs_filled"] <= result["needs"]
    assert result["members_stated"] > 0 and "acceptance_change" in result


def test_simulate_command_rejects_bad_input(tmp_path) -> None:
    from typer.testing import CliRunner

    from matching.cli import app

    result = CliRunner().invoke(app, ["simulate", "--days", "0"], env={"MAILLAGE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
