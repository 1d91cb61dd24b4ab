"""Done-when of issue 4: on the demo territory the optimal round beats greedy and respects capacities."""

from __future__ import annotations

import json
from collections import Counter

from typer.testing import CliRunner

from matching.assignment import greedy_round, optimal_round
from matching.cli import app
from matching.evaluation import DEMO_DOC
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings


def test_round_on_the_demo_beats_greedy_within_capacities(tmp_path, use_encoder) -> None:
    rec = Recommender(Settings(data_dir=tmp_path), encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(DEMO_DOC))
    candidates, headcount, capacity = rec.round_candidates("sceaux-valley", k=20)
    rec.close()
    assert len(candidates) == 102  # every open need of the demo
    best = optimal_round(candidates, headcount, capacity)
    greedy = greedy_round(candidates, headcount, capacity)
    assert best.total_score > greedy.total_score
    per_member = Counter(a.member_id for a in best.assignments)
    per_need = Counter(a.need_id for a in best.assignments)
    assert all(n <= capacity[m] for m, n in per_member.items())
    assert all(n <= headcount[need] for need, n in per_need.items())
    assert len(set((a.need_id, a.member_id) for a in best.assignments)) == len(best.assignments)
    scores = {(n, m): s for n, cands in candidates.items() for m, s in cands}
    assert all(scores[(a.need_id, a.member_id)] == a.score for a in best.assignments)


def test_assign_command_prints_the_comparison(tmp_path) -> None:
    runner = CliRunner()
    env = {"MAILLAGE_DATA_DIR": str(tmp_path)}
    assert runner.invoke(app, ["demo"], env=env).exit_code == 0
    result = runner.invoke(app, ["assign"], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["optimal"]["total_score"] >= body["greedy"]["total_score"] and "gain" in body
