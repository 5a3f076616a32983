"""Table definitions (SQLAlchemy Core). Alembic migrations in db/migrations must match these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)
# BIGINT autoincrement that is also an INTEGER PRIMARY KEY (rowid alias) on SQLite.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")
UTCDateTime = DateTime(timezone=True)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("channel", ID),
    Column("location_ids", JSON),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("country", String(2)),
    Column("postal_code", String(20)),
    Column("can_ship", Boolean, nullable=False),
    Column("can_pickup", Boolean, nullable=False),
    Column("daily_capacity", Integer),
    Column("handling_cost", Float, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("inventory_sequence", BigInteger),
    # shipping calendar (domain/delivery.py)
    Column("timezone", String(64), nullable=False, server_default=text("'UTC'")),
    Column("cutoff", String(5), nullable=False, server_default=text("'15:00'")),
    Column(
        "working_days", String(27), nullable=False, server_default=text("'mon,tue,wed,thu,fri'")
    ),
    Column("closed_dates", JSON, nullable=False, server_default=text("'[]'")),
    Column("handling_days", Integer, nullable=False, server_default=text("1")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("sku", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("weight_kg", Float),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

stock = Table(
    "stock",
    metadata,
    Column("location_id", ID, ForeignKey("locations.id"), primary_key=True),
    Column("sku", ID, ForeignKey("products.sku"), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    Index("ix_stock_sku", "sku"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("location_id", ID, nullable=False),
    Column("sku", ID, nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    Column("reserved_after", Integer, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("reference", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_ledger_position", "location_id", "sku", "id"),
)

sourcing_profiles = Table(
    "sourcing_profiles",
    metadata,
    Column("name", ID, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Every version of every profile, kept: a trace names the version that decided an order.
sourcing_profile_versions = Table(
    "sourcing_profile_versions",
    metadata,
    Column("name", ID, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("rules", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Sales channels and the sourcing profile their orders use when they name none.
channels = Table(
    "channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("sourcing_profile", ID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# SKUs whose stock grew: backordered orders of these SKUs are to be sourced again. Written in
# the transaction that grows the stock, deleted by the transaction that does the sourcing.
backorder_wakeups = Table(
    "backorder_wakeups",
    metadata,
    Column("sku", ID, primary_key=True),
    Column("requested_at", UTCDateTime, nullable=False),
)

# Units coming back from customers, and where they went.
returns = Table(
    "returns",
    metadata,
    Column("id", ID, primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("location_id", ID, ForeignKey("locations.id"), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("restock", Boolean, nullable=False),
    Column("reason", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_returns_order", "order_id"),
)

# Supply on its way to a location (purchase orders, transfers), received into on_hand.
incoming = Table(
    "incoming",
    metadata,
    Column("id", ID, primary_key=True),
    Column("location_id", ID, ForeignKey("locations.id"), nullable=False),
    Column("sku", ID, ForeignKey("products.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("expected_date", Date, nullable=False),
    Column("reference", String(200)),
    Column("received_quantity", Integer),
    Column("received_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index("ix_incoming_sku", "sku", "received_at"),
)

# Availability promises made before checkout; a held one reserves its units until expires_at
# (status held -> consumed by an order | expired | released).
promises = Table(
    "promises",
    metadata,
    Column("id", ID, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("service_level", String(20), nullable=False),
    Column("lines", JSON, nullable=False),
    # the held option's fulfillments: [{location_id, lines: [{sku, quantity}]}]
    Column("plan", JSON, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("order_id", ID),
    Column("created_at", UTCDateTime, nullable=False),
    # the held option's delivery (or pickup-ready) date: the order that takes it promises it
    Column("promised_date", Date),
    Index("ix_promises_expiry", "status", "expires_at"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("channel", ID, nullable=False),
    Column("external_id", ID, nullable=False),
    Column("status", String(30), nullable=False),
    Column("service_level", String(20), nullable=False),
    Column("ship_to_latitude", Float),
    Column("ship_to_longitude", Float),
    Column("ship_to_postal_code", String(20)),
    Column("ship_to_country", String(2)),
    Column("pickup_location_id", ID),
    Column("sourcing_profile", ID, nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the delivery date promised to the customer, if any (sourcing weighs lateness against it)
    Column("promise_by", Date),
    # why the order is on hold (payment, fraud, manual, too_many_reroutes); null: not held
    Column("hold_reason", String(40)),
    # how often fulfillments of the order were rejected or timed out and re-routed
    Column("reroutes", Integer, nullable=False, server_default=text("0")),
    # since when the order is on hold (its fulfillments' timers are paused that long)
    Column("held_at", UTCDateTime),
    # as the channel sent them: the rest of the address (name, company, address_lines, city,
    # region, phone, email), the customer, the prices' currency, the channel's own fields
    Column("ship_to_address", JSON),
    Column("customer", JSON),
    Column("currency", String(3)),
    Column("metadata", JSON),
    UniqueConstraint("channel", "external_id"),
    Index("ix_orders_status", "status", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", ID, ForeignKey("orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", ID, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("allocated", Integer, nullable=False),
    Column("backordered", Integer, nullable=False),
    Column("cancelled", Integer, nullable=False),
    Column("shipped", Integer, nullable=False),
    # of the shipped units, how many came back
    Column("returned", Integer, nullable=False, server_default=text("0")),
    # as the channel sent them
    Column("name", String(200)),
    Column("unit_price", String(32)),
    Column("metadata", JSON),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("returned >= 0 AND returned <= shipped", name="returned_of_shipped"),
    CheckConstraint(
        "allocated >= 0 AND backordered >= 0 AND cancelled >= 0 AND shipped >= 0",
        name="counts_not_negative",
    ),
    CheckConstraint(
        "allocated + backordered + cancelled + shipped = quantity", name="units_accounted"
    ),
    Index("ix_order_lines_backordered", "sku", "backordered"),
)

fulfillments = Table(
    "fulfillments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("location_id", ID, ForeignKey("locations.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("distance_km", Float),
    Column("estimated_delivery_date", Date),
    Column("carrier", String(100)),
    Column("tracking_number", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # durable timers: a pending fulfillment not accepted by then is re-routed; a pickup not
    # collected by expires_at expires
    Column("accept_by", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("rejection_reason", String(40)),
    # units the location gave back: [{sku, quantity, reason}]
    Column("rejected_lines", JSON),
    Index("ix_fulfillments_order", "order_id"),
    Index("ix_fulfillments_accept_by", "accept_by"),
    Index("ix_fulfillments_expires_at", "expires_at"),
    Index("ix_fulfillments_location_state", "location_id", "state", "id"),
    Index("ix_fulfillments_location_created", "location_id", "created_at"),
)

fulfillment_lines = Table(
    "fulfillment_lines",
    metadata,
    Column("fulfillment_id", ID, ForeignKey("fulfillments.id"), primary_key=True),
    Column("sku", ID, primary_key=True),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity >= 0", name="quantity_not_negative"),
)

sourcing_traces = Table(
    "sourcing_traces",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("trace", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_sourcing_traces_order", "order_id", "round"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    # Feed position, assigned after commit by the sequencer (see db/repositories/events.py).
    Column("seq", BigInteger, unique=True),
    Column("type", String(60), nullable=False),
    Column("aggregate_id", String(200)),
    Column("data", JSON, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_outbox_aggregate", "aggregate_id", "id"),
    Index(
        "ix_outbox_unsequenced",
        "id",
        postgresql_where=text("seq IS NULL"),
        sqlite_where=text("seq IS NULL"),
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", ID, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
