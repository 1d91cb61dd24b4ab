"""Two processes on one store (two recommenders, each with its own data dir): what one writes,
the other applies from the change log, through the same ``apply(changes)``; the answers agree."""

from __future__ import annotations

import datetime as dt
import tempfile
import time

import pytest

from matching.domain import FeedbackEvent, Member
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings
from tests.conftest import MINI

QUESTIONS = [
    ("member_for_need", "p1-n1"),
    ("member_for_need", "p2-n1"),
    ("need_for_member", "m2"),
    ("offering_for_project", "p1"),
    ("project_for_partner", "labo"),
]


@pytest.fixture
def pair(settings_any_store, use_encoder):
    """A writer and a replica sharing one store (SQLite file or PostgreSQL), the mini territory in it."""
    url = settings_any_store.database_url

    def make(**kw) -> Recommender:
        rec = Recommender(Settings(data_dir=tempfile.mkdtemp(), database_url=url, **kw), encoder=use_encoder)
        rec.open()
        return rec

    writer = make()
    writer.ingest(read_file(MINI))
    replica = make(feed_poll_seconds=0.05)
    yield writer, replica, make
    writer.close()
    replica.close()


def answers(rec: Recommender) -> dict:
    return {(q, s): [(m.id, round(m.score, 6)) for m in getattr(rec, q)("mini", s, k=8)] for q, s in QUESTIONS}


def contacted(i: int, member: str, need: str) -> FeedbackEvent:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    return FeedbackEvent(id=f"c{i}", question="member_for_need", subject_id=need, candidate_id=member, type="contacted", at=at)


def test_a_replica_applies_what_another_process_wrote(pair) -> None:
    writer, replica, _ = pair
    assert answers(replica) == answers(writer)
    m2 = writer.get_member("mini", "m2")
    writer.upsert_members("mini", [m2.model_copy(update={"skills": "Trésorière et comptable d'une association sportive"})])
    writer.upsert_members("mini", [Member(id="new", display_name="N.", skills="comptable, trésorerie", consent=True)])
    writer.delete_member("mini", "m5")
    p1 = writer.get_project("mini", "p1")
    writer.upsert_projects("mini", [p1.model_copy(update={"needs": p1.needs[:1]})])  # p1-n2 leaves
    labo = writer.get_partner("mini", "labo")
    writer.upsert_partners(
        "mini", [labo.model_copy(update={"offerings": [labo.offerings[0].model_copy(update={"capacity": 0})]})]
    )
    writer.record_events("mini", [contacted(1, "m1", "p3-n1"), contacted(2, "m1", "p2-n1")])  # m1 reaches the cap
    assert "m1" not in [m.id for m in writer.member_for_need("mini", "p1-n1", k=8)]
    replica.member_for_need("mini", "p1-n1", k=8)  # the replica's contact counts are read now, before the feed
    assert replica.feed.catch_up() is False
    assert answers(replica) == answers(writer)
    assert "m1" not in [m.id for m in replica.member_for_need("mini", "p1-n1", k=8)]  # the cap holds on both
    assert [m.id for m in replica.search_text("mini", "comptable, trésorerie", "members", k=1)] == ["new"]
    health = replica.health()
    assert health["feed"]["lag_changes"] == 0 and health["feed"]["applied"] == health["feed"]["last"]
    assert all(i["in_sync"] for i in health["indexes"].values()), health["indexes"]
    assert replica.feed.state.foreign > 0 and replica.feed.state.own == 0


def test_own_entries_are_not_applied_twice(pair) -> None:
    writer, _, _ = pair
    before = writer.feed.state.foreign
    writer.upsert_members("mini", [Member(id="own", display_name="O.", skills="menuisier", consent=True)])
    assert writer.feed.applied == writer.health()["feed"]["last"]  # moved by the write itself
    writer.feed.catch_up()
    assert writer.feed.state.foreign == before


