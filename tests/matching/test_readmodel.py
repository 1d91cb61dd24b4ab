"""The read model follows the store through ``apply(changes)`` only, and by the clock's day."""

from __future__ import annotations

import datetime as dt

import numpy as np

from matching.clock import FixedClock
from matching.domain import FeedbackEvent, Member, Need, Partner
from matching.readmodel import ReadModels
from matching.recommender import Recommender


def read(rec: Recommender, fn):
    with rec.store.read() as tx:
        return fn(tx, rec.models.of(tx, "mini"))


def test_each_write_drops_only_what_it_touches(rec: Recommender) -> None:
    catalogue = read(rec, lambda tx, m: m.catalogue(tx))
    needs = read(rec, lambda tx, m: m.need_columns(tx))
    members = read(rec, lambda tx, m: m.available_members(tx))
    rec.upsert_members("mini", [rec.get_member("mini", "m1").model_copy(update={"hours_per_week": 7.0})])
    assert read(rec, lambda tx, m: m.catalogue(tx)) is catalogue and read(rec, lambda tx, m: m.need_columns(tx)) is needs
    assert read(rec, lambda tx, m: m.available_members(tx)) is not members  # brought up to date
    partner = rec.get_partner("mini", "banque")
    rec.upsert_partners("mini", [Partner.model_validate(partner.model_dump() | {"name": "Banque du coin"})])
    assert read(rec, lambda tx, m: m.catalogue(tx)) is not catalogue
    assert read(rec, lambda tx, m: m.need_columns(tx)) is needs
    project = rec.get_project("mini", "p1")
    rec.upsert_projects("mini", [project.model_copy(update={"needs": [*project.needs, Need(id="p1-n9", title="Affiches")]})])
    assert read(rec, lambda tx, m: m.need_columns(tx)) is not needs


def test_members_written_are_brought_up_to_date(rec: Recommender) -> None:
    available = read(rec, lambda tx, m: m.available_members(tx))
    pk = int(np.flatnonzero(available)[0])
    member = rec.get_member("mini", read(rec, lambda tx, m: m.members(tx, [pk])[pk].id))
    rec.upsert_members("mini", [Member.model_validate(member.model_dump() | {"consent": False})])
    assert not read(rec, lambda tx, m: m.available_members(tx))[pk]
    rec.upsert_members("mini", [member])
    assert read(rec, lambda tx, m: m.available_members(tx))[pk]
    assert read(rec, lambda tx, m: m.member_columns(tx)).pk_of[member.id] == pk


def test_contact_counts_follow_the_events_recorded_here(rec: Recommender) -> None:
    since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert read(rec, lambda tx, m: m.contact_counts(tx, since, cached=True)) == {}
    ev = FeedbackEvent(
        id="c1", question="member_for_need", subject_id="p1-n1", candidate_id="m2", type="contacted", at=dt.datetime.now(dt.UTC)
    )
    rec.record_events("mini", [ev])
    assert read(rec, lambda tx, m: m.contact_counts(tx, since, cached=True)) == {"m2": 1}


def test_open_calls_follow_the_clock_day(settings, use_encoder, mini_doc) -> None:
    from matching.domain import Project, Territory
    from matching.ingest import Batch

    clock = FixedClock(dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC))
    rec = Recommender(settings, encoder=use_encoder, clock=clock)
    rec.open()
    batch = Batch(territories=[Territory(id="t", name="T")])
    batch.projects = [
        ("t", Project(id="p", title="Repair café", needs=[Need(id="n", title="Réparer", deadline=dt.date(2025, 3, 1))]))
    ]
    rec.ingest(batch)
    with rec.store.read() as tx:
        assert rec.models.of(tx, "t").open_needs(tx).sum() == 1
    clock.set(dt.datetime(2025, 3, 2, 8, tzinfo=dt.UTC))  # the deadline has passed
    with rec.store.read() as tx:
        assert rec.models.of(tx, "t").open_needs(tx).sum() == 0
    rec.close()


def test_unknown_territory_is_not_found(rec: Recommender) -> None:
    import pytest

    from matching.errors import NotFound

    models = ReadModels(rec.clock)
    with rec.store.read() as tx, pytest.raises(NotFound, match="territoire"):
        models.of(tx, "nulle-part")
