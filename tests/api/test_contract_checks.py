"""The schema checks every API test runs are real: a body that drifts from its declared
schema, or a status a route does not document, fails the test that receives it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from omniorder.api import render
from omniorder.api.responses import JSONResponse
from omniorder.api.schemas import ProductOut
from omniorder.services import payloads
from tests import contract
from tests.factories import api_product


def test_a_body_with_a_key_its_schema_does_not_declare_fails(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_product(client, "A")
    real = payloads.product_dict

    def drifted(p: Any) -> dict[str, Any]:
        return {**real(p), "colour": "teal"}

    monkeypatch.setattr(payloads, "product_dict", drifted)
    with pytest.raises(AssertionError, match="colour"):
        client.get("/v1/products/A")


def test_a_body_of_the_wrong_type_fails(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_product(client, "A")
    real = payloads.product_dict
    monkeypatch.setattr(payloads, "product_dict", lambda p: {**real(p), "weight_kg": "heavy"})
    with pytest.raises(ValueError, match="weight_kg"):
        client.get("/v1/products/A")


def test_a_status_the_route_does_not_document_fails() -> None:
    app = FastAPI()

    @app.get("/thing", response_model=ProductOut, responses=render.problems(404))
    def thing() -> JSONResponse:
        return JSONResponse({"sku": "A", "name": "A", "weight_kg": None}, status_code=418)

    routes = contract.record_routes(app)
    with TestClient(app) as c:
        contract.check_answers(c, routes)
        with pytest.raises(AssertionError, match="status not documented"):
            c.get("/thing")
