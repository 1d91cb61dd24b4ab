"""Fusion of the dense and lexical channels, and the feedback component."""

from __future__ import annotations

import numpy as np

from embeddings import VectorIndex
from embeddings.lexical import LexicalIndex
from matching.retrieval import retrieve
from matching.text import lexical_tokens

TEXTS = {
    1: "Comptable à la retraite, j'ai tenu les comptes d'un club",
    2: "Trésorière bénévole d'une association de parents",
    3: "Jardinière, potager en permaculture",
    4: "Développeur web, sites internet",
}


def build(encoder):
    index = VectorIndex(encoder.dim, encoder.model_id)
    index.upsert(list(TEXTS), encoder.encode(list(TEXTS.values())))
    lexical = LexicalIndex(lexical_tokens)
    lexical.upsert(TEXTS.keys(), TEXTS.values())
    return index, lexical


def test_components_in_unit_interval_and_lexical_channel_adds_candidates(use_encoder) -> None:
    index, lexical = build(use_encoder)
    q = "tenir la trésorerie"
    weights = {"semantic": 1.0, "lexical": 0.5, "neighbours": 0.3}
    # a dense pool of 1 would miss the lexical match: the union brings it back
    cands = retrieve(index, lexical, use_encoder.encode([q])[0], q, None, pool=1, weights=weights).candidates()
    ids = {c.id for c in cands}
    assert 2 in ids and len(ids) >= 2
    for c in cands:
        assert set(c.components) == {"semantic", "lexical", "neighbours"}
        assert all(0.0 <= v <= 1.0 for v in c.components.values())
    best_lexical = max(cands, key=lambda c: c.components["lexical"])
    assert best_lexical.id == 2 and best_lexical.components["lexical"] == 1.0


def test_only_weighted_components_and_allowed_ids(use_encoder) -> None:
    index, lexical = build(use_encoder)
    q = "comptabilité"
    cands = retrieve(index, lexical, use_encoder.encode([q])[0], q, {3, 4}, pool=10, weights={"semantic": 1.0}).candidates()
    assert {c.id for c in cands} == {3, 4}
    assert all(set(c.components) == {"semantic"} for c in cands)
    assert retrieve(index, lexical, np.ones(index.dim, np.float32), q, set(), pool=10, weights={"semantic": 1}).candidates() == []


def test_fusion_ranks_the_accountants_first(use_encoder) -> None:
    from matching.scoring import combine, combine_many

    index, lexical = build(use_encoder)
    q = "quelqu'un pour tenir la trésorerie et les comptes"
    weights = {"semantic": 0.55, "lexical": 0.17, "neighbours": 0.28}
    pool = retrieve(index, lexical, use_encoder.encode([q])[0], q, None, pool=10, weights=weights)
    ranked = sorted(pool.candidates(), key=lambda c: -combine(c.components, weights))
    assert {ranked[0].id, ranked[1].id} == {1, 2}
    # the vectorised fusion of the read path gives the same scores to the last bit
    assert combine_many(pool.components, weights) == [combine(c.components, weights) for c in pool.candidates()]
