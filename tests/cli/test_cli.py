"""The omniorder command, run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniorder.cli import app
from omniorder.db.engine import make_engine
from omniorder.db.migrate import current_revision, head_revision
from omniorder.services.database import Database
from omniorder.services.keys import Authenticator

runner = CliRunner()


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("OMNIORDER_DATABASE_URL", url)
    monkeypatch.delenv("OMNIORDER_ADMIN_KEY", raising=False)
    return url


def test_db_upgrade_brings_the_database_to_the_latest_revision(sqlite_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(sqlite_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0  # running it again is harmless


def test_serve_refuses_an_unmigrated_database(sqlite_url: str) -> None:
    result = runner.invoke(app, ["serve", "--port", "8999"])
    assert result.exit_code == 6
    assert "omniorder db upgrade" in result.output


def test_keys_create_prints_a_secret_that_authenticates(sqlite_url: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["keys", "create", "--role", "integration", "--name", "feed"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    engine = make_engine(sqlite_url)
    key = Authenticator(Database(engine)).authenticate(secret)
    engine.dispose()
    assert (key.role.value, key.name) == ("integration", "feed")


def test_a_location_key_without_locations_is_refused_with_exit_code_2(sqlite_url: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["keys", "create", "--role", "location"])
    assert result.exit_code == 2
    assert "location_ids" in result.output


def test_an_unknown_role_is_a_usage_error(sqlite_url: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--role", "root"])
    assert result.exit_code == 2


def test_demo_load_fills_the_database_and_prints_a_working_key(sqlite_url: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(
        app, ["demo", "load", "--stores", "10", "--products", "30", "--orders", "8"]
    )
    assert result.exit_code == 0, result.output
    assert "curl" in result.stdout
    secret = result.stdout.split("admin API key (created now): ")[1].split()[0]
    engine = make_engine(sqlite_url)
    db = Database(engine)
    assert Authenticator(db).authenticate(secret).role.value == "admin"
    orders, _ = db.read(lambda uow: uow.orders.list_page(50, None))
    locations, _ = db.read(lambda uow: uow.locations.list_page(50, None))
    engine.dispose()
    assert len(orders) == 8 and len(locations) == 14
    again = runner.invoke(
        app, ["demo", "load", "--stores", "10", "--products", "30", "--orders", "8"]
    )
    assert again.exit_code == 0, again.output  # loading twice replays, it does not duplicate


def test_demo_load_refuses_an_unmigrated_database(sqlite_url: str) -> None:
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 6
