"""Order capture, exactly once per (channel, external_id), and reading orders back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain import sourcing
from omniorder.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omniorder.domain.explain import explain_round, location_ids
from omniorder.domain.fulfillment import Fulfillment
from omniorder.domain.geo import GeoPoint, haversine_km
from omniorder.domain.ids import new_id
from omniorder.domain.model import Address, Customer, ServiceLevel
from omniorder.domain.order import Order, OrderLine
from omniorder.domain.policy import DEFAULT_POLICY, LifecyclePolicy
from omniorder.services.access import check_channel
from omniorder.services.allocation import allocate, new_fulfillment
from omniorder.services.catalog import require_known, resolve_profile
from omniorder.services.payloads import publish


@dataclass(frozen=True, slots=True)
class LineDetails:
    """What the channel says about a line besides SKU and quantity, stored as given."""

    name: str | None = None
    unit_price: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    channel: str
    external_id: str
    lines: tuple[tuple[str, int], ...]
    service_level: ServiceLevel
    request_hash: str
    ship_to: GeoPoint | None = None
    address: Address | None = None
    pickup_location_id: str | None = None
    #: None: the channel's default profile, or 'default'.
    sourcing_profile: str | None = None
    #: Put the order on hold at capture (payment, fraud, manual); its units are still reserved.
    hold_reason: str | None = None
    #: The delivery date promised to the customer.
    promise_by: date | None = None
    #: A held promise whose reserved units this order takes (exactly those, once).
    promise_id: str | None = None
    customer: Customer | None = None
    currency: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    #: Per line, in the order of ``lines`` (none: no details).
    line_details: tuple[LineDetails, ...] = field(default=())

    def order_lines(self) -> list[OrderLine]:
        """The order's lines, every unit still to be sourced."""
        details = self.line_details or (LineDetails(),) * len(self.lines)
        return [
            OrderLine(
                sku,
                qty,
                backordered=qty,
                name=d.name,
                unit_price=d.unit_price,
                metadata=dict(d.metadata),
            )
            for (sku, qty), d in zip(self.lines, details, strict=True)
        ]


def _validate(uow: UnitOfWork, cmd: PlaceOrder) -> sourcing.SourcingProfile:
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for i, (sku, _) in enumerate(cmd.lines):
        if sku in seen:
            errors.append(
                FieldError(f"lines[{i}].sku", f"SKU '{sku}' is already on lines[{seen[sku]}]")
            )
        seen.setdefault(sku, i)
    if cmd.service_level is ServiceLevel.PICKUP:
        if cmd.pickup_location_id is None:
            errors.append(FieldError("pickup_location_id", "required for pickup orders"))
        else:
            loc = uow.locations.get(cmd.pickup_location_id)
            if loc is None:
                errors.append(
                    FieldError("pickup_location_id", f"unknown location '{cmd.pickup_location_id}'")
                )
            elif not loc.can_pickup or not loc.active:
                errors.append(
                    FieldError(
                        "pickup_location_id",
                        f"location '{loc.id}' does not offer pickup"
                        + ("" if loc.active else " (inactive)"),
                    )
                )
    else:
        if cmd.ship_to is None:
            errors.append(FieldError("ship_to", "required for shipped orders"))
        if cmd.pickup_location_id is not None:
            errors.append(FieldError("pickup_location_id", "only for service_level 'pickup'"))
    profile: sourcing.SourcingProfile | None = None
    try:
        profile = resolve_profile(uow, cmd.sourcing_profile, cmd.channel)
    except NotFound as exc:
        errors.append(FieldError("sourcing_profile", str(exc)))
    try:
        require_known(uow, skus=[(f"lines[{i}].sku", s) for i, (s, _) in enumerate(cmd.lines)])
    except ValidationFailed as exc:
        errors += exc.errors
    if errors or profile is None:
        raise ValidationFailed("the order cannot be accepted", errors)
    return profile


def place_order(
    uow: UnitOfWork, cmd: PlaceOrder, policy: LifecyclePolicy = DEFAULT_POLICY
) -> tuple[Order, bool]:
    """Capture an order once per (channel, external_id); returns (order, created)."""
    existing = uow.orders.find_by_external_id(cmd.channel, cmd.external_id)
    if existing is not None:
        order_id, request_hash = existing
        if request_hash != cmd.request_hash:
            raise Conflict(
                f"order '{cmd.external_id}' of channel '{cmd.channel}' was already captured "
                "with a different body"
            )
        found = uow.orders.get(order_id)
        assert found is not None
        return found, False
    profile = _validate(uow, cmd)
    now = utcnow()
    order = Order(
        id=new_id("ord"),
        channel=cmd.channel,
        external_id=cmd.external_id,
        status="",
        service_level=cmd.service_level,
        lines=cmd.order_lines(),
        created_at=now,
        updated_at=now,
        ship_to=cmd.ship_to,
        address=cmd.address,
        pickup_location_id=cmd.pickup_location_id,
        sourcing_profile=profile.name,
        hold_reason=cmd.hold_reason,
        held_at=now if cmd.hold_reason is not None else None,
        promise_by=cmd.promise_by,
        customer=cmd.customer,
        currency=cmd.currency,
        metadata=dict(cmd.metadata),
    )

    order.record("order.created")
    if cmd.promise_id is not None:
        _from_promise(uow, order, cmd, profile, policy)
    else:

        def persist(fulfillments: list[Fulfillment], trace: dict[str, Any]) -> None:
            order.refresh_status()
            uow.orders.add(order, cmd.request_hash)
            uow.orders.add_fulfillments(fulfillments)
            uow.orders.add_trace(order.id, 1, trace)

        allocate(uow, order, profile, cause="order.created", persist=persist, policy=policy)
    if any(ln.backordered for ln in order.lines):
        expect_backorders(uow, order)
    publish(uow, order)
    return order, True


