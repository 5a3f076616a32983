"""The JSON form of orders and fulfillments: what the API answers and what their events carry
(one shape each, built here only)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from omniorder.db.repositories.catalog import Channel
from omniorder.db.repositories.events import StoredEvent
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.repositories.ledger import LedgerEntry
from omniorder.db.uow import UnitOfWork
from omniorder.domain.fulfillment import Fulfillment
from omniorder.domain.model import (
    Address,
    Customer,
    Incoming,
    Location,
    Product,
    Return,
    ServiceLevel,
    StockPosition,
)
from omniorder.domain.order import Order
from omniorder.domain.sourcing import PROFILE_RULES, SourcingProfile

if TYPE_CHECKING:  # services.inventory publishes through this module
    from omniorder.services.inventory import SkuAvailability, SnapshotResult
from omniorder.domain.states import FINAL_STATES, FulfillmentState


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def address_dict(order: Order, a: Address | None = None) -> dict[str, Any] | None:
    """The ship-to as given (or address ``a``), with the point the order is routed to."""
    a = a or order.address
    if order.ship_to is None and a is None:
        return None
    a = a or Address()
    return {
        "latitude": None if order.ship_to is None else order.ship_to.latitude,
        "longitude": None if order.ship_to is None else order.ship_to.longitude,
        "postal_code": a.postal_code,
        "country": a.country,
        "name": a.name,
        "company": a.company,
        "address_lines": list(a.address_lines),
        "city": a.city,
        "region": a.region,
        "phone": a.phone,
        "email": a.email,
    }


def customer_dict(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"name": customer.name, "email": customer.email, "phone": customer.phone}


def order_dict(order: Order) -> dict[str, Any]:
    """The JSON form of an order: served by the API and carried by order events."""
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "service_level": order.service_level.value,
        "ship_to": address_dict(order),
        "customer": customer_dict(order.customer),
        "currency": order.currency,
        "metadata": dict(order.metadata),
        "pickup_location_id": order.pickup_location_id,
        "sourcing_profile": order.sourcing_profile,
        "hold_reason": order.hold_reason,
        "reroutes": order.reroutes,
        "promise_by": _iso(order.promise_by),
        "lines": [
            {
                "sku": ln.sku,
                "name": ln.name,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "metadata": dict(ln.metadata),
                "allocated": ln.allocated,
                "backordered": ln.backordered,
                "cancelled": ln.cancelled,
                "shipped": ln.shipped,
                "returned": ln.returned,
                "backorder_expected_date": _iso(ln.backorder_expected_date),
            }
            for ln in order.lines
        ],
        "fulfillments": [order_fulfillment_dict(order, f) for f in order.fulfillments],
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


def order_fulfillment_dict(order: Order, f: Fulfillment) -> dict[str, Any]:
    """A fulfillment as its order lists it."""
    names = {ln.sku: ln.name for ln in order.lines}
    return {
        "id": f.id,
        "order_id": f.order_id,
        "location_id": f.location_id,
        "state": f.state,
        "lines": [
            {"sku": ln.sku, "name": names.get(ln.sku), "quantity": ln.quantity} for ln in f.lines
        ],
        "rejected_lines": [
            {"sku": r.sku, "name": names.get(r.sku), "quantity": r.quantity, "reason": r.reason}
            for r in f.rejected_lines
        ],
        "distance_km": None if f.distance_km is None else round(f.distance_km, 3),
        "estimated_delivery_date": _iso(f.estimated_delivery_date),
        "carrier": f.carrier,
        "tracking_number": f.tracking_number,
        "accept_by": _iso(f.accept_by),
        "expires_at": _iso(f.expires_at),
        "rejection_reason": f.rejection_reason,
        "created_at": f.created_at.isoformat(),
        "updated_at": f.updated_at.isoformat(),
    }


def fulfillment_dict(order: Order, f: Fulfillment) -> dict[str, Any]:
    """A fulfillment with what its location needs to pick, pack and ship or hand over: served
    by the API and carried by fulfillment events."""
    ship_to = address_dict(order)
    if order.service_level is ServiceLevel.PICKUP:
        # a store hands the parcel to a person: who it is, and how to reach them
        who, a = order.customer or Customer(), order.address or Address()
        collector = replace(
            a, name=who.name or a.name, email=who.email or a.email, phone=who.phone or a.phone
        )
        ship_to = address_dict(order, collector)
    return {
        **order_fulfillment_dict(order, f),
        "order_external_id": order.external_id,
        "channel": order.channel,
        "on_hold": order.on_hold and FulfillmentState(f.state) not in FINAL_STATES,
        "service_level": order.service_level.value,
        "ship_to": ship_to,
        "customer": customer_dict(order.customer),
        "metadata": dict(order.metadata),
        "promise_by": _iso(order.promise_by),
    }


def incoming_dict(x: Incoming) -> dict[str, Any]:
    return {
        "id": x.id,
        "location_id": x.location_id,
        "sku": x.sku,
        "quantity": x.quantity,
        "expected_date": x.expected_date.isoformat(),
        "reference": x.reference,
        "received_quantity": x.received_quantity,
        "received_at": _iso(x.received_at),
        "created_at": x.created_at.isoformat(),
    }


def return_dict(ret: Return) -> dict[str, Any]:
    return {
        "id": ret.id,
        "order_id": ret.order_id,
        "location_id": ret.location_id,
        "lines": [{"sku": s, "quantity": q} for s, q in ret.lines],
        "restock": ret.restock,
        "reason": ret.reason,
        "created_at": ret.created_at.isoformat(),
    }


def publish_positions(uow: UnitOfWork) -> None:
    """An ``inventory.updated`` event for every position the unit of work changed, whatever
    changed it (a count, a reservation, a release, a shipment), with its state after the
    transaction: a feed of these alone keeps availability right."""
    for c in uow.changes.drain():
        uow.emit(
            "inventory.updated",
            f"{c.location_id}/{c.sku}",
            {
                "location_id": c.location_id,
                "sku": c.sku,
                "on_hand": c.on_hand,
                "reserved": c.reserved,
                "safety_stock": c.safety_stock,
                "available": c.available,
                "on_hand_delta": c.on_hand_delta,
                "reserved_delta": c.reserved_delta,
                "reason": "+".join(c.reasons),
            },
        )


def position_event(pos: StockPosition, delta: int, reason: str) -> dict[str, object]:
    """The data of an ``inventory.shortage`` event."""
    return {
        "location_id": pos.location_id,
        "sku": pos.sku,
        "on_hand": pos.on_hand,
        "reserved": pos.reserved,
        "safety_stock": pos.safety_stock,
        "available": pos.available,
        "on_hand_delta": delta,
        "reserved_delta": 0,
        "reason": reason,
    }


def publish(uow: UnitOfWork, order: Order) -> None:
    """The events the order recorded, to the outbox: an order event carries the order, a
    fulfillment event the fulfillment (each as the API serves it), plus what it recorded."""
    for event in order.pull_events():
        if event.fulfillment_id is None:
            data = order_dict(order)
        else:
            data = fulfillment_dict(order, order.fulfillment(event.fulfillment_id))
        uow.emit(event.type, order.id, {**data, **event.extra})


# -- the catalog, stock and keys ---------------------------------------------------------


def location_dict(loc: Location) -> dict[str, Any]:
    data = asdict(loc)
    data["type"] = loc.type.value
    data["working_days"] = [d for d in loc.working_days.split(",") if d]
    data["closed_dates"] = [d.isoformat() for d in loc.closed_dates]
    return data


def product_dict(p: Product) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "weight_kg": p.weight_kg}


def position_dict(p: StockPosition) -> dict[str, Any]:
    return {
        "location_id": p.location_id,
        "sku": p.sku,
        "on_hand": p.on_hand,
        "reserved": p.reserved,
        "safety_stock": p.safety_stock,
        "available": p.available,
    }


def ledger_entry_dict(e: LedgerEntry) -> dict[str, Any]:
    data = asdict(e)
    data["created_at"] = e.created_at.isoformat()
    return data


def profile_dict(p: SourcingProfile) -> dict[str, Any]:
    rules: dict[str, Any] = {f: getattr(p, f) for f in PROFILE_RULES}
    rules["location_types"] = sorted(p.location_types)
    return {"name": p.name, "version": p.version, **rules}


def channel_dict(c: Channel) -> dict[str, Any]:
    return {
        "id": c.id,
        "sourcing_profile": c.sourcing_profile,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def api_key_dict(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "role": k.role.value,
        "prefix": k.prefix,
        "channel": k.channel,
        "location_ids": None if k.location_ids is None else list(k.location_ids),
        "created_at": k.created_at.isoformat(),
    }


def event_dict(e: StoredEvent) -> dict[str, Any]:
    """An event of the feed: ``id`` is the same on every delivery of it (receivers
    de-duplicate by it), ``seq`` its place in commit order."""
    return {
        "id": f"evt_{e.id}",
        "seq": e.seq,
        "type": e.type,
        "occurred_at": e.occurred_at.isoformat(),
        "data": e.data,
    }


def availability_dict(a: SkuAvailability) -> dict[str, Any]:
    return {
        "sku": a.sku,
        "available": a.available,
        "locations": [
            {"location_id": x.location_id, "available": x.available, "distance_km": x.distance_km}
            for x in a.locations
        ],
        "incoming": [
            {
                "location_id": x.location_id,
                "quantity": x.quantity,
                "expected_date": x.expected_date.isoformat(),
            }
            for x in a.incoming
        ],
    }


def snapshot_dict(r: SnapshotResult) -> dict[str, Any]:
    return {"applied": r.applied, "changed": r.changed, "zeroed": r.zeroed, "sequence": r.sequence}
