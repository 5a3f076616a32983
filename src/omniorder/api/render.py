"""Domain objects to JSON bodies, and the error responses each route documents."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from omniorder.db.repositories.catalog import Channel
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.repositories.ledger import LedgerEntry
from omniorder.domain.model import Location, Product, StockPosition
from omniorder.domain.sourcing import SourcingProfile
from omniorder.services.catalog import profile_rules

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


def location(loc: Location) -> dict[str, Any]:
    data = asdict(loc)
    data["type"] = loc.type.value
    data["working_days"] = [d for d in loc.working_days.split(",") if d]
    data["closed_dates"] = [d.isoformat() for d in loc.closed_dates]
    return data


def product(p: Product) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "weight_kg": p.weight_kg}


def position(p: StockPosition) -> dict[str, Any]:
    return {
        "location_id": p.location_id,
        "sku": p.sku,
        "on_hand": p.on_hand,
        "reserved": p.reserved,
        "safety_stock": p.safety_stock,
        "available": p.available,
    }


def ledger_entry(e: LedgerEntry) -> dict[str, Any]:
    data = asdict(e)
    data["created_at"] = e.created_at.isoformat()
    return data


def profile(p: SourcingProfile) -> dict[str, Any]:
    return {"name": p.name, "version": p.version, **profile_rules(p)}


def channel(c: Channel) -> dict[str, Any]:
    return {
        "id": c.id,
        "sourcing_profile": c.sourcing_profile,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def api_key(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "role": k.role.value,
        "prefix": k.prefix,
        "channel": k.channel,
        "location_ids": None if k.location_ids is None else list(k.location_ids),
        "created_at": k.created_at.isoformat(),
    }
