"""Small builders for test networks, through the API or the services."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from omniorder.domain.model import Location, LocationType, Product
from omniorder.services import catalog, inventory
from omniorder.services.database import Database

# Real coordinates: warehouses and stores in a few US cities.
CITIES = {
    "NYC": (40.7128, -74.0060),
    "NEWARK": (40.7357, -74.1724),
    "CHICAGO": (41.8781, -87.6298),
    "DALLAS": (32.7767, -96.7970),
    "DENVER": (39.7392, -104.9903),
    "LA": (34.0522, -118.2437),
}


def api_location(client: TestClient, loc_id: str, city: str, **overrides: Any) -> dict[str, Any]:
    lat, lon = CITIES[city]
    body = {
        "name": f"{loc_id} {city}",
        "type": "warehouse",
        "latitude": lat,
        "longitude": lon,
        "can_ship": True,
        "can_pickup": False,
        **overrides,
    }
    r = client.put(f"/v1/locations/{loc_id}", json=body)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def api_product(client: TestClient, sku: str) -> None:
    r = client.put(f"/v1/products/{sku}", json={"name": f"Product {sku}", "weight_kg": 0.5})
    assert r.status_code in (200, 201), r.text


def api_stock(client: TestClient, loc_id: str, sku: str, on_hand: int, safety: int = 0) -> None:
    r = client.put(
        f"/v1/inventory/{loc_id}/{sku}", json={"on_hand": on_hand, "safety_stock": safety}
    )
    assert r.status_code == 200, r.text


def order_body(
    external_id: str, lines: list[tuple[str, int]], city: str = "NYC", **overrides: Any
) -> dict[str, Any]:
    lat, lon = CITIES[city]
    return {
        "channel": "web",
        "external_id": external_id,
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
        "ship_to": {"latitude": lat, "longitude": lon},
        **overrides,
    }


def seed_network(
    db: Database, stock: dict[tuple[str, str], int], stores: tuple[str, ...] = ()
) -> None:
    """Locations named after CITIES keys (stores for ids in ``stores``), products, stock."""

    def run(uow: Any) -> None:
        skus = sorted({s for _, s in stock})
        locs = sorted({loc for loc, _ in stock} | set(stores))
        for loc_id in locs:
            lat, lon = CITIES[loc_id]
            store = loc_id in stores
            catalog.put_location(
                uow,
                Location(
                    id=loc_id,
                    name=loc_id,
                    latitude=lat,
                    longitude=lon,
                    type=LocationType.STORE if store else LocationType.WAREHOUSE,
                    can_pickup=store,
                ),
            )
        for sku in skus:
            catalog.put_product(uow, Product(sku, f"Product {sku}"))
        rows = [inventory.SnapshotRow(loc, sku, q) for (loc, sku), q in stock.items()]
        inventory.apply_snapshot(uow, rows, None)

    db.write(run)
