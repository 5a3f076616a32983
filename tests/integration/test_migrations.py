"""The Alembic migrations build exactly the schema the table definitions describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from omniorder.db.migrate import head_revision, is_up_to_date
from omniorder.db.tables import metadata


def test_the_migrated_schema_matches_the_tables(engine: Engine) -> None:
    assert is_up_to_date(engine) and head_revision() is not None
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []
