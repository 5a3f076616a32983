"""`omniorder bench …`: benchmarks that print and record results."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: print and record results.")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@bench_app.command("http")
def bench_http(
    database_url: Annotated[
        str | None,
        typer.Option(help="Database (default OMNIORDER_BENCH_DATABASE_URL or local PostgreSQL)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Server worker processes.")] = 2,
    clients: Annotated[int, typer.Option(min=1, max=512, help="Concurrent clients.")] = 16,
    duration: Annotated[float, typer.Option(min=0.5, help="Measured seconds.")] = 20.0,
    warmup: Annotated[float, typer.Option(min=0, help="Seconds before measuring.")] = 3.0,
    port: Annotated[int | None, typer.Option(help="Server port (default: a free one).")] = None,
    pgbench: Annotated[bool, typer.Option(help="Measure pgbench TPC-B alongside.")] = True,
    output: Annotated[Path | None, typer.Option(help="Result JSON file.")] = None,
    seed: Annotated[int, typer.Option()] = 7,
    endpoint: Annotated[
        str,
        typer.Option(
            help="What the clients send: 'orders' (POST /v1/orders), 'promises' (POST "
            "/v1/promises, nothing held) or 'availability' (GET /v1/availability)."
        ),
    ] = "orders",
) -> None:
    """Serve the API with N workers, place orders (or ask for promises, or read availability)
    from M clients for T seconds, and print requests/s with latency percentiles next to
    pgbench on the same PostgreSQL."""
    from omniorder.bench import http
    from omniorder.bench.common import default_output, machine, write_result
    from omniorder.bench.pgbench import run_pgbench

    if endpoint not in http.ENDPOINTS:
        raise typer.BadParameter("'orders', 'promises' or 'availability'", param_hint="--endpoint")

    console = Console()
    url = database_url or os.environ.get("OMNIORDER_BENCH_DATABASE_URL") or DEFAULT_PG
    backend = make_url(url).get_backend_name()
    console.print(f"preparing a fresh {backend} database with the demo network …")
    try:
        bench_url = http.bench_database_url(url)
        net = http.load_network(bench_url, seed)
    except SQLAlchemyError as exc:
        console.print(
            f"[red]error:[/red] cannot prepare the database: {type(exc).__name__}: "
            f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip().splitlines()[0]}"
        )
        raise typer.Exit(1) from exc
    pool = http.order_pool(net, 2000, seed + 1)
    server = http.Server(bench_url, workers, port or http.free_port())
    try:
        server.wait_ready()
        with http.new_progress() as progress:
            load = asyncio.run(
                http.drive(
                    server.base, server.key, pool, clients, warmup, duration, progress, endpoint
                )
            )
    except RuntimeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        server.stop()
    summary = load.summary()
    statuses = http.order_statuses(bench_url)
    reference: dict[str, Any] | None = None
    if pgbench and backend == "postgresql":
        console.print(f"pgbench TPC-B, {clients} clients, {duration:.0f} s …")
        try:
            pg = run_pgbench(url, clients, max(1, round(duration)))
            reference = {"tps": pg.tps, "latency_ms": pg.latency_ms, "scale": pg.scale}
        except (RuntimeError, OSError) as exc:
            console.print(f"[yellow]pgbench skipped:[/yellow] {exc}")
    result = {
        "benchmark": "http",
        "endpoint": endpoint,
        "database": backend,
        "database_url": make_url(url).render_as_string(hide_password=True),
        "seed": seed,
        "workers": workers,
        "clients": clients,
        "warmup_seconds": warmup,
        "warehouse_stock_factor": http.WAREHOUSE_STOCK_FACTOR,
        **summary,
        "order_statuses": statuses,
        "pgbench": reference,
        "ratio_to_pgbench": None
        if reference is None
        else round(summary["orders_per_second"] / reference["tps"], 3),
        "machine": machine(),
    }
    label = backend if endpoint == "orders" else f"{backend}-{endpoint}"
    path = write_result(output or default_output("http", label), result)
    _print(console, result)
    console.print(f"recorded in {path}")
    if load.errors:
        console.print(f"[red]{load.errors} requests failed[/red]")
        raise typer.Exit(1)


def _print(console: Console, r: dict[str, Any]) -> None:
    from omniorder.bench.http import request_line

    table = Table(
        title=f"omniorder bench http — {r['database']}, {r['workers']} workers, "
        f"{r['clients']} clients"
    )
    table.add_column("system")
    for col in ("per second", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"):
        table.add_column(col, justify="right")
    lat = r["latency_ms"]
    table.add_row(
        f"omniorder {request_line(r.get('endpoint', 'orders'))}",
        f"{r['orders_per_second']:.1f}",
        f"{lat['p50']:.1f}",
        f"{lat['p95']:.1f}",
        f"{lat['p99']:.1f}",
        f"{lat['max']:.1f}",
        str(r["errors"]),
    )
    if r["pgbench"]:
        pg = r["pgbench"]
        table.add_row(
            "pgbench TPC-B (same server)",
            f"{pg['tps']:.1f}",
            "",
            "",
            "",
            f"avg {pg['latency_ms']:.1f}",
            "",
        )
        table.add_row(
            "ratio omniorder / pgbench", f"{r['ratio_to_pgbench']:.3f}", "", "", "", "", ""
        )
    console.print(table)
    console.print(f"orders by status: {r['order_statuses']}")


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"'{text}' is not a comma-separated list of integers") from exc
    if not values or any(v < 1 for v in values):
        raise typer.BadParameter(f"'{text}' needs positive integers")
    return values


@bench_app.command("sourcing")
def bench_sourcing(
    locations: Annotated[
        str, typer.Option(help="Candidate locations per instance, comma-separated.")
    ] = "10,50,100,500",
    lines: Annotated[str, typer.Option(help="Order lines, comma-separated.")] = "1,3,5,10,30",
    orders: Annotated[int, typer.Option(min=1, help="Orders per cell.")] = 200,
    highs_orders: Annotated[
        int, typer.Option(min=0, help="Orders per cell also solved by HiGHS.")
    ] = 20,
    cpu: Annotated[
        int | None, typer.Option(help="Pin the benchmark to this CPU (default: CPU 0).")
    ] = 0,
    output: Annotated[Path | None, typer.Option(help="Result JSON file.")] = None,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Plans per second and latency of the sourcing engine on one core, for each size of
    network and order, next to a nearest-location-per-line greedy and HiGHS on the same
    instances, with the greedy's cost gap to the optimum."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from omniorder.bench import sourcing
    from omniorder.bench.common import default_output, machine, write_result
    from omniorder.domain.sourcing import SourcingProfile
    from omniorder.serve import GC_THRESHOLD

    console = Console()
    sizes = _int_list(locations)
    line_counts = _int_list(lines)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as exc:
            console.print(f"[red]error:[/red] cannot pin to CPU {cpu}: {exc}")
            raise typer.Exit(1) from exc
    profile = SourcingProfile()
    cells: list[dict[str, Any]] = []
    total = len(sizes) * len(line_counts) * orders
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("solving", total=total)
        for size in sizes:
            net = sourcing.network(size, seed)
            for n_lines in line_counts:
                progress.update(task, description=f"{size} locations x {n_lines} lines")
                items = sourcing.instances(net, n_lines, orders, seed + n_lines)
                # the garbage collector as `omniorder serve` runs it: what is alive before
                # the work (here the instances) is frozen, young collections are rarer
                gc.collect()
                gc.freeze()
                gc.set_threshold(GC_THRESHOLD, 20, 20)
                cell = sourcing.run_cell(
                    items, profile, highs_orders, lambda: progress.advance(task)
                )
                cells.append({"locations": size, "lines": n_lines, **cell})
    result = {
        "benchmark": "sourcing",
        "seed": seed,
        "cpu": cpu,
        "orders_per_cell": orders,
        "highs_orders_per_cell": highs_orders,
        "profile": "default",
        "cells": cells,
        "machine": machine(),
    }
    path = write_result(output or default_output("sourcing", "inprocess"), result)
    _print_sourcing(console, result)
    console.print(f"recorded in {path}")
    if any(c["highs_cost_mismatches"] for c in cells):
        console.print("[red]the engine and HiGHS disagree on some optimum[/red]")
        raise typer.Exit(1)


def _print_sourcing(console: Console, r: dict[str, Any]) -> None:
    table = Table(
        title=f"omniorder bench sourcing: {r['orders_per_cell']} orders per cell "
        f"(HiGHS on {r['highs_orders_per_cell']}), one core"
    )
    for col in (
        "locations x lines",
        "plans/s",
        "p50 ms",
        "p99 ms",
        "exact search",
        "greedy plans/s",
        "HiGHS plans/s",
        "same cost as HiGHS",
        "greedy cost gap",
        "split rate (greedy)",
    ):
        table.add_column(col, justify="right")
    for c in r["cells"]:
        om, gr, hi = c["omniorder"], c["greedy"], c["highs"]
        searched = c["methods"].get("branch-and-bound", 0)
        agree = f"{hi['orders'] - c['highs_cost_mismatches']}/{hi['orders']}"
        table.add_row(
            f"{c['locations']} x {c['lines']}",
            f"{om['plans_per_second']:.0f}",
            f"{om['p50_ms']:.2f}",
            f"{om['p99_ms']:.2f}",
            f"{searched}/{c['orders']}",
            f"{gr['plans_per_second']:.0f}",
            f"{hi['plans_per_second']:.1f}",
            agree,
            f"{c['cost']['greedy_gap_pct']:+.1f}%",
            f"{c['split_rate']['omniorder']:.0%} ({c['split_rate']['greedy']:.0%})",
        )
    console.print(table)
