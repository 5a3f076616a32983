"""fulfillment lifecycle: holds, re-routes, timers, backorder wake-ups, returns, incoming

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
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(
            sa.Column("returned", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.create_check_constraint(
            op.f("ck_order_lines_returned_of_shipped"), "returned >= 0 AND returned <= shipped"
        )
    op.create_table(
        "returns",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("restock", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_returns_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
    )
    op.create_index("ix_returns_order", "returns", ["order_id"])
    op.create_table(
        "incoming",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("received_quantity", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_incoming_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_incoming_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["sku"], ["products.sku"], name=op.f("fk_incoming_sku_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming")),
    )
    op.create_index("ix_incoming_sku", "incoming", ["sku", "received_at"])
    op.create_table(
        "backorder_wakeups",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_backorder_wakeups")),
    )


def downgrade() -> None:
    op.drop_table("backorder_wakeups")
    op.drop_index("ix_incoming_sku", table_name="incoming")
    op.drop_table("incoming")
    op.drop_index("ix_returns_order", table_name="returns")
    op.drop_table("returns")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_constraint(op.f("ck_order_lines_returned_of_shipped"), type_="check")
        batch.drop_column("returned")
    with op.batch_alter_table("fulfillments") as batch:
        batch.drop_index("ix_fulfillments_expires_at")
        batch.drop_index("ix_fulfillments_accept_by")
        batch.drop_column("rejection_reason")
        batch.drop_column("expires_at")
        batch.drop_column("accept_by")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("reroutes")
        batch.drop_column("hold_reason")
