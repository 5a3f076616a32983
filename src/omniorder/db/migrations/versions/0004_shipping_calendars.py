"""shipping calendars of locations, promised delivery dates of orders, promise holds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locations") as batch:
        batch.add_column(
            sa.Column("timezone", sa.String(64), nullable=False, server_default=sa.text("'UTC'"))
        )
        batch.add_column(
            sa.Column("cutoff", sa.String(5), nullable=False, server_default=sa.text("'15:00'"))
        )
        batch.add_column(
            sa.Column(
                "working_days",
                sa.String(27),
                nullable=False,
                server_default=sa.text("'mon,tue,wed,thu,fri'"),
            )
        )
        batch.add_column(
            sa.Column("closed_dates", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("handling_days", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("promise_by", sa.Date(), nullable=True))
    op.create_table(
        "promises",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("service_level", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    op.create_index("ix_promises_expiry", "promises", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_promises_expiry", table_name="promises")
    op.drop_table("promises")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("promise_by")
    with op.batch_alter_table("locations") as batch:
        for name in ("handling_days", "closed_dates", "working_days", "cutoff", "timezone"):
            batch.drop_column(name)
