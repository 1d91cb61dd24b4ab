from __future__ import annotations

import numpy as np

from embeddings.filters import PerFilter, is_shared


def shared(n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask.flags.writeable = False
    return mask


def test_is_shared_only_for_read_only_boolean_arrays() -> None:
    assert is_shared(shared(3))
    assert not is_shared(np.zeros(3, dtype=bool))  # writeable: may change between requests
    assert not is_shared(np.zeros(3, dtype=np.int64)) and not is_shared({1, 2}) and not is_shared(None)


def test_values_by_identity_and_tag_oldest_out() -> None:
    cache, order = PerFilter(size=2), np.arange(3)
    a, b, c = shared(3), shared(3), shared(3)
    cache.put(a, "A", order)
    assert cache.get(a, order) == "A"
    assert cache.get(a, np.arange(3)) is None  # another order of documents: computed again
    assert cache.get(a.copy(), order) is None  # equal content, another filter
    cache.put(b, "B", order)
    cache.put(c, "C", order)
    assert cache.get(a, order) is None and cache.get(b, order) == "B" and len(cache) == 2
    cache.clear()
    assert cache.get(b, order) is None and len(cache) == 0
