"""The batch strategy's prices of scarce stock: what a unit of a (location, SKU) is worth to
the orders still to come (see :class:`StockPricing`)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from omniorder.demo.network import DemoOrder
from omniorder.domain.batch import shipped_shares, stock_prices
from omniorder.domain.model import ServiceLevel
from omniorder.domain.sourcing import Problem, SourcingProfile, prepare
from omniorder.sim.common import candidates, request_of
from omniorder.sim.demand import Storefront
from omniorder.sim.network import SimNetwork, units_per_sku


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
                prepare(request_of(o), candidates(self.net.locations, stock, o), self.profile)[0]
                for o in timed
            ]
            self.forecast = problems
            self.forecast_units = {}
            pickups: dict[str, int] = {}
            for o in history:
                for sku, q in o.lines:
                    self.forecast_units[sku] = self.forecast_units.get(sku, 0) + q
                store = picked_up_at(o)
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
            store = picked_up_at(order)
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


def picked_up_at(order: DemoOrder) -> str | None:
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
