"""Replay one order stream through several routing strategies and compare their KPIs.

Each strategy starts from its own copy of the network's stock, sources the orders in the
same sequence (every location is a candidate with what it still has), and consumes the
units it allocates, so that early choices shape what is left for later orders, as in a
real day. All plans are priced with the same profile.

``batch`` releases the orders in windows (so many orders, or so many minutes of them) and
allocates each window jointly (:mod:`omniorder.domain.batch`), starting from what routing
the window's orders one by one would do, so it never answers a dearer window. A window's
orders are released, and their delivery dates estimated, when the window closes; a window
also closes before a location's cut-off passes, so that no order misses a ship date by
waiting for its window.

KPIs per strategy: split rate, fulfillments per order, fill rate (units allocated over
units ordered), short-ship rate (orders with a unit backordered), km per unit, total cost
and its terms, on-time rate (orders whose every unit arrives by the promised date), CO2,
store share of fulfillments. The LP lower bound of the whole run (every order known in
advance, all stock shared) tells how far each strategy is from any possible allocation.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from omniorder.demo.network import DemoOrder
from omniorder.domain.batch import (
    Protection,
    allocate_jointly,
    lower_bound,
    shipped_shares,
    stock_prices,
    withheld,
)
from omniorder.domain.delivery import ShippingCalendar, estimate_delivery_date
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Location, LocationType, ServiceLevel
from omniorder.domain.sourcing import (
    Candidate,
    Plan,
    Problem,
    SourcingProfile,
    SourcingRequest,
    cost_of,
    plan,
    plan_from,
    prepare,
)
from omniorder.domain.strategies import STRATEGIES, Strategy
from omniorder.sim.demand import Storefront
from omniorder.sim.network import SimNetwork, units_per_sku
from omniorder.sim.sources import Routed

TERMS = ("shipments", "handling", "units", "distance", "backorder", "lateness")
BATCH = "batch"
ALL_STRATEGIES = (*STRATEGIES, BATCH)

#: kg CO2e per tonne-km of road freight: Defra/DECC 2012 GHG conversion factors, Annex 7,
#: table 7e, "All HGVs, UK average" load, direct plus indirect (well-to-wheel) emissions
#: (0.12366 direct + 0.02627 indirect). See docs/simulation.md.
CO2_KG_PER_TONNE_KM = 0.14993
#: Weight of a SKU the network gives none for.
DEFAULT_WEIGHT_KG = 1.0
#: Flows on the map are summed per location and destination cell of this many degrees.
FLOW_CELL_DEGREES = 0.5


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


@dataclass(slots=True)
class Tally:
    orders: int = 0
    split: int = 0
    short: int = 0
    fulfillments: int = 0
    store_fulfillments: int = 0
    units_ordered: int = 0
    units_allocated: int = 0
    unit_km: float = 0.0
    promised: int = 0
    on_time: int = 0
    co2_kg: float = 0.0
    seconds: float = 0.0
    cost: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 0.0))
    flows: dict[tuple[str, float, float], int] = field(default_factory=dict)
    plans: list[Plan] | None = None

    def kpis(self) -> dict[str, Any]:
        def ratio(a: float, b: float) -> float | None:
            return None if b == 0 else round(a / b, 6)

        total = sum(self.cost.values())
        return {
            "orders": self.orders,
            "split_rate": ratio(self.split, self.orders),
            "fulfillments_per_order": ratio(self.fulfillments, self.orders),
            "fill_rate": ratio(self.units_allocated, self.units_ordered),
            "short_ship_rate": ratio(self.short, self.orders),
            "km_per_unit": ratio(self.unit_km, self.units_allocated),
            "store_share": ratio(self.store_fulfillments, self.fulfillments),
            "on_time_rate": ratio(self.on_time, self.promised),
            "co2_kg": round(self.co2_kg, 3),
            "co2_kg_per_order": ratio(self.co2_kg, self.orders),
            "cost": {**{k: round(v, 3) for k, v in self.cost.items()}, "total": round(total, 3)},
            "cost_per_order": ratio(total, self.orders),
            "plans_per_second": ratio(self.orders, self.seconds),
        }

    def flow_list(self) -> list[dict[str, Any]]:
        return [
            {"location_id": loc, "latitude": lat, "longitude": lon, "units": units}
            for (loc, lat, lon), units in sorted(self.flows.items())
        ]


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


class _Recorder:
    """Adds one order's plan to a strategy's tally (and takes its units from the stock)."""

    def __init__(self, net: SimNetwork) -> None:
        self.by_id: dict[str, Location] = {loc.id: loc for loc in net.locations}
        self.weights = net.weights

    def record(
        self,
        tally: Tally,
        stock: dict[str, dict[str, int]],
        order: DemoOrder,
        chosen: Plan,
        released_at: datetime | None,
    ) -> None:
        tally.orders += 1
        tally.units_ordered += sum(q for _, q in order.lines)
        tally.units_allocated += chosen.allocated_units
        tally.fulfillments += len(chosen.allocations)
        tally.split += len(chosen.allocations) > 1
        tally.short += bool(chosen.backordered)
        level = ServiceLevel(order.service_level)
        # a promise counts only with a time to estimate its delivery dates from
        promise = order.promise_by if released_at is not None else None
        on_time = promise is not None and not chosen.backordered
        for a in chosen.allocations:
            loc = self.by_id[a.location_id]
            tally.store_fulfillments += loc.type is LocationType.STORE
            km = a.distance_km or 0.0
            tally.unit_km += a.units * km
            kg = sum(q * self.weights.get(sku, DEFAULT_WEIGHT_KG) for sku, q in a.lines)
            tally.co2_kg += kg / 1000.0 * km * CO2_KG_PER_TONNE_KM
            if on_time and released_at is not None and promise is not None:
                arrives = estimate_delivery_date(released_at, a.distance_km, level, loc.calendar)
                on_time = arrives <= promise
            if order.ship_to is not None:
                cell = (
                    a.location_id,
                    _cell(order.ship_to[0]),
                    _cell(order.ship_to[1]),
                )
                tally.flows[cell] = tally.flows.get(cell, 0) + a.units
            held = stock[a.location_id]
            for sku, qty in a.lines:
                held[sku] -= qty
                if held[sku] < 0:
                    raise AssertionError(f"{a.location_id} gave more {sku} than it had")
        if tally.plans is not None:
            tally.plans.append(chosen)
        if promise is not None:
            tally.promised += 1
            tally.on_time += on_time
        for term in TERMS:
            tally.cost[term] += getattr(chosen.cost, term)


def _cell(degrees: float) -> float:
    return round(round(degrees / FLOW_CELL_DEGREES) * FLOW_CELL_DEGREES, 3)


def request_of(order: DemoOrder, placed_at: datetime | None = None) -> SourcingRequest:
    when = placed_at or order.placed_at
    if order.service_level == ServiceLevel.PICKUP.value:
        return SourcingRequest(
            order.lines,
            ServiceLevel.PICKUP,
            None,
            pickup_location_id=order.pickup_location_id,
            promise_by=order.promise_by,
            placed_at=when,
        )
    assert order.ship_to is not None
    return SourcingRequest(
        order.lines,
        ServiceLevel(order.service_level),
        GeoPoint(*order.ship_to),
        promise_by=order.promise_by,
        placed_at=when,
    )


def _candidates(
    locations: Sequence[Location], stock: dict[str, dict[str, int]], order: DemoOrder
) -> list[Candidate]:
    demand = {sku for sku, _ in order.lines}
    return [
        Candidate(loc, stock[loc.id])
        for loc in locations
        if loc.active and any(stock[loc.id].get(sku, 0) > 0 for sku in demand)
    ]


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
    recorder = _Recorder(net)
    result = SimResult({}, {})
    for name in strategies:
        stock = net.stock_copy()
        tally = Tally()
        if keep_plans:
            tally.plans = []
        if name == BATCH:
            result.batch = _run_batch(
                net, orders, profile, batch or BatchOptions(), stock, tally, recorder, advance
            )
        else:
            route: Strategy = STRATEGIES[name]
            for order in orders:
                started = time.perf_counter()
                chosen = route(request_of(order), _candidates(net.locations, stock, order), profile)
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


class StockPricing:
    """Prices of scarce stock for the batch strategy: what a unit of a (location, SKU) is
    worth to the orders still to come.

    Routing by the cost of each window alone spends stock first come, first served. When
    stock runs out before the run ends, that is dear: a unit that an early single-line order
    takes costs it a whole parcel, where a later order shipping from that location anyway
    would have taken it along almost free, and the run then ships the same units in more
    parcels. The whole-run bound shows it: it leaves some small orders unfilled to fill
    larger ones from one place.

    The orders still to come are not known, so they are forecast from the ones seen so far:
    the last ``HISTORY`` orders, each weighted so that together they stand for as many
    orders as remain in the run (the run's volume is taken as known, as a retailer's volume
    forecast is; its mix, places and baskets are estimated). The shadow prices of the stock
    rows of that forecast's LP relaxation over the current stock are the prices, refreshed
    every ``EVERY`` orders once ``AFTER`` orders have been seen. A SKU seen in few orders has
    a noisy forecast, so its prices are shrunk by ``n / (n + CONFIDENCE)`` (n: orders seen
    with it): pricing a unit that no later order needs costs a backorder, far more than a
    right price saves. The window's program then adds each unit's price to its cost, so it
    leaves a scarce unit for later unless using it now saves more.

    Prices alone fail where the network is far short of a SKU: whole classes of orders then
    save about as much as the price, and a window ships every such order that comes while
    the price holds, so the stock goes to the first orders of the run rather than to the
    best. For a SKU whose forecast demand for the rest of the run is more than ``SHORT``
    times what the network still holds, each window therefore solves the relaxation of its
    own orders together with the forecast, and a line of that SKU ships only with the share
    of it that relaxation ships (an order draws one number in [0, 1) from its id and keeps
    the lines whose share reaches it; the rest are backordered): the re-solving control of
    Jasin and Kumar (2012). Below that ratio prices decide alone: rationing SKUs less short
    was measured to cost more than it saved (docs/simulation.md).

    A store's pickups are served by that store alone, and their demand per store and SKU is
    too sparse for the forecast's relaxation, which sees a fraction of a unit to come and
    prices the store's last units at what orders that ship would save with them, next to
    nothing. Yet an order that ships the last unit from a store saves a few cents over a
    warehouse, and a pickup that then finds none costs a backorder. With pickup protection,
    the k-th unit that a window's orders that ship take from a store costs them the more of
    its price and the backorder penalty times the chance that the store's pickups of the rest
    of the run want more of the SKU than the store then holds: Poisson with mean remaining
    orders times the store's share of pickups in the history times the SKU's units per order.
    The costs rise with each unit taken, so a window takes the units least likely to be
    missed first: Littlewood's rule for two classes of demand sharing one stock (1972), as the
    protection levels a retailer sets for click-and-collect.

    Under a price on lateness, what an order saves with a unit depends on when it is placed
    (the weekday, the hour against the cut-offs), and the orders still to come are placed
    later than the history was: on a weekend, say, where the history saw weekdays. So with a
    ``late_day_cost`` each order of the forecast takes the hour of one of the run's remaining
    placement times (drawn at random; ``arrivals``: the volume forecast by hour, taken as
    known as the volume is), keeps its minute, and gets the promise the storefront would
    quote then (:class:`~omniorder.sim.demand.Storefront`)."""

    AFTER = 200
    EVERY = 125
    HISTORY = 2000
    CONFIDENCE = 10.0
    SHORT = 2.0

    def __init__(
        self,
        net: SimNetwork,
        profile: SourcingProfile,
        total: int,
        protect_pickups: bool = True,
        arrivals: Sequence[datetime | None] = (),
    ) -> None:
        self.net = net
        self.arrivals = arrivals
        self.storefront = Storefront(net.locations)
        self.profile = profile
        self.total = total
        self.protect_pickups = protect_pickups
        self.seen: list[DemoOrder] = []
        self.orders_with: dict[str, int] = {}
        self.prices: dict[tuple[str, str], float] = {}
        self.refreshed_at: int | None = None
        self.refreshes = 0
        self.seconds = 0.0
        #: The forecast of the last refresh: the history's problems and units per SKU.
        self.forecast: list[Problem] = []
        self.forecast_units: dict[str, int] = {}
        self.withheld_lines = 0
        self.rationing_seconds = 0.0
        #: Of the history at the last refresh: each store's share of its orders picked up
        #: there, and each SKU's units per order.
        self.pickup_share: dict[str, float] = {}
        self.units_per_order: dict[str, float] = {}

    def for_window(
        self, window: Sequence[DemoOrder], stock: dict[str, dict[str, int]]
    ) -> dict[tuple[str, str], float]:
        remaining = self.total - len(self.seen) - len(window)
        if remaining <= 0:
            return {}
        due = self.refreshed_at is None or len(self.seen) - self.refreshed_at >= self.EVERY
        if len(self.seen) >= self.AFTER and due:
            started = time.perf_counter()
            history = self.seen[-self.HISTORY :]
            weight = remaining / len(history)
            timed = history
            if self.profile.late_day_cost > 0:
                timed = self._timed(history, len(self.seen) + len(window))
            problems = [
                prepare(request_of(o), _candidates(self.net.locations, stock, o), self.profile)[0]
                for o in timed
            ]
            self.forecast = problems
            self.forecast_units = {}
            pickups: dict[str, int] = {}
            for o in history:
                for sku, q in o.lines:
                    self.forecast_units[sku] = self.forecast_units.get(sku, 0) + q
                store = _picked_up_at(o)
                if store is not None:
                    pickups[store] = pickups.get(store, 0) + 1
            self.units_per_order = {sku: q / len(history) for sku, q in self.forecast_units.items()}
            self.pickup_share = {loc_id: n / len(history) for loc_id, n in pickups.items()}
            shadow = stock_prices(problems, [weight] * len(problems), stock)
            self.prices = {}
            for (loc_id, sku), price in shadow.items():
                n = self.orders_with.get(sku, 0)
                self.prices[(loc_id, sku)] = price * n / (n + self.CONFIDENCE)
            self.refreshed_at = len(self.seen)
            self.refreshes += 1
            self.seconds += time.perf_counter() - started
        return self.prices

    def _timed(self, history: Sequence[DemoOrder], first: int) -> list[DemoOrder]:
        """``history`` placed in the hours of the run's placement times from ``first`` on."""
        upcoming = [t for t in self.arrivals[first:] if t is not None]
        if not upcoming:
            return list(history)
        rng = random.Random(f"timing:{first}")
        out = []
        for order in history:
            was = order.placed_at
            if was is None:
                out.append(order)
                continue
            at = rng.choice(upcoming).replace(
                minute=was.minute, second=was.second, microsecond=was.microsecond
            )
            if order.promise_by is None:
                out.append(replace(order, placed_at=at))
            else:
                out.append(self.storefront.placed(order, at))
        return out

    def shipping(
        self,
        window: Sequence[DemoOrder],
        problems: Sequence[Problem],
        stock: dict[str, dict[str, int]],
    ) -> list[tuple[bool, ...]]:
        """Per order of the window and line of its problem: whether the line may ship (False
        for the lines of SKUs the network is far short of that the re-solved relaxation
        does not ship for this order)."""
        everything = [(True,) * len(p.skus) for p in problems]
        remaining = self.total - len(self.seen) - len(window)
        if remaining <= 0 or not self.forecast:
            return everything
        started = time.perf_counter()
        weight = remaining / len(self.forecast)
        wanted = {sku for p in problems for sku in p.skus}
        held = units_per_sku(stock)
        short = {
            sku
            for sku in wanted
            if self.forecast_units.get(sku, 0) * weight > self.SHORT * held.get(sku, 0)
            and held.get(sku, 0) > 0
        }
        if not short:
            return everything
        shares = shipped_shares(
            [*problems, *self.forecast],
            [1.0] * len(problems) + [weight] * len(self.forecast),
            stock,
            first=len(problems),
        )
        self.rationing_seconds += time.perf_counter() - started
        if shares is None:
            return everything
        out = []
        for order, problem, share in zip(window, problems, shares, strict=True):
            draw = random.Random(f"ration:{order.external_id}").random()
            ships = tuple(
                sku not in short or draw <= s + 1e-9
                for sku, s in zip(problem.skus, share, strict=True)
            )
            self.withheld_lines += ships.count(False)
            out.append(ships)
        return out

    def protection(
        self, window: Sequence[DemoOrder], stock: dict[str, dict[str, int]]
    ) -> dict[tuple[str, str], list[float]]:
        """Per store and SKU that the window's orders that ship want: what the 1st, 2nd, ...
        unit they take from there costs the store's pickups of the rest of the run, the
        backorder penalty times the chance that these want more than the store then holds
        beyond the window's own pickups there (Poisson, its mean from the forecast)."""
        remaining = self.total - len(self.seen) - len(window)
        if not self.protect_pickups or remaining <= 0 or not self.pickup_share:
            return {}
        taken: dict[tuple[str, str], int] = {}
        # orders that ship can take from a store only the SKUs they order
        shipped: set[str] = set()
        for order in window:
            store = _picked_up_at(order)
            for sku, q in order.lines:
                if store is None:
                    shipped.add(sku)
                else:
                    taken[(store, sku)] = taken.get((store, sku), 0) + q
        penalty = self.profile.backorder_penalty
        out = {}
        for loc_id, share in self.pickup_share.items():
            held = stock.get(loc_id, {})
            for sku in shipped:
                have = held.get(sku, 0)
                mean = remaining * share * self.units_per_order.get(sku, 0.0)
                if have <= 0 or mean <= 0:
                    continue
                left = have - taken.get((loc_id, sku), 0)
                # the k-th unit shipped leaves left - k: it is missed when the pickups want
                # left - k + 1 or more (once the window's own pickups go short, at least 1)
                at_least = _poisson_tail(mean, max(1, left))
                out[(loc_id, sku)] = [
                    penalty * at_least[max(1, left - k + 1) - 1] for k in range(1, have + 1)
                ]
        return out

    def saw(self, window: Sequence[DemoOrder]) -> None:
        self.seen.extend(window)
        for order in window:
            for sku, _ in order.lines:
                self.orders_with[sku] = self.orders_with.get(sku, 0) + 1


