"""The ``batch`` strategy of a simulation run.

``batch`` releases the orders in windows (so many orders, or so many minutes of them) and
allocates each window jointly (:mod:`omniorder.domain.batch`), starting from what routing
the window's orders one by one would do, so it never answers a dearer window. A window's
orders are released, and their delivery dates estimated, when the window closes; a window
also closes before a location's cut-off passes, so that no order misses a ship date by
waiting for its window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from omniorder.demo.network import DemoOrder
from omniorder.domain.batch import Protection, allocate_jointly, withheld
from omniorder.domain.delivery import ShippingCalendar
from omniorder.domain.sourcing import Problem, SourcingProfile, plan, plan_from, prepare
from omniorder.sim.common import Recorder, Tally, candidates, request_of
from omniorder.sim.network import SimNetwork
from omniorder.sim.pricing import StockPricing, picked_up_at


@dataclass(frozen=True, slots=True)
class BatchOptions:
    #: A window closes after this many orders ...
    orders: int = 200
    #: ... or when its first order is this many minutes old (None: count only).
    minutes: float | None = 60.0
    #: HiGHS time limit per window.
    seconds: float = 30.0
    #: Price scarce stock by what the orders still to come would save with it (see
    #: :class:`StockPricing`); False allocates each window on its own costs alone.
    prices: bool = True
    #: With prices: ship the lines of SKUs the network is far short of only in the share that
    #: the relaxation of the window and the forecast ships (see :class:`StockPricing`).
    rationing: bool = True
    #: With prices: orders that ship pay for a store's last units what the store's pickups
    #: still to come would lose without them (see :class:`StockPricing`).
    pickup_protection: bool = True


def windows(
    orders: Sequence[DemoOrder],
    options: BatchOptions,
    calendars: Sequence[ShippingCalendar] = (),
) -> Iterator[list[DemoOrder]]:
    """The orders in release windows: at most ``options.orders`` each, and when orders carry
    placement times, none later than ``options.minutes`` after the window's first, and none
    placed after a cut-off of one of ``calendars`` that the window's first order was placed
    before (a wave is released before the carriers' cut-offs, as warehouses plan their pick
    waves, so that no order misses a ship date by waiting for its window)."""
    span = None if options.minutes is None else timedelta(minutes=options.minutes)
    current: list[DemoOrder] = []
    ships: list[date] = []
    for order in orders:
        placed = order.placed_at
        dates = [] if placed is None else [c.ship_date(placed) for c in calendars]
        if current and (
            len(current) >= options.orders
            or (
                span is not None
                and order.placed_at is not None
                and current[0].placed_at is not None
                and order.placed_at - current[0].placed_at >= span
            )
            or bool(dates and ships and dates != ships)
        ):
            yield current
            current = []
        if not current:
            ships = dates
        current.append(order)
    if current:
        yield current


def shipping_calendars(net: SimNetwork) -> list[ShippingCalendar]:
    """The distinct calendars of ``net``'s active locations: the cut-offs a batch window
    closes before (see :func:`windows`)."""
    return list(dict.fromkeys(loc.calendar for loc in net.locations if loc.active))


def run_batch(
    net: SimNetwork,
    orders: Sequence[DemoOrder],
    profile: SourcingProfile,
    options: BatchOptions,
    stock: dict[str, dict[str, int]],
    tally: Tally,
    recorder: Recorder,
    advance: Callable[[], None],
) -> dict[str, Any]:
    count = 0
    solver = 0.0
    worst_gap = 0.0
    improved = 0
    priced = 0
    protected = 0
    pricing = (
        StockPricing(
            net,
            profile,
            len(orders),
            options.pickup_protection,
            arrivals=[o.placed_at for o in orders],
        )
        if options.prices
        else None
    )
    for window in windows(orders, options, shipping_calendars(net)):
        started = time.perf_counter()
        released = max((o.placed_at for o in window if o.placed_at is not None), default=None)
        prices = pricing.for_window(window, stock) if pricing is not None else {}
        priced += bool(prices)
        problems: list[Problem] = []
        start: list[dict[str, dict[str, int]]] = []
        trial = {k: dict(v) for k, v in stock.items()}
        for order in window:
            request = request_of(order, released)
            problem, _ = prepare(request, candidates(net.locations, stock, order), profile)
            problems.append(problem)
            # the window routed one order at a time: the start HiGHS improves on
            one = plan(request, candidates(net.locations, trial, order), profile).plan
            taking: dict[str, dict[str, int]] = {}
            for a in one.allocations:
                taking[a.location_id] = dict(a.lines)
                for sku, q in a.lines:
                    trial[a.location_id][sku] -= q
            start.append(taking)
        program = problems
        if pricing is not None and options.rationing:
            shipping = pricing.shipping(window, problems, stock)
            program = [
                p if all(ships) else withheld(p, ships)
                for p, ships in zip(problems, shipping, strict=True)
            ]
            start = [
                {
                    loc: {sku: q for sku, q in lines.items() if ships[p.skus.index(sku)]}
                    for loc, lines in taking.items()
                }
                for p, ships, taking in zip(problems, shipping, start, strict=True)
            ]
        protection = None
        tiers = pricing.protection(window, stock) if pricing is not None else {}
        # a unit that orders that ship take costs the more of its price and its protection
        tiers = {
            key: [max(0.0, t - prices.get(key, 0.0)) for t in levels]
            for key, levels in tiers.items()
            if levels[-1] > prices.get(key, 0.0)
        }
        if tiers:
            # the pickups it protects take a store's stock at no extra cost
            pays = [picked_up_at(o) is None for o in window]
            protection = Protection(tiers, pays)
            protected += 1
        joint = allocate_jointly(
            program, stock, start, seconds=options.seconds, prices=prices, protection=protection
        )
        tally.seconds += time.perf_counter() - started
        solver += joint.seconds
        worst_gap = max(worst_gap, joint.gap)
        count += 1
        improved += joint.takings != start
        for order, problem, taking in zip(window, problems, joint.takings, strict=True):
            recorder.record(tally, stock, order, plan_from(problem, taking, profile), released)
            advance()
        if pricing is not None:
            pricing.saw(window)
    return {
        "window_orders": options.orders,
        "window_minutes": options.minutes,
        "windows": count,
        "windows_improved": improved,
        "solver_seconds": round(solver, 3),
        "worst_gap": round(worst_gap, 9),
        "stock_prices": options.prices,
        "windows_priced": priced,
        "price_refreshes": 0 if pricing is None else pricing.refreshes,
        "pricing_seconds": 0.0 if pricing is None else round(pricing.seconds, 3),
        "rationing": options.prices and options.rationing,
        "pickup_protection": options.prices and options.pickup_protection,
        "windows_protected": protected,
        "lines_withheld": 0 if pricing is None else pricing.withheld_lines,
        "rationing_seconds": 0.0 if pricing is None else round(pricing.rationing_seconds, 3),
    }
