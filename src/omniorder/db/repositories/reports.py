"""Reads over many orders at once: the inputs of the KPIs (``services/stats.py``) and the orders
and network the simulator replays (``sim/sources.py``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import as_utc
from omniorder.db.repositories.base import Repository
from omniorder.db.repositories.catalog import location_from_row
from omniorder.domain.model import Location

#: Fulfillment states whose units came out of the stock pool (live or delivered).
TOOK_STOCK = ("pending", "accepted", "picked", "ready_for_pickup", "shipped", "picked_up")
CHUNK = 1000


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


@dataclass(frozen=True, slots=True)
class ShippedFrom:
    """A live or delivered fulfillment, as the KPIs see it."""

    id: str
    location_type: str
    distance_km: float | None
    estimated_delivery_date: date | None
    units: int


@dataclass(slots=True)
class KpiInputs:
    """What the KPIs are computed from, for the orders of a period."""

    #: order id -> its promise_by date (None: no promise)
    promised: dict[str, date | None] = field(default_factory=dict)
    units_ordered: int = 0  # not cancelled
    units_filled: int = 0  # allocated or shipped
    orders_short: int = 0  # with a unit backordered
    shipped_from: dict[str, list[ShippedFrom]] = field(default_factory=dict)
    #: the sum over the orders of each term of the plan chosen at capture
    first_plan_cost: dict[str, float] = field(default_factory=lambda: defaultdict(float))


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """A stored order as the simulator replays it, with what it took from which location."""

    id: str
    channel: str
    service_level: str
    ship_to: tuple[float, float] | None
    pickup_location_id: str | None
    placed_at: datetime
    promise_by: date | None
    lines: tuple[tuple[str, int], ...]
    backordered: tuple[tuple[str, int], ...]
    #: location id -> (units per SKU, distance km)
    taken: dict[str, tuple[dict[str, int], float | None]]


class ReportQueries(Repository):
    def kpi_inputs(
        self, start: datetime | None, end: datetime | None, channel: str | None
    ) -> KpiInputs:
        o, ol, f, fl = t.orders, t.order_lines, t.fulfillments, t.fulfillment_lines
        q = select(o.c.id, o.c.promise_by)
        if start is not None:
            q = q.where(o.c.created_at >= start)
        if end is not None:
            q = q.where(o.c.created_at < end)
        if channel is not None:
            q = q.where(o.c.channel == channel)
        out = KpiInputs(promised={r.id: r.promise_by for r in self.execute(q)})
        for chunk in _chunks(list(out.promised)):
            waiting: set[str] = set()
            for ln in self.execute(select(ol).where(ol.c.order_id.in_(chunk))):
                out.units_ordered += ln.quantity - ln.cancelled
                out.units_filled += ln.allocated + ln.shipped
                if ln.backordered > 0:
                    waiting.add(ln.order_id)
            out.orders_short += len(waiting)
            rows = list(
                self.execute(
                    select(
                        f.c.id,
                        f.c.order_id,
                        f.c.distance_km,
                        f.c.estimated_delivery_date,
                        t.locations.c.type,
                    )
                    .join(t.locations, t.locations.c.id == f.c.location_id)
                    .where(f.c.order_id.in_(chunk), f.c.state.in_(TOOK_STOCK))
                )
            )
            units: dict[str, int] = defaultdict(int)
            for sub in _chunks([r.id for r in rows]):
                for r in self.execute(select(fl).where(fl.c.fulfillment_id.in_(sub))):
                    units[r.fulfillment_id] += r.quantity
            for r in rows:
                out.shipped_from.setdefault(r.order_id, []).append(
                    ShippedFrom(r.id, r.type, r.distance_km, r.estimated_delivery_date, units[r.id])
                )
            st = t.sourcing_traces
            first = select(st.c.trace).where(st.c.order_id.in_(chunk), st.c.round == 1)
            for trace in self.execute(first).scalars():
                for term, value in (trace or {}).get("chosen", {}).get("cost", {}).items():
                    out.first_plan_cost[term] += float(value)
        return out

    # -- the simulator's view of the network and its orders --------------------------------
    def locations(self) -> list[Location]:
        q = select(t.locations).order_by(t.locations.c.id)
        return [location_from_row(r) for r in self.execute(q)]

    def free_stock(self) -> Iterator[tuple[str, str, int]]:
        """(location id, SKU, units available) of every position with units available."""
        s = t.stock
        q = select(s.c.location_id, s.c.sku, s.c.on_hand, s.c.reserved, s.c.safety_stock)
        for r in self.execute(q):
            free = r.on_hand - r.reserved - r.safety_stock
            if free > 0:
                yield r.location_id, r.sku, free

    def product_weights(self) -> dict[str, float]:
        q = select(t.products.c.sku, t.products.c.weight_kg)
        return {r.sku: r.weight_kg for r in self.execute(q) if r.weight_kg is not None}

    def placed_orders(self) -> list[PlacedOrder]:
        """Every order not cancelled, oldest first, with its lines, its backordered units and
        what its live or delivered fulfillments took from each location."""
        o, ol, f, fl = t.orders, t.order_lines, t.fulfillments, t.fulfillment_lines
        heads = list(
            self.execute(
                select(o).where(o.c.status != "cancelled").order_by(o.c.created_at, o.c.id)
            )
        )
        lines: dict[str, list[tuple[str, int]]] = defaultdict(list)
        back: dict[str, list[tuple[str, int]]] = defaultdict(list)
        taken: dict[str, dict[str, tuple[dict[str, int], float | None]]] = defaultdict(dict)
        for chunk in _chunks([h.id for h in heads]):
            q = select(ol).where(ol.c.order_id.in_(chunk)).order_by(ol.c.order_id, ol.c.line_no)
            for ln in self.execute(q):
                lines[ln.order_id].append((ln.sku, ln.quantity))
                if ln.backordered:
                    back[ln.order_id].append((ln.sku, ln.backordered))
            q2 = (
                select(f.c.order_id, f.c.location_id, f.c.distance_km, fl.c.sku, fl.c.quantity)
                .join(fl, fl.c.fulfillment_id == f.c.id)
                .where(f.c.order_id.in_(chunk), f.c.state.in_(TOOK_STOCK))
            )
            for r in self.execute(q2):
                units, _ = taken[r.order_id].setdefault(r.location_id, ({}, r.distance_km))
                units[r.sku] = units.get(r.sku, 0) + r.quantity
        return [_placed(h, lines, back, taken) for h in heads if h.id in lines]


def _placed(
    h: Any,
    lines: dict[str, list[tuple[str, int]]],
    back: dict[str, list[tuple[str, int]]],
    taken: dict[str, dict[str, tuple[dict[str, int], float | None]]],
) -> PlacedOrder:
    point = None if h.ship_to_latitude is None else (h.ship_to_latitude, h.ship_to_longitude)
    return PlacedOrder(
        id=h.id,
        channel=h.channel,
        service_level=h.service_level,
        ship_to=point,
        pickup_location_id=h.pickup_location_id,
        placed_at=as_utc(h.created_at),
        promise_by=h.promise_by,
        lines=tuple(lines[h.id]),
        backordered=tuple(back.get(h.id, ())),
        taken=dict(taken.get(h.id, {})),
    )
