"""The comparison strategies and the simulator."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from omniorder.cli import app
from omniorder.demo.network import DemoOrder, build_network, generate_orders
from omniorder.domain.model import LocationType
from omniorder.domain.sourcing import SourcingProfile
from omniorder.domain.strategies import (
    high_stock,
    nearest_per_line,
    optimal,
    priority,
    ship_complete_else_nearest,
)
from omniorder.sim.batch_run import BatchOptions, shipping_calendars, windows
from omniorder.sim.demand import Storefront, day_weights, schedule
from omniorder.sim.network import SimNetwork
from omniorder.sim.pricing import StockPricing
from omniorder.sim.run import simulate
from tests.unit.test_sourcing import cand, loc, ship

PROFILE = SourcingProfile()


def where(plan: object) -> dict[str, dict[str, int]]:
    return {a.location_id: dict(a.lines) for a in plan.allocations}  # type: ignore[attr-defined]


def test_each_strategy_routes_as_its_rule_says() -> None:
    candidates = [
        cand("NEWARK", {"A": 1, "B": 1}),
        cand("PHILLY", {"A": 9}, priority=5),
        cand("DALLAS", {"A": 3, "B": 2}),
    ]
    order = ship({"A": 2, "B": 1})
    # nearest per line: A from NEWARK then PHILLY, B from NEWARK
    assert where(nearest_per_line(order, candidates, PROFILE)) == {
        "NEWARK": {"A": 1, "B": 1},
        "PHILLY": {"A": 1},
    }
    # the nearest location that has everything: DALLAS
    assert where(ship_complete_else_nearest(order, candidates, PROFILE)) == {
        "DALLAS": {"A": 2, "B": 1}
    }
    # fixed ranking: PHILLY (priority 5) first, then by id
    assert where(priority(order, candidates, PROFILE)) == {"PHILLY": {"A": 2}, "DALLAS": {"B": 1}}
    # most stock of each SKU: A from PHILLY, B from DALLAS
    assert where(high_stock(order, candidates, PROFILE)) == {"PHILLY": {"A": 2}, "DALLAS": {"B": 1}}
    # least cost: one parcel from DALLAS beats two near ones
    assert where(optimal(order, candidates, PROFILE)) == {"DALLAS": {"A": 2, "B": 1}}


def test_the_simulation_is_deterministic_and_conserves_units() -> None:
    demo = build_network(seed=5, stores=20)
    net = SimNetwork.from_demo(demo)
    orders = generate_orders(demo, 300, seed=6)
    first = simulate(net, orders, ["nearest_per_line", "optimal"]).kpis
    again = simulate(net, orders, ["nearest_per_line", "optimal"]).kpis
    for name in first:
        first[name].pop("plans_per_second")
        again[name].pop("plans_per_second")
    assert first == again
    for kpis in first.values():
        assert kpis["orders"] == 300
        assert 0 <= kpis["fill_rate"] <= 1 and 0 <= kpis["split_rate"] <= 1
    # on the same stream, the least-cost engine splits far fewer orders than line by line
    assert first["optimal"]["split_rate"] < first["nearest_per_line"]["split_rate"] / 2


def test_the_simulate_command_prints_and_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = ["simulate", "--orders", "120", "--stores", "20", "--output", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["strategies"]) == {
        "nearest_per_line",
        "ship_complete_else_nearest",
        "priority",
        "high_stock",
        "optimal",
        "batch",
    }
    bound = report["lower_bound"]["total"]
    for kpis in report["strategies"].values():
        assert kpis["cost"]["total"] >= bound - 1e-6
        assert 0 <= kpis["on_time_rate"] <= 1 and kpis["co2_kg"] > 0
    assert "optimal" in result.output
    assert report["batch"]["rationing"] is True and "withheld" in result.output
    assert report["batch"]["pickup_protection"] is True and "protected" in result.output
    plain = tmp_path / "plain.json"
    args = [*args[:-2], "--strategy", "batch", "--no-rationing", "--no-pickup-protection"]
    result = CliRunner().invoke(app, [*args, "--output", str(plain)])
    assert result.exit_code == 0, result.output
    unrationed = json.loads(plain.read_text())["batch"]
    assert unrationed["rationing"] is False and unrationed["lines_withheld"] == 0
    assert unrationed["pickup_protection"] is False and unrationed["windows_protected"] == 0
    bad = CliRunner().invoke(app, ["simulate", "--orders", "5", "--strategy", "magic"])
    assert bad.exit_code == 2


def test_simulate_with_a_stored_profile(tmp_path: Path, monkeypatch: object) -> None:
    from omniorder.db.engine import make_engine
    from omniorder.db.migrate import upgrade
    from omniorder.services import catalog
    from omniorder.services.database import Database

    url = f"sqlite:///{tmp_path}/p.db"
    engine = make_engine(url)
    upgrade(engine)
    Database(engine).write(lambda uow: catalog.put_profile(uow, "no-split", {"allow_split": False}))
    engine.dispose()
    monkeypatch.setenv("OMNIORDER_DATABASE_URL", url)  # type: ignore[attr-defined]
    out = tmp_path / "report.json"
    args = ["simulate", "--orders", "150", "--stores", "20", "--strategy", "optimal"]
    result = CliRunner().invoke(app, [*args, "--profile", "no-split", "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["profile"] == {"name": "no-split", "version": 1}
    assert report["strategies"]["optimal"]["split_rate"] == 0
    missing = CliRunner().invoke(app, [*args, "--profile", "nope"])
    assert missing.exit_code == 3


def test_batch_beats_optimal_on_a_scarce_network_and_stays_above_the_bound() -> None:
    """A small, scarce network: stock runs short, so which order gets a unit matters. Pickup
    protection is left out: it bets on pickups to come, a bet that runs of 900 orders can
    lose (docs/simulation.md); its own tests are below."""
    demo = build_network(seed=3, stores=12, warehouses=2, products=40)
    net = SimNetwork.from_demo(demo)
    orders = schedule(generate_orders(demo, 900, seed=4), net.locations, seed=5, days=3)
    options = BatchOptions(orders=150, minutes=None, pickup_protection=False)
    result = simulate(net, orders, ["optimal", "batch"], batch=options, bound=True)
    optimal, batch = result.kpis["optimal"], result.kpis["batch"]
    assert optimal["fill_rate"] < 0.95  # the stock did run short
    assert result.lower_bound is not None
    assert result.lower_bound - 1e-6 <= batch["cost"]["total"] <= optimal["cost"]["total"] + 1e-6
    # 900 orders over 3 days: six windows of 150, split further where a cut-off passes
    calendars = shipping_calendars(net)
    released = list(windows(orders, options, calendars))
    assert len(released) > 6 and all(len(w) <= 150 for w in released)
    assert result.batch is not None and result.batch["windows"] == len(released)
    assert result.batch["windows_improved"] > 0
    assert batch["cost"]["total"] < optimal["cost"]["total"]


def test_windows_close_on_count_and_on_time() -> None:
    demo = build_network(seed=3, stores=5, warehouses=2, products=20)
    net = SimNetwork.from_demo(demo)
    orders = schedule(generate_orders(demo, 50, seed=4), net.locations, seed=5, days=2)
    by_count = list(windows(orders, BatchOptions(orders=20, minutes=None)))
    assert [len(w) for w in by_count] == [20, 20, 10]
    by_time = list(windows(orders, BatchOptions(orders=1000, minutes=120)))
    assert sum(len(w) for w in by_time) == 50 and len(by_time) > 1
    for w in by_time:
        assert w[-1].placed_at - w[0].placed_at < timedelta(minutes=120)  # type: ignore[operator]


def test_windows_close_before_a_cut_off_passes() -> None:
    demo = build_network(seed=3, stores=5, warehouses=2, products=20)
    net = SimNetwork.from_demo(demo)
    orders = schedule(generate_orders(demo, 400, seed=4), net.locations, seed=5, days=3)
    calendars = shipping_calendars(net)

    def ship_dates(order: DemoOrder) -> list[object]:
        assert order.placed_at is not None
        return [c.ship_date(order.placed_at) for c in calendars]

    def crossing(ws: list[list[DemoOrder]]) -> int:
        return sum(ship_dates(w[0]) != ship_dates(w[-1]) for w in ws)

    options = BatchOptions(orders=1000, minutes=180)
    assert crossing(list(windows(orders, options))) > 0  # hourly waves straddle cut-offs
    aligned = list(windows(orders, options, calendars))
    assert [o for w in aligned for o in w] == orders
    assert crossing(aligned) == 0
    for w in aligned:
        assert w[-1].placed_at - w[0].placed_at < timedelta(minutes=180)  # type: ignore[operator]


def test_demand_follows_the_seasonality_knob_and_carries_promises() -> None:
    assert day_weights(14, 0.0)[-1] == day_weights(14, 0.0)[6]  # both Sundays, no peak
    assert day_weights(14, 2.0)[-1] == 3 * day_weights(14, 0.0)[-1]
    demo = build_network(seed=3, stores=5, warehouses=2, products=20)
    net = SimNetwork.from_demo(demo)
    flat = schedule(generate_orders(demo, 2000, seed=4), net.locations, seed=5, days=14)
    peak = schedule(
        generate_orders(demo, 2000, seed=4), net.locations, seed=5, days=14, seasonality=3.0
    )

    def last_week(orders: list[Any]) -> float:
        start = orders[0].placed_at.replace(day=2, hour=0, minute=0, second=0)
        return sum(o.placed_at >= start + timedelta(days=7) for o in orders) / len(orders)

    assert last_week(flat) < 0.55 < 0.7 < last_week(peak)
    for o in flat:
        assert o.promise_by is not None and o.placed_at is not None
        assert o.promise_by > o.placed_at.date() or o.service_level == "pickup"


CSV_LOCATIONS = """id,name,type,latitude,longitude,cutoff,timezone
WH-NJ,Newark DC,warehouse,40.7357,-74.1724,17:00,America/New_York
ST-PHL,Philadelphia <Center> Store,store,39.9526,-75.1652,14:00,America/New_York
"""
CSV_STOCK = """location_id,sku,on_hand,safety_stock
WH-NJ,A,50,0
WH-NJ,B,5,1
ST-PHL,A,3,0
"""
CSV_ORDERS = (
    (
        "order_id,sku,quantity,service_level,latitude,longitude,pickup_location_id,placed_at,"
        "promise_by\n"
    )
    + """o1,A,1,standard,40.71,-74.0,,2026-11-02T10:00:00+00:00,2026-11-05
