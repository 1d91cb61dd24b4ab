"""Similar initiatives (issue 18, part 2): the existing projects that look like a project or an idea,
so that people join forces instead of duplicating.

Two projects look alike by the cosine of their texts (title and description, the project
index's text) with the index set's primary encoder, clipped to [0, 1]. A project is shown as
**similar** from ``similar_min`` and reported as a **likely duplicate** from ``duplicate_min``
(``data/similar.json``, calibrated on the generator's labelled pairs: paraphrased
near-duplicates against distinct projects of the same theme, ``maillage similar --calibrate``).
The reason quotes the two sentences closest in meaning (``matching.explain.best_sentence_pair``):
« sentence of the existing project » ↔ « sentence of the new one ».

Vectors: the texts of a territory's projects are read through the encoder's cache (the
vectors their writes stored) and kept in its memory; the read path writes nothing.

Who sees what across territories is ``matching.access``'s (``may_look_across``): a project of
another territory is shown by its public fields only (id, title, stage, territory).

Example:
    >>> similar_to_text(rec, ["sceaux-valley"], "un jardin partagé au pied des immeubles")  # doctest: +SKIP
    [Similar(territory_id='sceaux-valley', id='p0012', title='Jardin partagé de Clamart', ...)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matching import explain, fusion
from matching.domain import Stage
from matching.errors import InvalidRequest
from matching.settings import package_json
from matching.store import queries

if TYPE_CHECKING:
    from matching.recommender import Recommender


def settings() -> dict[str, Any]:
    """``data/similar.json``: the thresholds and how they were calibrated."""
    return package_json("similar.json")


def similar_min() -> float:
    return float(settings()["similar_min"])


def duplicate_min() -> float:
    return float(settings()["duplicate_min"])


@dataclass(frozen=True)
class Similar:
    """An existing project that looks like the one asked about."""

    territory_id: str
    id: str
    title: str
    stage: Stage
    similarity: float  # cosine clipped to [0, 1]
    duplicate: bool  # from duplicate_min: probably the same initiative
    reason: str


@dataclass(frozen=True)
class _Project:
    territory_id: str
    id: str
    title: str
    stage: Stage
    text: str


def _projects(rec: Recommender, territory_ids: list[str]) -> list[_Project]:
    out = []
    with rec.store.read() as tx:
        for t in territory_ids:
            for ext, data, _ in queries.projects_overview(tx, territory_pk=tx.territory_pk(t)):
                text = ". ".join(p for p in (data["title"], data.get("description", "")) if p)
                out.append(_Project(t, ext, data["title"], Stage(data.get("stage", Stage.IDEE)), text))
    return out


def territories(rec: Recommender) -> list[str]:
    """Every territory of the store (for the roles that may look across them)."""
    with rec.store.read() as tx:
        return queries.territory_ids(tx)


def why(rec: Recommender, text: str, other: str) -> str:
    """« the existing project's sentence » ↔ « the new one's »: the pair closest in meaning."""
    theirs, ours, _ = explain.best_sentence_pair(rec.indexes, text, other)
    return f"ressemble : « {explain.quote(theirs)} » ↔ « {explain.quote(ours)} »"


def similar_to_text(
    rec: Recommender,
    territory_ids: list[str],
    text: str,
    *,
    k: int = 5,
    exclude: tuple[str, str] | None = None,
    threshold: float | None = None,
) -> list[Similar]:
    """The projects of these territories that look like ``text``, most alike first, from
    ``threshold`` (default ``similar_min``); ``exclude``: (territory, project) itself."""
    if not text.strip():
        raise InvalidRequest("texte vide : décrivez le projet ou l'idée")
    if not 1 <= k <= 50:
        raise InvalidRequest("k doit être entre 1 et 50")
    projects = [p for p in _projects(rec, territory_ids) if exclude is None or (p.territory_id, p.id) != exclude]
    if not projects:
        return []
    query = rec.indexes.passage_vectors([text])
    vectors = rec.indexes.passage_vectors([p.text for p in projects])
    sims = fusion.semantic(vectors @ query[0])
    floor = similar_min() if threshold is None else threshold
    order = [i for i in np.argsort(-sims, kind="stable")[:k].tolist() if sims[i] >= floor]
    return [
        Similar(
            territory_id=projects[i].territory_id,
            id=projects[i].id,
            title=projects[i].title,
            stage=projects[i].stage,
            similarity=round(float(sims[i]), 6),
            duplicate=bool(sims[i] >= duplicate_min()),
            reason=why(rec, text, projects[i].text),
        )
        for i in order
    ]


def similar_to_project(
    rec: Recommender, territory_id: str, project_id: str, *, territory_ids: list[str] | None = None, k: int = 5
) -> list[Similar]:
    """The projects that look like an existing project (itself left out)."""
    project = rec.get_project(territory_id, project_id)
    return similar_to_text(rec, territory_ids or [territory_id], project.text(), k=k, exclude=(territory_id, project_id))


@dataclass(frozen=True)
class DuplicatePair:
    a: Similar
    b: Similar
    similarity: float
    reason: str


MAX_REPORT_PROJECTS = 5000  # the report compares every pair: n² / 2 cosines


def duplicates(
    rec: Recommender,
    territory_id: str,
    *,
    threshold: float | None = None,
    among: set[str] | None = None,
    limit: int | None = None,
) -> list[DuplicatePair]:
    """Pairs of a territory's projects that are likely the same initiative (from ``duplicate_min``),
    most alike first: the agent's report. ``among``: only pairs with one of these projects (an
    ingest's); ``limit``: the first pairs only (reasons are computed for those)."""
    projects = _projects(rec, [territory_id])
    if len(projects) < 2:
        return []
    if len(projects) > MAX_REPORT_PROJECTS:
        raise InvalidRequest(f"plus de {MAX_REPORT_PROJECTS} projets : comparez projet par projet (/similar)")
    floor = duplicate_min() if threshold is None else threshold
    vectors = rec.indexes.passage_vectors([p.text for p in projects])
    sims = fusion.semantic(vectors @ vectors.T)
    i, j = np.triu_indices(len(projects), k=1)
    keep = sims[i, j] >= floor
    if among is not None:
        mine = np.array([p.id in among for p in projects])
        keep &= mine[i] | mine[j]
    pairs = sorted(zip(i[keep].tolist(), j[keep].tolist(), strict=True), key=lambda ij: (-sims[ij], ij))[:limit]
    out = []
    for a, b in pairs:
        value = round(float(sims[a, b]), 6)
        reason = why(rec, projects[b].text, projects[a].text)
        side = [Similar(p.territory_id, p.id, p.title, p.stage, value, True, reason) for p in (projects[a], projects[b])]
        out.append(DuplicatePair(side[0], side[1], value, reason))
    return out


