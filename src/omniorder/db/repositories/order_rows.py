"""Orders, their lines and fulfillments to table rows and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omniorder.db.clock import as_utc
from omniorder.domain.fulfillment import Fulfillment, FulfillmentLine, RejectedLine
from omniorder.domain.geo import GeoPoint
from omniorder.domain.model import Address, Customer, ServiceLevel
from omniorder.domain.order import Order, OrderLine

#: Address fields kept in the ``ship_to_address`` JSON column (postal code and country have
#: columns of their own).
ADDRESS_JSON_FIELDS = ("name", "company", "address_lines", "city", "region", "phone", "email")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def address_json(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    out: dict[str, Any] = {}
    for name in ADDRESS_JSON_FIELDS:
        value = getattr(address, name)
        if value:
            out[name] = list(value) if name == "address_lines" else value
    return out


def customer_json(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"name": customer.name, "email": customer.email, "phone": customer.phone}


def order_row(order: Order, request_hash: str) -> dict[str, Any]:
    address = order.address
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "service_level": order.service_level.value,
        "ship_to_latitude": order.ship_to.latitude if order.ship_to else None,
        "ship_to_longitude": order.ship_to.longitude if order.ship_to else None,
        "ship_to_postal_code": None if address is None else address.postal_code,
        "ship_to_country": None if address is None else address.country,
        "ship_to_address": address_json(address),
        "customer": customer_json(order.customer),
        "currency": order.currency,
        "metadata": order.metadata or None,
        "pickup_location_id": order.pickup_location_id,
        "sourcing_profile": order.sourcing_profile,
        "request_hash": request_hash,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "hold_reason": order.hold_reason,
        "held_at": order.held_at,
        "reroutes": order.reroutes,
        "promise_by": order.promise_by,
    }


def line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order.id,
            "line_no": i,
            "sku": ln.sku,
            "quantity": ln.quantity,
            "allocated": ln.allocated,
            "backordered": ln.backordered,
            "cancelled": ln.cancelled,
            "shipped": ln.shipped,
            "returned": ln.returned,
            "name": ln.name,
            "unit_price": ln.unit_price,
            "metadata": ln.metadata or None,
        }
        for i, ln in enumerate(order.lines, start=1)
    ]


def line_from_row(row: Any) -> OrderLine:
    return OrderLine(
        row.sku,
        row.quantity,
        row.allocated,
        row.backordered,
        row.cancelled,
        row.shipped,
        row.returned,
        name=row.name,
        unit_price=row.unit_price,
        metadata=dict(row.metadata or {}),
    )


def order_from_row(row: Any, lines: list[OrderLine], fulfillments: list[Fulfillment]) -> Order:
    ship_to = (
        GeoPoint(row.ship_to_latitude, row.ship_to_longitude)
        if row.ship_to_latitude is not None
        else None
    )
    extra = row.ship_to_address
    address = None
    if extra is not None or row.ship_to_postal_code is not None or ship_to is not None:
        extra = extra or {}
        address = Address(
            name=extra.get("name"),
            company=extra.get("company"),
            address_lines=tuple(extra.get("address_lines") or ()),
            city=extra.get("city"),
            region=extra.get("region"),
            postal_code=row.ship_to_postal_code,
            country=row.ship_to_country,
            phone=extra.get("phone"),
            email=extra.get("email"),
        )
    customer = None if row.customer is None else Customer(**row.customer)
    return Order(
        id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        status=row.status,
        service_level=ServiceLevel(row.service_level),
        lines=lines,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        ship_to=ship_to,
        address=address,
        pickup_location_id=row.pickup_location_id,
        sourcing_profile=row.sourcing_profile,
        fulfillments=fulfillments,
        hold_reason=row.hold_reason,
        held_at=_utc(row.held_at),
        reroutes=row.reroutes,
        promise_by=row.promise_by,
        customer=customer,
        currency=row.currency,
        metadata=dict(row.metadata or {}),
    )


def rejected_json(lines: Sequence[RejectedLine]) -> list[dict[str, Any]] | None:
    if not lines:
        return None
    return [{"sku": r.sku, "quantity": r.quantity, "reason": r.reason} for r in lines]


def fulfillment_row(f: Fulfillment) -> dict[str, Any]:
    return {
        "id": f.id,
        "order_id": f.order_id,
        "location_id": f.location_id,
        "state": f.state,
        "distance_km": f.distance_km,
        "estimated_delivery_date": f.estimated_delivery_date,
        "carrier": f.carrier,
        "tracking_number": f.tracking_number,
        "created_at": f.created_at,
        "updated_at": f.updated_at,
        "accept_by": f.accept_by,
        "expires_at": f.expires_at,
        "rejection_reason": f.rejection_reason,
        "rejected_lines": rejected_json(f.rejected_lines),
    }


def fulfillment_from_row(row: Any, lines: list[FulfillmentLine]) -> Fulfillment:
    return Fulfillment(
        id=row.id,
        order_id=row.order_id,
        location_id=row.location_id,
        state=row.state,
        lines=lines,
        distance_km=row.distance_km,
        estimated_delivery_date=row.estimated_delivery_date,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        accept_by=_utc(row.accept_by),
        expires_at=_utc(row.expires_at),
        rejection_reason=row.rejection_reason,
        rejected_lines=[
            RejectedLine(r["sku"], int(r["quantity"]), r["reason"])
            for r in row.rejected_lines or ()
        ],
    )
