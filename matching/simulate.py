"""A simulated month of calls for skills, one-sided against reciprocal (issue 18, part 1).

The demo territory, where a share of the members stated their preferences on their page (their
hidden ones from the truth file: kinds of task, distance), runs a month twice from the same
start, in copies of one store: each day, every open call that is not filled contacts its best
suggestions not yet contacted (``member_for_need``, exposure policy on), and each member answers
**according to their hidden preferences** (truth ``member_preferences``: the call's family is of a
kind they want, the project is within their distance or the work is remote): accepted with
``P_ACCEPT[fits]``, else « pas pour moi ». Each answer is recorded on the member's side, each
acceptance on the holder's: the reciprocal run learns from them (``matching.reciprocal``'s past
answers), the one-sided run ignores them. Same seed, same draws per (call, member, day).

Measures: acceptance rate (accepted / contacted), calls filled (headcount reached), mean days to
fill a call (those filled), and the mean with unfilled calls counted as ``days + 1``.

Example:
    >>> simulate(Settings(data_dir="/tmp/sim"), days=30)  # doctest: +SKIP
    {'one_sided': {...}, 'reciprocal': {...}}
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from pathlib import Path
from typing import Any

from matching.domain import Preferences, RecordedEvent
from matching.evaluation import DEMO_DOC, DEMO_TRUTH
from matching.ingest import read_file
from matching.scoring import Weights
from matching.settings import Settings

T = "sceaux-valley"
# probability that a member accepts a call, by how many of their two hidden wishes it meets
P_ACCEPT = {2: 0.7, 1: 0.25, 0: 0.05}
FAMILY_KINDS = json.loads((DEMO_DOC.parent / "vocabulary" / "preferences.json").read_text(encoding="utf-8"))["family_kinds"]


def variants(base: Weights, wants: float = 0.3) -> dict[str, Weights]:
    """The two runs: the shipped weights (one-sided), and the same with ``wants`` combined by the
    harmonic mean (reciprocal)."""
    both = base.model_copy(deep=True)
    both.member_for_need["wants"] = wants
    both.reciprocal.combine = "harmonic"
    return {"one_sided": base, "reciprocal": both}


def simulate(
    settings: Settings,
    *,
    days: int = 30,
    per_day: int = 1,
    stated: float = 0.6,
    seed: int = 0,
    encoder: Any = None,
    wants: float = 0.3,
) -> dict[str, Any]:
    """Run the month for each variant; per variant the figures of the module's docstring."""
    from matching.recommender import Recommender

    truth = json.loads(DEMO_TRUTH.read_text(encoding="utf-8"))
    hidden = truth["member_preferences"]
    base_dir = Path(settings.data_dir) / "simulation-base"
    shutil.rmtree(base_dir, ignore_errors=True)
    rec = Recommender(Settings(data_dir=base_dir), encoder=encoder)
    rec.open()
    batch = read_file(DEMO_DOC)
    rec.ingest(batch)
    rng = random.Random(f"{seed}:stated")
    members = [m for _, m in batch.members]
    told = [m for m in members if rng.random() < stated]
    rec.upsert_members(
        T,
        [
            m.model_copy(
                update={"preferences": Preferences(task_kinds=hidden[m.id]["task_kinds"], max_km=hidden[m.id]["max_km"])}
            )
            for m in told
        ],
    )
    base_weights = rec.weights
    rec.close()
    needs = {n.id: (n, p) for _, p in batch.projects for n in p.needs if n.status == "open"}
    results: dict[str, Any] = {
        "days": days,
        "per_day": per_day,
        "stated": stated,
        "members_stated": len(told),
        "needs": len(needs),
    }
    for name, weights in variants(base_weights, wants).items():
        folder = Path(settings.data_dir) / f"simulation-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base_dir, folder)
        sim = Recommender(Settings(data_dir=folder), encoder=encoder, weights=weights)
        sim.open()
        try:
            results[name] = _month(sim, needs, truth, days=days, per_day=per_day, seed=seed)
        finally:
            sim.close()
    one, both = results["one_sided"], results["reciprocal"]
    results["acceptance_change"] = round(both["acceptance_rate"] - one["acceptance_rate"], 3)
    results["days_to_fill_change"] = round(both["mean_days_unfilled_as_max"] - one["mean_days_unfilled_as_max"], 2)
    return results


