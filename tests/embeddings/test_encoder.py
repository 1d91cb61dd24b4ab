"""One contract for every encoder backend (real models, shipped in PyPI packages)."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoder import Encoder, EncoderError, build_encoder


@pytest.fixture(params=["use", "minilm"])
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
