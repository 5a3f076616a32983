"""`omniorder simulate`: routing strategies compared on one demand stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from omniorder.cli.base import app, console, fail
from omniorder.config import Settings
from omniorder.domain.errors import OmniorderError
from omniorder.domain.sourcing import SourcingProfile


@app.command()
def simulate(
    orders: Annotated[int, typer.Option(min=1, max=1_000_000, help="Orders to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the network and the demand.")] = 7,
    country: Annotated[str, typer.Option(help="Country of the demo network (US, DE, …).")] = "US",
    warehouses: Annotated[int, typer.Option(min=1, max=100)] = 4,
    stores: Annotated[int, typer.Option(min=0, max=2000)] = 40,
    pickup_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.1,
    days: Annotated[int, typer.Option(min=1, max=366, help="Days the demand spreads over.")] = 7,
    seasonality: Annotated[
        float,
        typer.Option(
            min=0.0, max=10.0, help="Peak week: the last 7 days see 1+S times the demand."
        ),
    ] = 0.0,
    strategy: Annotated[
        list[str] | None, typer.Option(help="Strategies to compare (default: all).")
    ] = None,
    window: Annotated[
        int, typer.Option(min=1, max=100_000, help="batch: orders per release window.")
    ] = 200,
    window_minutes: Annotated[
        float,
        typer.Option(
            min=0.0, help="batch: a window closes after this many minutes too (0: never)."
        ),
    ] = 60.0,
    batch_seconds: Annotated[
        float, typer.Option(min=0.1, max=3600, help="batch: HiGHS time limit per window.")
    ] = 30.0,
    stock_prices: Annotated[
        bool,
        typer.Option(
            help="batch: price scarce stock by what the orders forecast to come would save with it."
        ),
    ] = True,
    rationing: Annotated[
        bool,
        typer.Option(
            help="batch: ship the SKUs the network is far short of only in the share the "
            "re-solved relaxation of each window and the forecast ships."
        ),
    ] = True,
    pickup_protection: Annotated[
        bool,
        typer.Option(
            help="batch: orders that ship pay for a store's last units what the store's "
            "pickups still to come would lose without them."
        ),
    ] = True,
    bound: Annotated[
        bool, typer.Option(help="Compute the LP lower bound of the whole run's cost.")
    ] = True,
    network: Annotated[
        Path | None,
        typer.Option(
            help="Directory with locations.csv, stock.csv (products.csv, orders.csv) to run "
            "instead of a demo network; orders.csv is replayed instead of generated demand."
        ),
    ] = None,
    from_database: Annotated[
        bool, typer.Option(help="Run over the network of the database (OMNIORDER_DATABASE_URL).")
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            help="Replay the orders stored in the database and compare with how they were "
            "routed (what-if, with --profile)."
        ),
    ] = False,
    output: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    charts: Annotated[
        Path | None,
        typer.Option(help="Write simulate.png, simulate-map.png and simulate.html here."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Price and route with this sourcing profile of the database "
            "(OMNIORDER_DATABASE_URL) instead of the default one."
        ),
    ] = None,
) -> None:
    """Replay demand over a network through several routing strategies, each on its own copy
    of the stock, and compare split rate, fill rate, distance, on-time rate, CO2 and cost."""
    from omniorder.sim.batch_run import BatchOptions
    from omniorder.sim.common import CO2_KG_PER_TONNE_KM
    from omniorder.sim.names import AS_ROUTED
    from omniorder.sim.replay import as_routed, changed_plans
    from omniorder.sim.run import ALL_STRATEGIES, whole_run_bound
    from omniorder.sim.run import simulate as run

    names = strategy or list(ALL_STRATEGIES)
    unknown = [n for n in names if n not in ALL_STRATEGIES]
    if unknown:
        console.print(
            f"[red]error:[/red] unknown strategy {', '.join(unknown)}; "
            f"known: {', '.join(ALL_STRATEGIES)}"
        )
        raise typer.Exit(2)
    if sum([network is not None, from_database or replay]) > 1:
        console.print("[red]error:[/red] --network and --from-database/--replay exclude each other")
        raise typer.Exit(2)
    rules = _stored_profile(profile) if profile else None
    try:
        net, stream, routed, source = _sim_input(
            network,
            from_database,
            replay,
            orders,
            seed,
            country,
            warehouses,
            stores,
            pickup_share,
            days,
            seasonality,
        )
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if not stream:
        console.print("[red]error:[/red] there are no orders to simulate")
        raise typer.Exit(2)
    options = BatchOptions(
        orders=window,
        minutes=window_minutes or None,
        seconds=batch_seconds,
        prices=stock_prices,
        rationing=rationing,
        pickup_protection=pickup_protection,
    )
    with _progress() as progress:
        task = progress.add_task("simulating", total=len(stream) * len(names))
        result = run(
            net,
            stream,
            names,
            rules,
            advance=lambda: progress.advance(task),
            batch=options,
            bound=False,
            keep_plans=routed is not None,
        )
        if bound:
            progress.update(task, description="LP lower bound of the whole run")
            result.lower_bound = whole_run_bound(net, stream, rules or SourcingProfile())
    kpis = dict(result.kpis)
    flows = dict(result.flows)
    changed: dict[str, int] = {}
    if routed is not None:
        before, before_flows, before_plans = as_routed(
            net, stream, routed, rules or SourcingProfile()
        )
        kpis = {AS_ROUTED: before, **kpis}
        flows = {AS_ROUTED: before_flows, **flows}
        changed = {n: changed_plans(before_plans, p) for n, p in result.plans.items()}
    used = "default" if rules is None else f"{rules.name} v{rules.version}"
    title = f"omniorder simulate: {len(stream)} orders, {source}, profile {used}"
    Console().print(_kpi_table(title, kpis, result.lower_bound, changed))
    if result.batch is not None:
        b = result.batch
        console.print(
            f"batch: {b['windows']} windows of up to {b['window_orders']} orders, "
            f"{b['windows_improved']} allocated otherwise than routing one by one, "
            f"HiGHS {b['solver_seconds']:.1f} s, worst proven gap {b['worst_gap']:.2%}"
            + (
                f"; stock prices computed {b['price_refreshes']} times "
                f"({b['pricing_seconds']:.1f} s), used in {b['windows_priced']} windows; "
                f"{b['lines_withheld']} lines of SKUs far short withheld "
                f"(rationing {b['rationing_seconds']:.1f} s); "
                f"store stock protected for pickups in {b['windows_protected']} windows"
                if b["stock_prices"]
                else "; no stock prices"
            )
        )
    report: dict[str, Any] = {
        "title": title,
        "source": source,
        "orders": len(stream),
        "seed": seed,
        "country": net.country,
        "days": days,
        "seasonality": seasonality,
        "pickup_share": pickup_share,
        "profile": {"name": "default", "version": 0}
        if rules is None
        else {"name": rules.name, "version": rules.version},
        "strategies": kpis,
        "lower_bound": None
        if result.lower_bound is None
        else {"total": round(result.lower_bound, 3)},
        "batch": result.batch,
        "changed_plans": changed or None,
        "co2_kg_per_tonne_km": CO2_KG_PER_TONNE_KM,
    }
    if output:
        output.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        console.print(f"report written to {output}")
    if charts:
        from omniorder.sim.charts import write_png
        from omniorder.sim.page import write_html

        charts.mkdir(parents=True, exist_ok=True)
        report["map"] = {
            "locations": [
                {
                    "id": loc.id,
                    "name": loc.name,
                    "type": str(loc.type),
                    "latitude": loc.latitude,
                    "longitude": loc.longitude,
                }
                for loc in net.locations
            ],
            "flows": flows,
        }
        write_png(report, charts / "simulate.png")
        write_html(report, charts / "simulate.html")
        console.print(f"charts written to {charts}/simulate.png, simulate-map.png, simulate.html")


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _sim_input(
    network: Path | None,
    from_database: bool,
    replay: bool,
    orders: int,
    seed: int,
    country: str,
    warehouses: int,
    stores: int,
    pickup_share: float,
    days: int,
    seasonality: float,
) -> tuple[Any, list[Any], dict[str, Any] | None, str]:
    """The network, the order stream, how stored orders were routed (replay) and a label."""
    from omniorder.demo.network import build_network, generate_orders
    from omniorder.sim.demand import generate, schedule
    from omniorder.sim.network import SimNetwork
    from omniorder.sim.sources import (
        load_csv_network,
        load_csv_orders,
        load_database_network,
        load_database_orders,
    )

    if network is not None:
        net = load_csv_network(network, country)
        if (network / "orders.csv").exists():
            return net, load_csv_orders(network / "orders.csv", net), None, f"{network}"
        stream = generate(net, orders, seed + 1, pickup_share)
        label = f"{network}, seed {seed}"
    elif from_database or replay:
        net, stream, routed = _read_database(replay, load_database_network, load_database_orders)
        if replay:
            return net, stream, routed, "orders of the database"
        stream = generate(net, orders, seed + 1, pickup_share)
        label = f"network of the database, seed {seed}"
    else:
        demo = build_network(seed=seed, country=country, warehouses=warehouses, stores=stores)
        net = SimNetwork.from_demo(demo)
        stream = generate_orders(demo, orders, seed=seed + 1, pickup_share=pickup_share)
        label = f"{country}, seed {seed}"
    return net, schedule(stream, net.locations, seed + 2, days, seasonality), None, label


def _read_database(replay: bool, read_network: Any, read_orders: Any) -> Any:
    from omniorder.services.database import Database

    def read(uow: Any) -> Any:
        net = read_network(uow)
        if not replay:
            return net, [], None
        return read_orders(uow, net)

    with _migrated_engine() as engine:
        return Database(engine).read(read)


@contextmanager
def _migrated_engine() -> Iterator[Any]:
    """An engine on the configured database (exit 6 when it is not migrated)."""
    from omniorder.db.engine import make_engine
    from omniorder.db.migrate import is_up_to_date

    engine = make_engine(Settings().database_url)
    try:
        if not is_up_to_date(engine):
            console.print(
                "[red]error:[/red] the database is not migrated: run `omniorder db upgrade`"
            )
            raise typer.Exit(6)
        yield engine
    finally:
        engine.dispose()


def _kpi_table(
    title: str,
    kpis: dict[str, dict[str, Any]],
    lower_bound: float | None,
    changed: dict[str, int],
) -> Any:
    from rich.table import Table

    from omniorder.sim.names import column_head

    def pct(key: str) -> Callable[[dict[str, Any]], str]:
        return lambda k: "n/a" if k.get(key) is None else f"{k[key]:.1%}"

    def num(key: str, digits: int) -> Callable[[dict[str, Any]], str]:
        return lambda k: "n/a" if k.get(key) is None else f"{k[key]:.{digits}f}"

    # without outer edges the table of all six strategies fits in 80 columns
    table = Table(title=title, show_edge=False)
    table.add_column("KPI")
    for name in kpis:
        # the name typed with --strategy, as in the JSON, PNG and HTML; folded to stay narrow
        table.add_column(column_head(name), justify="right", no_wrap=True)
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("split rate", pct("split_rate")),
        ("parcels per order", num("fulfillments_per_order", 2)),
        ("fill rate", pct("fill_rate")),
        ("short-ship rate", pct("short_ship_rate")),
        ("on-time rate", pct("on_time_rate")),
        ("km per unit", num("km_per_unit", 0)),
        ("CO2 kg per order", num("co2_kg_per_order", 3)),
        ("store share", pct("store_share")),
        ("cost per order", num("cost_per_order", 2)),
        ("total cost", lambda k: f"{k['cost']['total']:.0f}"),
    ]
    if lower_bound:
        rows.append(
            (
                "above LP bound",
                lambda k: f"{(k['cost']['total'] - lower_bound) / lower_bound:.2%}",
            )
        )
    for label, show in rows:
        table.add_row(label, *(show(k) for k in kpis.values()))
    if changed:
        table.add_row("orders routed otherwise", *(str(changed.get(n, "")) for n in kpis))
    if lower_bound:
        table.caption = f"LP lower bound of the whole run: {lower_bound:.0f}"
    return table


def _stored_profile(name: str) -> SourcingProfile:
    """A sourcing profile from the configured database (exit 3 when it does not exist)."""
    from omniorder.services.catalog import get_profile
    from omniorder.services.database import Database

    with _migrated_engine() as engine:
        try:
            return Database(engine).read(lambda uow: get_profile(uow, name))
        except OmniorderError as exc:
            raise fail(exc) from exc
