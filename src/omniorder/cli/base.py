"""The command's root, its groups and how a command reports an error."""

from __future__ import annotations

import typer
from rich.console import Console

from omniorder.bench.cli import bench_app
from omniorder.domain.errors import OmniorderError

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


def fail(exc: OmniorderError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.detail}")
    for e in exc.errors:
        console.print(f"  {e.field}: {e.message}")
    return typer.Exit(exc.exit_code)
