"""Routing strategies other than omniorder's optimum, for comparison (benchmarks, simulator).

Each takes the same inputs as :func:`omniorder.domain.sourcing.plan` and answers a
:class:`~omniorder.domain.sourcing.Plan` priced with the same profile, so costs compare.
"""

from __future__ import annotations

from collections.abc import Sequence

from omniorder.domain.sourcing import (
    Allocation,
    Candidate,
    Plan,
    SourcingProfile,
    SourcingRequest,
    cost_of,
    prepare,
)


def nearest_per_line(
    request: SourcingRequest, candidates: Sequence[Candidate], profile: SourcingProfile
) -> Plan:
    """Each line from the nearest eligible location with stock, then the next nearest for what
    is left (the distance priority of Magento MSI's source selection); the rest backordered."""
    problem, _ = prepare(request, candidates, profile)
    sites = sorted(problem.sites, key=lambda s: (s.km, -s.location.priority, s.location.id))
    taken: dict[str, dict[str, int]] = {}
    back: list[tuple[str, int]] = []
    for j, (sku, need) in enumerate(zip(problem.skus, problem.demand, strict=True)):
        for site in sites:
            if need == 0:
                break
            give = min(need, site.supply[j])
            if give:
                taken.setdefault(site.location.id, {})[sku] = give
                need -= give
        if need:
            back.append((sku, need))
    by_id = {s.location.id: s for s in problem.sites}
    allocations = tuple(
        Allocation(loc_id, tuple(sorted(lines.items())), by_id[loc_id].distance_km)
        for loc_id, lines in sorted(taken.items())
    )
    handling = {loc_id: by_id[loc_id].location.handling_cost for loc_id in taken}
    cost = cost_of(allocations, handling, sum(q for _, q in back), profile)
    return Plan(allocations, tuple(back), cost)
