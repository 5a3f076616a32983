"""The `omniorder` command: serve, worker, simulate, db upgrade, demo load, keys create,
bench."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from omniorder.bench.cli import bench_app
from omniorder.config import Settings
from omniorder.domain.errors import OmniorderError
from omniorder.domain.model import Role
from omniorder.domain.sourcing import SourcingProfile

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="omniorder: distributed order management."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
demo_app = typer.Typer(no_args_is_help=True, help="The demo network.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)


def _fail(exc: OmniorderError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.detail}")
    for e in exc.errors:
        console.print(f"  {e.field}: {e.message}")
    return typer.Exit(exc.exit_code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (OMNIORDER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OMNIORDER_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (docs at /docs). Refuses to start on an unmigrated database."""
    from omniorder.db.engine import make_engine
    from omniorder.db.migrate import is_up_to_date

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        migrated = is_up_to_date(engine)
    finally:
        engine.dispose()
    if not migrated:
        console.print("[red]error:[/red] the database is not migrated: run `omniorder db upgrade`")
        raise typer.Exit(6)
    from omniorder.serve import serve as run_server

    run_server(host or settings.host, port or settings.port, workers, settings.log_level)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="One pass, print what it did, exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between passes when idle.")
    ] = 1.0,
) -> None:
    """Run the lifecycle worker: re-route fulfillments not accepted in time, expire pickups
    not collected, source backorders when stock grows. Safe to run in several processes on
    PostgreSQL; run one on SQLite."""
    import time

    from omniorder.db.engine import make_engine
    from omniorder.db.migrate import is_up_to_date
    from omniorder.services.database import Database
    from omniorder.services.worker import run_once

    settings = Settings()
    engine = make_engine(settings.database_url)
    if not is_up_to_date(engine):
        console.print("[red]error:[/red] the database is not migrated: run `omniorder db upgrade`")
        raise typer.Exit(6)
    db, policy = Database(engine), settings.policy()
    out = Console()
    try:
        while True:
            result = run_once(db, policy)
            if once or result.busy:
                out.print(
                    f"timed out {result.timed_out}, expired {result.expired}, "
                    f"skipped {result.skipped}, backordered SKUs woken {result.backorder_skus}, "
                    f"orders sourced again {result.backorders_served}, "
                    f"promise holds expired {result.promises_expired}"
                )
            if once:
                return
            if not result.busy:
                time.sleep(interval)
    except KeyboardInterrupt:
        return
    finally:
        engine.dispose()


@app.command()
def simulate(
    orders: Annotated[int, typer.Option(min=1, max=1_000_000, help="Orders to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the network and the demand.")] = 7,
    country: Annotated[str, typer.Option(help="Country of the demo network (US, DE, …).")] = "US",
    warehouses: Annotated[int, typer.Option(min=1, max=100)] = 4,
    stores: Annotated[int, typer.Option(min=0, max=2000)] = 40,
    pickup_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.1,
    strategy: Annotated[
        list[str] | None, typer.Option(help="Strategies to compare (default: all).")
    ] = None,
    output: Annotated[str | None, typer.Option(help="Write the JSON report here.")] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Price and route with this sourcing profile of the database "
            "(OMNIORDER_DATABASE_URL) instead of the default one."
        ),
    ] = None,
) -> None:
    """Replay generated demand over a demo network through several routing strategies, each
    on its own copy of the stock, and compare split rate, fill rate, distance and cost."""
    import json
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from omniorder.demo.network import build_network, generate_orders
    from omniorder.domain.strategies import STRATEGIES
    from omniorder.sim.run import simulate as run

    names = strategy or list(STRATEGIES)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        console.print(
            f"[red]error:[/red] unknown strategy {', '.join(unknown)}; "
            f"known: {', '.join(STRATEGIES)}"
        )
        raise typer.Exit(2)
    try:
        net = build_network(seed=seed, country=country, warehouses=warehouses, stores=stores)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    rules = _stored_profile(profile) if profile else None
    stream = generate_orders(net, orders, seed=seed + 1, pickup_share=pickup_share)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("simulating", total=orders * len(names))
        result = run(net, stream, names, rules, advance=lambda: progress.advance(task))
    used = "default" if rules is None else f"{rules.name} v{rules.version}"
    table = Table(
        title=f"omniorder simulate: {orders} orders, {country}, seed {seed}, profile {used}"
    )
    table.add_column("KPI", no_wrap=True)
    for name in result:
        table.add_column(name.replace("_", " "), justify="right")
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("split rate", lambda k: f"{k['split_rate']:.1%}"),
        ("parcels per order", lambda k: f"{k['fulfillments_per_order']:.2f}"),
        ("fill rate", lambda k: f"{k['fill_rate']:.1%}"),
        ("short-ship rate", lambda k: f"{k['short_ship_rate']:.1%}"),
        ("km per unit", lambda k: f"{k['km_per_unit']:.0f}"),
        ("store share", lambda k: f"{k['store_share']:.1%}"),
        ("cost per order", lambda k: f"{k['cost_per_order']:.2f}"),
        ("total cost", lambda k: f"{k['cost']['total']:.0f}"),
    ]
    for label, show in rows:
        table.add_row(label, *(show(k) for k in result.values()))
    Console().print(table)
    if output:
        report = {
            "orders": orders,
            "seed": seed,
            "country": country,
            "warehouses": warehouses,
            "stores": stores,
            "pickup_share": pickup_share,
            "profile": {"name": "default", "version": 0}
            if rules is None
            else {"name": rules.name, "version": rules.version},
            "strategies": result,
        }
        Path(output).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        console.print(f"report written to {output}")