def calibrate(rec: Recommender, pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision and recall of ``duplicate_min`` on labelled pairs (``{"a", "b", "duplicate"}``), and the
    threshold of best F1 (what ``data/similar.json`` should hold)."""
    if not pairs or any(not {"a", "b", "duplicate"} <= set(p) for p in pairs):
        raise InvalidRequest('paires étiquetées attendues : une liste de {"a", "b", "duplicate"}')
    a = rec.indexes.passage_vectors([p["a"] for p in pairs])
    b = rec.indexes.passage_vectors([p["b"] for p in pairs])
    sims = fusion.semantic(np.einsum("ij,ij->i", a, b))
    labels = np.array([bool(p["duplicate"]) for p in pairs])

    def at(t: float) -> dict[str, float]:
        shown = sims >= t
        tp, fp, fn = int((shown & labels).sum()), int((shown & ~labels).sum()), int((~shown & labels).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"threshold": round(t, 3), "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}

    grid = [at(t / 100) for t in range(20, 100)]
    return {
        "pairs": len(pairs),
        "duplicates": int(labels.sum()),
        "mean_similarity": {
            "duplicates": round(float(sims[labels].mean()), 3) if labels.any() else None,
            "others": round(float(sims[~labels].mean()), 3) if (~labels).any() else None,
        },
        "current": at(duplicate_min()),
        "best_f1": max(grid, key=lambda r: (r["f1"], r["threshold"])),
    }


def as_dict(s: Similar) -> dict[str, Any]:
    return {
        "territory_id": s.territory_id,
        "id": s.id,
        "title": s.title,
        "stage": s.stage.value,
        "similarity": s.similarity,
        "duplicate": s.duplicate,
        "reason": s.reason,
    }
