"""The search over sets of sites: bounds, screening, branch and bound, and HiGHS past the
budget."""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omniorder.domain.sourcing.model import (
    COST_TOLERANCE,
    DEFAULT_BUDGET,
    TRACE_PLAN_LIMIT,
    SearchBudget,
)
from omniorder.domain.sourcing.problem import (
    Problem,
    Solution,
    _tie,
    evaluate,
)


@dataclass(slots=True)
class SearchStats:
    screened_out: int = 0
    nodes: int = 0
    pruned: int = 0
    complete: bool = True
    #: Lower bound of every plan using each site (screening), by site index: the smaller of
    #: the cost of its plan alone and the bound of every plan with it and others.
    site_bounds: list[float] = field(default_factory=list)
    site_alone: list[float] = field(default_factory=list)
    site_with_others: list[float] = field(default_factory=list)
    #: How the bound with others was found: "two_parcels" (any plan of two or more sites pays
    #: the two smallest fixed costs and every unit at its cheapest unit cost) or "per_unit"
    #: (screening: the site's own costs, every other unit at its cheapest per-unit bound).
    with_others_rule: str = ""


@dataclass(slots=True)
class _Best:
    """The best solution so far and the next best ones, for the trace."""

    keep: int
    best: Solution | None = None
    seen: dict[tuple[int, ...], Solution] = field(default_factory=dict)

    def offer(self, sol: Solution) -> None:
        if sol.used in self.seen:
            return
        self.seen[sol.used] = sol
        if sol.better_than(self.best):
            self.best = sol
        if len(self.seen) > 4 * self.keep:
            ranked = heapq.nsmallest(self.keep, self.seen.values(), key=_rank)
            self.seen = {s.used: s for s in ranked}

    def ranked(self) -> list[Solution]:
        return heapq.nsmallest(self.keep, self.seen.values(), key=_rank)


def _rank(sol: Solution) -> tuple[float, tuple[int, float, tuple[str, ...]]]:
    return (round(sol.total, 6), sol.tie)


def cheapest_per_sku(problem: Problem) -> tuple[list[float], list[float]]:
    """For each SKU, the cheapest per-unit bound and the cheapest unit cost of any site
    holding it (never above the penalty)."""
    penalty = problem.penalty
    bounds, units = [], []
    for j in range(len(problem.skus)):
        best_b = best_u = penalty
        for s in problem.sites:
            if s.supply[j]:
                best_b = min(best_b, s.unit_bound)
                best_u = min(best_u, s.unit)
        bounds.append(best_b)
        units.append(best_u)
    return bounds, units


def screen_bounds(problem: Problem, cheapest: tuple[list[float], list[float]]) -> list[float]:
    """For each site, a lower bound of the cost of every plan in which it ships *together with
    at least one other site* (the plan of the site alone is evaluated exactly anyway).

    Two bounds, the larger counts. (1) Per-unit: its fixed cost, its units at its unit cost
    where that is the cheapest option, every other unit at the cheapest per-unit bound of any
    site holding the SKU, or the penalty. (2) One more shipment: its fixed cost plus the
    smallest fixed cost of another site, its units at its unit cost, every other unit at the
    cheapest unit cost of any site holding the SKU, or the penalty."""
    sites = problem.sites
    cheapest_bound, cheapest_unit = cheapest  # from cheapest_per_sku
    fixed = sorted((s.fixed, i) for i, s in enumerate(sites))
    bounds = []
    for i, s in enumerate(sites):
        others = [f for f, k in fixed[:2] if k != i]
        if not others:
            bounds.append(math.inf)
            continue
        other_fixed = others[0]
        per_unit = one_more = 0.0
        own = s.unit
        for need, give, bound, unit in zip(
            problem.demand, s.supply, cheapest_bound, cheapest_unit, strict=True
        ):
            # its own units where they are the cheaper option, the rest from the others
            per_unit += give * own + (need - give) * bound if own < bound else need * bound
            one_more += give * own + (need - give) * unit if own < unit else need * unit
        bounds.append(s.fixed + max(per_unit, other_fixed + one_more))
    return bounds


