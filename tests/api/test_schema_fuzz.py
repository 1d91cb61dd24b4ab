"""Schemathesis against the OpenAPI schema: no server error, responses as declared.

About 25 generated cases per operation (over 500 in all), on the mini territory.
"""

from __future__ import annotations

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

from tests.conftest import MINI

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
]


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
    app = create_app(recommender=rec)
    app.state.recommender = rec  # the lifespan does not run under schemathesis' ASGI transport
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@hsettings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case) -> None:
    case.call_and_validate(checks=CHECKS)
