"""The store's change log (outbox): written in the transaction of each unit of work, numbered in
commit order without gaps, turned back into the ``Changes`` of the writes, compacted."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from embeddings.cache import text_hash
from matching.domain import FeedbackEvent, Member, Need, Offering, Partner, Project, Stage, Territory
from matching.store import Changes, Store, changelog, queries


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 's.sqlite'}"
        return
    from tests.pg import fresh_database

    url, drop = fresh_database()
    yield url
    drop()


@pytest.fixture
def store(url):
    s = Store(url)
    with s.transaction() as tx:
        tx.upsert_territory(Territory(id="t", name="T"))
    yield s
    s.dispose()


def member(i: int, skills: str = "comptable", **kw) -> Member:
    return Member(**({"id": f"m{i}", "display_name": f"M {i}", "skills": f"{skills} {i}", "consent": True} | kw))


def project(pid: str, needs: list[str], **kw) -> Project:
    return Project(
        **(
            {
                "id": pid,
                "title": f"Projet {pid}",
                "description": "une épicerie solidaire",
                "stage": Stage.IDEE,
                "needs": [Need(id=n, title=f"besoin {n}", text=f"il nous faut {n}") for n in needs],
            }
            | kw
        )
    )


def partner(pid: str, offerings: list[str], capacity: int = 3) -> Partner:
    return Partner(
        id=pid,
        name=f"Partenaire {pid}",
        offerings=[
            Offering(id=o, title=f"offre {o}", text="un accompagnement", stages=[Stage.IDEE], capacity=capacity)
            for o in offerings
        ],
    )


def entries(store: Store, after: int = 0) -> list[changelog.Entry]:
    with store.read() as tx:
        return changelog.read(tx, after=after, limit=None)


def replayed(store: Store, after: int) -> Changes:
    with store.read() as tx:
        return changelog.changes_of(tx, changelog.read(tx, after=after, limit=None))


def same(a: Changes, b: Changes) -> bool:
    return (a.upserted, a.removed, a.written, a.events, a.forgotten) == (b.upserted, b.removed, b.written, b.events, b.forgotten)


def test_each_unit_of_work_appends_what_it_changed_in_its_own_transaction(store) -> None:
    start = changes_position(store)
    _, changes = store.run(lambda tx: [tx.upsert_member("t", member(i)) for i in (1, 2)])
    first, last = changes.position
    assert (first, last) == (start + 1, start + 2)  # one entry per member (a new text: the entity is written too)
    got = entries(store, start)
    assert [e.seq for e in got] == list(range(first, last + 1))
    upserts = [e for e in got if e.op == "upsert"]
    assert {(e.kind, e.ext_id, e.territory_pk) for e in upserts} == {("member", "m1", 1), ("member", "m2", 1)}
    assert {e.text_hash for e in upserts} == {text_hash("comptable 1"), text_hash("comptable 2")}
    assert len({e.origin for e in got}) == 1 and got[0].origin == store.origin
    # a unit of work that fails writes no entry and takes no number
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert_member("t", member(3))
        raise RuntimeError("échec")
    assert entries(store, last) == []
    with store.read() as tx:
        assert changelog.last_seq(tx) == last
    # an unchanged document writes nothing, so no entry either
    _, changes = store.run(lambda tx: tx.upsert_member("t", member(1)))
    assert changes.position is None and entries(store, last) == []


def test_the_log_gives_back_the_changes_of_each_write(store) -> None:
    """Bulk ingest (deferred inserts), text and non-text updates, children dropped, deletions,
    events, forgotten texts: the log's entries amount to the same ``Changes``."""

    def bulk(tx):
        tx.preload("t")
        for i in range(60):
            tx.upsert_member("t", member(i))
        tx.upsert_project("t", project("p1", ["n1", "n2"]))
        tx.upsert_partner("t", partner("o", ["a", "b"]))

    writes = [
        bulk,
        lambda tx: tx.upsert_member("t", member(1, skills="jardinier")),  # new text
        lambda tx: tx.upsert_member("t", member(2, hours_per_week=7)),  # same text, other field
        lambda tx: tx.upsert_project("t", project("p1", ["n2", "n3"])),  # n1 dropped, n3 new
        lambda tx: tx.upsert_partner("t", partner("o", ["b"], capacity=9)),  # a dropped, b's capacity
        lambda tx: tx.delete_member("t", "m3"),
        lambda tx: tx.delete_project("t", "p1"),
        lambda tx: tx.delete_partner("t", "o"),
    ]
    for write in writes:
        before = changes_position(store)
        _, changes = store.run(write)
        assert same(replayed(store, before), changes)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with store.transaction() as tx:
        tx.upsert_project("t", project("p2", ["x1"]))
    before = changes_position(store)
    from matching.store import events

    event = FeedbackEvent(id="e1", question="member_for_need", subject_id="x1", candidate_id="m5", type="shown", at=now)
    with store.transaction() as tx:
        events.record_event(tx, territory_id="t", ev=event)
        changes = tx.changes
    assert changes.events == {1} and same(replayed(store, before), changes)
    gone = [e for e in entries(store) if e.op == "remove" and e.kind == "member"]
    assert [(e.ext_id, e.text_hash) for e in gone] == [("m3", text_hash("comptable 3"))]  # named after deletion
    assert [e.text_hash for e in entries(store) if e.op == "forget"] == [text_hash("comptable 3")]


