"""Joint allocation of many orders at once, as a HiGHS mixed-integer program.

Routing one order at a time gives each order its cheapest plan with what is left, so an
early order may take the last unit of a store that a later order needed far more (its other
sources being far away or split). Releasing orders in windows and allocating a window
jointly lets scarce stock go where it saves most. The same model with the location choices
relaxed to fractions gives a lower bound of the whole run's cost: no strategy that knows
every order in advance can do better.

``stock_prices`` gives the shadow prices of the stock rows of the relaxation over weighted
orders (a forecast of the orders to come): what one more unit of a position would save them.
The batch strategy of the simulator adds them to the unit costs of a window's program.

Each order ``o`` is the engine's own :class:`~omniorder.domain.sourcing.Problem` (its
eligible sites, their fixed and per-unit costs, its fulfillment limit). Variables:
``y[o, i]`` in {0, 1} (order o ships from its site i), ``x[o, i, j]`` in [0, supply] (units
of its SKU j from there) and ``b[o, j]`` in [0, demand] (backordered).

    minimise  sum fixed[o, i] y[o, i] + sum unit[o, i] x[o, i, j] + penalty sum b[o, j]
    s.t.      sum_i x[o, i, j] + b[o, j] = demand[o, j]      every order and SKU
              x[o, i, j] <= supply[o, i, j] y[o, i]           every order, site and SKU
              sum_i y[o, i] <= limit                          orders with a limit
              sum_o x[o, i, j] <= stock[location, sku]        where the orders could take
                                                              more than the location holds

For fixed ``y`` the rest is a transportation problem, so a basic optimal ``x`` is integral;
when HiGHS answers a fractional one, the ``x`` part is solved again by the simplex method
with ``y`` fixed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np

# importing sourcing_mip first keeps HiGHS's start-up banner out of every output
from omniorder.domain import sourcing_mip as _sourcing_mip  # noqa: F401
from omniorder.domain.sourcing import Problem, Site

#: Units per (location id, SKU).
Stock = Mapping[str, Mapping[str, float]]
#: What one order takes: location id -> {SKU: units}.
Taking = dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class Protection:
    """Stock kept back for some orders: the orders that ``pays`` pay for the 1st, 2nd, ...
    unit they take together from a (location id, SKU) what ``tiers`` says (non-decreasing,
    so the program takes the cheap units first); the others take them at no extra cost."""

    tiers: Mapping[tuple[str, str], Sequence[float]]
    pays: Sequence[bool]


@dataclass(frozen=True, slots=True)
class JointResult:
    #: Per order, in the given order: what it takes from each location.
    takings: list[Taking]
    #: The objective HiGHS reached and the best bound it proved (equal when optimal).
    objective: float
    bound: float
    status: str
    seconds: float

    @property
    def gap(self) -> float:
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / self.objective)


class _Model:
    """The columns and rows of the joint program for ``problems`` over ``stock``: with
    ``prices`` added to the unit costs, and each problem standing for ``weights[o]`` orders
    like it (its demand, supply and fulfillment limit scaled; for the relaxation only)."""

    def __init__(
        self,
        problems: Sequence[Problem],
        stock: Mapping[str, Mapping[str, float]],
        prices: Mapping[tuple[str, str], float] | None = None,
        weights: Sequence[float] | None = None,
        relaxed: bool = False,
        protection: Protection | None = None,
    ) -> None:
        self.problems = problems
        prices = prices or {}
        weight = list(weights) if weights is not None else [1.0] * len(problems)
        # Relaxed, an order of one SKU without a limit on its sites needs no y: the cheapest y
        # is x / supply, so its x carries the site's fixed cost per unit (half the orders
        # are one line, so the program loses a good part of its columns and rows).
        folded = [
            relaxed and len(p.skus) == 1 and not (p.limit is not None and len(p.sites) > p.limit)
            for p in problems
        ]
        costs: list[float] = []
        upper: list[float] = []
        #: y column of (order, site); none for folded orders
        self.y: list[list[int]] = []
        #: x columns: (order, site, sku index, column)
        self.x: list[tuple[int, int, int, int]] = []
        #: b column of (order, sku index)
        self.b: list[list[int]] = []
        for o, p in enumerate(problems):
            ys = []
            for s in p.sites if not folded[o] else ():
                ys.append(len(costs))
                costs.append(s.fixed)
                upper.append(weight[o])
            self.y.append(ys)
        for o, p in enumerate(problems):
            for i, s in enumerate(p.sites):
                if s.unit > p.penalty:
                    continue  # never cheaper than a backorder
                for j, q in enumerate(s.supply):
                    if q:
                        self.x.append((o, i, j, len(costs)))
                        per_unit = s.unit + (s.fixed / q if folded[o] else 0.0)
                        costs.append(per_unit + prices.get((s.location.id, p.skus[j]), 0.0))
                        upper.append(float(q) * weight[o])
        for o, p in enumerate(problems):
            bs = []
            for d in p.demand:
                bs.append(len(costs))
                costs.append(p.penalty)
                upper.append(float(d) * weight[o])
            self.b.append(bs)
        #: per protected (location, SKU): the x columns that pay for it and the tier columns
        #: (cost, most units) that cover them
        self.tiers: dict[tuple[str, str], tuple[list[int], list[tuple[int, float]]]] = {}
        if protection is not None:
            for o, i, j, col in self.x:
                key = (problems[o].sites[i].location.id, problems[o].skus[j])
                if protection.pays[o] and key in protection.tiers:
                    self.tiers.setdefault(key, ([], []))[0].append(col)
            for key, (_, cover) in self.tiers.items():
                for price, units in _steps(protection.tiers[key]):
                    cover.append((len(costs), units))
                    costs.append(price)
                    upper.append(units)
        self.costs = np.array(costs, dtype=np.float64)
        self.upper = np.array(upper, dtype=np.float64)

        lo: list[float] = []
        hi: list[float] = []
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []

        def row(a: float, z: float, entries: list[tuple[int, float]]) -> None:
            lo.append(a)
            hi.append(z)
            starts.append(len(index))
            for col, coef in entries:
                index.append(col)
                value.append(coef)

        inf = highspy.kHighsInf
        per_line: dict[tuple[int, int], list[int]] = {}
        #: per (location, SKU): the x columns taking from it, with how much each could take
        per_stock: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for o, i, j, col in self.x:
            per_line.setdefault((o, j), []).append(col)
            p = problems[o]
            site = p.sites[i]
            most = site.supply[j] * weight[o]
            per_stock.setdefault((site.location.id, p.skus[j]), []).append((col, most))
            if self.y[o]:
                row(-inf, 0.0, [(col, 1.0), (self.y[o][i], -float(site.supply[j]))])
        for o, p in enumerate(problems):
            for j, d in enumerate(p.demand):
                cols = per_line.get((o, j), [])
                want = float(d) * weight[o]
                row(want, want, [(c, 1.0) for c in cols] + [(self.b[o][j], 1.0)])
            if p.limit is not None and len(p.sites) > p.limit:
                row(-inf, float(p.limit) * weight[o], [(c, 1.0) for c in self.y[o]])
        #: (location id, SKU) of each stock row, in row order after ``first_stock_row``
        self.stock_rows: list[tuple[str, str]] = []
        self.first_stock_row = len(lo)
        for (loc_id, sku), takers in per_stock.items():
            have = stock.get(loc_id, {}).get(sku, 0)
            if sum(q for _, q in takers) > have + 1e-9:
                self.stock_rows.append((loc_id, sku))
                row(-inf, float(have), [(c, 1.0) for c, _ in takers])
        for paying, cover in self.tiers.values():
            row(-inf, 0.0, [(c, 1.0) for c in paying] + [(c, -1.0) for c, _ in cover])
        self.rows = (lo, hi, starts, index, value)

    def highs(self, integer: bool, seconds: float, rel_gap: float) -> highspy.Highs:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(seconds))
        h.setOptionValue("mip_rel_gap", rel_gap)
        h.setOptionValue("threads", 1)
        n = len(self.costs)
        h.addCols(
            n,
            self.costs,
            np.zeros(n),
            self.upper,
            0,
            np.array([], dtype=np.int32),
            np.array([], dtype=np.int32),
            np.array([], dtype=np.float64),
        )
        if integer:
            ycols = np.array([c for ys in self.y for c in ys], dtype=np.int32)
            if len(ycols):
                h.changeColsIntegrality(
                    len(ycols), ycols, np.array([highspy.HighsVarType.kInteger] * len(ycols))
                )
        lo, hi, starts, index, value = self.rows
        h.addRows(
            len(lo),
            np.array(lo, dtype=np.float64),
            np.array(hi, dtype=np.float64),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=np.float64),
        )
        return h

    def columns_of(self, takings: Sequence[Mapping[str, Mapping[str, int]]]) -> np.ndarray:
        """Column values of a feasible allocation (the warm start)."""
        values = np.zeros(len(self.costs))
        for o, i, j, col in self.x:
            p = self.problems[o]
            q = takings[o].get(p.sites[i].location.id, {}).get(p.skus[j], 0)
            if q:
                values[col] = q
                values[self.y[o][i]] = 1.0
        for o, p in enumerate(self.problems):
            for j, d in enumerate(p.demand):
                got = sum(q.get(p.skus[j], 0) for q in takings[o].values())
                values[self.b[o][j]] = d - got
        for paying, cover in self.tiers.values():
            taken = sum(values[c] for c in paying)
            for c, units in cover:
                values[c] = min(units, taken)
                taken -= values[c]
        return values

    def takings(self, values: Sequence[float]) -> list[Taking]:
        out: list[Taking] = [{} for _ in self.problems]
        for o, i, j, col in self.x:
            q = round(values[col])
            if q > 0:
                p = self.problems[o]
                out[o].setdefault(p.sites[i].location.id, {})[p.skus[j]] = q
        return out

    def integral(self, values: Sequence[float]) -> bool:
        return all(abs(values[col] - round(values[col])) < 1e-6 for *_, col in self.x)


def allocate_jointly(
    problems: Sequence[Problem],
    stock: Stock,
    start: Sequence[Mapping[str, Mapping[str, int]]] | None = None,
    seconds: float = 30.0,
    rel_gap: float = 1e-6,
    prices: Mapping[tuple[str, str], float] | None = None,
    protection: Protection | None = None,
) -> JointResult:
    """The least-cost joint allocation of ``problems`` (each built over ``stock``), starting
    from the feasible allocation ``start`` if given (never answers anything dearer). With
    ``prices``, each unit taken from a (location id, SKU) costs its price on top: what the
    stock is worth to orders still to come (the objective then includes the prices), and
    with ``protection`` the orders it names pay its tiers for what they take."""
    started = time.perf_counter()
    model = _Model(problems, stock, prices, protection=protection)
    h = model.highs(integer=True, seconds=seconds, rel_gap=rel_gap)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(model.columns_of(start))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    values = list(h.getSolution().col_value)
    if len(values) != len(model.costs) or info.primal_solution_status == 0:
        if start is None:
            raise RuntimeError(f"HiGHS found no joint allocation ({status})")
        takings = [{k: dict(v) for k, v in t.items()} for t in start]
        objective = float(model.costs @ model.columns_of(start))
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else 0.0
        return JointResult(takings, objective, bound, status, time.perf_counter() - started)
    if not model.integral(values):
        values = _resolve_flow(model, values, seconds)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    if not any(model.y):
        bound = objective  # no location to choose (nothing in stock): a linear program
    elif not math.isfinite(bound):
        bound = 0.0
    return JointResult(
        model.takings(values), objective, bound, status, time.perf_counter() - started
    )


def _steps(tiers: Sequence[float]) -> list[tuple[float, float]]:
    """(price, units) of ``tiers`` with runs of equal prices merged."""
    out: list[tuple[float, float]] = []
    for price in tiers:
        if out and abs(out[-1][0] - price) < 1e-9:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((price, 1.0))
    return out


def _resolve_flow(model: _Model, values: Sequence[float], seconds: float) -> list[float]:
    """Solve the x part again by the simplex method with the chosen locations fixed, so that
    the answer is a basic (integral) transportation solution."""
    h = model.highs(integer=False, seconds=seconds, rel_gap=0.0)
    h.setOptionValue("solver", "simplex")
    cols = [c for ys in model.y for c in ys]
    fixed = np.array([1.0 if values[c] > 0.5 else 0.0 for c in cols], dtype=np.float64)
    h.changeColsBounds(len(cols), np.array(cols, dtype=np.int32), fixed, fixed)
    h.run()
    out = list(h.getSolution().col_value)
    if not model.integral(out):
        raise RuntimeError("the transportation part answered a fractional allocation")
    return out


def lower_bound(problems: Sequence[Problem], stock: Stock, seconds: float = 600.0) -> float:
    """The LP relaxation's optimum: a lower bound of the total cost of any allocation of all
    ``problems`` (each built over the initial ``stock``) that respects the stock."""
    h, _ = _relaxed(problems, stock, seconds)
    return float(h.getInfo().objective_function_value)


def stock_prices(
    problems: Sequence[Problem],
    weights: Sequence[float],
    stock: Mapping[str, Mapping[str, float]],
    seconds: float = 60.0,
) -> dict[tuple[str, str], float]:
    """What one more unit of each (location, SKU) would save the weighted ``problems`` (the
    shadow prices of the stock rows of their LP relaxation); only positions the problems
    could take more of than there is have a price. No prices when the relaxation is not
    solved within ``seconds``."""
    try:
        h, model = _relaxed(problems, stock, seconds, weights)
    except RuntimeError:
        return {}
    duals = h.getSolution().row_dual
    out = {}
    for r, key in enumerate(model.stock_rows):
        price = -duals[model.first_stock_row + r]
        if price > 1e-9:
            out[key] = price
    return out


def shipped_shares(
    problems: Sequence[Problem],
    weights: Sequence[float],
    stock: Mapping[str, Mapping[str, float]],
    first: int,
    seconds: float = 60.0,
) -> list[tuple[float, ...]] | None:
    """Per line of each of the ``first`` problems: the share of its demand that the LP
    relaxation of all the weighted ``problems`` over ``stock`` ships (the rest it
    backorders). None when the relaxation is not solved within ``seconds``.

    Lines at the margin (shipping costs as much as backordering at the relaxation's prices)
    get whatever share the simplex method's vertex gives them. Pooling such lines of a SKU
    into one shared share was measured and did worse on the German run of
    ``docs/simulation.md`` (2.02 % above the bound against 1.44 %)."""
    try:
        h, model = _relaxed(problems, stock, seconds, weights)
    except RuntimeError:
        return None
    values = h.getSolution().col_value
    out = []
    for o in range(first):
        p = problems[o]
        shares = []
        for j, d in enumerate(p.demand):
            share = 1.0 - values[model.b[o][j]] / (d * weights[o])
            shares.append(min(1.0, max(0.0, share)))
        out.append(tuple(shares))
    return out


def withheld(problem: Problem, ships: Sequence[bool]) -> Problem:
    """``problem`` with the lines where ``ships`` is False left out of every site's supply:
    a program over it backorders them."""
    sites = []
    for s in problem.sites:
        supply = tuple(q if ok else 0 for q, ok in zip(s.supply, ships, strict=True))
        if any(supply):
            # a Site derives its bounds from its supply, so it is built anew
            sites.append(
                Site(
                    s.location, s.distance_km, supply, s.fixed, s.unit, s.delivery_date, s.late_days
                )
            )
    return replace(problem, sites=tuple(sites))


def _relaxed(
    problems: Sequence[Problem],
    stock: Mapping[str, Mapping[str, float]],
    seconds: float,
    weights: Sequence[float] | None = None,
) -> tuple[highspy.Highs, _Model]:
    model = _Model(problems, stock, weights=weights, relaxed=True)
    h = model.highs(integer=False, seconds=seconds, rel_gap=0.0)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        raise RuntimeError(f"the LP relaxation ended with status {status}")
    return h, model
