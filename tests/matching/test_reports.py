"""Reports that read events follow the two sides of a suggestion (``matching.reports``)."""

from __future__ import annotations

import datetime as dt

from matching.domain import RecordedEvent
from matching.reports import outcomes_frame

AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def story(candidate: str, *steps: tuple[str, str]) -> list[RecordedEvent]:
    """A suggestion of p1-n1: the service's shown (with components), then (side, type) steps."""
    common = {"question": "member_for_need", "subject_id": "p1-n1", "candidate_id": candidate}
    events = [RecordedEvent(id=f"{candidate}-0", type="shown", side="service", at=AT, breakdown={"semantic": 0.5}, **common)]
    for n, (side, type_) in enumerate(steps, 1):
        events.append(RecordedEvent(id=f"{candidate}-{n}", type=type_, side=side, at=AT + dt.timedelta(hours=n), **common))
    return events


def test_labels_follow_both_sides() -> None:
    events = [
        *story("m1", ("subject", "contacted"), ("subject", "accepted"), ("candidate", "accepted")),  # agreed: 1
        *story("m2", ("subject", "contacted"), ("subject", "accepted")),  # the holder's yes alone: 1
        *story("m3", ("subject", "contacted"), ("subject", "accepted"), ("candidate", "declined")),  # withdrew: 0
        *story("m4", ("candidate", "not_interested")),  # said no: 0
        *story("m5", ("subject", "contacted"), ("subject", "no_answer")),  # no answer: 0
        *story("m6", ("candidate", "interested")),  # under way: left out
        *story("m7"),  # only served: left out
    ]
    frame = outcomes_frame(events)
    assert dict(zip(frame["candidate_id"], frame["label"], strict=True)) == {"m1": 1, "m2": 1, "m3": 0, "m4": 0, "m5": 0}
    assert set(frame["semantic"]) == {0.5}  # the components of the service's shown
