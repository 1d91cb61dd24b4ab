from __future__ import annotations

import pytest
from sqlalchemy import select

from matching.domain import Member, Need, Project, Territory
from matching.errors import InvalidRequest, NotFound
from matching.store import Store, events, queries
from matching.store.schema import EventRow, MemberSeenRow


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same contract for every store backend."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
        drop = None
    else:
        from tests.pg import fresh_database

        url, drop = fresh_database()
        s = Store(url)
    with s.transaction() as tx:
        tx.upsert_territory(Territory(id="t", name="T"))
        tx.upsert_territory(Territory(id="u", name="U"))
    yield s
    s.dispose()
    if drop:
        drop()


def member(**kw) -> Member:
    return Member(**({"id": "m1", "display_name": "A B.", "skills": "comptable"} | kw))


def test_sqlite_uses_wal(store) -> None:
    if not store.url.startswith("sqlite"):
        return  # a PostgreSQL-only store has no journal mode
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_upsert_is_idempotent_by_external_id(store) -> None:
    with store.transaction() as tx:
        pk = tx.upsert_member("t", member())
        assert tx.changes.upserted["member"] == {pk: "comptable"}
    with store.transaction() as tx:
        assert tx.upsert_member("t", member()) == pk
        assert not tx.changes  # the same document: nothing written at all
    with store.transaction() as tx:
        assert tx.upsert_member("t", member(hours_per_week=5)) == pk
        assert tx.changes and not tx.changes.touches_indexes  # only a non-text field changed
        assert tx.get_member("t", "m1").hours_per_week == 5
        assert queries.count(tx, kind="member") == 1


def test_same_external_id_in_two_territories(store) -> None:
    with store.transaction() as tx:
        a = tx.upsert_member("t", member())
        b = tx.upsert_member("u", member(skills="jardinier"))
    assert a != b
    with store.read() as tx:
        assert tx.get_member("u", "m1").skills == "jardinier"


def test_project_needs_are_replaced_keeping_ids(store) -> None:
    n1, n2 = Need(id="n1", title="trésorerie"), Need(id="n2", title="affiche")
    with store.transaction() as tx:
        tx.upsert_project("t", Project(id="p", title="Épicerie", needs=[n1, n2]))
        pks = dict(tx.changes.upserted["need"])
    with store.transaction() as tx:
        tx.upsert_project("t", Project(id="p", title="Épicerie", needs=[n1]))
        assert tx.changes.removed["need"] == {pk for pk, t in pks.items() if t == "affiche"}
    with store.read() as tx:
        assert [n.id for n in tx.get_project("t", "p").needs] == ["n1"]


def test_need_id_cannot_move_between_projects(store) -> None:
    with store.transaction() as tx:
        tx.upsert_project("t", Project(id="p", title="A", needs=[Need(id="n1", title="x")]))
    with pytest.raises(InvalidRequest), store.transaction() as tx:
        tx.upsert_project("t", Project(id="q", title="B", needs=[Need(id="n1", title="y")]))
    with store.read() as tx, pytest.raises(NotFound):  # the failed transaction wrote nothing
        tx.get_project("t", "q")


def test_bulk_write_inserts_at_the_end_with_the_same_rules(store) -> None:
    """A preloaded (bulk) write defers its inserts to one flush: pks, changes and checks as row by row."""
    with store.transaction() as tx:
        tx.upsert_project("t", Project(id="p", title="A", needs=[Need(id="n1", title="x")]))
    with store.transaction() as tx:
        tx.preload("t")
        tx.upsert_member("t", member(id="m1"))
        tx.upsert_member("t", member(id="m2", skills="jardinier"))
        tx.upsert_project("t", Project(id="q", title="B", needs=[Need(id="n2", title="y"), Need(id="n3", title="z")]))
        changes = tx.changes
        tpk = tx.territory_pk("t")
        assert len(changes.upserted["member"]) == 2 and len(changes.written["member"][tpk]) == 2
        assert len(changes.upserted["need"]) == 2 and len(changes.written["project"][tpk]) == 1
        assert all(pk is not None for kind in changes.upserted.values() for pk in kind)
    with store.read() as tx:
        assert tx.get_member("t", "m2").skills == "jardinier"
        assert [n.id for n in tx.get_project("t", "q").needs] == ["n2", "n3"]
        seen = tx.session.scalars(select(MemberSeenRow.member_pk)).all()
        assert len(seen) == 2  # the retention rule's dates are written for new members too
    # a need id already taken, by a stored project or by a new one of the same bulk write
    for taken in ("n1", "n4"):
        with pytest.raises(InvalidRequest, match="appartient déjà"), store.transaction() as tx:
            tx.preload("t")
            tx.upsert_project("t", Project(id="r", title="C", needs=[Need(id="n4", title="a")]))
            tx.upsert_project("t", Project(id="s", title="D", needs=[Need(id=taken, title="b")]))
    with store.read() as tx, pytest.raises(NotFound):  # the failed transactions wrote nothing
        tx.get_project("t", "r")


def test_unknown_territory_and_entity(store) -> None:
    with pytest.raises(NotFound, match="territoire"), store.transaction() as tx:
        tx.upsert_member("nope", member())
    with pytest.raises(NotFound, match="membre"), store.read() as tx:
        tx.get_member("t", "absent")


def test_delete_reports_removed_vectors(store) -> None:
    with store.transaction() as tx:
        pk = tx.upsert_member("t", member())
    with store.transaction() as tx:
        tx.delete_member("t", "m1")
        assert tx.changes.removed["member"] == {pk}
    with store.read() as tx:
        assert queries.count(tx, kind="member") == 0


