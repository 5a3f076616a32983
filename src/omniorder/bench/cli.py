"""`omniorder bench …`: benchmarks that print and record results."""

from __future__ import annotations

import typer

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: print and record results.")