def _from_promise(
    uow: UnitOfWork,
    order: Order,
    cmd: PlaceOrder,
    profile: sourcing.SourcingProfile,
    policy: LifecyclePolicy,
) -> list[Fulfillment]:
    """The order takes the units its promise holds: the reservations pass from the promise to
    the order's fulfillments unchanged (no stock moves)."""
    from omniorder.services import promises

    assert cmd.promise_id is not None
    now = utcnow()
    held = promises.claim(uow, cmd.promise_id, order.id, now)
    # the date the customer was shown at checkout is the one the order promises
    if order.promise_by is not None and order.promise_by != held.promised_date:
        shown = "no date" if held.promised_date is None else held.promised_date.isoformat()
        raise ValidationFailed(
            "the order takes the date of its promise",
            [
                FieldError(
                    "promise_by",
                    f"promise '{held.id}' promised {shown}: leave promise_by out, or send it",
                )
            ],
        )
    order.promise_by = held.promised_date
    wanted: dict[str, int] = {}
    for sku, qty in cmd.lines:
        wanted[sku] = wanted.get(sku, 0) + qty
    if wanted != held.lines or held.service_level != order.service_level.value:
        raise Conflict(
            f"the order's lines or service level differ from promise '{held.id}': "
            "place it without the promise, or ask for a new one"
        )
    where = uow.locations.get_many([f["location_id"] for f in held.plan])
    fulfillments = []
    for f in held.plan:
        loc = where[f["location_id"]]
        dist = None if order.ship_to is None else haversine_km(order.ship_to, loc.point)
        lines = [(ln["sku"], int(ln["quantity"])) for ln in f["lines"]]
        fulfillments.append(new_fulfillment(order, loc, lines, dist, now, policy))
    order.refresh_status()
    uow.orders.add(order, cmd.request_hash)
    uow.orders.add_fulfillments(fulfillments)
    trace = {
        "profile": {"name": profile.name, "version": profile.version},
        "method": {"name": "promise", "promise_id": held.id},
        "cause": "order.created",
        "chosen": {"fulfillments": held.plan},
    }
    uow.orders.add_trace(order.id, 1, trace)
    return fulfillments


def get_order(uow: UnitOfWork, order_id: str, principal: ApiKey) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"order '{order_id}' does not exist")
    check_channel(principal, order.channel)
    expect_backorders(uow, order)
    return order


def expect_backorders(uow: UnitOfWork, order: Order) -> None:
    """Promise backordered units against expected supply: incoming supply of the SKU serves
    waiting orders oldest first (as the backorder worker does when it arrives), so this order's
    units are expected on the date of the supply that covers the units backordered before it
    plus its own. Held orders wait for their release and get no date."""
    if order.hold_reason is not None:
        return
    for ln in order.lines:
        ln.backorder_expected_date = None
        if ln.backordered <= 0:
            continue
        ahead = uow.orders.backordered_before(ln.sku, order.created_at, order.id)
        need = ahead + ln.backordered
        covered = 0
        for quantity, expected_date in uow.incoming.expected(ln.sku):
            covered += quantity
            if covered >= need:
                ln.backorder_expected_date = expected_date
                break


def sourcing_trace(uow: UnitOfWork, order_id: str, principal: ApiKey) -> dict[str, Any]:
    """The order's sourcing decisions, round by round, as a person reads them (the exact
    record of each under ``detail``)."""
    order = get_order(uow, order_id, principal)
    rounds = uow.orders.traces(order.id)
    ids = set().union(*(location_ids(r["trace"]) for r in rounds)) if rounds else set()
    names = {loc.id: loc.name for loc in uow.locations.get_many(sorted(ids)).values()}
    return {
        "order_id": order.id,
        "rounds": [
            {
                "summary": (human := explain_round(r["trace"], names))["summary"],
                "round": r["round"],
                "created_at": r["created_at"].isoformat(),
                **human,
            }
            for r in rounds
        ],
    }
