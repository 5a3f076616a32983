"""The sourcing trace as a person reads it: a summary line first, names, rounded numbers, each
exclusion in words, the exact record under detail."""

from __future__ import annotations

from omniorder.domain.explain import describe_plan, explain_round
from omniorder.domain.sourcing import SourcingProfile, plan
from tests.unit.test_sourcing import cand, ship

NAMES = {
    "NEWARK": "Newark DC",
    "PHILLY": "Philadelphia store",
    "CHICAGO": "Chicago DC",
    "DALLAS": "Dallas DC",
    "LA": "Los Angeles DC",
}


def round_of(trace: dict[str, object], cause: str = "order.created") -> dict[str, object]:
    return {**trace, "cause": cause, "attempts": [{"attempt": 1, "locked": False}]}


def test_the_summary_names_the_plan_and_what_it_beat() -> None:
    result = plan(
        ship({"A": 1, "B": 1}),
        [cand("NEWARK", {"A": 1}), cand("PHILLY", {"B": 1}), cand("LA", {"A": 5, "B": 5})],
        SourcingProfile(),
    )
    human = explain_round(round_of(result.trace), NAMES)
    summary = str(human["summary"])
    chosen = result.plan
    assert summary.startswith(describe_plan(result.trace["chosen"], NAMES))
    assert "cheapest complete plan" in summary and " less than " in summary
    runner = result.trace["plans"][1]
    diff = runner["cost"]["total"] - chosen.cost.total
    assert f"{diff:,.2f} less than {describe_plan(runner, NAMES)}" in summary
    assert "Los Angeles DC" in summary or "Newark DC" in summary


def test_numbers_are_rounded_for_people_and_exact_under_detail() -> None:
    result = plan(ship({"A": 2}), [cand("CHICAGO", {"A": 5})], SourcingProfile())
    human = explain_round(round_of(result.trace), NAMES)
    fulfillment = human["chosen"]["fulfillments"][0]  # type: ignore[index]
    exact = result.trace["chosen"]["fulfillments"][0]["distance_km"]
    assert fulfillment["distance_km"] == round(exact, 1) and fulfillment["name"] == "Chicago DC"
    cost = human["chosen"]["cost"]  # type: ignore[index]
    assert cost["total"] == round(result.plan.cost.total, 2)
    assert human["detail"]["chosen"]["cost"]["total"] == result.trace["chosen"]["cost"]["total"]  # type: ignore[index]
    assert str(human["summary"]).startswith("1 parcel from Chicago DC, 1,14")
    assert str(human["summary"]).endswith("less than all 2 units backordered")


def test_a_location_ruled_out_by_cost_says_which_bounds_proved_it() -> None:
    # DALLAS can give everything, but NEWARK, nearer, can too: DALLAS cannot beat it
    result = plan(
        ship({"A": 2, "B": 2}),
        [cand("NEWARK", {"A": 5, "B": 5}), cand("DALLAS", {"A": 5, "B": 5})],
        SourcingProfile(),
    )
    human = explain_round(round_of(result.trace), NAMES)
    dallas = next(c for c in human["candidates"] if c["location_id"] == "DALLAS")  # type: ignore[attr-defined]
    assert dallas["excluded"] == "cost_bound"
    assert dallas["reason"].startswith("cannot beat the chosen plan (")
    raw = next(c for c in result.trace["candidates"] if c["location_id"] == "DALLAS")
    bound = raw["bound"]
    assert f"alone it costs {bound['alone']:,.2f}" in dallas["reason"]
    assert f"at least {bound['with_others']:,.2f}" in dallas["reason"]
    assert min(bound["alone"], bound["with_others"]) > result.plan.cost.total


def test_every_exclusion_reads_as_words() -> None:
    result = plan(
        ship({"A": 1}),
        [
            cand("NEWARK", {"A": 5}, active=False),
            cand("PHILLY", {"A": 5}, can_ship=False),
            cand("CHICAGO", {}),
            cand("DALLAS", {"A": 5}),
        ],
        SourcingProfile(),
    )
    human = explain_round(round_of(result.trace), NAMES)
    reasons = {c["location_id"]: c.get("reason") for c in human["candidates"]}  # type: ignore[attr-defined]
    assert reasons["NEWARK"] == "inactive"
    assert reasons["PHILLY"] == "does not ship parcels"
    assert reasons["CHICAGO"] == "has none of the ordered SKUs available"
    assert reasons["DALLAS"] is None


def test_a_re_route_says_why_and_nothing_to_ship_says_so() -> None:
    result = plan(ship({"A": 3}), [cand("NEWARK", {})], SourcingProfile())
    human = explain_round(round_of(result.trace, "fulfillment.out_of_stock"), NAMES)
    assert human["summary"] == (
        "Re-routed after a reject (out of stock): all 3 units backordered: no eligible "
        "location has them available"
    )


def test_a_promise_round_names_the_promise() -> None:
    raw = {
        "profile": {"name": "default", "version": 0},
        "method": {"name": "promise", "promise_id": "prm_1"},
        "cause": "order.created",
        "chosen": {
            "fulfillments": [{"location_id": "NEWARK", "lines": [{"sku": "A", "quantity": 1}]}]
        },
    }
    human = explain_round(raw, NAMES)
    assert human["summary"] == "1 parcel from Newark DC: the units held by promise prm_1"
