"""One contract for every encoder backend (real models, shipped in PyPI packages)."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoder import Encoder, EncoderError, build_encoder


@pytest.fixture(params=["use", "minilm", "e5"])
def encoder(request) -> Encoder:
    return request.getfixturevalue(f"{request.param}_encoder")


def test_shape_dtype_and_unit_norm(encoder: Encoder) -> None:
    vectors = encoder.encode(["Comptable à la retraite", "Jardinière en permaculture", "x"], kind="document")
    assert vectors.shape == (3, encoder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_list(encoder: Encoder) -> None:
    assert encoder.encode([], kind="query").shape == (0, encoder.dim)


def test_deterministic(encoder: Encoder) -> None:
    a = encoder.encode(["tenir la trésorerie"], kind="query")
    b = encoder.encode(["tenir la trésorerie"], kind="query")
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_protocol_and_model_id(encoder: Encoder) -> None:
    assert isinstance(encoder, Encoder)
    assert encoder.model_id and encoder.dim > 0


def test_use_understands_french(use_encoder) -> None:
    q, compta, jardin = use_encoder.encode(
        ["quelqu'un pour tenir la trésorerie", "comptable à la retraite", "je cultive un potager en permaculture"]
    )
    assert q @ compta > q @ jardin


def test_build_encoder_aliases(use_encoder) -> None:
    assert build_encoder("use-multilingual").model_id == use_encoder.model_id


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(EncoderError, match="introuvable"):
        build_encoder("st:/nonexistent/model/path")


def test_e5_prefixes_queries_and_passages(e5_encoder) -> None:
    """e5 reads "query: " and "passage: " differently: the same text gives two vectors."""
    text = ["tenir la trésorerie d'une association"]
    q, d = e5_encoder.encode(text, kind="query"), e5_encoder.encode(text, kind="document")
    assert q.shape == d.shape == (1, 384) and q.dtype == d.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([q, d]), axis=1), 1.0, atol=1e-5)
    assert 0.8 < float(q[0] @ d[0]) < 0.999  # close, not equal
    assert e5_encoder.asymmetric  # CachedEncoder keeps query vectors apart
    # a batch gives the same vectors as one text at a time
    batch = e5_encoder.encode(["bonjour", *text], kind="query")
    np.testing.assert_allclose(batch[1], q[0], atol=1e-5)


def test_e5_understands_french(e5_encoder) -> None:
    q = e5_encoder.encode(["quelqu'un pour tenir la trésorerie"], kind="query")[0]
    compta, jardin = e5_encoder.encode(["comptable à la retraite", "je cultive un potager en permaculture"])
    assert q @ compta > q @ jardin


def test_e5_threads_do_not_change_vectors(e5_encoder) -> None:
    texts = ["réparer des vélos", "animer un atelier couture pour les enfants du quartier"]
    before = e5_encoder.encode(texts)
    threads = e5_encoder.threads
    try:
        e5_encoder.threads = 1
        np.testing.assert_allclose(e5_encoder.encode(texts), before, atol=1e-5)
    finally:
        e5_encoder.threads = threads


def test_build_encoder_e5(e5_encoder) -> None:
    for name in ("e5-small", "e5", "multilingual-e5-small"):
        enc = build_encoder(name)
        assert enc.model_id == e5_encoder.model_id == "multilingual-e5-small-q4" and enc.dim == 384
