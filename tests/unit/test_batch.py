"""Joint allocation of a window of orders: HiGHS against a brute-force oracle, and the LP
lower bound below every feasible allocation."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from omniorder.domain.batch import (
    Protection,
    _Model,
    _relaxed,
    allocate_jointly,
    lower_bound,
    shipped_shares,
    stock_prices,
    withheld,
)
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import ServiceLevel
from omniorder.domain.sourcing import (
    Candidate,
    Problem,
    SourcingProfile,
    SourcingRequest,
    plan,
    plan_from,
    prepare,
)
from tests.unit.test_sourcing import loc

SITES = ("NEWARK", "PHILLY", "CHICAGO", "DALLAS")
POINTS = [GeoPoint(40.7128, -74.0060), GeoPoint(41.8781, -87.6298), GeoPoint(42.36, -71.06)]


def problems_of(
    orders: list[tuple[int, dict[str, int]]],
    stock: dict[str, dict[str, int]],
    profile: SourcingProfile,
) -> list[Problem]:
    candidates = [Candidate(loc(i), stock[i]) for i in stock]
    return [
        prepare(
            SourcingRequest(tuple(lines.items()), ServiceLevel.STANDARD, POINTS[p]),
            candidates,
            profile,
        )[0]
        for p, lines in orders
    ]


def brute_force(problems: list[Problem], stock: dict[str, dict[str, int]]) -> float:
    """The cheapest joint allocation: every unit of every order to a site or backordered."""
    units = [
        (o, j) for o, p in enumerate(problems) for j, d in enumerate(p.demand) for _ in range(d)
    ]
    best = math.inf
    choices = [range(len(problems[o].sites) + 1) for o, _ in units]
    for pick in itertools.product(*choices):
        used: dict[tuple[str, str], int] = {}
        cost = 0.0
        opened: set[tuple[int, int]] = set()
        for (o, j), i in zip(units, pick, strict=True):
            p = problems[o]
            if i == len(p.sites):
                cost += p.penalty
                continue
            site = p.sites[i]
            key = (site.location.id, p.skus[j])
            used[key] = used.get(key, 0) + 1
            cost += site.unit
            opened.add((o, i))
        if any(q > stock[k[0]].get(k[1], 0) for k, q in used.items()):
            continue
        if any(
            p.limit is not None and sum(1 for oo, _ in opened if oo == o) > p.limit
            for o, p in enumerate(problems)
        ):
            continue
        cost += sum(problems[o].sites[i].fixed for o, i in opened)
        best = min(best, cost)
    return best


stocks = st.dictionaries(
    st.sampled_from(SITES),
    st.dictionaries(st.sampled_from(["A", "B"]), st.integers(0, 2), max_size=2),
    min_size=1,
    max_size=3,
)
windows = st.lists(
    st.tuples(
        st.integers(0, len(POINTS) - 1),
        st.dictionaries(st.sampled_from(["A", "B"]), st.integers(1, 2), min_size=1, max_size=2),
    ),
    min_size=1,
    max_size=3,
).filter(lambda w: sum(sum(lines.values()) for _, lines in w) <= 6)
profiles = st.builds(
    SourcingProfile,
    shipment_cost=st.floats(0.5, 20),
    backorder_penalty=st.floats(5, 60),
    max_fulfillments=st.sampled_from([None, 1]),
)


@settings(max_examples=150, deadline=None)
@given(stock=stocks, orders=windows, profile=profiles)
def test_the_joint_allocation_is_the_cheapest_and_the_bound_is_below_it(
    stock: dict[str, dict[str, int]],
    orders: list[tuple[int, dict[str, int]]],
    profile: SourcingProfile,
) -> None:
    problems = problems_of(orders, stock, profile)
    joint = allocate_jointly(problems, stock)
    priced = [plan_from(p, t, profile) for p, t in zip(problems, joint.takings, strict=True)]
    total = sum(p.cost.total for p in priced)
    # every unit is allocated or backordered, and no location gives more than it holds
    for p, result in zip(problems, priced, strict=True):
        assert result.allocated_units + result.backordered_units == sum(p.demand)
    given_out: dict[tuple[str, str], int] = {}
    for result in priced:
        for a in result.allocations:
            for sku, q in a.lines:
                given_out[(a.location_id, sku)] = given_out.get((a.location_id, sku), 0) + q
    assert all(q <= stock[k[0]].get(k[1], 0) for k, q in given_out.items())
    oracle = brute_force(problems, stock)
    assert math.isclose(total, oracle, rel_tol=1e-6, abs_tol=1e-6)
    assert math.isclose(joint.objective, total, rel_tol=1e-6, abs_tol=1e-6)
    assert lower_bound(problems, stock) <= oracle + 1e-6


@settings(max_examples=100, deadline=None)
@given(stock=stocks, orders=windows, profile=profiles, weight=st.floats(0.5, 4.0))
def test_the_relaxation_without_the_sites_of_one_line_orders_has_the_same_optimum(
    stock: dict[str, dict[str, int]],
    orders: list[tuple[int, dict[str, int]]],
    profile: SourcingProfile,
    weight: float,
) -> None:
    """The bound and the prices solve the relaxation with one-SKU orders' site choices folded
    into their unit costs; the optimum is that of the full relaxation."""
    problems = problems_of(orders, stock, profile)
    weights = [weight] * len(problems)
    full = _Model(problems, stock, weights=weights).highs(integer=False, seconds=60, rel_gap=0)
    full.run()
    folded, model = _relaxed(problems, stock, 60, weights)
    for p, ys in zip(problems, model.y, strict=True):
        limited = p.limit is not None and len(p.sites) > p.limit
        assert (ys == []) == ((len(p.skus) == 1 and not limited) or not p.sites)
    assert math.isclose(
        folded.getInfo().objective_function_value,
        full.getInfo().objective_function_value,
        rel_tol=1e-7,
        abs_tol=1e-7,
    )


def test_scarce_stock_goes_where_it_saves_most() -> None:
    # one unit of A near New York; the first order (A alone, to Chicago) would take it one by
    # one, while the second (A and B, to New York) can then only ship A from Dallas
    stock = {"NEWARK": {"A": 1, "B": 1}, "DALLAS": {"A": 5}}
    profile = SourcingProfile()
    orders = [(1, {"A": 1}), (0, {"A": 1, "B": 1})]
    problems = problems_of(orders, stock, profile)
    one_by_one = 0.0
    left = {k: dict(v) for k, v in stock.items()}
    start = []
    for p, lines in orders:
        request = SourcingRequest(tuple(lines.items()), ServiceLevel.STANDARD, POINTS[p])
        chosen = plan(request, [Candidate(loc(i), left[i]) for i in left], profile).plan
        one_by_one += chosen.cost.total
        start.append({a.location_id: dict(a.lines) for a in chosen.allocations})
        for a in chosen.allocations:
            for sku, q in a.lines:
                left[a.location_id][sku] -= q
    joint = allocate_jointly(problems, stock, start)
    priced = [plan_from(p, t, profile) for p, t in zip(problems, joint.takings, strict=True)]
    assert joint.takings == [{"DALLAS": {"A": 1}}, {"NEWARK": {"A": 1, "B": 1}}]
    assert sum(p.cost.total for p in priced) < one_by_one - 1.0


def test_stock_short_of_the_forecast_is_priced_at_what_one_more_unit_saves() -> None:
    """A forecast of three single-unit orders near NEWARK, which holds one unit: one more
    unit would ship one more parcel instead of a backorder, so it is worth the penalty less
    that parcel's cost. A forecast that stock covers prices nothing."""
    profile = SourcingProfile()
    stock = {"NEWARK": {"A": 1}}
    (problem,) = problems_of([(0, {"A": 1})], stock, profile)
    site = problem.sites[0]
    prices = stock_prices([problem], [3.0], stock)
    assert prices.keys() == {("NEWARK", "A")}
    assert math.isclose(prices[("NEWARK", "A")], problem.penalty - site.fixed - site.unit)
    assert stock_prices([problem], [0.5], stock) == {}


