"""Territory overview: calls for skills open and filled, exposure of members, projects by stage and cause."""

from __future__ import annotations

import datetime as dt

from matching import overview
from matching.domain import FeedbackEvent, RecordedEvent, Stage


def _ev(i: str, type_: str, at: dt.datetime, need: str = "p1-n1", member: str = "m1", side: str = "subject") -> FeedbackEvent:
    return RecordedEvent(id=i, question="member_for_need", subject_id=need, candidate_id=member, type=type_, at=at, side=side)


def test_overview_of_a_fresh_territory(rec) -> None:
    ov = overview.territory_overview(rec, "mini")
    assert (ov.name, ov.members, ov.projects, ov.partners) == ("Mini-territoire de test", 8, 3, 3)
    assert ov.needs == {"open": 3, "filled": 0, "closed": 1, "expired": 0}
    assert dict(ov.projects_by_stage) == {
        Stage.IDEE: 0,
        Stage.TEST: 1,
        Stage.FINANCEMENT: 1,
        Stage.LANCEMENT: 1,
        Stage.CROISSANCE: 0,
    }
    assert [s for s, _ in ov.projects_by_stage] == list(Stage)
    assert ov.projects_by_cause == []
    # m4 has no consent and m5 is at its maximum of engagements: not available
    assert ov.exposure.members == 6 and ov.exposure.contacted == 0 and ov.exposure.gini_contacts == 0.0
    assert ov.exposure.most_asked == []


def test_filled_needs_and_exposure_follow_the_events(rec) -> None:
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    rec.record_events(
        "mini",
        [
            _ev("e1", "contacted", now - dt.timedelta(days=3)),
            _ev("e2", "accepted", now - dt.timedelta(days=2)),
            _ev("e3", "contacted", now - dt.timedelta(days=1), need="p2-n1"),
            _ev("e4", "contacted", now - dt.timedelta(days=60), need="p3-n1", member="m2"),  # outside the window
            _ev("e5", "shown", now - dt.timedelta(days=1), need="p3-n1", member="m3"),
            _ev("e6", "accepted", now - dt.timedelta(days=3), need="p2-n1", member="m3", side="candidate"),
        ],
    )
    # the holder's side accepted p1-n1, the member did not answer yet: not filled
    ov = overview.territory_overview(rec, "mini", now=now)
    assert ov.needs == {"open": 3, "filled": 0, "closed": 1, "expired": 0}
    # the member accepted too: both sides agreed
    rec.record_events("mini", [_ev("e7", "accepted", now - dt.timedelta(days=1), member="m1", side="candidate")])
    ov = overview.territory_overview(rec, "mini", now=now)
    assert ov.needs == {"open": 2, "filled": 1, "closed": 1, "expired": 0}
    filled = next(n for n in ov.need_lines if n.id == "p1-n1")
    assert (filled.state, filled.accepted, filled.headcount, filled.project_title) == (
        "filled",
        1,
        1,
        "Épicerie solidaire du centre",
    )
    assert ov.need_lines[0].state == "open"  # open first, then filled, closed
    e = ov.exposure
    assert (e.contacted, e.at_cap, e.member_cap, e.window_days) == (1, 1, 2, 30)
    assert e.most_asked[0].id == "m1" and e.most_asked[0].contacts == 2 and e.most_asked[0].suggestions == 2
    assert {m.id for m in e.most_asked} == {"m1", "m2", "m3"}
    assert next(m for m in e.most_asked if m.id == "m3").contacts == 0  # a member's own answer is no contact
    assert 0.7 < e.gini_contacts <= 1 and 0 < e.gini_suggestions < e.gini_contacts


def test_expired_needs_and_causes(rec, mini_doc) -> None:
    from matching.domain import Project

    p2 = Project.model_validate(mini_doc["projects"][1])
    p2.needs[0].deadline = dt.date(2020, 1, 1)
    p2.causes = ["Jardins", "Voisinage"]
    p3 = Project.model_validate(mini_doc["projects"][2] | {"causes": ["Jardins"]})
    rec.upsert_projects("mini", [p2, p3])
    ov = overview.territory_overview(rec, "mini")
    assert ov.needs["expired"] == 1
    assert ov.projects_by_cause == [("Jardins", 2), ("Voisinage", 1)]


def test_lists_of_projects_and_partners(rec) -> None:
    assert [p.id for p in overview.list_projects(rec, "mini")] == ["p2", "p1", "p3"]  # in chain order
    mine = overview.list_projects(rec, "mini", holder="m7")
    assert [(p.id, p.stage, p.open_needs) for p in mine] == [("p1", Stage.FINANCEMENT, 1)]
    assert overview.list_partners(rec, "mini") == [
        ("banque", "Banque solidaire"),
        ("cowork", "Espace partagé"),
        ("labo", "Labo des idées"),
    ]
