"""Prometheus metrics at /metrics and structured logs."""

from __future__ import annotations

import json
import logging

from api.metrics import JsonFormatter


def test_metrics_count_requests_by_route_and_report_indexes(client) -> None:
    assert client.get("/territories/mini/needs/p1-n1/members?k=3").status_code == 200
    assert client.get("/territories/mini/needs/inconnu/members").status_code == 404
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    route = "/territories/{territory_id}/needs/{need_id}/members"
    assert f'maillage_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0' in text
    assert f'maillage_http_requests_total{{method="GET",route="{route}",status="404"}} 1.0' in text
    assert f'maillage_http_request_duration_seconds_count{{method="GET",route="{route}"}} 2.0' in text
    assert 'maillage_index_vectors{entity="member",structure="flat-ip"}' in text
    assert "maillage_encoder_seconds_total" in text and "maillage_encoder_texts_total" in text
    assert "p1-n1" not in text  # ids never become labels


def test_metrics_need_an_admin_key_health_none_and_metrics_stay_out_of_the_schema(client) -> None:
    assert client.get("/metrics").status_code == 200  # the client's admin key
    assert client.get("/metrics", headers={"X-API-Key": ""}).status_code == 401
    assert client.get("/health", headers={"X-API-Key": ""}).status_code == 200
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_json_log_lines() -> None:
    record = logging.LogRecord("maillage.access", logging.INFO, __file__, 1, "GET %s", ("/health",), None)
    record.status, record.ms = 200, 1.5
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /health" and line["level"] == "info" and line["logger"] == "maillage.access"
    assert line["status"] == 200 and line["ms"] == 1.5 and line["ts"].endswith("Z")
