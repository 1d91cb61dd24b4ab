from __future__ import annotations

import numpy as np

from embeddings.adapter import QueryAdapter
from matching.text import sentences

DOCS = [
    "Comptable à la retraite. Je tiens les comptes du club. Je prépare le bilan annuel.",
    "Jardinière passionnée. Je cultive un potager. Je fais du compost collectif.",
    "Développeur web. Je crée des sites internet. Je maintiens des serveurs.",
    "Couturière. Je retouche des vêtements. J'anime un atelier d'upcycling.",
] * 3


def test_pairs_come_from_the_documents_only() -> None:
    queries, contexts, owners = QueryAdapter.pairs(DOCS[:2], sentences)
    assert queries[0] == "Comptable à la retraite." and "bilan annuel" in contexts[0] and "Comptable" not in contexts[0]
    assert owners == [0, 0, 0, 1, 1, 1]


def test_fit_apply_save_load(use_encoder, tmp_path) -> None:
    assert QueryAdapter.fit(use_encoder, DOCS, sentences=sentences, min_pairs=1000) is None  # too little text
    adapter = QueryAdapter.fit(use_encoder, DOCS, sentences=sentences, min_pairs=10, epochs=3)
    assert adapter is not None and adapter.dim == use_encoder.dim and adapter.info["pairs"] == 36
    q = use_encoder.encode(["tenir la trésorerie"], kind="query")
    mapped = adapter.apply(q)
    np.testing.assert_allclose(np.linalg.norm(mapped, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(mapped, q)
    adapter.save(tmp_path / "a.npz")
    again = QueryAdapter.load(tmp_path / "a.npz")
    np.testing.assert_allclose(again.apply(q), mapped, atol=1e-6)
    assert again.model_id == use_encoder.model_id and [p.name for p in tmp_path.iterdir()] == ["a.npz"]
