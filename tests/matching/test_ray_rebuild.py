"""`maillage index rebuild --engine ray`: Ray Data encodes the store's rows on a local Ray instance."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from matching.cli import app
from matching.domain import INDEXED_KINDS
from matching.recommender import Recommender

ray = pytest.importorskip("ray")


@pytest.fixture
def local_ray():
    yield
    ray.shutdown()  # no Ray process outlives the test


def test_ray_rebuild_encodes_the_store_and_writes_the_same_index(rec, settings, use_encoder, local_ray) -> None:
    expected = {kind: rec.indexes.dense(kind) for kind in INDEXED_KINDS}
    hashes = [h for kind in INDEXED_KINDS for h in rec.store.text_hashes(kind).values()]
    assert rec.encoder.cache.discard(None, hashes) > 0  # empty cache: Ray has every text to encode
    rec.close()

    result = CliRunner().invoke(
        app, ["--data-dir", str(settings.data_dir), "index", "rebuild", "--engine", "ray", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "Index reconstruits" in result.output

    fresh = Recommender(settings, encoder=use_encoder)
    assert set(fresh.open().values()) == {"loaded"}  # written by the Ray rebuild, in sync with the store
    assert fresh.encoder.cache.count() >= len(set(hashes))  # Ray's vectors went to the cache too
    for kind in INDEXED_KINDS:
        ids = expected[kind].id_array()
        assert np.array_equal(fresh.indexes.dense(kind).id_array(), ids)
        assert np.allclose(fresh.indexes.dense(kind).vectors(ids), expected[kind].vectors(ids), atol=1e-5)
    assert fresh.member_for_need("mini", "p1-n1", k=3)[0].id == "m1"
    fresh.close()


def test_unknown_engine_is_refused(settings) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "index", "rebuild", "--engine", "spark"])
    assert result.exit_code == 2 and "local ou ray" in result.output
