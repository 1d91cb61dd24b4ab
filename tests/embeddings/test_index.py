from __future__ import annotations

import numpy as np
import pytest

from embeddings.index import Hit, IndexMismatch, VectorIndex


def unit(rows):
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


@pytest.fixture
def index() -> VectorIndex:
    idx = VectorIndex(dim=3, model_id="test")
    idx.upsert([10, 20, 30], unit([[1, 0, 0], [0, 1, 0], [1, 1, 0]]))
    return idx


def test_search_returns_store_ids_best_first(index) -> None:
    hits = index.search(unit([[1, 0.1, 0]])[0], k=3)
    assert [h.id for h in hits] == [10, 30, 20]
    assert isinstance(hits[0], Hit) and hits[0].similarity == pytest.approx(0.995, abs=1e-3)


def test_k_larger_than_index_drops_padding(index) -> None:
    assert len(index.search(unit([[1, 0, 0]])[0], k=50)) == 3


def test_allowed_ids_filter(index) -> None:
    hits = index.search(unit([[1, 0, 0]])[0], k=3, allowed={20, 30, 999})
    assert [h.id for h in hits] == [30, 20]
    assert index.search(unit([[1, 0, 0]])[0], k=3, allowed=set()) == []


def test_remove_and_upsert_replace(index) -> None:
    assert index.remove([10, 11]) == 1
    assert 10 not in index and len(index) == 2
    index.upsert([20], unit([[1, 0, 0]]))  # replaces the vector of 20
    assert len(index) == 2
    assert index.search(unit([[1, 0, 0]])[0], k=1)[0].id == 20


def test_dimension_mismatch(index) -> None:
    with pytest.raises(IndexMismatch):
        index.upsert([1], np.ones((1, 4), dtype=np.float32))


def test_save_load_roundtrip_with_metadata(index, tmp_path) -> None:
    path = tmp_path / "idx" / "members.faiss.npz"
    index.save(path, extra={"store_fingerprint": "abc"})
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    meta = VectorIndex.read_metadata(path)
    assert meta["model_id"] == "test" and meta["dim"] == 3 and meta["count"] == 3 and meta["store_fingerprint"] == "abc"
    loaded = VectorIndex.load(path, model_id="test")
    assert loaded.ids == index.ids and loaded.fingerprint() == index.fingerprint()
    assert [h.id for h in loaded.search(unit([[0, 1, 0]])[0], k=1)] == [20]
    loaded.upsert([40], unit([[0, 0, 1]]))
    assert len(loaded) == 4


def test_load_refuses_another_model(index, tmp_path) -> None:
    index.save(tmp_path / "i.npz")
    with pytest.raises(IndexMismatch):
        VectorIndex.load(tmp_path / "i.npz", model_id="another")


def test_save_is_atomic_when_interrupted(index, tmp_path, monkeypatch) -> None:
    path = tmp_path / "i.npz"
    index.save(path)
    before = path.read_bytes()
    index.upsert([50], unit([[0, 0, 1]]))

    def boom(*_a, **_k):
        raise OSError("disque plein")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        index.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["i.npz"]


def test_filtered_search_after_changes_matches_brute_force() -> None:
    """The filtered flat search works on positions: they move on every removal and upsert."""
    rng = np.random.default_rng(3)
    index = VectorIndex(16, "test")
    vectors = {
        i: v / np.linalg.norm(v) for i, v in zip(range(0, 600, 3), rng.normal(size=(200, 16)).astype(np.float32), strict=True)
    }
    index.upsert(list(vectors), np.vstack(list(vectors.values())))
    for step in range(3):
        gone = [i for i in list(vectors) if rng.random() < 0.2]
        index.remove(gone)
        for i in gone:
            vectors.pop(i)
        fresh = {600 + 50 * step + j: rng.normal(size=16).astype(np.float32) for j in range(20)}
        fresh = {i: v / np.linalg.norm(v) for i, v in fresh.items()}
        index.upsert(list(fresh), np.vstack(list(fresh.values())))
        vectors |= fresh
        allowed = np.zeros(800, dtype=bool)
        allowed[rng.choice(800, 300, replace=False)] = True
        query = rng.normal(size=16).astype(np.float32)
        ids, scores = index.search_arrays(query[None], 15, allowed=allowed)
        expected = sorted((i for i in vectors if allowed[i]), key=lambda i: -float(vectors[i] @ query))[:15]
        assert ids[0].tolist() == expected
        assert np.allclose(scores[0], [vectors[i] @ query for i in expected], atol=1e-5)
        shared = allowed.copy()
        shared.flags.writeable = False  # a filter kept between requests: searched on its own copy
        for _ in range(2):
            again, again_scores = index.search_arrays(query[None], 15, allowed=shared)
            assert again[0].tolist() == expected and np.array_equal(again_scores, scores)
        assert [h.id for h in index.search(query, 15, allowed={int(i) for i in np.flatnonzero(allowed)})] == expected
