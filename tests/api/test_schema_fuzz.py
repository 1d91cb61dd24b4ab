"""Schemathesis against the OpenAPI schema: no server error, responses as declared.

About 25 generated cases per operation (over 500 in all), with an admin key of the mini
territory; every valid territory id is pointed at "mini" so that the cases reach the
routes' own validation and logic instead of stopping at "unknown territory".

Then negative data on every operation (values of the wrong type, out of bounds, missing
or unknown fields, malformed paths and queries): each case is refused with a 4xx, never a
server error (issue 15, hostile bodies).
"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from matching.domain import ID_PATTERN
from tests.conftest import MINI

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
]


KEY: dict[str, str] = {}
CALLS: list[tuple[str, int]] = []  # (operation, status) of every generated case sent


def _app():
    import tempfile

    from api.app import create_app
    from embeddings.encoder import UseMultilingualEncoder
    from matching.ingest import read_file
    from matching.recommender import Recommender
    from matching.settings import Settings

    rec = Recommender(Settings(data_dir=tempfile.mkdtemp(prefix="maillage-fuzz-")), encoder=UseMultilingualEncoder())
    rec.open()
    rec.ingest(read_file(MINI))
    from matching import access

    KEY["X-API-Key"] = access.create_key(rec.store, "mini", "admin")[0]
    app = create_app(recommender=rec)
    app.state.recommender = rec  # the lifespan does not run under schemathesis' ASGI transport
    return app


APP = _app()
# the key is configured (not only sent), so that schemathesis knows a case's key is replaced by it
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=SchemathesisConfig.from_dict({"headers": KEY}))
negative = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, config=SchemathesisConfig.from_dict({"headers": KEY, "generation": {"mode": "negative"}})
)
NEGATIVE_CALLS: list[tuple[str, int]] = []


@schema.parametrize()
@hsettings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case) -> None:
    territory = (case.path_parameters or {}).get("territory_id")
    if isinstance(territory, str) and re.match(ID_PATTERN, territory):
        case.path_parameters["territory_id"] = "mini"
    response = case.call_and_validate(checks=CHECKS, headers=KEY)
    CALLS.append((case.operation.label, response.status_code))


def test_the_fuzz_sent_enough_cases_and_reached_the_routes() -> None:
    """Runs after the fuzz (same module): over 500 cases, and not all of them stopped at a 4xx."""
    from collections import Counter

    assert len(CALLS) >= 500, len(CALLS)
    statuses = Counter(s // 100 for _, s in CALLS)
    assert statuses[2] >= 100, statuses  # many cases got through to the recommender
    assert statuses[5] == 0
    assert len({op for op, _ in CALLS}) >= 20


@negative.parametrize()
@hsettings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_negative_data_is_refused_without_a_server_error(case) -> None:
    territory = (case.path_parameters or {}).get("territory_id")
    if isinstance(territory, str) and re.match(ID_PATTERN, territory):
        case.path_parameters["territory_id"] = "mini"
    response = case.call_and_validate(checks=[not_a_server_error, negative_data_rejection], headers=KEY)
    NEGATIVE_CALLS.append((case.operation.label, response.status_code))


def test_the_negative_fuzz_reached_every_operation() -> None:
    """Runs after the negative fuzz (same module): every operation, refused with a 4xx."""
    from collections import Counter

    assert len({op for op, _ in NEGATIVE_CALLS}) >= 20, len(NEGATIVE_CALLS)
    statuses = Counter(s for _, s in NEGATIVE_CALLS)
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses[422] >= 100, statuses  # most of them stop at validation, in French


def test_without_a_key_every_route_but_health_is_401(client) -> None:
    paths = [(p, m) for p, item in schema.raw_schema["paths"].items() for m in item]
    assert len(paths) >= 20
    for path, method in paths:
        url = path.replace("{territory_id}", "mini")
        url = re.sub(r"\{[a-z_]+\}", "x1", url)
        r = client.request(method.upper(), url, headers={"X-API-Key": ""}, json={})
        expected = 200 if path == "/health" else 401
        assert r.status_code == expected, (method, path, r.status_code)