o1,B,1,standard,40.71,-74.0,,2026-11-02T10:00:00+00:00,2026-11-05
o2,A,2,pickup,,,ST-PHL,2026-11-02T11:00:00+00:00,
"""
)


def test_a_network_and_orders_from_csv_files(tmp_path: Path) -> None:
    (tmp_path / "locations.csv").write_text(CSV_LOCATIONS)
    (tmp_path / "stock.csv").write_text(CSV_STOCK)
    (tmp_path / "orders.csv").write_text(CSV_ORDERS)
    out = tmp_path / "r.json"
    charts = tmp_path / "charts"
    args = ["simulate", "--network", str(tmp_path), "--output", str(out), "--charts", str(charts)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["orders"] == 2
    optimal = report["strategies"]["optimal"]
    assert optimal["fill_rate"] == 1.0 and optimal["split_rate"] == 0.0
    assert optimal["on_time_rate"] == 1.0  # o1 ships from Newark the same evening
    assert (charts / "simulate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (charts / "simulate-map.png").exists()
    page = (charts / "simulate.html").read_text()
    assert "Philadelphia &lt;Center&gt; Store" in page and "<script src" not in page
    # a promise without a placement time cannot be checked: it is not counted
    (tmp_path / "orders.csv").write_text(
        CSV_ORDERS.replace("2026-11-02T10:00:00+00:00", "").replace("2026-11-02T11:00:00+00:00", "")
    )
    result = CliRunner().invoke(app, [*args[:3], "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["strategies"]["optimal"]["on_time_rate"] is None
    # without orders.csv the demand is generated over the network's SKUs
    (tmp_path / "orders.csv").unlink()
    result = CliRunner().invoke(app, [*args[:3], "--orders", "40", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["orders"] == 40


def test_bad_csv_input_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "locations.csv").write_text(CSV_LOCATIONS.replace("40.7357", "140.7"))
    (tmp_path / "stock.csv").write_text(CSV_STOCK)
    result = CliRunner().invoke(app, ["simulate", "--network", str(tmp_path)])
    assert result.exit_code == 2
    assert "locations.csv:2: latitude" in " ".join(result.output.split())
    (tmp_path / "locations.csv").write_text(CSV_LOCATIONS)
    (tmp_path / "stock.csv").write_text(CSV_STOCK.replace("WH-NJ,B", "WH-XX,B"))
    result = CliRunner().invoke(app, ["simulate", "--network", str(tmp_path)])
    assert result.exit_code == 2 and "stock.csv:3: unknown location_id 'WH-XX'" in " ".join(
        result.output.split()
    )
    (tmp_path / "stock.csv").write_text(CSV_STOCK)
    (tmp_path / "orders.csv").write_text(CSV_ORDERS.replace("o2,A,2,pickup", "o2,A,0,pickup"))
    result = CliRunner().invoke(app, ["simulate", "--network", str(tmp_path)])
    assert result.exit_code == 2 and "orders.csv:4: quantity" in " ".join(result.output.split())


def a_alone_or_with_b(count: int, monkeypatch: Any) -> list[DemoOrder]:
    """``count`` orders to one ship-to near NEWARK, odd ones for A alone, even ones for A and
    B; stock prices from the 60th order on, refreshed every 60 orders."""
    monkeypatch.setattr(StockPricing, "AFTER", 60)
    monkeypatch.setattr(StockPricing, "EVERY", 60)
    return [
        DemoOrder(
            "web",
            f"o{i}",
            (("A", 1),) if i % 2 else (("A", 1), ("B", 1)),
            (40.0, -75.0),
            "standard",
            None,
        )
        for i in range(count)
    ]


def test_stock_prices_leave_a_scarce_unit_to_orders_that_ship_anyway(monkeypatch: Any) -> None:
    """One warehouse holds A for half of the orders that want it. Half the orders are A
    alone, half A with plentiful B. First come, first served spends A on whoever comes and
    then ships B alone to the rest; priced by the forecast, A goes to orders that ship B
    from there anyway, so the run sends fewer parcels for about as many units."""
    orders = a_alone_or_with_b(400, monkeypatch)
    net = SimNetwork("US", (loc("NEWARK"),), {"NEWARK": {"A": 200, "B": 1000}}, {})
    options = BatchOptions(orders=20, minutes=None)
    priced = simulate(net, orders, ["batch"], batch=options).kpis["batch"]
    plain = simulate(
        net, orders, ["batch"], batch=BatchOptions(orders=20, minutes=None, prices=False)
    )
    unpriced = plain.kpis["batch"]
    assert unpriced["fulfillments_per_order"] > priced["fulfillments_per_order"]
    assert priced["cost"]["total"] < unpriced["cost"]["total"]
    assert abs(priced["fill_rate"] - unpriced["fill_rate"]) < 0.05


def test_a_sku_far_short_is_rationed_over_the_run(monkeypatch: Any) -> None:
    """NEWARK holds 150 units of A for 1,000 orders that want one each: half want A alone,
    half A with plentiful B. Prices alone ship A to every order with B that comes until A
    runs out early in the run. Rationed, each window ships A only in the share the
    relaxation of the window and the forecast ships, so A still reaches orders at the end
    of the run, the units go to orders with B all the same, and the run costs no more."""
    orders = a_alone_or_with_b(1000, monkeypatch)
    net = SimNetwork("US", (loc("NEWARK"),), {"NEWARK": {"A": 150, "B": 5000}}, {})

    def run(rationing: bool) -> tuple[dict[str, Any], list[int], dict[str, Any]]:
        options = BatchOptions(orders=20, minutes=None, rationing=rationing)
        result = simulate(net, orders, ["batch"], batch=options, keep_plans=True)
        plans = result.plans["batch"]
        # units of A shipped per quarter of the run, and to orders without B
        quarters = [0] * 4
        for n, p in enumerate(plans):
            quarters[4 * n // len(plans)] += sum(
                q for a in p.allocations for s, q in a.lines if s == "A"
            )
        alone = sum(
            q
            for n, p in enumerate(plans)
            if n % 2
            for a in p.allocations
            for s, q in a.lines
            if s == "A"
        )
        assert result.batch is not None
        return result.kpis["batch"], [*quarters, alone], result.batch

    rationed, (*r_quarters, r_alone), r_info = run(True)
    priced, (*p_quarters, p_alone), p_info = run(False)
    assert p_info["lines_withheld"] == 0 and r_info["lines_withheld"] > 0
    assert p_quarters[3] == 0 and r_quarters[3] > 0
    assert sum(r_quarters) == sum(p_quarters) == 150
    assert r_alone <= p_alone
    assert rationed["cost"]["total"] <= priced["cost"]["total"] + 1e-6


def ship_or_pick_up_a(count: int, monkeypatch: Any) -> list[DemoOrder]:
    """``count`` orders of one A, every 20th picked up at NEWARK, the rest shipped to NYC;
    stock prices from the 60th order on, refreshed every 60 orders."""
    monkeypatch.setattr(StockPricing, "AFTER", 60)
    monkeypatch.setattr(StockPricing, "EVERY", 60)
    return [
        DemoOrder("web", f"p{i}", (("A", 1),), None, "pickup", "NEWARK")
        if i % 20 == 19
        else DemoOrder("web", f"s{i}", (("A", 1),), (40.7128, -74.0060), "standard", None)
        for i in range(count)
    ]


def test_a_stores_last_units_are_kept_for_its_pickups(monkeypatch: Any) -> None:
    """The NEWARK store holds 120 units of A; 1,000 orders want one each, every 20th a
    pickup there, the rest shipped to NYC, which NEWARK is a few cents nearer than the PHILLY
    warehouse. Until prices start (60 orders) shipments take NEWARK's A either way; then,
    unprotected, they take the rest and later pickups find none; protected, they ship from
    PHILLY and every pickup is filled, for a lower cost."""
    orders = ship_or_pick_up_a(1000, monkeypatch)
    store = loc("NEWARK", type=LocationType.STORE, can_pickup=True)
    net = SimNetwork(
        "US", (store, loc("PHILLY")), {"NEWARK": {"A": 120}, "PHILLY": {"A": 2000}}, {}
    )

    def run(protect: bool) -> tuple[dict[str, Any], int, dict[str, Any]]:
        options = BatchOptions(orders=20, minutes=None, pickup_protection=protect)
        result = simulate(net, orders, ["batch"], batch=options, keep_plans=True)
        pickups_short = sum(
            p.backordered_units
            for o, p in zip(orders, result.plans["batch"], strict=True)
            if o.service_level == "pickup"
        )
        assert result.batch is not None
        return result.kpis["batch"], pickups_short, result.batch

    protected, p_short, p_info = run(True)
    plain, u_short, u_info = run(False)
    assert u_info["windows_protected"] == 0 and p_info["windows_protected"] > 0
    assert u_short >= 10 and p_short == 0
    assert protected["cost"]["total"] < plain["cost"]["total"]


def test_protection_is_the_expected_loss_of_the_stores_pickups(monkeypatch: Any) -> None:
    """After 100 orders, 5 of them pickups of one A at NEWARK, 880 orders remain after the
    next window: the store's pickups of A are Poisson with mean 44. The k-th unit that orders
    that ship take from the store's 40 costs the penalty times the chance that the pickups
    want more than the store then holds beyond the window's own pickup there."""
    orders = ship_or_pick_up_a(1000, monkeypatch)
    store = loc("NEWARK", type=LocationType.STORE, can_pickup=True)
    net = SimNetwork("US", (store, loc("PHILLY")), {}, {})
    pricing = StockPricing(net, PROFILE, len(orders))
    pricing.saw(orders[:80])
    stock = {"NEWARK": {"A": 40}, "PHILLY": {"A": 2000}}
    pricing.for_window(orders[80:100], stock)
    pricing.saw(orders[80:100])
    assert pricing.pickup_share == {"NEWARK": 0.05}

    def at_least(mean: float, n: int) -> float:
        return 1.0 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(n))

    window = orders[100:120]  # one pickup at NEWARK among them
    tiers = pricing.protection(window, stock)
    assert tiers.keys() == {("NEWARK", "A")}
    # the window's pickup leaves 39: the k-th unit shipped leaves 39 - k for the rest
    expected = [40.0 * at_least(44.0, max(1, 39 - k + 1)) for k in range(1, 41)]
    for got, want in zip(tiers[("NEWARK", "A")], expected, strict=True):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    assert tiers[("NEWARK", "A")][-1] == tiers[("NEWARK", "A")][-2]
    pricing.protect_pickups = False
    assert pricing.protection(window, stock) == {}