def test_pending_per_candidate_counts_the_latest_state_of_each_suggestion(store) -> None:
    """The SQL aggregation agrees with replaying the events side by side (ties in time: insertion
    order): the subject side's latest state is pending and the candidate did not refuse."""
    import datetime as dt
    import random

    from matching.domain import PENDING_STATES, REFUSED_CANDIDATE, SIDE_TYPES

    rnd = random.Random(5)
    start = dt.datetime(2025, 3, 1)
    with store.transaction() as tx:  # rows as stored (record_event checks entities and transitions)
        tpk = tx.territory_pk("t")
        for n in range(400):
            side = rnd.choice(["subject", "subject", "candidate", "service"])
            tx.session.add(
                EventRow(
                    ext_id=f"e{n}",
                    territory_pk=tpk,
                    question=rnd.choice(["offering_for_project", "member_for_need"]),
                    subject_id=f"p{rnd.randrange(8)}",
                    candidate_id=f"o{rnd.randrange(5)}",
                    type=rnd.choice(sorted(SIDE_TYPES[side])),
                    side=side,
                    at=start + dt.timedelta(hours=rnd.randrange(40)),  # many events share a time
                    data={},
                )
            )
            tx.session.flush()
    with store.read() as tx:
        found = events.suggestions(tx, territory_pk=tpk, question="offering_for_project")
        for exclude in (None, "p3"):
            expected: dict[str, int] = {}
            for (subject, candidate), state in found.items():
                if state.subject in PENDING_STATES and not state.refused and subject != exclude:
                    expected[candidate] = expected.get(candidate, 0) + 1
            got = events.pending_per_candidate(
                tx,
                territory_pk=tpk,
                question="offering_for_project",
                states=PENDING_STATES,
                refused=REFUSED_CANDIDATE,
                exclude_subject=exclude,
            )
            assert got == expected and expected
        assert any(s.refused for s in found.values()) and any(s.served_at and not s.subject for s in found.values())


def test_an_older_store_gets_the_new_columns(tmp_path) -> None:
    """A store made before the sides of a suggestion and the projects' holder column is upgraded in
    place on start: old events are the subject side's, the holder is read from the documents."""
    import datetime as dt

    from sqlalchemy import text

    from matching import access
    from matching.domain import FeedbackEvent

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    s = Store(url)
    with s.transaction() as tx:
        tx.upsert_territory(Territory(id="t", name="T"))
        tx.upsert_member("t", member())
        tx.upsert_project(
            "t", Project(id="p1", title="Épicerie", holder="Association Pas à pas", needs=[Need(id="n1", title="Compta")])
        )
        ev = FeedbackEvent(
            id="e1", question="member_for_need", subject_id="n1", candidate_id="m1", type="contacted", at=dt.datetime(2026, 1, 1)
        )
        events.record_event(tx, territory_id="t", ev=ev)
    with s.engine.begin() as conn:  # back to the older schema
        conn.execute(text("DROP INDEX ix_projects_holder"))
        conn.execute(text("ALTER TABLE projects DROP COLUMN holder"))
        conn.execute(text("ALTER TABLE feedback_events DROP COLUMN side"))
    s.dispose()
    s = Store(url)
    with s.read() as tx:
        (old,) = events.list_events(tx, territory_pk=tx.territory_pk("t"))
        assert (old.id, old.side) == ("e1", "subject")
        assert queries.projects_of(tx, territory_pk=tx.territory_pk("t"), holder="Association Pas à pas") == ["p1"]
    assert access.create_key(s, "t", "holder", "Association Pas à pas")[1].subject == "Association Pas à pas"
    s.dispose()


def test_postgresql_keys_take_a_longer_subject_after_the_upgrade() -> None:
    """PostgreSQL enforces VARCHAR lengths: an older api_keys.subject (128) is widened to 200."""
    from sqlalchemy import text

    from matching import access
    from tests.pg import fresh_database

    url, drop = fresh_database()
    try:
        s = Store(url)
        with s.engine.begin() as conn:
            conn.execute(text("ALTER TABLE api_keys ALTER COLUMN subject TYPE VARCHAR(128)"))
        s.dispose()
        s = Store(url)
        name = "Association " + "a" * 180
        assert access.create_key(s, "t", "holder", name, force=True)[1].subject == name
        s.dispose()
    finally:
        drop()


def test_the_vector_cache_on_a_database_that_is_gone_says_unavailable(tmp_path) -> None:
    """The read path looks up query and quoted-sentence vectors on a connection of its own: a
    database it cannot reach is ``Unavailable`` (the API's 503), not a raw driver error (a 500)."""
    import shutil

    import numpy as np

    from matching.errors import Unavailable
    from matching.store.core import make_engine
    from matching.store.vectors import SqlVectorCache

    where = tmp_path / "gone"
    where.mkdir()
    cache = SqlVectorCache(make_engine(f"sqlite:///{where / 'v.sqlite'}"))
    cache.put_many("m", {"h": np.ones(3, dtype=np.float32)})
    assert set(cache.get_many("m", ["h"])) == {"h"}
    cache.engine.dispose()
    shutil.rmtree(where)
    with pytest.raises(Unavailable):
        cache.get_many("m", ["h"])
    with pytest.raises(Unavailable):
        cache.put_many("m", {"k": np.ones(3, dtype=np.float32)})
