"""Feedback events, exposure caps, partner capacity and digest, through HTTP."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def settings(settings_any_store):
    """These tests run on both store backends (see tests/conftest.py)."""
    return settings_any_store


def ev(i: str, typ: str, *, cand: str = "m1", subj: str = "p1-n1", q: str = "member_for_need", days_ago: float = 0, **kw) -> dict:
    at = (NOW - dt.timedelta(days=days_ago)).isoformat()
    return {"id": i, "question": q, "subject_id": subj, "candidate_id": cand, "type": typ, "at": at} | kw


def post(client, *events):
    return client.post("/territories/mini/events", json={"events": list(events)})


def test_story_of_a_suggestion_and_idempotency(client) -> None:
    story = [
        ev("e1", "shown", days_ago=3, score=0.6, breakdown={"semantic": 0.5}),
        ev("e2", "contacted", days_ago=2),
        ev("e3", "accepted", days_ago=1),
    ]
    r = post(client, *story)
    assert r.status_code == 200 and r.json() == {"recorded": 3, "duplicates": 0}
    assert post(client, *story).json() == {"recorded": 0, "duplicates": 3}  # same ids, same content
    got = client.get("/territories/mini/events", params={"candidate_id": "m1"}).json()
    assert [e["type"] for e in got] == ["shown", "contacted", "accepted"]


def test_invalid_transition_is_rejected_with_a_clear_message_and_nothing_written(client) -> None:
    r = post(client, ev("a1", "shown", days_ago=2), ev("a2", "completed", days_ago=1))
    assert r.status_code == 422
    assert "« completed » ne peut pas suivre « shown »" in r.json()["detail"]
    assert client.get("/territories/mini/events").json() == []  # the whole batch was rolled back
    r = post(client, ev("a3", "accepted"))
    assert r.status_code == 422 and "aucun événement" in r.json()["detail"]


def test_event_errors(client) -> None:
    assert post(client, ev("b1", "shown")).status_code == 200
    r = post(client, ev("b1", "shown", cand="m2"))  # same id, other content
    assert r.status_code == 409 and "b1" in r.json()["detail"]
    assert post(client, ev("b2", "shown", cand="nobody")).status_code == 404
    assert post(client, ev("b3", "teleported")).status_code == 422
    r = post(client, ev("b4", "contacted", days_ago=5))  # older than the suggestion's first event
    assert r.status_code == 422 and "avant la suggestion" in r.json()["detail"]
    assert (
        post(client, ev("b5", "shown", cand="m2", days_ago=10), ev("b6", "contacted", cand="m2", days_ago=2)).status_code == 200
    )
    r = post(client, ev("b7", "declined", cand="m2", days_ago=5))  # older than the last event of that side
    assert r.status_code == 422 and "avant le dernier" in r.json()["detail"]
    r = post(client, ev("b8", "no_answer", cand="m2", days_ago=-1))  # tomorrow
    assert r.status_code == 422 and "futur" in r.json()["detail"]
    assert client.post("/territories/mini/events", json={"events": []}).status_code == 422


def test_member_cap_filters_and_recent_contacts_rank_lower(client) -> None:
    url = "/territories/mini/needs/p1-n1/members"
    before = [m["id"] for m in client.get(url, params={"k": 8}).json()["matches"]]
    assert before[0] == "m1"
    # m1 contacted once this month (about another need): still there, with a lower exposure component
    post(client, ev("c1", "contacted", subj="p3-n1", days_ago=3))
    m1 = next(m for m in client.get(url, params={"k": 8}).json()["matches"] if m["id"] == "m1")
    assert m1["breakdown"]["exposure"] == 0.5 and any("sollicité" in r for r in m1["reasons"])
    # a second contact reaches the cap (2 per 30 days): m1 is no longer suggested
    post(client, ev("c2", "no_answer", subj="p3-n1", days_ago=2), ev("c3", "contacted", subj="p3-n1", days_ago=1))
    after = [m["id"] for m in client.get(url, params={"k": 8}).json()["matches"]]
    assert "m1" not in after
    assert "m1" in [m["id"] for m in client.get(url, params={"k": 8, "fair": False}).json()["matches"]]


def test_old_contacts_leave_the_window(client) -> None:
    post(client, ev("d1", "contacted", days_ago=60), ev("d2", "no_answer", days_ago=59), ev("d3", "contacted", days_ago=45))
    ids = [m["id"] for m in client.get("/territories/mini/needs/p1-n1/members", params={"k": 8}).json()["matches"]]
    assert ids[0] == "m1"


def test_diversity_option(client) -> None:
    url = "/territories/mini/needs/p1-n1/members"
    plain = client.get(url, params={"k": 3}).json()["matches"]
    diverse = client.get(url, params={"k": 3, "diversity": 0.9}).json()["matches"]
    assert len(diverse) == 3 and diverse[0]["id"] == plain[0]["id"]
    assert client.get(url, params={"diversity": 1.5}).status_code == 422


def test_partner_capacity_and_digest(client, rec) -> None:
    digest = client.get("/territories/mini/partners/labo/digest").json()
    assert digest["partner"] == "Labo des idées" and [p["id"] for p in digest["projects"]] == ["p2"]
    # shown to the partner once: not in next week's digest
    post(client, ev("f1", "shown", q="project_for_partner", subj="labo", cand="p2"))
    assert client.get("/territories/mini/partners/labo/digest").json()["projects"] == []
    # the cowork offering has capacity 8: eight pending projects fill it
    partner = client.get("/territories/mini/partners/cowork").json()
    partner["offerings"][0]["capacity"] = 1
    assert client.put("/territories/mini/partners/cowork", json=partner).status_code == 200
    assert "cowork-bureaux" in [m["id"] for m in client.get("/territories/mini/projects/p1/offerings").json()["matches"]]
    post(client, ev("f2", "shown", q="offering_for_project", subj="p3", cand="cowork-bureaux"))
    assert "cowork-bureaux" not in [m["id"] for m in client.get("/territories/mini/projects/p1/offerings").json()["matches"]]
    digest = client.get("/territories/mini/partners/cowork/digest").json()
    assert digest["offerings_full"] == ["cowork-bureaux"] and digest["projects"] == []


def test_weights_are_reloaded_without_restart(client, rec, tmp_path) -> None:
    from matching.scoring import Weights

    path = tmp_path / "weights.json"
    Weights().save(path)
    rec.settings.weights = path
    rec.reload_weights()
    w = Weights()
    w.member_for_need = {"place": 1.0}
    w.save(path)
    import os

    os.utime(path, (1, 2_000_000_000))  # a new modification time
    top = client.get("/territories/mini/needs/p1-n1/members", params={"k": 8}).json()["matches"]
    assert rec.weights.member_for_need == {"place": 1.0}
    assert all(abs(m["score"] - m["breakdown"]["place"]) < 1e-5 for m in top)


def test_export_and_anonymise_a_member(client, rec) -> None:
    post(client, ev("x1", "shown", days_ago=2), ev("x2", "declined", days_ago=1))
    body = client.get("/territories/mini/members/m1/export").json()
    assert body["member"]["display_name"] == "Claire B." and [e["id"] for e in body["events"]] == ["x1", "x2"]
    assert [e["side"] for e in body["events"]] == ["subject", "subject"]  # what the export says of each event
    assert client.get("/territories/mini/members/zzz/export").status_code == 404
    text = rec.get_member("mini", "m1").text()
    rec.anonymise_member("mini", "m1")
    after = client.get("/territories/mini/members/m1/export").json()
    assert after["member"]["display_name"] == "Membre anonymisé" and after["member"]["skills"] == ""
    assert after["member"]["email"] is None and not after["member"]["consent"]
    from embeddings.cache import text_hash

    assert rec.encoder.cache.get_many(rec.encoder.model_id, [text_hash(text)]) == {}
    found = client.post("/territories/mini/search", json={"text": text, "target": "members", "k": 50}).json()["matches"]
    assert "m1" not in [m["id"] for m in found]


def test_serving_a_key_that_acts_on_events_records_shown_in_one_statement(client, rec, key_for) -> None:
    """The read path stays fast: one extra statement per question served, only for holder, partner
    and member keys, and a suggestion served again is not recorded twice."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        # the requests' own statements: the follower of the change log (and the periodic chores
        # it runs) reads the same engine from a thread of its own
        if threading.current_thread().name != "maillage-follower":
            statements.append(statement)

    url = "/territories/mini/needs/p1-n1/members"
    agent, holder = key_for("agent"), key_for("holder", "m7")
    for headers in (agent, holder):  # warm: read models, territory pk, weights
        client.get(url, params={"k": 3}, headers=headers)
    served = rec.list_events("mini", side="service")
    assert {e.candidate_id for e in served} == {m["id"] for m in client.get(url, params={"k": 3}).json()["matches"]}
    client.get(url, params={"k": 5}, headers=agent)  # warm the five candidates' rows too (an agent records nothing)
    assert all(e.id.startswith("shown:member_for_need:p1-n1:") and e.breakdown for e in served)
    event.listen(rec.store.engine, "before_cursor_execute", count)
    try:
        ran = {}
        for name, headers in (("agent", agent), ("holder", holder), ("holder again", holder)):
            statements.clear()
            assert client.get(url, params={"k": 5}, headers=headers).status_code == 200
            ran[name] = len(statements)
    finally:
        event.remove(rec.store.engine, "before_cursor_execute", count)
    assert ran["holder"] == ran["agent"] + 1 == ran["holder again"], ran
    assert len(rec.list_events("mini", side="service")) == 5  # the two new ones, once
    assert [e for e in rec.list_events("mini") if e.side != "service"] == []


