"""Alignment of projects with the territory's public policy axes (issue 18, part 3).

A territory declares its axes (``Territory.axes``: a title and a description, e.g. « Transition
écologique »). A project's **alignment** with an axis is the best cosine, clipped to [0, 1], between
one sentence of the project's text (title and description) and one phrase of the axis (its
title, its description cut at punctuation), with the index set's primary encoder; sentences
and phrases are encoded once and kept in the encoder's memory (the read path never writes).
A project **serves** an axis when its alignment
reaches ``serves_min`` (``data/policy.json``, calibrated on the demo's labelled projects by
``maillage policy eval``); the reason quotes the project's sentence closest to the axis's
and the axis's phrase that gave the alignment (« … » ↔ « … »).

The per-axis view (``policy_overview``) counts, among the projects that serve each axis, the
projects by stage, the open and filled calls for skills (``matching.overview``'s states) and
the members engaged (both sides agreed on one of their calls); the axes no project serves are
the **gaps**. ``rows`` gives one flat row per (axis, project) for the CSV export.

Example:
    >>> report = policy_overview(rec, "sceaux-valley")  # doctest: +SKIP
    >>> [a.axis.title for a in report.gaps]  # doctest: +SKIP
    ['Sobriété énergétique']
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matching import explain, fusion, overview
from matching.domain import PolicyAxis, Stage
from matching.errors import InvalidRequest
from matching.settings import package_json
from matching.store import queries

if TYPE_CHECKING:
    from matching.recommender import Recommender

PHRASE_CUT = re.compile(r"[,;:.]|\bet\b")
CSV_COLUMNS = (
    "axis_id",
    "axis_title",
    "project_id",
    "project_title",
    "stage",
    "alignment",
    "serves",
    "open_needs",
    "filled_needs",
    "reason",
)


def settings() -> dict[str, Any]:
    """``data/policy.json``: the threshold from which a project serves an axis, and its source."""
    return package_json("policy.json")


def serves_min() -> float:
    return float(settings()["serves_min"])


@dataclass(frozen=True)
class ProjectText:
    id: str
    title: str
    stage: Stage
    text: str


@dataclass(frozen=True)
class Aligned:
    """One project's alignment with one axis."""

    axis_id: str
    project_id: str
    value: float  # cosine clipped to [0, 1]
    serves: bool
    reason: str | None = None  # « project's sentence » ↔ « axis's sentence », for projects that serve it


@dataclass(frozen=True)
class AxisLine:
    """What the territory does for one axis."""

    axis: PolicyAxis
    projects: list[tuple[ProjectText, Aligned]]  # those that serve it, best first
    by_stage: list[tuple[Stage, int]]  # every stage, in chain order
    needs_open: int
    needs_filled: int
    members_engaged: int


@dataclass(frozen=True)
class PolicyReport:
    territory_id: str
    name: str
    serves_min: float
    axes: list[AxisLine]
    gaps: list[PolicyAxis]  # axes no project serves
    unaligned: list[ProjectText]  # projects that serve no axis


def _projects(rec: Recommender, territory_id: str) -> list[ProjectText]:
    with rec.store.read() as tx:
        rows = queries.projects_overview(tx, territory_pk=tx.territory_pk(territory_id))
    out = []
    for ext, data, _ in rows:
        text = ". ".join(p for p in (data["title"], data.get("description", "")) if p)
        out.append(ProjectText(ext, data["title"], Stage(data.get("stage", Stage.IDEE)), text))
    return out


def phrases(axis: PolicyAxis) -> list[str]:
    """The short phrases of an axis: its title, and its description cut at punctuation and « et »
    (« réparer et réemployer les objets » stays whole when a part would be too short)."""
    parts = [axis.title]
    for piece in PHRASE_CUT.split(axis.description):
        piece = piece.strip(" .")
        if len(piece) > 3:
            parts.append(piece)
    return list(dict.fromkeys(parts))


