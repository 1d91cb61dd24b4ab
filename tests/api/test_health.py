"""``/health`` tells the truth: the change log's applied and last positions, the lag, and 503
past the lag setting (so that a load balancer takes a process that is behind out)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app
from matching import access
from matching.domain import Member
from matching.ingest import read_file
from matching.recommender import Recommender
from matching.settings import Settings
from tests.conftest import MINI


def test_health_answers_503_past_the_lag_setting_and_200_once_caught_up(tmp_path, use_encoder) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    other = Recommender(Settings(data_dir=tmp_path / "other", database_url=url), encoder=use_encoder)
    other.open()
    other.ingest(read_file(MINI))
    # this process polls the log every 30 s only: it falls behind on purpose
    slow = Settings(data_dir=tmp_path / "var", database_url=url, feed_poll_seconds=30, feed_max_lag_seconds=0.3)
    rec = Recommender(slow, encoder=use_encoder)
    with TestClient(create_app(recommender=rec)) as client:
        # the details (log positions, indexes) are shown to an admin key only
        client.headers["X-API-Key"] = access.create_key(rec.store, "mini", "admin")[0]
        body = client.get("/health").json()
        assert body["status"] == "ok" and body["feed"]["lag_changes"] == 0 and body["feed"]["following"]
        assert body["feed"]["applied"] == body["feed"]["last"] > 0 and body["feed"]["mode"] == "poll"
        other.upsert_members("mini", [Member(id="n1", display_name="N.", skills="vitrailliste", consent=True)])
        behind = client.get("/health").json()
        assert behind["feed"]["lag_changes"] == 1 and behind["indexes"]["member"]["in_sync"] is None
        time.sleep(0.4)
        r = client.get("/health")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["status"] == "lagging" and r.json()["feed"]["lag_seconds"] > 0.3
        rec.feed.catch_up()
        r = client.get("/health")
        assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["indexes"]["member"]["in_sync"] is True
    assert not rec.feed.running  # stopped with the app
    other.close()
    rec.close()
