"""KPIs over real orders: the numbers the simulator reports, for the console and monitoring.

Over the orders captured in [from, to) (and of one channel, if given):

* ``split_rate``: orders shipping from two or more locations (fulfillments not rejected or
  cancelled), ``fulfillments_per_order``;
* ``fill_rate``: units allocated or shipped over units ordered and not cancelled;
  ``short_ship_rate``: orders with units still backordered;
* ``km_per_unit``: distance from the fulfilling location, per unit;
* ``store_share``: fulfillments at stores;
* ``on_time_rate``: of the orders with a ``promise_by`` date, those whose every fulfillment is
  estimated to arrive by then;
* ``cost``: the sourcing engine's cost of the plans chosen at capture (first trace round),
  split into its terms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omniorder.db.uow import UnitOfWork

COST_TERMS = ("shipments", "handling", "units", "distance", "backorder", "lateness", "total")


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(num / den, 6)


def kpis(
    uow: UnitOfWork, start: datetime | None, end: datetime | None, channel: str | None
) -> dict[str, Any]:
    got = uow.reports.kpi_inputs(start, end, channel)
    promised, shipped = got.promised, got.shipped_from
    n = len(promised)
    parcels = [r for rs in shipped.values() for r in rs]
    units = sum(r.units for r in parcels)
    unit_km = sum(r.units * (r.distance_km or 0.0) for r in parcels)
    stores = sum(1 for r in parcels if r.location_type == "store")
    split = sum(1 for rs in shipped.values() if len(rs) > 1)
    with_promise = {i: by for i, by in promised.items() if by is not None}
    on_time = sum(
        1
        for i, by in with_promise.items()
        if shipped.get(i)
        and all(
            r.estimated_delivery_date is not None and r.estimated_delivery_date <= by
            for r in shipped[i]
        )
    )
    return {
        "from": None if start is None else start.isoformat(),
        "to": None if end is None else end.isoformat(),
        "channel": channel,
        "orders": n,
        "split_rate": _ratio(split, n),
        "fulfillments_per_order": _ratio(len(parcels), n),
        "fill_rate": _ratio(got.units_filled, got.units_ordered),
        "short_ship_rate": _ratio(got.orders_short, n),
        "km_per_unit": _ratio(unit_km, units),
        "store_share": _ratio(stores, len(parcels)),
        "on_time_rate": _ratio(on_time, len(with_promise)),
        "orders_with_promise": len(with_promise),
        "cost": {k: round(got.first_plan_cost.get(k, 0.0), 6) for k in COST_TERMS},
    }
