"""The `omniorder` command: serve, worker, simulate, db upgrade, demo load, keys create,
bench. One module per command group; importing them registers their commands."""

from __future__ import annotations

import sys

from omniorder.cli import admin, server, simulate  # noqa: F401  (they register commands)
from omniorder.cli.base import app, console
from omniorder.domain.errors import OmniorderError
from omniorder.process import quiet_solver_banner

__all__ = ["app", "main"]


def main() -> None:
    quiet_solver_banner()
    try:
        app()
    except OmniorderError as exc:  # pragma: no cover - commands catch their own
        console.print(f"[red]error:[/red] {exc.detail}")
        sys.exit(exc.exit_code)
