"""Routing strategies other than omniorder's optimum, for comparison (benchmarks, simulator).

Each takes the same inputs as :func:`omniorder.domain.sourcing.plan` and answers a
:class:`~omniorder.domain.sourcing.Plan` priced with the same profile, so costs compare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omniorder.domain.sourcing import (
    Candidate,
    Plan,
    Problem,
    Site,
    SourcingProfile,
    SourcingRequest,
    plan,
    plan_from,
    prepare,
)


def nearest_per_line(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> Plan:
    """Each line from the nearest eligible location with stock, then the next nearest for what
    is left (the distance priority of Magento MSI's source selection); the rest backordered."""
    return _per_line(
        request,
        candidates,
        profile,
        lambda p, _j: sorted(p.sites, key=lambda s: (s.km, -s.location.priority, s.location.id)),
    )


def _per_line(
    request: SourcingRequest,
    candidates: Sequence[Candidate],
    profile: SourcingProfile,
    order_of: Callable[[Problem, int], list[Site]],
) -> Plan:
    """Each line from the sites ``order_of`` ranks for it, in turn, until it is filled."""
    problem, _ = prepare(request, candidates, profile)
    taken: dict[str, dict[str, int]] = {}
    for j, (sku, need) in enumerate(zip(problem.skus, problem.demand, strict=True)):
        for site in order_of(problem, j):
            if need == 0:
                break
            give = min(need, site.supply[j])
            if give:
                taken.setdefault(site.location.id, {})[sku] = give
                need -= give
    return plan_from(problem, taken, profile)


def ship_complete_else_nearest(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> Plan:
    """The nearest location that can ship the whole order, else line by line from the
    nearest (a common rule of thumb in order management setups)."""
    problem, _ = prepare(request, candidates, profile)
    whole = [s for s in problem.sites if s.supply == problem.demand]
    if whole:
        site = min(whole, key=lambda s: (s.km, -s.location.priority, s.location.id))
        taken = {site.location.id: dict(zip(problem.skus, problem.demand, strict=True))}
        return plan_from(problem, taken, profile)
    return nearest_per_line(request, candidates, profile)


def priority(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> Plan:
    """Each line from the locations in a fixed ranking (higher priority first, then id), as
    Saleor's warehouse sorting order and Magento's source priority do."""
    return _per_line(
        request,
        candidates,
        profile,
        lambda p, _j: sorted(p.sites, key=lambda s: (-s.location.priority, s.location.id)),
    )


def high_stock(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> Plan:
    """Each line from the location holding the most of it, then the next (Saleor's other
    allocation strategy)."""
    stock = {c.location.id: c.available for c in candidates}

    def most(p: Problem, j: int) -> list[Site]:
        sku = p.skus[j]
        return sorted(p.sites, key=lambda s: (-stock[s.location.id].get(sku, 0), s.location.id))

    return _per_line(request, candidates, profile, most)


def optimal(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> Plan:
    """omniorder's engine: the least-cost plan."""
    return plan(request, candidates, profile).plan


Strategy = Callable[[SourcingRequest, Sequence[Candidate], SourcingProfile], Plan]
STRATEGIES: dict[str, Strategy] = {
    "nearest_per_line": nearest_per_line,
    "ship_complete_else_nearest": ship_complete_else_nearest,
    "priority": priority,
    "high_stock": high_stock,
    "optimal": optimal,
}
