"""Prometheus metrics (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

ORDERS_CREATED = Counter(
    "omniorder_orders_created", "Orders captured", ["channel", "status"], registry=REGISTRY
)
ORDER_REPLAYS = Counter(
    "omniorder_order_replays", "Order captures answered from an earlier capture", registry=REGISTRY
)
FULFILLMENTS_PER_ORDER = Histogram(
    "omniorder_fulfillments_per_order",
    "Fulfillments created when an order is captured",
    buckets=(0, 1, 2, 3, 4, 6, 10),
    registry=REGISTRY,
)
BACKORDERED_UNITS = Counter(
    "omniorder_backordered_units", "Units backordered at capture", registry=REGISTRY
)
REQUEST_SECONDS = Histogram(
    "omniorder_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
SOURCING_SECONDS = Histogram(
    "omniorder_sourcing_seconds",
    "Time the sourcing engine took to plan an order (one planning round)",
    ["method"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5),
    registry=REGISTRY,
)
SPLIT_ORDERS = Counter(
    "omniorder_split_orders",
    "Orders captured with fulfillments at two or more locations",
    registry=REGISTRY,
)
RESERVATION_CONFLICTS = Counter(
    "omniorder_reservation_conflicts",
    "Reservations that lost a race to a concurrent order (the order was planned again)",
    registry=REGISTRY,
)
REROUTES = Counter(
    "omniorder_reroutes",
    "Fulfillments rejected or timed out whose units were sourced again",
    ["cause"],
    registry=REGISTRY,
)