class _Search:
    """Branch and bound over sets of sites (see the module docstring)."""

    def __init__(self, problem: Problem, alive: list[int], best: _Best, budget: SearchBudget):
        self.problem = problem
        self.best = best
        self.budget = budget
        sites = problem.sites
        # Cheapest per-unit bound first: good sets are found early, suffixes are weak.
        self.order = sorted(
            alive, key=lambda i: (sites[i].unit_bound, -sites[i].location.priority, i)
        )
        # For each SKU: positions in self.order of the sites holding it, with bound and supply.
        self.holders: list[list[int]] = []
        self.holder_cost: list[list[float]] = []
        self.holder_cap: list[list[int]] = []
        # suffix minima over positions p.. of the order: unit cost per SKU, and fixed cost
        size = len(self.order)
        self.min_unit: list[list[float]] = []
        for j in range(len(problem.skus)):
            pos = [p for p, i in enumerate(self.order) if sites[i].supply[j]]
            self.holders.append(pos)
            self.holder_cost.append([sites[self.order[p]].unit_bound for p in pos])
            self.holder_cap.append([sites[self.order[p]].supply[j] for p in pos])
            mins = [problem.penalty] * (size + 1)
            for p in range(size - 1, -1, -1):
                site = sites[self.order[p]]
                mins[p] = min(mins[p + 1], site.unit) if site.supply[j] else mins[p + 1]
            self.min_unit.append(mins)
        self.min_fixed = [math.inf] * (size + 1)
        for p in range(size - 1, -1, -1):
            self.min_fixed[p] = min(self.min_fixed[p + 1], sites[self.order[p]].fixed)
        self.nodes = 0
        self.pruned = 0
        self.complete = True

    def run(self) -> None:
        limit = self.problem.limit
        depth = len(self.order) if limit is None else min(limit, len(self.order))
        if depth:
            self._expand([], 0, depth)

    def _expand(self, chosen: list[int], start: int, depth: int) -> None:
        sites = self.problem.sites
        for p in range(start, len(self.order)):
            if not self.complete:
                return
            self.nodes += 1
            if self.nodes > self.budget.max_nodes:
                self.complete = False
                return
            child = [*chosen, self.order[p]]
            sol = evaluate(self.problem, child)
            if len(sol.used) == len(child):  # a set with an idle site is evaluated elsewhere
                self.best.offer(sol)
            if len(child) < depth and p + 1 < len(self.order):
                bound = self._bound(child, p + 1) + sum(sites[i].fixed for i in child)
                incumbent = self.best.best
                if incumbent is not None and bound > incumbent.total + COST_TOLERANCE:
                    self.pruned += 1
                    continue
                self._expand(child, p + 1, depth)

    def _bound(self, chosen: list[int], start: int) -> float:
        """Lower bound of the cost of ``chosen`` plus at least one site at positions ≥
        ``start``, fixed costs of ``chosen`` left out; the larger of two bounds:

        * per-unit: every SKU filled at least cost from ``chosen`` (unit cost) and the sites
          from ``start`` on (per-unit bound, their capacity), or the penalty;
        * one more shipment: the smallest fixed cost from ``start`` on, plus every SKU filled
          from ``chosen`` (unit cost) and, without capacity limit, at the cheapest unit cost
          from ``start`` on, or the penalty."""
        sites = self.problem.sites
        penalty = self.problem.penalty
        per_unit = one_more = 0.0
        for j, need in enumerate(self.problem.demand):
            own = sorted((sites[i].unit, sites[i].supply[j]) for i in chosen if sites[i].supply[j])
            options = list(own)
            pos = self.holders[j]
            k = bisect.bisect_left(pos, start)
            costs, caps = self.holder_cost[j], self.holder_cap[j]
            covered = 0
            while k < len(pos) and covered < need:
                options.append((costs[k], caps[k]))
                covered += caps[k]
                k += 1
            options.sort()
            per_unit += _greedy_fill(need, options, penalty)
            own.append((self.min_unit[j][start], need))
            own.sort()
            one_more += _greedy_fill(need, own, penalty)
        return max(per_unit, self.min_fixed[start] + one_more)


def _greedy_fill(need: int, options: list[tuple[float, int]], penalty: float) -> float:
    """Cost of ``need`` units from (cost, capacity) options sorted by cost, then the penalty."""
    total = 0.0
    for cost, cap in options:
        if need == 0 or cost >= penalty:
            break
        give = min(cap, need)
        total += give * cost
        need -= give
    return total + need * penalty


Solver = Callable[[Problem, Solution | None, float, int], tuple[Solution, float, str]]


