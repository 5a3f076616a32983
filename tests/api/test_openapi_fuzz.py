"""Schemathesis over the app's own OpenAPI schema: no input gets a 5xx, every answer matches
the schema (documented status, media type and body), schema-invalid input is refused."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks
from schemathesis.core.parameters import ParameterLocation

from omniorder.api.app import create_app
from omniorder.config import Settings
from omniorder.db.engine import make_engine
from omniorder.db.migrate import upgrade
from tests.factories import api_location, api_product, api_stock, order_body

pytestmark = pytest.mark.slow
KEY = "fuzz-admin-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _migrated_app() -> FastAPI:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='omniorder-fuzz-')) / 'fuzz.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return create_app(Settings(database_url=url, admin_key=KEY, background_worker=False))


APP = _migrated_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def seeded() -> Iterator[None]:
    """A small network, so that valid-looking requests reach deep code."""
    with TestClient(APP) as client:
        client.headers.update(AUTH)
        api_location(client, "NEWARK", "NEWARK")
        api_location(client, "DALLAS", "DALLAS", type="store", can_pickup=True)
        for sku in ("A", "B", "0"):
            api_product(client, sku)
        api_stock(client, "NEWARK", "A", 1000)
        api_stock(client, "DALLAS", "B", 1000)
        for i in range(3):
            client.post("/v1/orders", json=order_body(f"F-{i}", [("A", 1), ("B", 1)]))
        yield


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error_and_answers_match_the_schema(case: Any) -> None:
    # Authenticate, except where the case deliberately sends a bad or missing header.
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    case.call_and_validate(
        headers=None if negative_headers else AUTH,
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.negative_data_rejection,
        ],
    )