def _fits(
    member_id: str, need_id: str, need: Any, project: Any, hidden: dict, truth: dict, distance: float | None, remote_ok: bool
) -> int:
    wish = hidden[member_id]
    kind = bool(set(FAMILY_KINDS.get(truth["need_family"].get(need_id, ""), [])) & set(wish["task_kinds"]))
    near = (need.remote and remote_ok) or (distance is not None and distance <= wish["max_km"])
    return int(kind) + int(near)


def _month(sim: Any, needs: dict, truth: dict, *, days: int, per_day: int, seed: int) -> dict[str, Any]:
    from matching import scoring

    hidden = truth["member_preferences"]
    start = sim.clock.now() - dt.timedelta(days=days + 1)
    accepted: dict[str, int] = dict.fromkeys(needs, 0)
    contacted: dict[str, set[str]] = {n: set() for n in needs}
    filled_on: dict[str, int] = {}
    load: dict[str, int] = {}
    total_contacts = total_yes = 0
    for day in range(days):
        at = start + dt.timedelta(days=day, hours=10)
        for need_id, (need, project) in needs.items():
            if need_id in filled_on:
                continue
            ranked = sim.member_for_need(T, need_id, k=per_day + len(contacted[need_id]) + 2, now=at)
            fresh = [m.id for m in ranked if m.id not in contacted[need_id]][:per_day]
            events = []
            for n, member_id in enumerate(fresh):
                contacted[need_id].add(member_id)
                member = sim.get_member(T, member_id)
                distance = scoring.member_distance_km(member, project.commune)
                fits = _fits(member_id, need_id, need, project, hidden, truth, distance, member.remote_ok)
                room = member.max_engagements - member.active_engagements - load.get(member_id, 0) > 0
                yes = room and random.Random(f"{seed}:{need_id}:{member_id}").random() < P_ACCEPT[fits]
                common = {"question": "member_for_need", "subject_id": need_id, "candidate_id": member_id}
                t0 = at + dt.timedelta(minutes=n)
                events.append(RecordedEvent(id=f"s{day}-{need_id}-{member_id}-c", type="contacted", at=t0, **common))
                answer = "accepted" if yes else "not_interested"
                events.append(
                    RecordedEvent(
                        id=f"s{day}-{need_id}-{member_id}-r",
                        type=answer,
                        side="candidate",
                        at=t0 + dt.timedelta(hours=1),
                        **common,
                    )
                )
                total_contacts += 1
                if yes:
                    events.append(
                        RecordedEvent(
                            id=f"s{day}-{need_id}-{member_id}-a", type="accepted", at=t0 + dt.timedelta(hours=2), **common
                        )
                    )
                    total_yes += 1
                    accepted[need_id] += 1
                    load[member_id] = load.get(member_id, 0) + 1
            if events:
                sim.record_events(T, events)
            if accepted[need_id] >= need.headcount:
                filled_on[need_id] = day + 1
    filled = list(filled_on.values())
    return {
        "contacted": total_contacts,
        "accepted": total_yes,
        "acceptance_rate": round(total_yes / total_contacts, 3) if total_contacts else 0.0,
        "needs_filled": len(filled),
        "fill_rate": round(len(filled) / len(needs), 3) if needs else 0.0,
        "mean_days_to_fill": round(sum(filled) / len(filled), 2) if filled else None,
        "mean_days_unfilled_as_max": round((sum(filled) + (days + 1) * (len(needs) - len(filled))) / len(needs), 2)
        if needs
        else None,
        "fill_day": dict(sorted(filled_on.items())),
    }
