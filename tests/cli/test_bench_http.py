"""`omniorder bench http` runs a real server, places orders and records what it measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniorder.bench.common import percentile
from omniorder.bench.http import availability_path, bench_database_url
from omniorder.bench.pgbench import parse_pgbench
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


def test_pgbench_reports_of_old_and_new_releases_are_read() -> None:
    new = "latency average = 4.986 ms\ntps = 3186.584985 (without initial connection time)\n"
    old = (
        "latency average = 12.1 ms\ntps = 812.5 (including connections establishing)\n"
        "tps = 820.25 (excluding connections establishing)\n"
    )
    assert parse_pgbench(new) == (3186.584985, 4.986)
    assert parse_pgbench(old) == (820.25, 12.1)
    with pytest.raises(RuntimeError):
        parse_pgbench("FATAL: no such database")


def test_the_benchmark_never_touches_a_named_sqlite_file(tmp_path: Path) -> None:
    precious = tmp_path / "omniorder.db"
    precious.write_bytes(b"not to be touched")
    assert str(precious) not in bench_database_url(f"sqlite:///{precious}")
    args = ["bench", "http", "--database-url", f"sqlite:///{precious}", "--workers", "1"]
    args += ["--clients", "1", "--duration", "0.5", "--warmup", "0", "--no-pgbench"]
    result = CliRunner().invoke(app, [*args, "--output", str(tmp_path / "result.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "result.json").read_text())["requests"] > 0
    assert precious.read_bytes() == b"not to be touched"


def short_read_run(tmp_path: Path, endpoint: str) -> list[str]:
    """Arguments of a 1.5 s run of 2 clients against one worker on SQLite."""
    args = ["bench", "http", "--database-url", f"sqlite:///{tmp_path}/b.db", "--workers", "1"]
    args += ["--clients", "2", "--duration", "1.5", "--warmup", "0", "--no-pgbench"]
    return [*args, "--endpoint", endpoint, "--output", str(tmp_path / "result.json")]


@pytest.mark.parametrize("endpoint", ["promises", "availability"])
def test_a_short_run_of_reads_records_the_result(tmp_path: Path, endpoint: str) -> None:
    result = CliRunner().invoke(app, short_read_run(tmp_path, endpoint))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["endpoint"] == endpoint
    assert data["errors"] == 0 and data["requests"] > 0
    assert data["statuses"] == {"200": data["requests"]}
    assert data["order_statuses"] == {}  # reads hold nothing and place nothing


def test_an_unknown_endpoint_is_refused(tmp_path: Path) -> None:
    bad = CliRunner().invoke(app, short_read_run(tmp_path, "carts"))
    assert bad.exit_code == 2
    assert not (tmp_path / "result.json").exists()


def test_an_availability_read_asks_for_the_basket_near_its_ship_to_point() -> None:
    order = {
        "lines": [{"sku": "SKU-00001", "quantity": 2}, {"sku": "SKU-00042", "quantity": 1}],
        "ship_to": {"latitude": 40.7128, "longitude": -74.006},
    }
    assert availability_path(order) == (
        "/v1/availability?sku=SKU-00001&sku=SKU-00042&latitude=40.7128&longitude=-74.006"
    )
    pickup = {"lines": [{"sku": "SKU-00001", "quantity": 1}], "ship_to": None}
    assert availability_path(pickup) == "/v1/availability?sku=SKU-00001"
