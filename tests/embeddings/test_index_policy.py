"""The index chooses its structure by itself: exact while small, IVF-SQ8 past a threshold."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.index import FLAT, IVF_SQ8, IndexPolicy, VectorIndex


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 20 centres (real embeddings are clustered, uniform noise is not)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    x = centres[rng.integers(0, 20, n)] + 0.35 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_policy_chooses_by_size() -> None:
    auto = IndexPolicy(threshold=1_000)
    assert auto.structure_for(500) == FLAT and auto.structure_for(5_000) == IVF_SQ8
    assert IndexPolicy(kind="flat", threshold=1_000).structure_for(10**6) == FLAT
    assert IndexPolicy(kind="ivf-sq8").structure_for(5_000) == IVF_SQ8
    assert IndexPolicy(kind="ivf-sq8").structure_for(10) == FLAT  # too few vectors to train
    assert IndexPolicy().params_for(1_000_000) == {"nlist": 1000, "nprobe": 62}
    assert IndexPolicy(nlist=64, nprobe=4).params_for(10_000) == {"nlist": 64, "nprobe": 4}
    with pytest.raises(ValueError):
        IndexPolicy(kind="hnsw-magique")


def test_auto_index_turns_approximate_past_threshold_and_says_so() -> None:
    x = clustered(4_000)
    idx = VectorIndex(32, "test", policy=IndexPolicy(threshold=2_000, min_train=500))
    idx.upsert(range(1, 1_501), x[:1_500])
    assert idx.metadata()["kind"] == FLAT and idx.metadata()["params"] == {}
    idx.upsert(range(1_501, 4_001), x[1_500:])  # grows past the threshold
    meta = idx.metadata()
    assert meta["kind"] == IVF_SQ8 and len(idx) == 4_000
    assert meta["params"] == {"nlist": 63, "nprobe": 8}
    assert meta["policy"] == {"kind": "auto", "threshold": 2_000, "nlist": None, "nprobe": None}
    # still a usable index: ids, filters, removal, replacement
    assert idx.search(x[10], k=1)[0].id == 11
    assert idx.search(x[10], k=5, allowed={3, 4, 11})[0].id == 11
    assert all(h.id in {3, 4} for h in idx.search(x[10], k=5, allowed=np.array([3, 4])))
    assert idx.remove([11, 99_999]) == 1 and 11 not in idx and len(idx) == 3_999
    assert all(h.id != 11 for h in idx.search(x[10], k=10))
    idx.upsert([12], x[10:11])
    assert idx.search(x[10], k=1)[0].id == 12 and len(idx) == 3_999
    assert np.allclose(idx.vector(12), x[10], atol=0.02)  # 8-bit codes: close, not equal


def test_approximate_recall_against_exact() -> None:
    x = clustered(6_000, seed=1)
    queries = clustered(50, seed=2)
    exact = VectorIndex(32, "test", policy=IndexPolicy(kind="flat"))
    approx = VectorIndex(32, "test", policy=IndexPolicy(kind="ivf-sq8", min_train=500))
    for idx in (exact, approx):
        idx.upsert(range(6_000), x)
    truth = exact.search_many(queries, 10)
    found = approx.search_many(queries, 10)
    recall = np.mean([len({h.id for h in a} & {h.id for h in t}) / 10 for a, t in zip(found, truth, strict=True)])
    assert recall >= 0.9


def test_ivf_save_load_keeps_structure_and_parameters(tmp_path) -> None:
    x = clustered(3_000)
    idx = VectorIndex(32, "test", policy=IndexPolicy(kind="ivf-sq8", min_train=500, nprobe=5))
    idx.upsert(range(3_000), x)
    idx.remove([7])
    path = tmp_path / "i.npz"
    idx.save(path, extra={"store_fingerprint": "f"})
    meta = VectorIndex.read_metadata(path)
    assert meta["kind"] == IVF_SQ8 and meta["params"]["nprobe"] == 5 and meta["count"] == 2_999
    loaded = VectorIndex.load(path, model_id="test")
    assert loaded.structure == IVF_SQ8 and loaded.params == idx.params
    assert loaded.ids == idx.ids and loaded.fingerprint() == idx.fingerprint()
    assert [h.id for h in loaded.search(x[3], 3)] == [h.id for h in idx.search(x[3], 3)]
    # nprobe can be changed by setting without rebuilding
    assert VectorIndex.load(path, policy=IndexPolicy(kind="ivf-sq8", nprobe=9)).params["nprobe"] == 9
    loaded.upsert([7], x[7:8])
    assert 7 in loaded and len(loaded) == 3_000


def test_boolean_mask_filter_matches_id_filter() -> None:
    x = clustered(500)
    idx = VectorIndex(32, "test")
    idx.upsert(range(1, 501), x)
    mask = np.zeros(10_000, dtype=bool)  # longer than the ids: extra entries are ignored
    mask[[5, 6, 7, 9_999]] = True
    assert [h.id for h in idx.search(x[4], 10, allowed=mask)] == [h.id for h in idx.search(x[4], 10, allowed={5, 6, 7, 9_999})]
    assert idx.search(x[4], 10, allowed=np.zeros(3, dtype=bool)) == []