def test_priced_stock_is_left_for_later_only_when_the_price_outweighs_the_saving() -> None:
    profile = SourcingProfile()
    stock = {"NEWARK": {"A": 1}}
    (problem,) = problems_of([(0, {"A": 1})], stock, profile)
    site = problem.sites[0]
    saving = problem.penalty - site.fixed - site.unit
    taken = allocate_jointly([problem], stock, prices={("NEWARK", "A"): saving - 1.0})
    left = allocate_jointly([problem], stock, prices={("NEWARK", "A"): saving + 1.0})
    assert taken.takings == [{"NEWARK": {"A": 1}}]
    assert left.takings == [{}]
    assert math.isclose(taken.objective, site.fixed + site.unit + saving - 1.0)


def test_protected_stock_costs_the_orders_that_pay_by_the_unit_taken() -> None:
    """NEWARK holds 3 units of A, protected at 0, 0.01 and 5 for the 1st, 2nd and 3rd unit;
    PHILLY is a few cents dearer per unit. Three orders that pay take two units from NEWARK
    and ship the third from PHILLY; if the third does not pay, it takes NEWARK's last unit.
    Started from all three at PHILLY, the program pays the tiers in order all the same."""
    profile = SourcingProfile()
    stock = {"NEWARK": {"A": 3}, "PHILLY": {"A": 5}}
    problems = problems_of([(0, {"A": 1})] * 3, stock, profile)
    by_id = {s.location.id: s for s in problems[0].sites}
    assert 0.01 < by_id["PHILLY"].unit - by_id["NEWARK"].unit < 5
    tiers = {("NEWARK", "A"): [0.0, 0.01, 5.0]}
    paying = allocate_jointly(problems, stock, protection=Protection(tiers, [True] * 3))
    assert sorted(map(str, paying.takings)) == sorted(
        map(str, [{"NEWARK": {"A": 1}}] * 2 + [{"PHILLY": {"A": 1}}])
    )
    free = allocate_jointly(problems, stock, protection=Protection(tiers, [True, True, False]))
    assert free.takings == [{"NEWARK": {"A": 1}}] * 3
    start = [{"PHILLY": {"A": 1}}] * 3
    warm = allocate_jointly(problems, stock, start, protection=Protection(tiers, [True] * 3))
    assert math.isclose(warm.objective, paying.objective) and warm.status == "Optimal"


