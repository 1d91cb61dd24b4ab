from __future__ import annotations

from embeddings.lexical import LexicalIndex
from matching.text import lexical_tokens


def make() -> LexicalIndex:
    idx = LexicalIndex(lexical_tokens)
    idx.upsert([1, 2, 3], ["Comptable, je tiens la trésorerie", "Jardinier : potager et compost", "Trésorière d'un club"])
    return idx


def test_search_ranks_by_bm25_and_skips_zero_scores() -> None:
    hits = make().search("tenir la trésorerie", k=10)
    assert {h.id for h in hits} == {1, 3} and all(h.similarity > 0 for h in hits)


def test_allowed_filter_and_incremental_changes() -> None:
    idx = make()
    assert [h.id for h in idx.search("trésorerie", k=10, allowed={3, 2})] == [3]
    idx.remove([3])
    assert [h.id for h in idx.search("trésorerie", k=10)] == [1]
    idx.upsert([1], ["Jardinage"])  # replaced text
    assert idx.search("trésorerie", k=10) == []
    assert len(idx) == 2


def test_scores_for_given_ids() -> None:
    scores = make().scores("compost", [2, 1, 99])
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0


def test_empty_index_and_query() -> None:
    assert LexicalIndex(lexical_tokens).search("x") == []
    assert make().search("le la les", k=5) == []  # only stop words


def test_top_breaks_ties_by_id_and_filters_like_a_brute_force() -> None:
    import numpy as np

    idx = LexicalIndex(str.split)
    texts = {i: ("jardin potager" if i % 3 == 0 else "jardin" if i % 3 == 1 else "cuisine") for i in range(2, 300, 2)}
    idx.upsert(texts.keys(), texts.values())
    scored = idx.query("jardin potager")
    allowed = np.zeros(400, dtype=bool)
    allowed[np.random.default_rng(0).choice(400, 150, replace=False)] = True
    for filt in (None, allowed, {int(i) for i in np.flatnonzero(allowed)}):
        ids, scores = scored.top(20, allowed=filt)
        ok = [i for i in texts if (filt is None or (allowed[i] if isinstance(filt, np.ndarray) else i in filt))]
        expected = sorted((i for i in ok if scored.of(np.array([i]))[0] > 0), key=lambda i: (-scored.of(np.array([i]))[0], i))[
            :20
        ]
        assert ids.tolist() == expected
        assert list(scores) == sorted(scores, reverse=True)


def test_a_shared_filter_gives_the_same_top_and_follows_changes() -> None:
    import numpy as np

    idx = LexicalIndex(str.split)
    texts = {i: ("jardin potager" if i % 3 == 0 else "jardin" if i % 5 else "cuisine") for i in range(1, 500, 3)}
    idx.upsert(texts.keys(), texts.values())
    shared = np.zeros(600, dtype=bool)
    shared[np.random.default_rng(1).choice(600, 250, replace=False)] = True
    shared.flags.writeable = False  # read-only: kept by position between queries

    def same() -> None:
        scored = idx.query("jardin potager")
        for k in (5, 40, 1000):
            got, expected = scored.top(k, allowed=shared), scored.top(k, allowed=shared.copy())
            assert got[0].tolist() == expected[0].tolist() and got[1].tolist() == expected[1].tolist()

    same()
    same()  # second time from the kept mask
    idx.remove([i for i in texts if i % 2])  # positions move: the kept mask must not be reused
    idx.upsert([598, 599], ["jardin potager", "jardin"])
    same()


def test_scores_are_those_of_bm25s_to_the_bit_and_survive_save_and_load(tmp_path) -> None:
    """The numpy build gives the float32 scores bm25s gives (Lucene BM25), on the demo territory's
    texts, after changes, and after a save and a load."""
    import json

    import bm25s
    import numpy as np

    from matching.domain import Member
    from matching.settings import PACKAGE_DATA

    doc = json.loads((PACKAGE_DATA / "demo" / "sceaux-valley.json").read_text(encoding="utf-8"))
    texts = {n: Member.model_validate(m).text() for n, m in enumerate(doc["members"], start=3)}
    texts[2] = "et la le"  # no token left: the empty-document token
    idx = LexicalIndex(lexical_tokens)
    idx.upsert(texts.keys(), texts.values())
    idx.remove([5, 6])
    idx.upsert([7, 400], ["Trésorière et comptable, je tiens les comptes", "Jardinier bénévole"])
    for pk in (5, 6):
        del texts[pk]
    texts |= {7: "Trésorière et comptable, je tiens les comptes", 400: "Jardinier bénévole"}
    order = sorted(texts)
    oracle = bm25s.BM25(k1=1.2, b=0.5)
    oracle.index([lexical_tokens(texts[i]) or ["\x00"] for i in order], show_progress=False)
    queries = ["tenir la trésorerie", "jardin potager compost", "comptable comptable retraite", "informatique réseau", "xyz"]
    again = LexicalIndex.load(_saved(idx, tmp_path), lexical_tokens)
    assert len(again) == len(idx) == len(texts)
    for q in queries:
        tokens = list(dict.fromkeys(lexical_tokens(q)))
        expected = oracle.get_scores(tokens) if any(t in oracle.vocab_dict for t in tokens) else np.zeros(len(order))
        for index in (idx, again):
            scored = index.query(q)
            got = scored.of(np.array(order)) if scored is not None else np.zeros(len(order), dtype=np.float32)
            assert np.array_equal(got, expected.astype(np.float32)), q


def _saved(idx: LexicalIndex, tmp_path):
    path = tmp_path / "lexical.npz"
    idx.save(path, extra={"source_position": 3})
    assert LexicalIndex.read_metadata(path)["source_position"] == 3
    return path