def test_priced_lateness_places_the_forecast_in_the_hours_still_to_come() -> None:
    demo = build_network(seed=3, stores=5, warehouses=2, products=20)
    net = SimNetwork.from_demo(demo)
    orders = schedule(generate_orders(demo, 400, seed=4), net.locations, seed=5, days=7)
    late = SourcingProfile(late_day_cost=5.0)
    pricing = StockPricing(net, late, len(orders), arrivals=[o.placed_at for o in orders])
    timed = pricing._timed(orders[:100], 300)
    hours = {
        o.placed_at.replace(minute=0, second=0, microsecond=0) for o in orders[300:] if o.placed_at
    }
    quote = Storefront(net.locations)
    moved = 0
    for was, now in zip(orders[:100], timed, strict=True):
        assert was.placed_at is not None and now.placed_at is not None
        assert now.placed_at.replace(minute=0, second=0, microsecond=0) in hours
        assert (now.placed_at.minute, now.placed_at.second) == (
            was.placed_at.minute,
            was.placed_at.second,
        )
        assert now.lines == was.lines and now.ship_to == was.ship_to
        assert now.promise_by == quote.placed(was, now.placed_at).promise_by
        moved += now.placed_at.date() != was.placed_at.date()
    # the first hundred orders come on the first day or two, the last hundred days later
    assert moved > 90
    assert pricing._timed(orders[:100], len(orders)) == orders[:100]
