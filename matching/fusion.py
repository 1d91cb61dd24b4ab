"""Fusion, in one place: how channel scores become components in [0, 1], and how components
become one score.

Channel components (computed for a pool of candidates at once, ``matching.retrieval``):

- ``semantic``: the cosine between query and candidate vectors, clipped to [0, 1];
- ``lexical``: BM25 divided by the best BM25 of the candidates scored together (so the best
  lexical candidate gets 1, a candidate sharing no word 0);
- ``neighbours``: pseudo-relevance feedback: with ``s0`` the weighted mean of the two above,
  the mean cosine of a candidate to the ``top`` best candidates by ``s0`` (weighted by ``s0``):
  documents that resemble the best answers move up.

The score is the **weighted mean** of the components present for a question::

    score = sum(w[c] * value[c]) / sum(w[c])      (rounded to 6 decimals)

with the weights of ``data/weights.json`` (``matching.scoring.Weights``). ``weighted_mean``
computes it for a whole pool; ``reference_weighted_mean`` is the same formula for one
candidate, kept only as the test oracle of the vectorised one.

Example:
    >>> weighted_mean({"semantic": np.array([0.5]), "lexical": np.array([1.0])}, {"semantic": 3, "lexical": 1})
    [0.625]
"""

from __future__ import annotations

import numpy as np


def semantic(cosines: np.ndarray) -> np.ndarray:
    """Cosines clipped to [0, 1] (a negative cosine means unrelated), float32."""
    return np.clip(np.asarray(cosines).astype(np.float32, copy=False), 0.0, 1.0)


def lexical(bm25: np.ndarray) -> np.ndarray:
    """BM25 scores divided by the best of them (all 0 when nothing matched)."""
    return bm25 / bm25.max() if len(bm25) and bm25.max() > 0 else np.zeros_like(bm25)


def neighbours(components: dict[str, np.ndarray], weights: dict[str, float], vectors: np.ndarray, top: int) -> np.ndarray:
    """Pseudo-relevance feedback: each candidate's mean cosine to the ``top`` best candidates by
    the weighted mean of ``semantic`` and ``lexical`` (weighted by that mean), in [0, 1].

    ``vectors``: the candidates' vectors, one row each, aligned with the components.
    """
    w_sem, w_lex = weights.get("semantic", 0.0), weights.get("lexical", 0.0) if "lexical" in components else 0.0
    s0 = (w_sem * components["semantic"] + w_lex * components.get("lexical", 0.0)) / max(w_sem + w_lex, 1e-9)
    best = np.argsort(-s0, kind="stable")[:top]
    w = np.maximum(s0[best], 0.0)
    w = w / w.sum() if w.sum() > 0 else np.full(len(best), 1.0 / len(best))
    return np.clip((vectors @ vectors[best].T) @ w, 0.0, 1.0).astype(np.float32)


def weighted_mean(
    components: dict[str, np.ndarray], weights: dict[str, float], present: dict[str, np.ndarray] | None = None
) -> list[float]:
    """The score of every candidate of a pool: the weighted mean of its components, in [0, 1].

    Args:
        components: one array per component, aligned (a pool of candidates).
        weights: component -> non-negative weight; a component without weight does not count.
        present: for a component that some candidates lack (e.g. ``causes``), a boolean array
            of those that have it; the others are scored as if it were absent.

    Sums run in float64 in the order of ``components``, and each total is rounded as Python's
    ``round(v, 6)`` rounds it (``round6``): the same result, to the last bit, as
    ``reference_weighted_mean`` one candidate at a time.
    """
    present = present or {}
    n = len(next(iter(components.values()))) if components else 0
    num, total = np.zeros(n), np.zeros(n)
    for name, values in components.items():
        w = weights.get(name, 0.0)
        term, weight = w * np.asarray(values, dtype=np.float64), np.full(n, float(w))
        if name in present:
            term, weight = np.where(present[name], term, 0.0), np.where(present[name], weight, 0.0)
        num, total = num + term, total + weight
    value = np.clip(np.divide(num, total, out=np.zeros(n), where=total > 0), 0.0, 1.0)
    return round6(np.where(total > 0, value, 0.0)).tolist()


def harmonic(one_sided: np.ndarray, wants: np.ndarray, present: np.ndarray) -> list[float]:
    """Both directions at once: ``2 s w / (s + w)`` of the one-sided score ``s`` and the member's
    side ``w`` (``matching.reciprocal``) where the member stated something (``present``), else
    ``s``; in [0, 1], rounded like ``weighted_mean``."""
    s, w = np.asarray(one_sided, dtype=np.float64), np.asarray(wants, dtype=np.float64)
    both = np.divide(2 * s * w, s + w, out=np.zeros(len(s)), where=(s + w) > 0)
    return round6(np.clip(np.where(present, both, s), 0.0, 1.0)).tolist()


def reference_weighted_mean(components: dict[str, float], weights: dict[str, float]) -> float:
    """Test oracle: ``weighted_mean`` of one candidate, written plainly. Not used by the service."""
    total = sum(weights.get(name, 0.0) for name in components)
    if total <= 0:
        return 0.0
    value = sum(weights.get(name, 0.0) * v for name, v in components.items()) / total
    return round(min(1.0, max(0.0, value)), 6)


def round6(values: np.ndarray) -> np.ndarray:
    """``round(v, 6)`` of each float64, vectorised, with the same result to the last bit.

    ``rint(v * 1e6) / 1e6`` is the double nearest to the decimal that Python's ``round``
    picks, except where ``v * 1e6`` lies so close to a half that its own rounding error
    (about 1e-10 here, as |v| <= 1) could decide: those few are rounded by Python.
    """
    scaled = values * 1e6
    out = np.rint(scaled) / 1e6
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for n in near_half.tolist():
        out[n] = round(float(values[n]), 6)
    return out
