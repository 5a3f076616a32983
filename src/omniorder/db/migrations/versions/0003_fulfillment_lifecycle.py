"""fulfillment lifecycle: holds, re-route count, timers, backorder wake-ups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("hold_reason", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("reroutes", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("fulfillments") as batch:
        batch.add_column(sa.Column("accept_by", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.String(length=40), nullable=True))
        batch.create_index("ix_fulfillments_accept_by", ["accept_by"])
        batch.create_index("ix_fulfillments_expires_at", ["expires_at"])
    op.create_table(
        "backorder_wakeups",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_backorder_wakeups")),
    )


def downgrade() -> None:
    op.drop_table("backorder_wakeups")
    with op.batch_alter_table("fulfillments") as batch:
        batch.drop_index("ix_fulfillments_expires_at")
        batch.drop_index("ix_fulfillments_accept_by")
        batch.drop_column("rejection_reason")
        batch.drop_column("expires_at")
        batch.drop_column("accept_by")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("reroutes")
        batch.drop_column("hold_reason")
