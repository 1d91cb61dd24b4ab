"""Two service processes on one PostgreSQL: interleaved upserts, no error, no lost update."""

from __future__ import annotations

import tempfile
import threading

import pytest

from matching.domain import Member
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings
from matching.store import queries
from tests.conftest import MINI
from tests.pg import fresh_database


@pytest.fixture
def two_services(use_encoder):
    url, drop = fresh_database()
    make = lambda: Recommender(Settings(data_dir=tempfile.mkdtemp(), database_url=url), encoder=use_encoder)  # noqa: E731
    a = make()
    a.open()
    a.ingest(read_file(MINI))
    b = make()
    b.open()
    yield a, b
    a.close()
    b.close()
    drop()


def test_same_new_id_inserted_by_both_at_once(two_services) -> None:
    """B's insert waits on A's uncommitted row, then hits the unique constraint and retries."""
    a, b = two_services
    inside = threading.Event()
    release = threading.Event()

    def slow_insert(tx):
        tx.upsert_member("mini", Member(id="same", display_name="A", skills="couture", consent=True))
        inside.set()
        release.wait(10)

    t = threading.Thread(target=lambda: a.write({"member": ["couture"]}, slow_insert))
    t.start()
    assert inside.wait(10)
    done = threading.Event()
    errors = []

    def b_write():
        try:
            b.upsert_members("mini", [Member(id="same", display_name="B", skills="tricot", consent=True)])
        except Exception as exc:
            errors.append(exc)
        done.set()

    tb = threading.Thread(target=b_write)
    tb.start()
    release.set()
    t.join(10)
    tb.join(20)
    assert done.is_set() and errors == []
    assert a.get_member("mini", "same").display_name == "B"  # the later write wins, nothing is lost


def test_interleaved_upserts_keep_every_write(two_services) -> None:
    a, b = two_services
    errors = []

    def run(rec, tag):
        for i in range(40):
            try:
                rec.upsert_members("mini", [Member(id=f"{tag}{i}", display_name=tag, skills=f"compétence {i}", consent=True)])
                rec.upsert_members("mini", [Member(id=f"shared{i % 5}", display_name=tag, skills=f"partagé {i}", consent=True)])
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(a, "a")), threading.Thread(target=run, args=(b, "b"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    with a.store.read() as tx:
        assert queries.count(tx, kind="member") == 8 + 80 + 5