def test_the_relaxation_ships_a_short_sku_to_the_orders_that_save_most_with_it() -> None:
    """NEWARK holds 2 units of A. The window's order wants A alone; the forecast stands for
    3 orders of A with B, which ship B from NEWARK anyway and so save more with each unit of
    A: the relaxation gives them both units and ships none of the window's A. With 4 units,
    one is left after the forecast and the window's order ships it whole; B always ships."""
    profile = SourcingProfile()
    stock = {"NEWARK": {"A": 2, "B": 10}}
    single, pair = problems_of([(0, {"A": 1}), (0, {"A": 1, "B": 1})], stock, profile)
    shares = shipped_shares([single, pair], [1.0, 3.0], stock, first=2)
    assert shares is not None
    (single_a,), (pair_a, pair_b) = shares
    assert single_a == 0.0 and math.isclose(pair_a, 2 / 3) and pair_b == 1.0
    more = {"NEWARK": {"A": 4, "B": 10}}
    single, pair = problems_of([(0, {"A": 1}), (0, {"A": 1, "B": 1})], more, profile)
    assert shipped_shares([single, pair], [1.0, 3.0], more, first=1) == [(1.0,)]


def test_a_withheld_line_is_backordered_and_the_rest_ships() -> None:
    profile = SourcingProfile()
    stock = {"NEWARK": {"A": 5, "B": 5}, "DALLAS": {"A": 5}}
    (problem,) = problems_of([(0, {"A": 1, "B": 1})], stock, profile)
    assert problem.skus == ("A", "B")
    without_a = withheld(problem, (False, True))
    assert [s.location.id for s in without_a.sites] == ["NEWARK"]
    joint = allocate_jointly([without_a], stock)
    assert joint.takings == [{"NEWARK": {"B": 1}}]
    chosen = plan_from(problem, joint.takings[0], profile)
    assert chosen.backordered == (("A", 1),)
    assert withheld(problem, (False, False)).sites == ()


def test_a_window_with_nothing_in_stock_is_solved_exactly() -> None:
    """No location holds what the order wants: the program has no location to choose, its
    optimum is the backorder and the bound HiGHS proves is that optimum (gap 0)."""
    profile = SourcingProfile()
    stock: dict[str, dict[str, int]] = {"NEWARK": {"B": 1}}
    (problem,) = problems_of([(0, {"A": 2})], stock, profile)
    joint = allocate_jointly([problem], stock)
    assert joint.takings == [{}]
    assert math.isclose(joint.objective, 2 * problem.penalty)
    assert joint.gap == 0.0
