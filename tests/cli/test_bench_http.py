"""`omniorder bench http` runs a real server, places orders and records what it measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniorder.bench.common import percentile
from omniorder.cli import app

pytestmark = pytest.mark.slow


def test_a_short_run_places_orders_and_records_the_result(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    args = [
        "bench",
        "http",
        "--database-url",
        f"sqlite:///{tmp_path}/b.db",
        "--workers",
        "1",
        "--clients",
        "2",
        "--duration",
        "2",
        "--warmup",
        "0",
        "--no-pgbench",
        "--output",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["errors"] == 0 and data["requests"] > 0
    assert data["orders_per_second"] == pytest.approx(data["requests"] / data["seconds"], rel=0.01)
    assert sum(data["order_statuses"].values()) >= data["requests"]
    assert data["latency_ms"]["p50"] <= data["latency_ms"]["p99"] <= data["latency_ms"]["max"]


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([], 50) == 0.0
