"""what a location needs to ship an order: address, customer, prices, metadata; rejected
units on fulfillments; holds that pause timers; the date a held promise promised

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ship_to_address", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("customer", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(3), nullable=True))
        batch.add_column(sa.Column("metadata", sa.JSON(), nullable=True))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("unit_price", sa.String(32), nullable=True))
        batch.add_column(sa.Column("metadata", sa.JSON(), nullable=True))
    with op.batch_alter_table("fulfillments") as batch:
        batch.add_column(sa.Column("rejected_lines", sa.JSON(), nullable=True))
    with op.batch_alter_table("promises") as batch:
        batch.add_column(sa.Column("promised_date", sa.Date(), nullable=True))
    # Orders held before this revision: their timers pause from now on.
    op.execute("UPDATE orders SET held_at = updated_at WHERE hold_reason IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("promises") as batch:
        batch.drop_column("promised_date")
    with op.batch_alter_table("fulfillments") as batch:
        batch.drop_column("rejected_lines")
    with op.batch_alter_table("order_lines") as batch:
        for name in ("metadata", "unit_price", "name"):
            batch.drop_column(name)
    with op.batch_alter_table("orders") as batch:
        for name in ("metadata", "currency", "customer", "ship_to_address", "held_at"):
            batch.drop_column(name)
