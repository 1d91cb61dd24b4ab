"""A matching round for a whole territory: assign members to open needs at once.

Recommending per need ranks candidates need by need; a *round* decides, for every open
need of a territory together, who is actually proposed, so that one very good member is
not promised to five needs while nearly-as-good members stay idle.

Inputs (plain dicts, so the module stays pure and easy to test):

- ``candidates``: need id -> scored candidates ``[(member_id, score), ...]``, score in [0, 1];
- ``headcount``: need id -> how many members the need wants (missing -> 1);
- ``capacity``: member id -> how many more engagements the member can take
  (missing -> 1, 0 -> never assigned).

Two strategies share this signature:

- :func:`optimal_round` maximises the total score exactly (integer linear program, HiGHS);
- :func:`greedy_round` is the baseline: need by need (sorted by id), best candidates first.

Example:
    >>> cands = {"n1": [("a", 0.9), ("b", 0.8)], "n2": [("a", 0.85)]}
    >>> optimal_round(cands, {}, {}).total_score
    1.65
    >>> greedy_round(cands, {}, {}).total_score
    0.9
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from matching.errors import InvalidRequest

__all__ = ["Assignment", "RoundResult", "compare", "greedy_round", "optimal_round"]

Candidates = dict[str, list[tuple[str, float]]]


@dataclass(frozen=True)
class Assignment:
    """One member proposed for one need.

    Example:
        >>> Assignment("n1", "a", 0.9).member_id
        'a'
    """

    need_id: str
    member_id: str
    score: float


@dataclass
class RoundResult:
    """The outcome of a matching round.

    Attributes:
        method: ``"optimal"`` or ``"greedy"``.
        assignments: the proposed (need, member, score) triples, sorted by need then member.
        total_score: sum of the assigned scores.
        members_used: distinct members assigned at least once.
        needs_filled: needs whose headcount is fully met.
        slots_filled: number of assignments (filled seats, all needs together).
        needs_total: open needs in the round (the keys of ``candidates``).

    Example:
        >>> RoundResult("greedy", [], 0.0, 0, 0, 0, 2).summary()["needs_total"]
        2
    """

    method: str
    assignments: list[Assignment]
    total_score: float
    members_used: int
    needs_filled: int
    slots_filled: int
    needs_total: int

    def summary(self, *, with_assignments: bool = False) -> dict[str, Any]:
        """JSON-able digest; the assignment list only if ``with_assignments``.

        Example:
            >>> RoundResult("optimal", [Assignment("n", "m", 0.5)], 0.5, 1, 1, 1, 1).summary(with_assignments=True)["assignments"]
            [{'need_id': 'n', 'member_id': 'm', 'score': 0.5}]
        """
        out: dict[str, Any] = {
            "method": self.method,
            "total_score": round(self.total_score, 6),
            "members_used": self.members_used,
            "needs_filled": self.needs_filled,
            "slots_filled": self.slots_filled,
            "needs_total": self.needs_total,
            "fill_rate": round(self.needs_filled / self.needs_total, 6) if self.needs_total else 0.0,
        }
        if with_assignments:
            out["assignments"] = [asdict(a) for a in self.assignments]
        return out


# -- shared preparation --------------------------------------------------------------------


def _check(headcount: dict[str, int], capacity: dict[str, int]) -> None:
    """Reject negative limits: they are input errors, not "zero", and would hide a bug upstream."""
    for need_id, n in headcount.items():
        if n < 0:
            raise InvalidRequest(f"effectif demandé négatif pour le besoin {need_id!r} : {n}")
    for member_id, n in capacity.items():
        if n < 0:
            raise InvalidRequest(f"capacité négative pour le membre {member_id!r} : {n}")


def _eligible_pairs(
    candidates: Candidates, headcount: dict[str, int], capacity: dict[str, int], min_score: float
) -> list[tuple[str, str, float]]:
    """Pairs that may be assigned, one per (need, member), in a deterministic order.

    A member listed twice for the same need keeps its best score: the pair is a single
    decision variable, which is also what forbids the same member twice on one need.
    """
    _check(headcount, capacity)
    best: dict[tuple[str, str], float] = {}
    for need_id, cands in candidates.items():
        if headcount.get(need_id, 1) == 0:
            continue
        for member_id, score in cands:
            score = float(score)
            if not math.isfinite(score):
                raise InvalidRequest(f"score invalide pour le couple ({need_id!r}, {member_id!r}) : {score}")
            if score <= min_score or capacity.get(member_id, 1) == 0:
                continue
            key = (need_id, member_id)
            if score > best.get(key, -math.inf):
                best[key] = score
    # sorted so that solver input (hence tie-breaking) does not depend on dict order
    return sorted((n, m, s) for (n, m), s in best.items())


def _result(method: str, chosen: list[tuple[str, str, float]], candidates: Candidates, headcount: dict[str, int]) -> RoundResult:
    assignments = [Assignment(n, m, s) for n, m, s in sorted(chosen)]
    per_need = Counter(a.need_id for a in assignments)
    return RoundResult(
        method=method,
        assignments=assignments,
        # math.fsum: exact-as-possible sum, so optimal vs greedy comparisons are not noise
        total_score=math.fsum(a.score for a in assignments),
        members_used=len({a.member_id for a in assignments}),
        needs_filled=sum(1 for need_id in candidates if per_need[need_id] >= headcount.get(need_id, 1)),
        slots_filled=len(assignments),
        needs_total=len(candidates),
    )


# -- strategies ----------------------------------------------------------------------------


def optimal_round(
    candidates: Candidates,
    headcount: dict[str, int],
    capacity: dict[str, int],
    *,
    min_score: float = 0.0,
) -> RoundResult:
    """Assignment that maximises the total score under headcount and capacity limits.

    Each need gets at most its headcount, each member at most its capacity, a member at
    most once per need, and only pairs of ``candidates`` with ``score > min_score``.

    Args:
        candidates: need id -> ``[(member_id, score), ...]``.
        headcount: need id -> wanted members (missing -> 1).
        capacity: member id -> remaining engagements (missing -> 1, 0 -> excluded).
        min_score: pairs scoring at or below this are never assigned.

    Returns:
        The optimal :class:`RoundResult` (``method="optimal"``).

    Raises:
        InvalidRequest: a negative headcount or capacity, or a non-finite score.

    Example:
        >>> r = optimal_round({"n1": [("a", 0.9), ("b", 0.8)], "n2": [("a", 0.85)]}, {}, {})
        >>> [(a.need_id, a.member_id) for a in r.assignments]
        [('n1', 'b'), ('n2', 'a')]
    """
    pairs = _eligible_pairs(candidates, headcount, capacity, min_score)
    if not pairs:
        return _result("optimal", [], candidates, headcount)

    # Why an integer program over the candidate pairs rather than linear_sum_assignment on
    # an expanded slots matrix: one binary variable x[need, member] per pair encodes
    # "at most once per need" for free, whereas copying members into capacity slots lets
    # two copies of one member land on two slots of the same need and needs repair.
    # The constraint matrix is the incidence matrix of a bipartite graph, hence totally
    # unimodular: the LP relaxation is already integral, so HiGHS solves it at the root
    # (a few ms for thousands of pairs); integrality is kept only as a safety net.
    need_ids = sorted({n for n, _, _ in pairs})
    member_ids = sorted({m for _, m, _ in pairs})
    need_row = {n: i for i, n in enumerate(need_ids)}
    member_row = {m: len(need_ids) + j for j, m in enumerate(member_ids)}

    k = len(pairs)
    cols = np.arange(k)
    rows = np.concatenate(
        [np.fromiter((need_row[n] for n, _, _ in pairs), int, k), np.fromiter((member_row[m] for _, m, _ in pairs), int, k)]
    )
    a = csr_array((np.ones(2 * k), (rows, np.concatenate([cols, cols]))), shape=(len(need_ids) + len(member_ids), k))
    upper = np.array([headcount.get(n, 1) for n in need_ids] + [capacity.get(m, 1) for m in member_ids], dtype=float)
    scores = np.fromiter((s for _, _, s in pairs), float, k)

    res = milp(
        c=-scores,  # milp minimises
        constraints=LinearConstraint(a, -np.inf, upper),
        integrality=np.ones(k),
        bounds=Bounds(0, 1),
    )
    if not res.success or res.x is None:  # pragma: no cover - the problem is always feasible (x = 0)
        raise RuntimeError(f"échec du solveur d'affectation : {res.message}")
    chosen = [p for p, x in zip(pairs, res.x, strict=True) if x > 0.5]
    return _result("optimal", chosen, candidates, headcount)


def greedy_round(
    candidates: Candidates,
    headcount: dict[str, int],
    capacity: dict[str, int],
    *,
    min_score: float = 0.0,
) -> RoundResult:
    """Baseline: need by need (sorted by id), take the best candidates still available.

    This is "greedy per-need top-1" extended to headcounts: for each need, candidates are
    tried by decreasing score (ties by member id) and taken while the member has capacity
    left, until the headcount is reached. Same arguments and limits as :func:`optimal_round`.

    Example:
        >>> r = greedy_round({"n1": [("a", 0.9), ("b", 0.8)], "n2": [("a", 0.85)]}, {}, {})
        >>> [(a.need_id, a.member_id) for a in r.assignments]
        [('n1', 'a')]
    """
    pairs = _eligible_pairs(candidates, headcount, capacity, min_score)
    by_need: dict[str, list[tuple[str, float]]] = {}
    for n, m, s in pairs:
        by_need.setdefault(n, []).append((m, s))

    left = Counter({m: capacity.get(m, 1) for _, m, _ in pairs})
    chosen: list[tuple[str, str, float]] = []
    for need_id in sorted(by_need):
        wanted = headcount.get(need_id, 1)
        for member_id, score in sorted(by_need[need_id], key=lambda ms: (-ms[1], ms[0])):
            if wanted == 0:
                break
            if left[member_id] > 0:
                left[member_id] -= 1
                wanted -= 1
                chosen.append((need_id, member_id, score))
    return _result("greedy", chosen, candidates, headcount)


def compare(
    candidates: Candidates,
    headcount: dict[str, int],
    capacity: dict[str, int],
    **kw: Any,
) -> dict[str, Any]:
    """Run both strategies and report what the optimal round gains over the greedy one.

    Args:
        candidates: as in :func:`optimal_round`.
        headcount: as in :func:`optimal_round`.
        capacity: as in :func:`optimal_round`.
        **kw: forwarded to both strategies (``min_score``).

    Returns:
        ``{"optimal": summary, "greedy": summary, "gain": {...}}``; gains are optimal minus
        greedy (``total_score_pct`` relative to greedy, 0 if greedy scores 0).

    Example:
        >>> compare({"n1": [("a", 0.9), ("b", 0.8)], "n2": [("a", 0.85)]}, {}, {})["gain"]["needs_filled"]
        1
    """
    opt = optimal_round(candidates, headcount, capacity, **kw)
    gre = greedy_round(candidates, headcount, capacity, **kw)
    diff = opt.total_score - gre.total_score
    return {
        "optimal": opt.summary(),
        "greedy": gre.summary(),
        "gain": {
            "total_score": round(diff, 6),
            "total_score_pct": round(100 * diff / gre.total_score, 3) if gre.total_score else 0.0,
            "members_used": opt.members_used - gre.members_used,
            "needs_filled": opt.needs_filled - gre.needs_filled,
            "slots_filled": opt.slots_filled - gre.slots_filled,
        },
    }
