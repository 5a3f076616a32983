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

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.uow import UnitOfWork

LIVE_OR_DONE = ("pending", "accepted", "picked", "ready_for_pickup", "shipped", "picked_up")
COST_TERMS = ("shipments", "handling", "units", "distance", "backorder", "lateness", "total")


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(num / den, 6)


def kpis(
    uow: UnitOfWork, start: datetime | None, end: datetime | None, channel: str | None
) -> dict[str, Any]:
    o, ol, f, fl = t.orders, t.order_lines, t.fulfillments, t.fulfillment_lines
    q = select(o.c.id, o.c.promise_by)
    if start is not None:
        q = q.where(o.c.created_at >= start)
    if end is not None:
        q = q.where(o.c.created_at < end)
    if channel is not None:
        q = q.where(o.c.channel == channel)
    promised = {r.id: r.promise_by for r in uow.conn.execute(q)}
    ids = list(promised)
    totals: dict[str, float] = defaultdict(float)
    cost = dict.fromkeys(COST_TERMS, 0.0)
    short = 0
    fulfillments: dict[str, list[Any]] = defaultdict(list)
    for chunk in (ids[i : i + 1000] for i in range(0, len(ids), 1000)):
        waiting: set[str] = set()
        for ln in uow.conn.execute(select(ol).where(ol.c.order_id.in_(chunk))):
            totals["ordered"] += ln.quantity - ln.cancelled
            totals["filled"] += ln.allocated + ln.shipped
            if ln.backordered > 0:
                waiting.add(ln.order_id)
        short += len(waiting)
        rows = uow.conn.execute(
            select(
                f.c.id,
                f.c.order_id,
                f.c.distance_km,
                f.c.estimated_delivery_date,
                t.locations.c.type,
            )
            .join(t.locations, t.locations.c.id == f.c.location_id)
            .where(f.c.order_id.in_(chunk), f.c.state.in_(LIVE_OR_DONE))
        )
        for r in rows:
            fulfillments[r.order_id].append(r)
        fids = [r.id for i in chunk for r in fulfillments[i]]
        units: dict[str, int] = defaultdict(int)
        for sub in (fids[i : i + 1000] for i in range(0, len(fids), 1000)):
            for r in uow.conn.execute(select(fl).where(fl.c.fulfillment_id.in_(sub))):
                units[r.fulfillment_id] += r.quantity
        for rs in (fulfillments[i] for i in chunk):
            for r in rs:
                totals["units_shipped_from"] += units[r.id]
                totals["unit_km"] += units[r.id] * (r.distance_km or 0.0)
        st = t.sourcing_traces
        for trace in uow.conn.execute(
            select(st.c.trace).where(st.c.order_id.in_(chunk), st.c.round == 1)
        ).scalars():
            chosen = (trace or {}).get("chosen", {}).get("cost", {})
            for term in COST_TERMS:
                cost[term] += float(chosen.get(term, 0.0))
    n = len(ids)
    count = sum(len(rs) for rs in fulfillments.values())
    stores = sum(1 for rs in fulfillments.values() for r in rs if r.type == "store")
    split = sum(1 for rs in fulfillments.values() if len({r.id for r in rs}) > 1)
    with_promise = [i for i in ids if promised[i] is not None]
    on_time = sum(
        1
        for i in with_promise
        if fulfillments[i]
        and all(
            r.estimated_delivery_date is not None and r.estimated_delivery_date <= promised[i]
            for r in fulfillments[i]
        )
    )
    return {
        "from": None if start is None else start.isoformat(),
        "to": None if end is None else end.isoformat(),
        "channel": channel,
        "orders": n,
        "split_rate": _ratio(split, n),
        "fulfillments_per_order": _ratio(count, n),
        "fill_rate": _ratio(totals["filled"], totals["ordered"]),
        "short_ship_rate": _ratio(short, n),
        "km_per_unit": _ratio(totals["unit_km"], totals["units_shipped_from"]),
        "store_share": _ratio(stores, count),
        "on_time_rate": _ratio(on_time, len(with_promise)),
        "orders_with_promise": len(with_promise),
        "cost": {k: round(v, 6) for k, v in cost.items()},
    }
