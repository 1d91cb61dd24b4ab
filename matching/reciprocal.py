"""The other direction (issue 18, part 1): does the call for skills fit what the member wants?

A suggestion of a member for a call is good when the member fits the call **and** the call fits
the member. The ``wants`` component, in [0, 1], is the mean of what the member told and did:

- **kinds of task** (``Member.preferences.task_kinds``): 1 when the call is of a kind they
  want, 0 otherwise; a call's kinds are found from its words (``words`` of
  ``data/task_kinds.json``); absent when the member chose none or the call shows no kind;
- **distance** (``preferences.max_km``): 1 within it (or remote work they accept), 0 beyond;
- **causes** (``Member.causes``): 1 when the project serves one of them, 0 otherwise;
- **hours**: the share of the call's weekly hours the member offers, at most 1;
- **past answers** (their side of earlier suggestions, ``SuggestionState.candidate``): calls close
  in meaning to those they said « intéressé·e » or accepted raise it, close to those they said
  « pas pour moi » or declined lower it: ``0.5 + (best cosine to a yes − best cosine to a no) / 2``.

A member who stated nothing has no ``wants``: their score is the one-sided one. The two
directions combine as the question's weights say (``data/weights.json``): ``wants`` is one more
component of the weighted mean, or, with ``reciprocal.combine = "harmonic"``, the score is the
harmonic mean of the one-sided score and ``wants`` (both must be high; ``fusion.harmonic``).
The component is computed only when its weight is above 0: the default weights leave it at 0
(``docs/quality.md``: it changes the demo's rankings, which carry no preferences), and
``maillage simulate`` measures what it does on a month of answers.

Example:
    >>> need_kinds("Entretenir le potager et le compost")  # doctest: +SKIP
    {'manuel'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from matching.domain import Member, Need
from matching.settings import package_json
from matching.text import strip_accents


def fold(text: str) -> str:
    return strip_accents(text).casefold()


YES = frozenset({"interested", "accepted"})
NO = frozenset({"not_interested", "declined"})


def _kinds() -> list[dict[str, Any]]:
    return package_json("task_kinds.json")["kinds"]


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    return {
        k["id"]: re.compile(r"\b(" + "|".join(re.escape(fold(w)) for w in k["words"]) + r")") for k in _kinds() if k.get("words")
    }


def kind_label(kind: str) -> str:
    return next((k["label"] for k in _kinds() if k["id"] == kind), kind)


@lru_cache(maxsize=4096)
def need_kinds(text: str) -> frozenset[str]:
    """The kinds of task a call's text shows (its words, accents and case ignored)."""
    folded = fold(text)
    return frozenset(k for k, p in _patterns().items() if p.search(folded))


@dataclass(frozen=True)
class Wants:
    """One member's side of one call: the value in [0, 1] (None: nothing stated) and what it read."""

    value: float | None
    kinds: tuple[str, ...] = ()  # the wanted kinds the call is of
    near: bool | None = None  # within their distance (None: no distance stated)
    causes: tuple[str, ...] = ()  # their causes the project serves
    history: float | None = None  # past answers part, when there are some


def wants(
    member: Member,
    need: Need,
    project: dict[str, Any],
    distance_km: float | None,
    history: float | None = None,
) -> Wants:
    """How much the call fits what ``member`` wants (see the module's docstring)."""
    parts: list[float] = []
    wanted = set(member.preferences.task_kinds)
    matched: tuple[str, ...] = ()
    if wanted:
        shown = need_kinds(need.full_text())
        if shown:
            matched = tuple(sorted(shown & wanted))
            parts.append(1.0 if matched else 0.0)
    near = None
    if member.preferences.max_km is not None:
        near = (need.remote and member.remote_ok) or (distance_km is not None and distance_km <= member.preferences.max_km)
        parts.append(1.0 if near else 0.0)
    shared: tuple[str, ...] = ()
    if member.causes and project.get("causes"):
        shared = tuple(c for c in member.causes if c in project["causes"])
        parts.append(1.0 if shared else 0.0)
    if parts or history is not None:  # hours count only beside something the member told or did
        parts.append(min(1.0, member.hours_per_week / need.hours_per_week) if need.hours_per_week > 0 else 1.0)
    if history is not None:
        parts.append(history)
    if not parts:
        return Wants(None)
    return Wants(float(np.mean(parts)), matched, near, shared, history)


def history_part(vector: np.ndarray, yes: np.ndarray, no: np.ndarray) -> float | None:
    """``0.5 + (best cosine to a yes − best cosine to a no) / 2`` in [0, 1]; None without answers."""
    if not len(yes) and not len(no):
        return None
    best_yes = float(np.max(yes @ vector)) if len(yes) else 0.0
    best_no = float(np.max(no @ vector)) if len(no) else 0.0
    return float(np.clip(0.5 + (best_yes - best_no) / 2, 0.0, 1.0))


def reason(w: Wants) -> str | None:
    """« souhaite : jardinage, près de chez soi », or what goes against it."""
    good = [kind_label(k) for k in w.kinds]
    if w.near:
        good.append("près de chez soi")
    good += [f"cause {c}" for c in w.causes]
    if w.history is not None and w.history >= 0.6:
        good.append("proche d'appels où il ou elle s'est dit·e intéressé·e")
    if good:
        return "souhaite : " + ", ".join(good)
    if w.history is not None and w.history <= 0.4:
        return "a décliné des appels proches"
    if w.near is False:
        return "plus loin que la distance souhaitée"
    return None


def answered(states: dict[tuple[str, str], Any]) -> dict[str, tuple[list[str], list[str]]]:
    """Per member (candidate), the calls they said yes to and those they said no to."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for (need, member), state in states.items():
        if state.candidate in YES:
            out.setdefault(member, ([], []))[0].append(need)
        elif state.candidate in NO:
            out.setdefault(member, ([], []))[1].append(need)
    return out
