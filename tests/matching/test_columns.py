"""The column arrays of the read path give the scores of ``matching.scoring`` to the last bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import scoring
from matching.columns import MemberColumns, NeedColumns, ProjectColumns
from matching.domain import Member, Need, Offering, OfferingKind, Project, Stage

COMMUNES = [None, "Sceaux", "Bourg-la-Reine", "Antony", "Châtenay-Malabry", "Paris", "Lyon", "Nulle-Part"]
POSTCODES = [None, "92330", "92340", "75005", "99999"]
CAUSES = ["Solidarité", "solidarite", "Éducation", "Sport", "Culture", "Environnement"]

members = st.builds(
    lambda i, hours, commune, postcode, remote, causes, max_e, active: Member(
        id=f"m{i:03d}",
        display_name="A.",
        skills="comptable",
        hours_per_week=hours,
        commune=commune,
        postcode=postcode,
        remote_ok=remote,
        causes=causes,
        max_engagements=max_e,
        active_engagements=active,
    ),
    st.integers(0, 999),
    st.sampled_from([0, 0.5, 1, 2, 3.5, 8, 80]),
    st.sampled_from(COMMUNES),
    st.sampled_from(POSTCODES),
    st.booleans(),
    st.lists(st.sampled_from(CAUSES), max_size=3),
    st.integers(0, 4),
    st.integers(0, 5),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(members, min_size=1, max_size=12, unique_by=lambda m: m.id),
    st.sampled_from([0, 1, 2.5, 4, 10]),
    st.booleans(),
    st.sampled_from(COMMUNES),
    st.lists(st.sampled_from(CAUSES), max_size=3),
)
def test_member_columns_match_the_scalar_components(ms, asked, remote, commune, project_causes) -> None:
    by_pk = {3 * n + 1: m for n, m in enumerate(ms)}  # pks with gaps, as in a store
    cols = MemberColumns(by_pk)
    pks = np.array(list(by_pk)[::-1], dtype=np.int64)
    rows = cols.rows(pks)
    got_causes, present = cols.causes_share(rows, project_causes)
    for n, pk in enumerate(pks.tolist()):
        m = by_pk[pk]
        assert cols.availability(rows, asked)[n] == scoring.availability(m.hours_per_week, asked)
        assert cols.place_score(rows, remote, commune)[n] == scoring.place(m, remote, commune)
        assert cols.load(rows)[n] == scoring.load(m)
        expected = scoring.causes(m.causes, project_causes)
        assert bool(present[n]) == (expected is not None)
        if expected is not None:
            assert got_causes[n] == expected
        assert cols.ext_ids[rows[n]] == m.id and cols.pk_of[m.id] == pk
    # rank orders the external ids
    assert [cols.ext_ids[r] for r in np.argsort(cols.rank)] == sorted(m.id for m in ms)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 3, 12]),
            st.booleans(),
            st.sampled_from(COMMUNES),
            st.lists(st.sampled_from(CAUSES), max_size=3),
        ),
        min_size=1,
        max_size=10,
    ),
    members,
)
def test_need_columns_match_the_scalar_components(needs, member) -> None:
    by_pk = {
        10 + n: (
            Need(id=f"n{n}", title="Trésorerie", hours_per_week=h, remote=r),
            f"p{n}",
            {"commune": c, "causes": causes, "title": "P"},
        )
        for n, (h, r, c, causes) in enumerate(needs)
    }
    cols = NeedColumns(by_pk)
    rows = cols.rows(np.array(list(by_pk), dtype=np.int64))
    availability, place = cols.availability(rows, member.hours_per_week), cols.place_score(rows, member)
    got_causes, present = cols.causes_share(rows, member.causes)
    for n, (need, _, pdata) in enumerate(by_pk.values()):
        assert availability[n] == scoring.availability(member.hours_per_week, need.hours_per_week)
        assert place[n] == scoring.place(member, need.remote, pdata["commune"])
        expected = scoring.causes(member.causes, pdata["causes"])
        assert bool(present[n]) == (expected is not None)
        if expected is not None:
            assert got_causes[n] == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(members, min_size=2, max_size=12, unique_by=lambda m: m.id),
    st.lists(members, min_size=1, max_size=6, unique_by=lambda m: m.id),
    st.sampled_from(COMMUNES),
    st.lists(st.sampled_from(CAUSES), max_size=3),
)
def test_columns_updated_in_place_of_a_rebuild_give_the_same_scores(first, changes, commune, project_causes) -> None:
    """New and changed members appended to the columns score as in columns built from scratch."""
    by_pk = {5 * n + 2: m for n, m in enumerate(first)}
    pk_of = {m.id: pk for pk, m in by_pk.items()}
    # a change keeps the pk of a known member; a new member gets a new pk
    changed = {pk_of.get(m.id, 1000 + n): m for n, m in enumerate(changes)}
    cols = MemberColumns(by_pk).with_members(changed)
    fresh = MemberColumns(by_pk | changed)
    pks = np.array(sorted(by_pk | changed), dtype=np.int64)
    a, b = cols.rows(pks), fresh.rows(pks)
    assert [cols.ext_ids[r] for r in a] == [fresh.ext_ids[r] for r in b]
    assert np.array_equal(np.argsort(cols.rank[a], kind="stable"), np.argsort(fresh.rank[b], kind="stable"))
    assert np.array_equal(cols.availability(a, 2.5), fresh.availability(b, 2.5))
    assert np.array_equal(cols.place_score(a, False, commune), fresh.place_score(b, False, commune))
    assert np.array_equal(cols.load(a), fresh.load(b))
    for x, y in zip(cols.causes_share(a, project_causes), fresh.causes_share(b, project_causes), strict=True):
        assert np.array_equal(x, y)
    assert cols.unused_rows == len(set(changed) & set(by_pk))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 999), st.sampled_from(list(Stage))), min_size=1, max_size=15, unique_by=lambda t: t[0]),
    st.lists(st.sampled_from(list(Stage)), min_size=1, max_size=3, unique=True),
)
def test_project_columns_give_stage_fit_and_id_order(projects, stages) -> None:
    by_pk = {2 * n + 5: Project(id=f"p{i:03d}", title="Projet", stage=stage) for n, (i, stage) in enumerate(projects)}
    cols = ProjectColumns(by_pk)
    offering = Offering(id="o1", title="Offre", kind=OfferingKind.OTHER, stages=stages)
    pks = np.array(list(by_pk), dtype=np.int64)
    fit = ProjectColumns.stage_fit(offering)[cols.stage[pks]]
    assert fit.tolist() == [scoring.stage_fit(offering.stages, by_pk[pk].stage) for pk in pks.tolist()]
    assert sorted(pks.tolist(), key=lambda pk: cols.rank[pk]) == sorted(pks.tolist(), key=lambda pk: by_pk[pk].id)


COMMUNES = ["Sceaux", "sceaux ", "Antony", "Bourg-la-Reine", "Châtenay-Malabry", "chatenay-malabry"]
CAUSES = ["Écologie", "ecologie", "Sport pour tous", "Culture", "Solidarité"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Stage)),
            st.booleans(),
            st.none() | st.sampled_from(COMMUNES),
            st.lists(st.sampled_from(CAUSES), max_size=3),
        ),
        min_size=1,
        max_size=20,
    ),
    st.lists(st.sampled_from(list(Stage)), min_size=1, max_size=3, unique=True),
    st.booleans(),
    st.lists(st.sampled_from([*COMMUNES, "Paris"]), max_size=2),
    st.lists(st.sampled_from([*CAUSES, "Numérique"]), max_size=2),
    st.integers(0, 2),
)
def test_project_columns_admit_the_projects_the_eligibility_rules_admit(
    projects, stages, legal, communes, causes, capacity
) -> None:
    from matching import filters
    from matching.domain import Eligibility

    by_pk = {
        3 * n + 1: Project(id=f"p{n}", title="P", stage=stage, legal_structure=lg, commune=commune, causes=cs)
        for n, (stage, lg, commune, cs) in enumerate(projects)
    }
    rules = Eligibility(requires_legal_structure=legal, communes=communes, causes=causes)
    offering = Offering(id="o", title="O", stages=stages, eligibility=rules, capacity=capacity)
    expected = [pk for pk, p in by_pk.items() if p.stage in offering.stages and filters.eligible(offering, p)]
    assert ProjectColumns(by_pk).eligible(offering).tolist() == expected
