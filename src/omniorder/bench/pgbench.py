"""pgbench (TPC-B) against the same PostgreSQL server, as the reference next to our numbers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url

from omniorder.db.admin import drop_database, recreate_database, server_engine

BENCH_DB = "omniorder_pgbench"


@dataclass(frozen=True, slots=True)
class PgbenchResult:
    tps: float
    latency_ms: float
    clients: int
    seconds: int
    scale: int


def _conn_args(url: URL) -> list[str]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    if url.username:
        args += ["-U", url.username]
    return args


def run_pgbench(database_url: str, clients: int, seconds: int, scale: int = 10) -> PgbenchResult:
    """Initialise a scratch database, run TPC-B for ``seconds`` with ``clients``, drop it."""
    exe = shutil.which("pgbench")
    if exe is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")
    url = make_url(database_url)
    admin = server_engine(url)
    env_password = {"PGPASSWORD": url.password} if url.password else {}
    try:
        recreate_database(admin, BENCH_DB)
        base = [exe, *_conn_args(url)]
        subprocess.run(
            [*base, "-i", "-q", "-s", str(scale), BENCH_DB],
            check=True,
            capture_output=True,
            env={**_env(), **env_password},
        )
        run = subprocess.run(
            [*base, "-c", str(clients), "-j", "2", "-T", str(seconds), BENCH_DB],
            check=True,
            capture_output=True,
            text=True,
            env={**_env(), **env_password},
        )
    finally:
        drop_database(admin, BENCH_DB)
        admin.dispose()
    tps, latency = parse_pgbench(run.stdout)
    return PgbenchResult(tps, latency, clients, seconds, scale)


def parse_pgbench(stdout: str) -> tuple[float, float]:
    """(tps, average latency ms) from pgbench's report. PostgreSQL 14+ says "without initial
    connection time", older releases "excluding connections establishing"."""
    tps = re.search(r"tps = ([0-9.]+) \((?:without initial|excluding) connection", stdout)
    lat = re.search(r"latency average = ([0-9.]+) ms", stdout)
    if tps is None or lat is None:
        raise RuntimeError(f"could not read pgbench output:\n{stdout[-2000:]}")
    return float(tps.group(1)), float(lat.group(1))


def _env() -> dict[str, str]:
    return dict(os.environ)
