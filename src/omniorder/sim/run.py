"""Replay one order stream through several routing strategies and compare their KPIs.

Each strategy starts from its own copy of the network's stock, sources the orders in the
same sequence (every location is a candidate with what it still has), and consumes the
units it allocates, so that early choices shape what is left for later orders, as in a
real day. All plans are priced with the same profile.

``batch`` releases the orders in windows and allocates each window jointly
(:mod:`omniorder.sim.batch_run`).

KPIs per strategy: split rate, fulfillments per order, fill rate (units allocated over
units ordered), short-ship rate (orders with a unit backordered), km per unit, total cost
and its terms, on-time rate (orders whose every unit arrives by the promised date), CO2,
store share of fulfillments. The LP lower bound of the whole run (every order known in
advance, all stock shared) tells how far each strategy is from any possible allocation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omniorder.demo.network import DemoOrder
from omniorder.domain.batch import lower_bound
from omniorder.domain.sourcing import Plan, SourcingProfile, prepare
from omniorder.domain.strategies import STRATEGIES, Strategy
from omniorder.sim.batch_run import BatchOptions, run_batch
from omniorder.sim.common import Recorder, Tally, candidates, request_of
from omniorder.sim.network import SimNetwork

BATCH = "batch"
ALL_STRATEGIES = (*STRATEGIES, BATCH)


@dataclass(slots=True)
class SimResult:
    #: KPIs per strategy, in the order asked.
    kpis: dict[str, dict[str, Any]]
    #: Units per (location, destination cell) per strategy, for the map.
    flows: dict[str, list[dict[str, Any]]]
    #: Windows, solver time and the worst proven gap of the batch strategy, when it ran.
    batch: dict[str, Any] | None = None
    #: The LP lower bound of the whole run's total cost, when asked for.
    lower_bound: float | None = None
    #: Each order's plan per strategy, when asked for (what-if comparisons).
    plans: dict[str, list[Plan]] = field(default_factory=dict)


def simulate(
    net: SimNetwork,
    orders: Sequence[DemoOrder],
    strategies: Sequence[str],
    profile: SourcingProfile | None = None,
    advance: Callable[[], None] = lambda: None,
    batch: BatchOptions | None = None,
    bound: bool = False,
    keep_plans: bool = False,
) -> SimResult:
    """KPIs per strategy for ``orders`` over ``net`` (each strategy on its own stock)."""
    profile = profile or SourcingProfile()
    recorder = Recorder(net)
    result = SimResult({}, {})
    for name in strategies:
        stock = net.stock_copy()
        tally = Tally()
        if keep_plans:
            tally.plans = []
        if name == BATCH:
            result.batch = run_batch(
                net, orders, profile, batch or BatchOptions(), stock, tally, recorder, advance
            )
        else:
            route: Strategy = STRATEGIES[name]
            for order in orders:
                started = time.perf_counter()
                chosen = route(request_of(order), candidates(net.locations, stock, order), profile)
                tally.seconds += time.perf_counter() - started
                recorder.record(tally, stock, order, chosen, order.placed_at)
                advance()
        result.kpis[name] = tally.kpis()
        result.flows[name] = tally.flow_list()
        if tally.plans is not None:
            result.plans[name] = tally.plans
    if bound:
        result.lower_bound = whole_run_bound(net, orders, profile)
    return result


def whole_run_bound(
    net: SimNetwork, orders: Sequence[DemoOrder], profile: SourcingProfile
) -> float:
    """The LP lower bound of the total cost of routing all ``orders`` over ``net``'s stock."""
    stock = net.stock_copy()
    problems = [
        prepare(request_of(o), candidates(net.locations, stock, o), profile)[0] for o in orders
    ]
    return lower_bound(problems, stock)
