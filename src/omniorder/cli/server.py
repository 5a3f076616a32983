"""`omniorder serve` and `omniorder worker`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from omniorder.cli.base import app, console
from omniorder.config import Settings


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
    from omniorder.serve import CannotListen
    from omniorder.serve import serve as run_server

    try:
        run_server(host or settings.host, port or settings.port, workers, settings.log_level)
    except CannotListen as exc:  # one plain line (rich would wrap it), no traceback
        typer.echo(f"omniorder: {exc}", err=True)
        raise typer.Exit(1) from None


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
