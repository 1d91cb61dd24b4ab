"""The recommender builds each index with the structure its settings and size call for."""

from __future__ import annotations

import pytest

from matching.cli import DEMO_FILE
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory, use_encoder):
    """The demo territory (320 members) with an automatic index whose threshold is 100."""
    data_dir = tmp_path_factory.mktemp("auto-index")
    rec = Recommender(Settings(data_dir=data_dir, index_threshold=100), encoder=use_encoder)
    rec.open()
    rec.ingest(read_file(DEMO_FILE))
    rec.close()
    return data_dir


def test_auto_index_past_threshold_is_approximate_and_recorded(demo_dir, use_encoder) -> None:
    rec = Recommender(Settings(data_dir=demo_dir, index_threshold=100), encoder=use_encoder)
    assert rec.open()["member"] == "loaded"
    meta = rec.indexes.dense("member").metadata()
    assert meta["kind"] == "ivf-sq8" and meta["count"] == 320
    assert meta["params"]["nlist"] >= 1 and meta["params"]["nprobe"] >= 1
    assert meta["policy"]["threshold"] == 100
    saved = rec.indexes.dense("member").read_metadata(rec.index_path("member"))
    assert saved["kind"] == "ivf-sq8" and saved["params"] == meta["params"] and saved["entity"] == "member"
    assert rec.indexes.dense("offering").metadata()["kind"] == "flat-ip"  # 16 offerings: below the threshold
    health = rec.health()["indexes"]["member"]
    assert health["kind"] == "ivf-sq8" and health["in_sync"]
    assert rec.member_for_need("sceaux-valley", "p0001-n1", k=5)
    rec.close()


def test_setting_overrides_the_automatic_choice(demo_dir, use_encoder) -> None:
    rec = Recommender(Settings(data_dir=demo_dir, index="flat", index_threshold=100), encoder=use_encoder)
    assert rec.open()["member"] == "rebuilt"  # the saved index was built under other settings
    assert rec.indexes.dense("member").metadata()["kind"] == "flat-ip"
    rec.close()
    rec = Recommender(Settings(data_dir=demo_dir, index="flat", index_threshold=100), encoder=use_encoder)
    assert rec.open()["member"] == "loaded"
    rec.close()


def test_small_territory_stays_exact(rec) -> None:
    assert {idx.metadata()["kind"] for idx in (rec.indexes.dense(k) for k in rec.indexes.kinds)} == {"flat-ip"}
