"""sourcing profile versions and channel defaults

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sourcing_profile_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_sourcing_profile_versions")),
    )
    # The versions stored so far become the history's first entries.
    op.execute(
        "INSERT INTO sourcing_profile_versions (name, version, rules, created_at) "
        "SELECT name, version, rules, updated_at FROM sourcing_profiles"
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("sourcing_profile", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
    )


def downgrade() -> None:
    op.drop_table("channels")
    op.drop_table("sourcing_profile_versions")