def _stored_profile(name: str) -> SourcingProfile:
    """A sourcing profile from the configured database (exit 3 when it does not exist)."""
    from omniorder.db.engine import make_engine
    from omniorder.db.migrate import is_up_to_date
    from omniorder.services.catalog import get_profile
    from omniorder.services.database import Database

    engine = make_engine(Settings().database_url)
    try:
        if not is_up_to_date(engine):
            console.print(
                "[red]error:[/red] the database is not migrated: run `omniorder db upgrade`"
            )
            raise typer.Exit(6)
        try:
            return Database(engine).read(lambda uow: get_profile(uow, name))
        except OmniorderError as exc:
            raise _fail(exc) from exc
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply Alembic migrations up to REVISION (default: head)."""
    from omniorder.db.engine import make_engine
    from omniorder.db.migrate import current_revision, upgrade

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine, revision)
        console.print(f"database at revision [bold]{current_revision(engine)}[/bold]")
    finally:
        engine.dispose()


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin, channel, location or integration.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    channel: Annotated[str | None, typer.Option(help="Channel of a channel key.")] = None,
    location: Annotated[list[str] | None, typer.Option(help="Location of a location key.")] = None,
) -> None:
    """Create an API key and print its secret (shown once)."""
    from omniorder.db.engine import make_engine
    from omniorder.services.database import Database
    from omniorder.services.keys import create_key

    engine = make_engine(Settings().database_url)
    try:
        new = Database(engine).write(lambda uow: create_key(uow, name, role, channel, location))
    except OmniorderError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    typer.echo(new.secret)


@demo_app.command("load")
def demo_load(
    seed: Annotated[int, typer.Option(help="Random seed of the network.")] = 7,
    stores: Annotated[int, typer.Option(min=0, max=500)] = 40,
    warehouses: Annotated[int, typer.Option(min=1, max=50)] = 4,
    products: Annotated[int, typer.Option(min=1, max=20000)] = 200,
    orders: Annotated[int, typer.Option(min=0, max=100000, help="Sample orders to place.")] = 25,
) -> None:
    """Load a demo network over real US cities into the configured database."""
    from omniorder.demo.loader import load_demo

    try:
        summary = load_demo(Settings(), seed, warehouses, stores, products, orders)
    except OmniorderError as exc:
        raise _fail(exc) from exc
    out = Console(soft_wrap=True)
    out.print(summary.render())


def main() -> None:
    try:
        app()
    except OmniorderError as exc:  # pragma: no cover - commands catch their own
        console.print(f"[red]error:[/red] {exc.detail}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