def best_pairs(
    rec: Recommender, axes: list[PolicyAxis], projects: list[ProjectText]
) -> tuple[np.ndarray, list[list[tuple[str, str]]]]:
    """Alignment of each project (rows) with each axis (columns), in [0, 1]: the best cosine between
    one of the project's sentences and one of the axis's phrases; and that pair of texts.

    Whole texts against whole texts let the sentences every project has (money, premises, stage)
    decide: on the demo's labelled projects the best axis was right for 46 % of them, against 61 %
    sentence by phrase (docs/quality.md)."""
    values = np.zeros((len(projects), len(axes)), dtype=np.float32)
    pairs: list[list[tuple[str, str]]] = [[("", "")] * len(axes) for _ in projects]
    if not axes or not projects:
        return values, pairs
    axis_phrases = [phrases(a) for a in axes]
    flat = [ph for phs in axis_phrases for ph in phs]
    owner = np.repeat(np.arange(len(axes)), [len(phs) for phs in axis_phrases])
    phrase_vectors = rec.indexes.passage_vectors(flat)
    for i, p in enumerate(projects):
        sentences = explain.quotable(p.text)
        sims = rec.indexes.passage_vectors(sentences) @ phrase_vectors.T  # sentences x phrases
        for j in range(len(axes)):
            cols = np.flatnonzero(owner == j)
            block = sims[:, cols]
            s, c = np.unravel_index(int(np.argmax(block)), block.shape)
            values[i, j] = block[s, c]
            pairs[i][j] = (sentences[s], flat[cols[c]])
    return fusion.semantic(values), pairs


def alignments(
    rec: Recommender, territory_id: str, *, project_id: str | None = None, explain_all: bool = False
) -> tuple[list[PolicyAxis], list[ProjectText], list[list[Aligned]]]:
    """Every project's alignment with every axis (one list per project, in axis order); reasons for
    the pairs where the project serves the axis (``explain_all``: every pair)."""
    axes = rec.get_territory(territory_id).axes
    projects = _projects(rec, territory_id)
    if project_id is not None:
        projects = [p for p in projects if p.id == project_id]
        if not projects:
            rec.get_project(territory_id, project_id)  # NotFound, in French
    values, pairs = best_pairs(rec, axes, projects)
    threshold = serves_min()
    table = []
    for i, p in enumerate(projects):
        row = []
        for j, axis in enumerate(axes):
            v = round(float(values[i, j]), 6)
            serves = v >= threshold
            said, asked = pairs[i][j]
            why = (
                f"axe « {axis.title} » : « {explain.quote(said)} » ↔ « {explain.quote(asked)} »"
                if serves or explain_all
                else None
            )
            row.append(Aligned(axis.id, p.id, v, serves, why))
        table.append(row)
    return axes, projects, table


def project_alignment(rec: Recommender, territory_id: str, project_id: str) -> list[Aligned]:
    """One project's alignment with each axis of its territory, best first; those it serves explained."""
    _, _, table = alignments(rec, territory_id, project_id=project_id)
    return sorted(table[0], key=lambda a: (-a.value, a.axis_id)) if table else []


def policy_overview(rec: Recommender, territory_id: str) -> PolicyReport:
    """Per axis: the projects that serve it by stage, their open and filled calls for skills, the
    members engaged on them; the axes no project serves; the projects that serve none."""
    territory = rec.get_territory(territory_id)
    axes, projects, table = alignments(rec, territory_id)
    ov = overview.territory_overview(rec, territory_id)
    needs_of: dict[str, list[overview.NeedLine]] = {}
    for line in ov.need_lines:
        needs_of.setdefault(line.project_id, []).append(line)
    engaged: dict[str, set[str]] = {}
    need_project = {n.id: n.project_id for n in ov.need_lines}
    for (need, member), state in rec.suggestions(territory_id, "member_for_need").items():
        if state.agreed and need in need_project:
            engaged.setdefault(need_project[need], set()).add(member)
    lines = []
    for j, axis in enumerate(axes):
        serving = sorted(
            ((p, row[j]) for p, row in zip(projects, table, strict=True) if row[j].serves),
            key=lambda pa: (-pa[1].value, pa[0].id),
        )
        stages = Counter(p.stage for p, _ in serving)
        needs = [n for p, _ in serving for n in needs_of.get(p.id, [])]
        members = set().union(*(engaged.get(p.id, set()) for p, _ in serving)) if serving else set()
        lines.append(
            AxisLine(
                axis=axis,
                projects=serving,
                by_stage=[(s, stages.get(s, 0)) for s in Stage],
                needs_open=sum(1 for n in needs if n.state == "open"),
                needs_filled=sum(1 for n in needs if n.state == "filled"),
                members_engaged=len(members),
            )
        )
    return PolicyReport(
        territory_id=territory_id,
        name=territory.name,
        serves_min=serves_min(),
        axes=lines,
        gaps=[line.axis for line in lines if not line.projects],
        unaligned=[p for p, row in zip(projects, table, strict=True) if not any(a.serves for a in row)],
    )


