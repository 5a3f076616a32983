"""`omniorder simulate --replay`: the orders stored in the database routed again (what-if)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniorder.cli import app
from omniorder.config import Settings
from omniorder.demo.loader import load_demo
from omniorder.services import catalog
from omniorder.services.database import Database


def test_replay_reproduces_the_routing_and_shows_what_another_profile_changes(
    settings: Settings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(settings, seed=11, warehouses=3, stores=12, products=40, sample_orders=80)
    db.write(lambda uow: catalog.put_profile(uow, "stores-first", {"shipment_cost": 0.5}))
    monkeypatch.setenv("OMNIORDER_DATABASE_URL", settings.database_url)
    out = tmp_path / "replay.json"
    args = ["simulate", "--replay", "--strategy", "optimal", "--strategy", "nearest_per_line"]
    result = CliRunner().invoke(app, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["source"] == "orders of the database" and report["orders"] == 80
    routed, optimal = report["strategies"]["as_routed"], report["strategies"]["optimal"]
    # the same engine and profile over the same pool of stock routes every order as it was
    assert report["changed_plans"]["optimal"] == 0
    assert routed["cost"] == optimal["cost"] and routed["split_rate"] == optimal["split_rate"]
    assert report["changed_plans"]["nearest_per_line"] > 0
    assert report["lower_bound"]["total"] <= optimal["cost"]["total"] + 1e-6

    # what if shipments were cheap: more splits, other locations
    result = CliRunner().invoke(
        app, [*args, "--profile", "stores-first", "--output", str(out), "--no-bound"]
    )
    assert result.exit_code == 0, result.output
    what_if = json.loads(out.read_text())
    assert what_if["profile"] == {"name": "stores-first", "version": 1}
    assert what_if["changed_plans"]["optimal"] > 0
    assert (
        what_if["strategies"]["optimal"]["cost"]["total"]
        <= what_if["strategies"]["as_routed"]["cost"]["total"] + 1e-6
    )
    assert what_if["lower_bound"] is None
