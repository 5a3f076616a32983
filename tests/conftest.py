"""Shared fixtures: every database test runs on SQLite and, when OMNIORDER_TEST_DATABASE_URL
is set, on PostgreSQL too (in a schema of its own, dropped and created per test session)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from omniorder.api.app import create_app
from omniorder.config import Settings
from omniorder.db.engine import make_engine
from omniorder.db.migrate import upgrade
from omniorder.db.tables import metadata
from omniorder.services.database import Database
from tests import contract

ADMIN_KEY = "test-admin-key-0123456789"
PG_SCHEMA = f"omniorder_test_{os.getpid()}"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("OMNIORDER_TEST_DATABASE_URL") else [])


def _pg_url() -> str:
    base = os.environ["OMNIORDER_TEST_DATABASE_URL"]
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{PG_SCHEMA}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "omniorder.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    admin = make_engine(os.environ["OMNIORDER_TEST_DATABASE_URL"])
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    url = _pg_url()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
    admin.dispose()


def _clean(engine: Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url, pool_size=20)
    _clean(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Database:
    return Database(engine)


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def settings(database_url: str, engine: Engine) -> Settings:
    del engine  # cleaned database first
    return Settings(
        database_url=database_url, admin_key=ADMIN_KEY, db_pool_size=20, background_worker=False
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An admin client of the app; every answer it gets is checked against the schema its
    route declares (tests/contract.py)."""
    app = create_app(settings)
    routes = contract.record_routes(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers.update({"Authorization": f"Bearer {ADMIN_KEY}"})
        contract.check_answers(c, routes)
        yield c


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    del config
    for item in items:
        if "postgres_only" in item.keywords:
            callspec = getattr(item, "callspec", None)
            if callspec is not None and callspec.params.get("database_url") != "postgresql":
                item.add_marker(
                    pytest.mark.skip(
                        reason="PostgreSQL-only: runs when OMNIORDER_TEST_DATABASE_URL is set "
                        "(bash .ci/run sets it)"
                    )
                )
