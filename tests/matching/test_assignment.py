from __future__ import annotations

import json
import random
import time
from collections import Counter

import pytest

from matching.assignment import Assignment, RoundResult, compare, greedy_round, optimal_round
from matching.errors import InvalidRequest

Candidates = dict[str, list[tuple[str, float]]]


def _instance(
    rng: random.Random, n_needs: int, n_members: int, per_need: tuple[int, int], cap_max: int = 3, head_max: int = 2
) -> tuple[Candidates, dict[str, int], dict[str, int]]:
    members = [f"m{j:04d}" for j in range(n_members)]
    candidates = {
        f"n{i:03d}": [(m, round(rng.random(), 3)) for m in rng.sample(members, min(rng.randint(*per_need), n_members))]
        for i in range(n_needs)
    }
    headcount = {n: rng.randint(1, head_max) for n in candidates}
    capacity = {m: rng.randint(0, cap_max) for m in members}
    return candidates, headcount, capacity


def _assert_feasible(
    result: RoundResult, candidates: Candidates, headcount: dict[str, int], capacity: dict[str, int], min_score: float = 0.0
) -> None:
    pairs = [(a.need_id, a.member_id) for a in result.assignments]
    assert len(pairs) == len(set(pairs)), "the same member twice on one need"
    allowed = {(n, m): s for n, cands in candidates.items() for m, s in cands}
    for a in result.assignments:
        assert (a.need_id, a.member_id) in allowed
        assert a.score == allowed[a.need_id, a.member_id]
        assert a.score > min_score
    for need_id, k in Counter(a.need_id for a in result.assignments).items():
        assert k <= headcount.get(need_id, 1)
    for member_id, k in Counter(a.member_id for a in result.assignments).items():
        assert k <= capacity.get(member_id, 1)
    assert result.total_score == pytest.approx(sum(a.score for a in result.assignments))
    assert result.slots_filled == len(result.assignments)
    assert result.members_used == len({a.member_id for a in result.assignments})
    assert result.needs_total == len(candidates)


def _brute_force(candidates: Candidates, headcount: dict[str, int], capacity: dict[str, int], min_score: float = 0.0) -> float:
    """Best total by exhaustive search over subsets of eligible pairs (tiny instances only)."""
    pairs = [(n, m, s) for n, cands in candidates.items() for m, s in cands if s > min_score]
    best = 0.0

    def walk(i: int, need_used: Counter, member_used: Counter, total: float) -> None:
        nonlocal best
        if i == len(pairs):
            best = max(best, total)
            return
        walk(i + 1, need_used, member_used, total)
        n, m, s = pairs[i]
        if need_used[n] < headcount.get(n, 1) and member_used[m] < capacity.get(m, 1):
            need_used[n] += 1
            member_used[m] += 1
            walk(i + 1, need_used, member_used, total + s)
            need_used[n] -= 1
            member_used[m] -= 1

    walk(0, Counter(), Counter(), 0.0)
    return best


# -- hand-made cases -----------------------------------------------------------------------


def test_greedy_is_provably_worse_on_a_shared_star() -> None:
    # A is the best for both needs but can take only one; B is nearly as good, for n1 only.
    candidates = {"n1": [("A", 0.9), ("B", 0.8)], "n2": [("A", 0.85)]}
    capacity = {"A": 1, "B": 1}

    greedy = greedy_round(candidates, {}, capacity)
    assert greedy.assignments == [Assignment("n1", "A", 0.9)]
    assert greedy.total_score == pytest.approx(0.9)
    assert (greedy.needs_filled, greedy.members_used, greedy.slots_filled) == (1, 1, 1)

    optimal = optimal_round(candidates, {}, capacity)
    assert optimal.assignments == [Assignment("n1", "B", 0.8), Assignment("n2", "A", 0.85)]
    assert optimal.total_score == pytest.approx(1.65)
    assert (optimal.needs_filled, optimal.members_used, optimal.slots_filled) == (2, 2, 2)

    report = compare(candidates, {}, capacity)
    assert report["gain"]["total_score"] == pytest.approx(0.75)
    assert report["gain"]["needs_filled"] == 1
    assert report["gain"]["members_used"] == 1
    json.dumps(report)


def test_never_the_same_member_twice_on_one_need() -> None:
    # A could take two engagements and is listed twice for n1: still only one seat of n1.
    candidates = {"n1": [("A", 0.9), ("A", 0.7)]}
    for solve in (optimal_round, greedy_round):
        result = solve(candidates, {"n1": 2}, {"A": 2})
        assert result.assignments == [Assignment("n1", "A", 0.9)]
        assert result.needs_filled == 0  # headcount 2 not met


def test_headcount_and_capacity_two() -> None:
    candidates = {"n1": [("A", 0.9), ("B", 0.5), ("C", 0.4)], "n2": [("A", 0.8), ("B", 0.7)]}
    headcount = {"n1": 2, "n2": 2}
    capacity = {"A": 2, "B": 2, "C": 2}
    result = optimal_round(candidates, headcount, capacity)
    _assert_feasible(result, candidates, headcount, capacity)
    assert {(a.need_id, a.member_id) for a in result.assignments} == {("n1", "A"), ("n1", "B"), ("n2", "A"), ("n2", "B")}
    assert result.total_score == pytest.approx(2.9)
    assert result.needs_filled == 2


