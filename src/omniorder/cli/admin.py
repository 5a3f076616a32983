"""`omniorder db upgrade`, `omniorder keys create`, `omniorder demo load`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from omniorder.cli.base import console, db_app, demo_app, fail, keys_app
from omniorder.config import Settings
from omniorder.domain.errors import OmniorderError
from omniorder.domain.model import Role


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
        raise fail(exc) from exc
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
        raise fail(exc) from exc
    out = Console(soft_wrap=True)
    out.print(summary.render())