def report_dict(report: PolicyReport) -> dict[str, Any]:
    """The report as JSON-ready data (API, CLI)."""
    return {
        "territory_id": report.territory_id,
        "serves_min": report.serves_min,
        "axes": [
            {
                "id": line.axis.id,
                "title": line.axis.title,
                "projects": [
                    {"id": p.id, "title": p.title, "stage": p.stage.value, "alignment": a.value, "reason": a.reason}
                    for p, a in line.projects
                ],
                "projects_by_stage": {s.value: n for s, n in line.by_stage},
                "needs_open": line.needs_open,
                "needs_filled": line.needs_filled,
                "members_engaged": line.members_engaged,
            }
            for line in report.axes
        ],
        "gaps": [a.id for a in report.gaps],
        "unaligned": [p.id for p in report.unaligned],
    }


def rows(rec: Recommender, territory_id: str) -> list[dict[str, Any]]:
    """One row per (axis, project): alignment, whether it serves, the project's calls, the reason."""
    axes, projects, table = alignments(rec, territory_id)
    ov = overview.territory_overview(rec, territory_id)
    states: dict[str, Counter[str]] = {}
    for line in ov.need_lines:
        states.setdefault(line.project_id, Counter())[line.state] += 1
    out = []
    for axis_index, axis in enumerate(axes):
        for p, row in zip(projects, table, strict=True):
            a = row[axis_index]
            out.append(
                {
                    "axis_id": axis.id,
                    "axis_title": axis.title,
                    "project_id": p.id,
                    "project_title": p.title,
                    "stage": p.stage.value,
                    "alignment": a.value,
                    "serves": a.serves,
                    "open_needs": states.get(p.id, Counter())["open"],
                    "filled_needs": states.get(p.id, Counter())["filled"],
                    "reason": a.reason or "",
                }
            )
    return out


def to_csv(table: list[dict[str, Any]]) -> str:
    """``rows`` as CSV text (comma-separated, a header line, ``oui``/``non`` for ``serves``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({**row, "serves": "oui" if row["serves"] else "non"})
    return buffer.getvalue()


def evaluate(rec: Recommender, territory_id: str, truth: dict[str, list[str]]) -> dict[str, Any]:
    """Against labelled projects (project -> the axes it serves): top-1 accuracy (the best axis is
    one of them), precision and recall of ``serves`` at the current threshold, and the threshold
    that maximises F1 on these labels (with its precision and recall)."""
    axes, projects, table = alignments(rec, territory_id)
    if not axes:
        raise InvalidRequest(f"le territoire {territory_id!r} n'a pas d'axes de politique publique")
    labelled = [(p, row) for p, row in zip(projects, table, strict=True) if p.id in truth]
    if not labelled:
        raise InvalidRequest("aucun projet étiqueté de ce territoire dans la vérité terrain")
    pairs = [(a.value, a.axis_id in truth[p.id]) for p, row in labelled for a in row]
    with_axes = [(p, row) for p, row in labelled if truth[p.id]]
    top1 = sum(1 for p, row in with_axes if max(row, key=lambda a: a.value).axis_id in truth[p.id])

    def at(threshold: float) -> dict[str, float]:
        tp = sum(1 for v, y in pairs if v >= threshold and y)
        fp = sum(1 for v, y in pairs if v >= threshold and not y)
        fn = sum(1 for v, y in pairs if v < threshold and y)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "threshold": round(threshold, 3),
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
        }

    grid = [at(t / 100) for t in range(5, 80)]
    best = max(grid, key=lambda r: (r["f1"], r["threshold"]))
    return {
        "projects": len(labelled),
        "pairs": len(pairs),
        "positives": sum(1 for _, y in pairs if y),
        "top1_accuracy": round(top1 / len(with_axes), 3) if with_axes else 0.0,
        "current": at(serves_min()),
        "best_f1": best,
    }
