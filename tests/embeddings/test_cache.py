from __future__ import annotations

import numpy as np
from sqlalchemy import create_engine

from embeddings.cache import CachedEncoder, MemoryVectorCache, text_hash
from matching.store import SqlVectorCache


class CountingEncoder:
    """Wraps the real encoder and counts the texts it actually encodes."""

    def __init__(self, inner) -> None:
        self.inner, self.model_id, self.dim, self.seen = inner, inner.model_id, inner.dim, []

    def encode(self, texts, *, kind="document"):
        self.seen.extend(texts)
        return self.inner.encode(texts, kind=kind)


def test_unchanged_text_is_not_reencoded(tmp_path, use_encoder) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    counting = CountingEncoder(use_encoder)
    cached = CachedEncoder(counting, SqlVectorCache(engine))
    first = cached.encode(["bonjour", "trésorerie", "bonjour"])
    assert counting.seen == ["bonjour", "trésorerie"]
    again = cached.encode(["trésorerie", "bonjour", "nouveau texte"])
    assert counting.seen[2:] == ["nouveau texte"]
    np.testing.assert_allclose(first[1], again[0])
    assert {k: cached.stats[k] for k in ("hits", "misses")} == {"hits": 2, "misses": 4}  # per text asked, duplicates included
    assert cached.stats["seconds"] > 0  # time spent in the model (for /metrics)


def test_cache_survives_a_new_process(tmp_path, use_encoder) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    CachedEncoder(use_encoder, SqlVectorCache(create_engine(url))).encode(["persisté"])
    counting = CountingEncoder(use_encoder)
    CachedEncoder(counting, SqlVectorCache(create_engine(url))).encode(["persisté"])
    assert counting.seen == []


def test_models_do_not_share_vectors(tmp_path, use_encoder) -> None:
    for cache in (SqlVectorCache(create_engine("sqlite://")), MemoryVectorCache()):  # the store's, and in memory
        CachedEncoder(use_encoder, cache).encode(["texte"])
        assert cache.count(use_encoder.model_id) == 1
        assert cache.count("other-model") == 0
        assert cache.discard(None, [next(iter(cache.get_many(use_encoder.model_id, [text_hash("texte")])))]) == 1
