"""Done-when of issue 4: feedback where one profile always declines changes the weights and the ranking."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from matching.domain import FeedbackEvent
from matching.evaluation import DEMO_DOC, DEMO_TRUTH
from matching.ingest import read_file
from matching.learning import fit_weights
from matching.recommender import Recommender

T = "sceaux-valley"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, use_encoder):
    from matching.settings import Settings

    rec = Recommender(Settings(data_dir=tmp_path_factory.mktemp("learn")), encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(DEMO_DOC))
    yield rec
    rec.close()


def far(match) -> bool:
    """The profile that always declines: members who would have to travel (place < 0.5)."""
    return match.breakdown["place"] < 0.5


def test_one_profile_always_declining_changes_weights_and_ranking(demo) -> None:
    needs = sorted(json.loads(DEMO_TRUTH.read_text(encoding="utf-8"))["need_members"])
    start = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    before = {n: demo.member_for_need(T, n, k=10, fair=False) for n in needs}
    events, i = [], 0
    for n in needs:
        for m in before[n]:
            at = start + dt.timedelta(minutes=10 * i)
            mk = lambda typ, minutes, i=i, n=n, m=m, at=at, **kw: FeedbackEvent(  # noqa: E731
                id=f"e{i}-{typ}",
                question="member_for_need",
                subject_id=n,
                candidate_id=m.id,
                type=typ,
                at=at + dt.timedelta(minutes=minutes),
                **kw,
            )
            events.append(mk("shown", 0, score=m.score, breakdown=m.breakdown))
            if far(m):
                events.append(mk("declined", 1))
            else:
                events += [mk("contacted", 1), mk("accepted", 2)]
            i += 1
    receipt = demo.record_events(T, events)
    assert receipt["recorded"] == len(events)

    frame = demo.outcomes_frame(T, "member_for_need")
    assert len(frame) == sum(len(v) for v in before.values()) and set(frame["label"]) == {0, 1}
    base = demo.weights
    learned, metrics = fit_weights(frame, "member_for_need", base)
    assert metrics["used"] == "learned", metrics
    share = lambda table, c: table.get(c, 0) / sum(table.values())  # noqa: E731
    assert share(learned.member_for_need, "place") > 2 * share(base.member_for_need, "place")
    assert metrics["learned"]["auc"] > metrics["base"]["auc"]

    demo.weights = learned
    after = {n: demo.member_for_need(T, n, k=10, fair=False) for n in needs}
    far_before = sum(far(m) for ms in before.values() for m in ms[:5])
    far_after = sum(far(m) for ms in after.values() for m in ms[:5])
    assert far_after < 0.5 * far_before  # the declining profile is suggested much less at the top