def _picked_up_at(order: DemoOrder) -> str | None:
    """The store a pickup order is collected at; None for an order that ships."""
    if order.service_level == ServiceLevel.PICKUP.value:
        return order.pickup_location_id
    return None


def _poisson_tail(mean: float, most: int) -> list[float]:
    """P(X >= n) for n = 1 .. ``most``, X ~ Poisson(mean)."""
    out = []
    term = math.exp(-mean)
    below = 0.0
    for n in range(most):
        below += term
        term *= mean / (n + 1)
        out.append(max(0.0, 1.0 - below))
    return out


def _run_batch(
    net: SimNetwork,
    orders: Sequence[DemoOrder],
    profile: SourcingProfile,
    options: BatchOptions,
    stock: dict[str, dict[str, int]],
    tally: Tally,
    recorder: _Recorder,
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
            problem, _ = prepare(request, _candidates(net.locations, stock, order), profile)
            problems.append(problem)
            # the window routed one order at a time: the start HiGHS improves on
            one = plan(request, _candidates(net.locations, trial, order), profile).plan
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
            pays = [_picked_up_at(o) is None for o in window]
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


def whole_run_bound(
    net: SimNetwork, orders: Sequence[DemoOrder], profile: SourcingProfile
) -> float:
    """The LP lower bound of the total cost of routing all ``orders`` over ``net``'s stock."""
    stock = net.stock_copy()
    problems = [
        prepare(request_of(o), _candidates(net.locations, stock, o), profile)[0] for o in orders
    ]
    return lower_bound(problems, stock)


def as_routed(
    net: SimNetwork,
    orders: Sequence[DemoOrder],
    routed: Mapping[str, Routed],
    profile: SourcingProfile,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[Plan]]:
    """KPIs, flows and plans of how stored ``orders`` were actually routed, priced with
    ``profile`` (the baseline of a what-if replay)."""
    recorder = _Recorder(net)
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
