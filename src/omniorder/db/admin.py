"""Database administration outside the schema's tables: reachability, and the scratch schemas
and databases benchmarks run in."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL


def ping(engine: Engine) -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def recreate_schema(engine: Engine, schema: str) -> None:
    """Drop and create a PostgreSQL schema (``schema`` is a name of ours, never user input)."""
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def server_engine(url: URL) -> Engine:
    """An AUTOCOMMIT engine on the server of ``url`` (CREATE/DROP DATABASE need one)."""
    return create_engine(
        url.set(drivername="postgresql+psycopg", query={}), isolation_level="AUTOCOMMIT"
    )


def recreate_database(engine: Engine, name: str) -> None:
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))


def drop_database(engine: Engine, name: str) -> None:
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
