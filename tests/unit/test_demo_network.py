"""The demo network: real geography, skewed demand, scarce store stock, deterministic."""

from __future__ import annotations

import itertools
import re

import pytest

from omniorder.demo.network import build_network, generate_orders
from omniorder.domain.geo import GeoPoint, haversine_km

ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return build_network()


def test_the_same_seed_builds_the_same_network(net) -> None:  # type: ignore[no-untyped-def]
    assert build_network() == net
    assert generate_orders(net, 20, seed=1) == generate_orders(net, 20, seed=1)
    assert generate_orders(net, 20, seed=1) != generate_orders(net, 20, seed=2)


def test_counts_and_ids_are_valid_and_unique(net) -> None:  # type: ignore[no-untyped-def]
    assert sum(loc.type == "warehouse" for loc in net.locations) == 4
    assert sum(loc.type == "store" for loc in net.locations) == 40
    assert len(net.products) == 200
    ids = [loc.id for loc in net.locations] + [p.sku for p in net.products]
    assert len(set(ids)) == len(ids) and all(ID.match(i) for i in ids)


def test_warehouses_are_spread_across_the_country(net) -> None:  # type: ignore[no-untyped-def]
    whs = [GeoPoint(x.latitude, x.longitude) for x in net.locations if x.type == "warehouse"]
    assert min(haversine_km(a, b) for a, b in itertools.combinations(whs, 2)) > 500


def test_demand_is_skewed_towards_a_few_products(net) -> None:  # type: ignore[no-untyped-def]
    pops = sorted((p.popularity for p in net.products), reverse=True)
    assert abs(sum(pops) - 1) < 1e-9
    assert sum(pops[:20]) > 0.4


def test_stores_hold_scarcer_stock_than_warehouses(net) -> None:  # type: ignore[no-untyped-def]
    kind = {loc.id: loc.type for loc in net.locations}
    store = [s.on_hand for s in net.stock if kind[s.location_id] == "store"]
    wh = [s.on_hand for s in net.stock if kind[s.location_id] == "warehouse"]
    assert max(store) <= 8 < min(wh)
    assert len(store) / 40 < len(wh) / 4


def test_orders_name_known_skus_and_pickup_at_stores(net) -> None:  # type: ignore[no-untyped-def]
    skus = {p.sku for p in net.products}
    stores = {loc.id for loc in net.locations if loc.can_pickup}
    orders = generate_orders(net, 300, pickup_share=0.2)
    assert all(s in skus for o in orders for s, _ in o.lines)
    assert all(len({s for s, _ in o.lines}) == len(o.lines) for o in orders)
    pickups = [o for o in orders if o.service_level == "pickup"]
    assert 30 < len(pickups) < 90
    assert all(o.pickup_location_id in stores and o.ship_to is None for o in pickups)


def test_another_country_works_and_a_tiny_one_is_refused() -> None:
    de = build_network(country="DE", stores=20)
    assert {loc.country for loc in de.locations} == {"DE"}
    with pytest.raises(ValueError, match="cities"):
        build_network(country="VA")
