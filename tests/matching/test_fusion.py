"""The one score formula: the vectorised weighted mean equals the plain one (its test oracle) to
the last bit, and the channel components stay in [0, 1]."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.fusion import lexical, neighbours, reference_weighted_mean, round6, semantic, weighted_mean


def test_weighted_mean_of_the_present_components() -> None:
    assert reference_weighted_mean({"semantic": 1.0, "lexical": 0.0}, {"semantic": 3, "lexical": 1, "place": 5}) == 0.75
    assert reference_weighted_mean({}, {"semantic": 1}) == 0.0
    comps = {"semantic": np.array([1.0, 0.5]), "place": np.array([0.0, 0.9])}
    assert weighted_mean(comps, {"semantic": 3, "place": 1}, {"place": np.array([True, False])}) == [0.75, 0.5]


def test_channel_components_lie_in_the_unit_interval() -> None:
    assert semantic(np.array([-0.2, 0.4, 1.3])).tolist() == [0.0, np.float32(0.4), 1.0]
    assert lexical(np.array([0.0, 2.0, 4.0], dtype=np.float32)).tolist() == [0.0, 0.5, 1.0]
    assert lexical(np.zeros(3, dtype=np.float32)).tolist() == [0.0, 0.0, 0.0]
    vectors = np.eye(3, dtype=np.float32)
    comps = {"semantic": np.array([0.9, 0.1, 0.0], dtype=np.float32)}
    fed = neighbours(comps, {"semantic": 1.0}, vectors, top=1)
    assert fed.tolist() == [1.0, 0.0, 0.0]  # only the best resembles the best


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0, 1, width=32), min_size=1, max_size=30),
    st.dictionaries(
        st.sampled_from(["semantic", "lexical", "place", "causes"]), st.sampled_from([0, 0.05, 0.17, 1, 3]), min_size=1
    ),
    st.randoms(use_true_random=False),
)
def test_weighted_mean_is_the_reference_of_each_row(values, weights, rnd) -> None:
    n = len(values)
    comps = {
        "semantic": np.array(values, dtype=np.float32),
        "lexical": np.array(values[::-1], dtype=np.float32),
        "place": np.array([rnd.random() for _ in range(n)]),
        "causes": np.array([rnd.choice([0, 1 / 3, 0.5, 1]) for _ in range(n)]),
    }
    present = np.array([rnd.random() < 0.5 for _ in range(n)])
    rows = [{name: float(v[i]) for name, v in comps.items() if name != "causes" or present[i]} for i in range(n)]
    assert weighted_mean(comps, weights, {"causes": present}) == [reference_weighted_mean(r, weights) for r in rows]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=50), st.lists(st.integers(0, 1_000_000), max_size=20))
def test_round6_is_pythons_round(values, halves) -> None:
    # values exactly on, just below and just above a half of the 6th decimal are the hard ones
    edge = [(h + 0.5) / 1e6 for h in halves]
    edge += [float(np.nextafter(v, 0.0)) for v in edge] + [float(np.nextafter(v, 1.0)) for v in edge]
    arr = np.array([v for v in values + edge if v <= 1.0])
    assert round6(arr).tolist() == [round(v, 6) for v in arr.tolist()]