def changes_position(store: Store) -> int:
    with store.read() as tx:
        return changelog.last_seq(tx)


def test_a_later_change_of_the_same_row_wins_and_a_row_gone_counts_as_removed(store) -> None:
    before = changes_position(store)
    store.run(lambda tx: tx.upsert_member("t", member(1)))
    store.run(lambda tx: tx.upsert_member("t", member(1, skills="menuisier")))
    store.run(lambda tx: tx.upsert_member("t", member(2)))
    store.run(lambda tx: tx.delete_member("t", "m2"))
    got = replayed(store, before)
    with store.read() as tx:
        pk1 = queries.text_hashes(tx, kind="member")
    assert list(got.upserted["member"].values()) == ["menuisier 1"] and list(got.upserted["member"]) == list(pk1)
    assert len(got.removed["member"]) == 1  # m2: written then deleted
    # only the first write's entries, read after the second: the row's current text
    first = entries(store, before)[0]
    with store.read() as tx:
        assert list(changelog.changes_of(tx, [first]).upserted["member"].values()) == ["menuisier 1"]


def test_numbers_become_visible_in_order_under_concurrent_writers(url) -> None:
    """Four processes' worth of writers (one store each) and a reader polling the log: the
    reader never sees a number before a smaller one (no hole that fills in later)."""
    stores = [Store(url) for _ in range(4)]
    with stores[0].transaction() as tx:
        tx.upsert_territory(Territory(id="t", name="T"))
    base = changes_position(stores[0])
    done = threading.Event()
    holes: list[tuple[int, list[int]]] = []
    errors: list[Exception] = []

    def reader() -> None:
        seen = base
        while True:
            finished = done.is_set()
            numbers = [e.seq for e in entries(stores[0], seen)]
            if numbers and numbers != list(range(seen + 1, seen + 1 + len(numbers))):
                holes.append((seen, numbers[:10]))
            seen = numbers[-1] if numbers else seen
            if finished:
                return

    def writer(n: int, store: Store) -> None:
        try:
            for i in range(20):
                store.run(lambda tx, i=i: tx.upsert_member("t", member(1000 * n + i)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    r = threading.Thread(target=reader)
    r.start()
    threads = [threading.Thread(target=writer, args=(n, s)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    r.join(30)
    assert errors == [] and holes == []
    assert [e.seq for e in entries(stores[0], base)] == list(range(base + 1, base + 1 + 4 * 20))
    for s in stores:
        s.dispose()


def test_compaction_deletes_entries_older_than_the_retention(store) -> None:
    store.run(lambda tx: tx.upsert_member("t", member(1)))
    cut = time.time()
    time.sleep(0.05)
    _, changes = store.run(lambda tx: tx.upsert_member("t", member(2)))
    with store.transaction() as tx:
        assert changelog.compact(tx, older_than=cut) == 1
    with store.read() as tx:
        assert changelog.oldest_seq(tx) == changes.position[0]
        assert changelog.last_seq(tx) == changes.position[1]
