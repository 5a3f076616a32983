"""What-if replay of stored orders: the KPIs of how they were actually routed, and how many
orders a what-if routes differently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omniorder.demo.network import DemoOrder
from omniorder.domain.delivery import estimate_delivery_date
from omniorder.domain.model import ServiceLevel
from omniorder.domain.sourcing import Plan, SourcingProfile, cost_of
from omniorder.sim.common import Recorder, Tally
from omniorder.sim.network import SimNetwork
from omniorder.sim.sources import Routed


def as_routed(
    net: SimNetwork,
    orders: Sequence[DemoOrder],
    routed: Mapping[str, Routed],
    profile: SourcingProfile,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[Plan]]:
    """KPIs, flows and plans of how stored ``orders`` were actually routed, priced with
    ``profile`` (the baseline of a what-if replay)."""
    recorder = Recorder(net)
    stock = net.stock_copy()
    tally = Tally(plans=[])
    for order in orders:
        done = routed[order.external_id]
        late: dict[str, int] = {}
        level = ServiceLevel(order.service_level)
        if profile.late_day_cost > 0 and order.promise_by and order.placed_at:
            for a in done.allocations:
                arrives = estimate_delivery_date(
                    order.placed_at, a.distance_km, level, recorder.by_id[a.location_id].calendar
                )
                late[a.location_id] = max(0, (arrives - order.promise_by).days)
        handling = {
            a.location_id: recorder.by_id[a.location_id].handling_cost for a in done.allocations
        }
        backordered = sum(q for _, q in done.backordered)
        cost = cost_of(done.allocations, handling, backordered, profile, late)
        chosen = Plan(done.allocations, done.backordered, cost)
        recorder.record(tally, stock, order, chosen, order.placed_at)
    return tally.kpis(), tally.flow_list(), tally.plans or []


def changed_plans(before: Sequence[Plan], after: Sequence[Plan]) -> int:
    """How many orders a what-if routes differently (other locations or other lines)."""
    return sum(
        {(a.location_id, a.lines) for a in x.allocations}
        != {(a.location_id, a.lines) for a in y.allocations}
        for x, y in zip(before, after, strict=True)
    )