def test_the_digest_read_again_this_week_shows_the_same_projects(client, rec, key_for, monkeypatch) -> None:
    """Serving the digest records its shown: the same week it shows the same projects, the next
    week they are no longer new; a project the partner followed leaves it at once."""
    from matching.clock import FixedClock

    labo = key_for("partner", "labo")
    first = [p["id"] for p in client.get("/territories/mini/partners/labo/digest", headers=labo).json()["projects"]]
    assert first == ["p2"]
    assert [p["id"] for p in client.get("/territories/mini/partners/labo/digest", headers=labo).json()["projects"]] == first
    assert [(e.type, e.side) for e in rec.list_events("mini")] == [("shown", "service")]
    monkeypatch.setattr(rec, "clock", FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=7)))
    assert client.get("/territories/mini/partners/labo/digest", headers=labo).json()["projects"] == []
    monkeypatch.undo()
    cowork = key_for("partner", "cowork")
    projects = [p["id"] for p in client.get("/territories/mini/partners/cowork/digest", headers=cowork).json()["projects"]]
    ev = {"id": "w1", "question": "project_for_partner", "subject_id": "cowork", "candidate_id": projects[0]}
    assert post_as(client, cowork, ev | {"type": "contacted", "at": dt.datetime.now(dt.UTC).isoformat()}).status_code == 200
    after = [p["id"] for p in client.get("/territories/mini/partners/cowork/digest", headers=cowork).json()["projects"]]
    assert projects[0] not in after


def post_as(client, headers, *events):
    return client.post("/territories/mini/events", json={"events": list(events)}, headers=headers)
