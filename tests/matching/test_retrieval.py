"""Gathering candidates from the index set: the dense and lexical channels, the feedback component."""

from __future__ import annotations

import numpy as np

from embeddings import CachedEncoder, MemoryVectorCache
from embeddings.indexset import IndexSet
from matching.fusion import reference_weighted_mean, weighted_mean
from matching.retrieval import hybrid, sentences
from matching.text import lexical_tokens

TEXTS = {
    1: "Comptable à la retraite, j'ai tenu les comptes d'un club",
    2: "Trésorière bénévole d'une association de parents",
    3: "Jardinière, potager en permaculture",
    4: "Développeur web, sites internet",
}


class Source:
    """The four texts as an index set's source of documents."""

    def documents(self, kind: str) -> list[tuple[int, str, str]]:
        from embeddings.cache import text_hash

        return [(pk, text, text_hash(text)) for pk, text in TEXTS.items()]

    def text_hashes(self, kind: str) -> dict[int, str]:
        return {pk: h for pk, _, h in self.documents(kind)}


def build(encoder, tmp_path) -> IndexSet:
    indexes = IndexSet(["doc"], {"use": CachedEncoder(encoder, MemoryVectorCache())}, tmp_path, analyzer=lexical_tokens)
    indexes.open(Source())
    return indexes


def rows(pool) -> list[tuple[int, dict[str, float]]]:
    return [(int(pk), pool.row(n)) for n, pk in enumerate(pool.ids.tolist())]


def test_components_in_unit_interval_and_lexical_channel_adds_candidates(use_encoder, tmp_path) -> None:
    indexes = build(use_encoder, tmp_path)
    weights = {"semantic": 1.0, "lexical": 0.5, "neighbours": 0.3}
    # a dense pool of 1 would miss the lexical match: the union brings it back
    cands = rows(hybrid(indexes, "doc", "tenir la trésorerie", None, pool=1, weights=weights))
    ids = {pk for pk, _ in cands}
    assert 2 in ids and len(ids) >= 2
    for _, comps in cands:
        assert set(comps) == {"semantic", "lexical", "neighbours"}
        assert all(0.0 <= v <= 1.0 for v in comps.values())
    best_lexical = max(cands, key=lambda c: c[1]["lexical"])
    assert best_lexical[0] == 2 and best_lexical[1]["lexical"] == 1.0


def test_only_weighted_components_and_allowed_ids(use_encoder, tmp_path) -> None:
    indexes = build(use_encoder, tmp_path)
    cands = rows(hybrid(indexes, "doc", "comptabilité", {3, 4}, pool=10, weights={"semantic": 1.0}))
    assert {pk for pk, _ in cands} == {3, 4}
    assert all(set(comps) == {"semantic"} for _, comps in cands)
    assert len(hybrid(indexes, "doc", "comptabilité", set(), pool=10, weights={"semantic": 1})) == 0


def test_fusion_ranks_the_accountants_first(use_encoder, tmp_path) -> None:
    indexes = build(use_encoder, tmp_path)
    weights = {"semantic": 0.55, "lexical": 0.17, "neighbours": 0.28}
    pool = hybrid(indexes, "doc", "quelqu'un pour tenir la trésorerie et les comptes", None, pool=10, weights=weights)
    ranked = sorted(rows(pool), key=lambda c: -reference_weighted_mean(c[1], weights))
    assert {ranked[0][0], ranked[1][0]} == {1, 2}
    # the vectorised fusion of the read path gives the same scores to the last bit
    assert weighted_mean(pool.components, weights) == [reference_weighted_mean(c, weights) for _, c in rows(pool)]


def test_sentences_score_the_best_sentence(use_encoder, tmp_path) -> None:
    indexes = build(use_encoder, tmp_path)
    queries = ["Nous avons un joli local.", "Il nous faudrait quelqu'un pour créer notre site internet."]
    pool = sentences(indexes, "doc", queries, " ".join(queries), [1, 3, 4], weights={"semantic": 1.0, "lexical": 0.5})
    assert pool.ids.tolist() == [1, 3, 4]
    best = int(pool.ids[np.argmax(pool.components["semantic"])])
    assert best == 4  # the web developer answers the sentence that asks
    whole = indexes.query_vectors([" ".join(queries)])[0] @ indexes.dense("doc").vectors([4])[0]
    assert pool.components["semantic"][2] >= whole  # the best sentence, not the whole text, decides