def test_the_thread_applies_a_write_within_a_second(pair) -> None:
    writer, replica, _ = pair
    replica.feed.start()
    try:
        for n in range(3):
            writer.upsert_members("mini", [Member(id=f"w{n}", display_name="W.", skills=f"souffleur de verre {n}", consent=True)])
            start = time.monotonic()
            while f"w{n}" not in [m.id for m in replica.search_text("mini", f"souffleur de verre {n}", "members", k=1)]:
                assert time.monotonic() - start < 1.0, replica.health()["feed"]
                time.sleep(0.01)
    finally:
        replica.feed.stop()
    assert not replica.feed.running


def test_in_sync_compares_fingerprints_not_counts(pair) -> None:
    """Another process rewrites every member text: same count, other texts."""
    writer, replica, _ = pair
    members = [writer.get_member("mini", f"m{i}") for i in range(1, 9)]
    writer.upsert_members("mini", [m.model_copy(update={"skills": f"{m.skills} (mis à jour)"}) for m in members])
    health = replica.health()
    member = health["indexes"]["member"]
    assert member["count"] == member["store_count"]  # counts alone would say "in sync"
    assert member["in_sync"] is None and health["feed"]["lag_changes"] > 0  # not caught up: cannot be in sync
    # a replica that believes it is caught up while its index holds the old texts is told so
    replica.feed.reset(health["feed"]["last"])
    health = replica.health()
    assert health["indexes"]["member"]["in_sync"] is False and health["status"] == "degraded"
    assert replica.check_sync()["member"] is False  # the periodic check repairs it from the store
    health = replica.health()
    assert health["indexes"]["member"]["in_sync"] is True and health["status"] == "ok"
    assert answers(replica) == answers(writer)


def test_a_replica_behind_a_compacted_log_resynchronises(pair) -> None:
    writer, replica, _ = pair
    writer.upsert_members("mini", [Member(id="late", display_name="L.", skills="apicultrice", consent=True)])
    writer.settings.feed_retention_hours = 1e-9
    writer.compact_log()  # everything the replica did not read is gone
    replica.feed.catch_up()
    assert replica.feed.state.resyncs == 1
    assert [m.id for m in replica.search_text("mini", "apicultrice", "members", k=1)] == ["late"]
    assert answers(replica) == answers(writer)


def test_a_new_process_starts_from_the_snapshot_and_replays_the_tail(pair) -> None:
    writer, _, _ = pair
    assert writer.snapshot()["saved"]
    writer.upsert_members("mini", [Member(id="tail", display_name="T.", skills="horlogère", consent=True)])
    again = Recommender(writer.settings, encoder=writer.encoder.encoder)
    assert again.open() == {"member": "replayed", "need": "loaded", "offering": "loaded", "project": "loaded"}
    assert answers(again) == answers(writer)
    again.close()


def test_on_postgresql_notify_wakes_the_follower_long_before_its_poll(use_encoder, tmp_path) -> None:
    """The follower polls every 30 s here: only LISTEN/NOTIFY can bring the write within a second."""
    from tests.pg import fresh_database

    url, drop = fresh_database()
    writer = Recommender(Settings(data_dir=tmp_path / "w", database_url=url), encoder=use_encoder)
    writer.open()
    writer.ingest(read_file(MINI))
    replica = Recommender(Settings(data_dir=tmp_path / "r", database_url=url, feed_poll_seconds=30), encoder=use_encoder)
    replica.open()
    replica.feed.start()
    try:
        time.sleep(0.5)  # the thread is listening
        assert replica.feed.mode == "notify"
        for n in range(5):
            writer.upsert_members("mini", [Member(id=f"n{n}", display_name="N.", skills=f"doreur sur bois {n}", consent=True)])
            start, target = time.monotonic(), writer.feed.applied
            while replica.feed.applied < target:
                assert time.monotonic() - start < 1.0, replica.health()["feed"]
                time.sleep(0.002)
    finally:
        replica.close()
        writer.close()
        drop()
