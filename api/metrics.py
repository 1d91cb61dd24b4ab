"""Observability: Prometheus metrics at ``/metrics`` and structured (JSON) logs.

Metrics (one registry per app, no module-level globals):

- ``maillage_http_requests_total{method, route, status}`` and
  ``maillage_http_request_duration_seconds{method, route}`` (histogram), per route
  *template* (``/territories/{territory_id}/needs/{need_id}/members``), so ids never
  become labels;
- ``maillage_index_vectors{entity, structure}``: vectors in each index, read at scrape time;
- ``maillage_encoder_seconds_total`` / ``maillage_encoder_texts_total``: time spent in the
  model and texts it encoded (cache hits cost nothing and are counted apart in
  ``maillage_encoder_cache_hits_total``).

``/metrics`` needs an admin key (of any territory: the figures are the whole process's), in
``X-API-Key`` or as ``Authorization: Bearer <key>`` (what Prometheus sends with its
``authorization`` scrape setting); ``/health`` takes none (a load balancer calls it) and shows
its details to an admin key only (``api/routes.py``).

Logs: with ``MAILLAGE_LOG_FORMAT=json`` every log record is one JSON object per line
(``ts``, ``level``, ``logger``, ``message`` and the record's extra fields); each request
writes one ``maillage.access`` record with its method, route, status and duration.

Example:
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> TestClient(app).get("/metrics").text.count("maillage_http_requests_total")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from api.deps import require_admin

access_log = logging.getLogger("maillage.access")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the record's ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS and not k.startswith("_")})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(fmt: str, level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON (``fmt == "json"``); ``text`` leaves logging as it is."""
    if fmt != "json":
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(min(root.level or level, level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class _StateCollector:
    """Index sizes and encoder counters, read from the recommender at scrape time."""

    def __init__(self, get_recommender: Callable[[], Any]) -> None:
        self._get = get_recommender

    def collect(self) -> Iterator[Any]:
        rec = self._get()
        if rec is None:
            return
        vectors = GaugeMetricFamily("maillage_index_vectors", "Vecteurs dans l'index", labels=["entity", "structure"])
        if not rec.is_open:  # not loaded yet: nothing to report (do not load the model for a scrape)
            return
        for entity in rec.indexes.kinds:
            index = rec.indexes.dense(entity)
            vectors.add_metric([entity, index.structure], len(index))
        yield vectors
        encoder = rec.indexes.encoder
        stats = encoder.stats
        yield CounterMetricFamily(
            "maillage_encoder_seconds", "Temps passé dans le modèle d'encodage", value=stats.get("seconds", 0.0)
        )
        yield CounterMetricFamily("maillage_encoder_texts", "Textes encodés par le modèle", value=stats.get("misses", 0))
        yield CounterMetricFamily("maillage_encoder_cache_hits", "Textes trouvés dans le cache", value=stats.get("hits", 0))


class _Instrument:
    """Pure ASGI middleware: counts and times each HTTP request by route template."""

    def __init__(self, app: Any, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            self.requests.labels(method, path, str(status["code"])).inc()
            self.latency.labels(method, path).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                path,
                status["code"],
                extra={"method": method, "route": path, "status": status["code"], "ms": round(elapsed * 1000, 2)},
            )


def install(app: FastAPI) -> CollectorRegistry:
    """Add the request metrics middleware and ``GET /metrics`` to an app; returns its registry."""
    registry = CollectorRegistry()
    requests = Counter("maillage_http_requests", "Requêtes HTTP", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "maillage_http_request_duration_seconds",
        "Durée des requêtes HTTP",
        ["method", "route"],
        buckets=BUCKETS,
        registry=registry,
    )
    registry.register(_StateCollector(lambda: getattr(app.state, "recommender", None)))
    app.add_middleware(_Instrument, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        require_admin(request, "les métriques sont réservées aux clés admin")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.state.metrics_registry = registry
    return registry
