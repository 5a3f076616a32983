"""The error responses each route documents (bodies are shaped in services/payloads.py)."""

from __future__ import annotations

from typing import Any

PROBLEM_TITLES = {
    400: "Bad request",
    401: "No or unknown API key",
    403: "The key's role may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body over 1 MiB",
    422: "Validation failed; `errors` names each field",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for problem+json errors (401, 403 and 422 always apply)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({401, 403, 413, 422, *codes}):
        out[code] = {
            "description": PROBLEM_TITLES[code],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    return out