def test_capacity_zero_and_min_score_are_never_assigned() -> None:
    candidates = {"n1": [("busy", 1.0), ("weak", 0.3), ("ok", 0.31)], "n2": [("busy", 0.9), ("weak", 0.2)]}
    capacity = {"busy": 0, "weak": 5, "ok": 1}
    for solve in (optimal_round, greedy_round):
        result = solve(candidates, {}, capacity, min_score=0.3)
        assert result.assignments == [Assignment("n1", "ok", 0.31)]
        assert result.needs_filled == 1
        assert result.needs_total == 2


def test_zero_scores_are_not_assigned_by_default() -> None:
    assert optimal_round({"n1": [("A", 0.0)]}, {}, {}).assignments == []


def test_missing_limits_default_to_one() -> None:
    candidates = {"n1": [("A", 0.9), ("B", 0.8)], "n2": [("A", 0.7), ("B", 0.6)]}
    result = optimal_round(candidates, {}, {})
    assert result.slots_filled == 2
    assert result.members_used == 2
    assert result.total_score == pytest.approx(1.5)  # 0.9 + 0.6 and 0.8 + 0.7 tie; both are optimal


def test_empty_input() -> None:
    for solve in (optimal_round, greedy_round):
        result = solve({}, {}, {})
        assert result.assignments == []
        assert result.total_score == 0
        assert result.summary()["fill_rate"] == 0.0
        # an open need without any candidate counts as open and unfilled
        lonely = solve({"n1": []}, {}, {})
        assert (lonely.needs_total, lonely.needs_filled, lonely.slots_filled) == (1, 0, 0)
    assert compare({}, {}, {})["gain"]["total_score"] == 0


def test_invalid_limits_are_rejected_in_french() -> None:
    with pytest.raises(InvalidRequest, match="capacité négative"):
        optimal_round({"n1": [("A", 0.5)]}, {}, {"A": -1})
    with pytest.raises(InvalidRequest, match="effectif demandé négatif"):
        greedy_round({"n1": [("A", 0.5)]}, {"n1": -2}, {})
    with pytest.raises(InvalidRequest, match="score invalide"):
        optimal_round({"n1": [("A", float("nan"))]}, {}, {})


def test_summary_is_json_able() -> None:
    result = optimal_round({"n1": [("A", 0.5)]}, {}, {})
    summary = result.summary(with_assignments=True)
    assert summary["assignments"] == [{"need_id": "n1", "member_id": "A", "score": 0.5}]
    assert "assignments" not in result.summary()
    json.dumps(summary)


# -- random instances ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_random_instances_are_feasible_and_optimal_beats_greedy(seed: int) -> None:
    rng = random.Random(seed)
    candidates, headcount, capacity = _instance(rng, n_needs=30, n_members=80, per_need=(0, 8))
    optimal = optimal_round(candidates, headcount, capacity, min_score=0.1)
    greedy = greedy_round(candidates, headcount, capacity, min_score=0.1)
    _assert_feasible(optimal, candidates, headcount, capacity, min_score=0.1)
    _assert_feasible(greedy, candidates, headcount, capacity, min_score=0.1)
    assert optimal.total_score >= greedy.total_score - 1e-9


@pytest.mark.parametrize("seed", range(100))
def test_tiny_random_instances_match_brute_force(seed: int) -> None:
    rng = random.Random(1000 + seed)
    candidates, headcount, capacity = _instance(
        rng, n_needs=rng.randint(1, 4), n_members=rng.randint(1, 4), per_need=(0, 4), cap_max=2, head_max=2
    )
    candidates = {n: c[: rng.randint(0, len(c))] for n, c in candidates.items()}
    optimal = optimal_round(candidates, headcount, capacity)
    _assert_feasible(optimal, candidates, headcount, capacity)
    assert optimal.total_score == pytest.approx(_brute_force(candidates, headcount, capacity), abs=1e-9)
    assert optimal.total_score >= greedy_round(candidates, headcount, capacity).total_score - 1e-9


def test_optimal_strictly_beats_greedy_under_contention() -> None:
    # guards against a "solver" that silently degrades to the greedy answer
    gains = []
    for seed in range(5):
        candidates, headcount, capacity = _instance(random.Random(seed), n_needs=30, n_members=80, per_need=(0, 8))
        report = compare(candidates, headcount, capacity, min_score=0.1)
        gains.append(report["gain"]["total_score"])
    assert all(g >= 0 for g in gains)
    assert any(g > 0 for g in gains)


def test_scales_to_thousands_of_pairs() -> None:
    rng = random.Random(7)
    candidates, headcount, capacity = _instance(rng, n_needs=200, n_members=2000, per_need=(20, 20))
    start = time.perf_counter()
    result = optimal_round(candidates, headcount, capacity)
    elapsed = time.perf_counter() - start
    _assert_feasible(result, candidates, headcount, capacity)
    # well under a second in practice; the bound is loose so a busy CI machine does not flake
    assert elapsed < 5.0
