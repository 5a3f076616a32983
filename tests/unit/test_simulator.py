"""The comparison strategies and the simulator."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omniorder.cli import app
from omniorder.demo.network import build_network, generate_orders
from omniorder.domain.sourcing import SourcingProfile
from omniorder.domain.strategies import (
    high_stock,
    nearest_per_line,
    optimal,
    priority,
    ship_complete_else_nearest,
)
from omniorder.sim.run import simulate
from tests.unit.test_sourcing import cand, ship

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
    net = build_network(seed=5, stores=20)
    orders = generate_orders(net, 300, seed=6)
    first = simulate(net, orders, ["nearest_per_line", "optimal"])
    again = simulate(net, orders, ["nearest_per_line", "optimal"])
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
    }
    assert "optimal" in result.output
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