def optimize(
    problem: Problem,
    budget: SearchBudget = DEFAULT_BUDGET,
    solver: Solver | None = None,
    keep: int = TRACE_PLAN_LIMIT,
) -> tuple[Solution, list[Solution], SearchStats, dict[str, Any]]:
    """The least-cost set of sites for ``problem``.

    Returns (best, the best few compared, search statistics, method): method is
    ``{"name": "branch-and-bound", "optimal": True}`` when the search finished, or HiGHS's
    answer with its proven gap when the budget ran out."""
    stats = SearchStats()
    best = _Best(keep)
    best.offer(Solution(problem.empty_cost, (), _tie(problem, ())))
    n = len(problem.sites)
    if n == 0:
        return best.ranked()[0], best.ranked(), stats, {"name": "branch-and-bound", "gap": 0.0}
    singles = _single_costs(problem)
    for i in heapq.nsmallest(keep, range(n), key=lambda i: _single_rank(problem, singles, i)):
        best.offer(_single(problem, singles, i))
    assert best.best is not None
    cheapest = cheapest_per_sku(problem)
    floor = _multi_floor(problem, cheapest[1])
    if n == 1 or best.best.total < floor - COST_TOLERANCE:
        # No plan of two or more sites can beat the best single one: nothing to search.
        stats.site_bounds = [min(floor, single) for single in singles]
        stats.site_alone, stats.site_with_others = singles, [floor] * n
        stats.with_others_rule = "two_parcels"
        stats.screened_out = n
        return best.best, best.ranked(), stats, {"name": "branch-and-bound", "gap": 0.0}
    multi = screen_bounds(problem, cheapest)
    alive = [i for i in range(n) if multi[i] <= best.best.total + COST_TOLERANCE]
    if alive:
        _greedy(problem, alive, best)
        alive = [i for i in alive if multi[i] <= best.best.total + COST_TOLERANCE]
    stats.site_bounds = [min(a, b) for a, b in zip(multi, singles, strict=True)]
    stats.site_alone, stats.site_with_others = singles, multi
    stats.with_others_rule = "per_unit"
    stats.screened_out = n - len(alive)
    search = _Search(problem, alive, best, budget)
    search.run()
    stats.nodes, stats.pruned, stats.complete = search.nodes, search.pruned, search.complete
    method: dict[str, Any] = {"name": "branch-and-bound", "gap": 0.0}
    if not search.complete:
        if solver is None:
            from omniorder.domain.sourcing_mip import solve_mip

            solver = solve_mip
        sol, gap, status = solver(problem, best.best, budget.solver_seconds, budget.solver_nodes)
        best.offer(sol)
        method = {"name": "highs", "gap": gap, "status": status}
    ranked = best.ranked()
    assert best.best is not None
    return best.best, ranked, stats, method


def _single_costs(problem: Problem) -> list[float]:
    """The cost of each site's plan alone: it gives all it has (supply is capped at the
    demand), the rest is backordered; a site dearer per unit than the penalty gives nothing."""
    penalty = problem.penalty
    empty = problem.empty_cost
    return [
        empty
        if s.unit > penalty
        else s.fixed + s.unit * s.units + penalty * (sum(problem.demand) - s.units)
        for s in problem.sites
    ]


def _single_rank(problem: Problem, singles: list[float], i: int) -> tuple[float, int, float, str]:
    site = problem.sites[i]
    return (singles[i], -site.location.priority, site.km, site.location.id)


def _single(problem: Problem, singles: list[float], i: int) -> Solution:
    site = problem.sites[i]
    if site.unit > problem.penalty:
        return Solution(problem.empty_cost, (), _tie(problem, ()))
    return Solution(singles[i], (i,), (-site.location.priority, site.km, (site.location.id,)))


def _multi_floor(problem: Problem, cheapest_unit: Sequence[float]) -> float:
    """A lower bound of every plan that ships from two sites or more: the two smallest fixed
    costs, and every unit at the cheapest unit cost of any site holding its SKU (or the
    penalty)."""
    two = heapq.nsmallest(2, (s.fixed for s in problem.sites))
    return sum(two) + sum(
        need * unit for need, unit in zip(problem.demand, cheapest_unit, strict=True)
    )


def _greedy(problem: Problem, pool: Sequence[int], best: _Best) -> None:
    """A quick good plan to prune with: from the best single site, add the site of ``pool``
    that lowers the cost most, while one does and the profile allows another location."""
    assert best.best is not None
    current = best.best
    chosen = list(current.used)
    limit = problem.limit
    while limit is None or len(chosen) < limit:
        step: Solution | None = None
        pick = -1
        for i in pool:
            if i in chosen:
                continue
            sol = evaluate(problem, [*chosen, i])
            if sol.total < current.total - COST_TOLERANCE and sol.better_than(step):
                step, pick = sol, i
        if step is None:
            break
        chosen.append(pick)
        current = step
        best.offer(step)
