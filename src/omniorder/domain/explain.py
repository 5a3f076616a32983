"""The sourcing trace as a person reads it.

``explain_round`` takes one round of the trace as the engine recorded it (every number exact)
and answers it for people: a one-line ``summary`` first, location names beside ids, distances
in km to 0.1 and money to 0.01, each exclusion in words (a location ruled out by cost says
which bounds proved it), and the exact record under ``detail``. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Why a candidate was not used, in words.
REASONS = {
    "inactive": "inactive",
    "excluded_for_order": "gave this order back before (rejected, not accepted or short)",
    "not_pickup_location": "not the pickup location",
    "cannot_ship": "does not ship parcels",
    "cannot_pickup": "does not offer pickup",
    "profile_rule": "its location type is not allowed by the sourcing profile",
    "too_far": "farther than the profile's maximum distance",
    "over_capacity": "at its daily capacity",
    "no_stock": "has none of the ordered SKUs available",
}
#: What started a round, in words ("" for the first placement).
CAUSES = {
    "order.created": "",
    "order.released": "Sourced again when the hold was released",
    "stock.increased": "Backordered units sourced as stock arrived",
    "inventory.shortage": "Re-routed after a shortage (on hand fell below what was reserved)",
    "fulfillment.not_accepted": "Re-routed: the location did not accept in time",
    "fulfillment.out_of_stock": "Re-routed after a reject (out of stock)",
    "fulfillment.damaged": "Re-routed after a reject (damaged)",
    "fulfillment.capacity": "Re-routed after a reject (no capacity)",
    "fulfillment.other": "Re-routed after a reject",
}
_RULES = {
    "per_unit": "its own parcel and units, every other unit at the cheapest per-unit bound",
    "two_parcels": "the two cheapest parcels, every unit at its cheapest unit cost",
}


def km(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _name(location_id: str, names: Mapping[str, str]) -> str:
    return names.get(location_id) or location_id


def _units(lines: list[dict[str, Any]]) -> int:
    return sum(int(ln["quantity"]) for ln in lines)


def describe_plan(plan: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """'1 parcel from Austin DC, 1,858.0 km' or '2 parcels from A (3.2 km) + B (840.5 km)'."""
    fuls = plan.get("fulfillments") or []
    back = _units(plan.get("backordered") or [])
    if not fuls:
        return f"all {back} units backordered"
    n = len(fuls)
    head = f"{n} parcel{'s' if n > 1 else ''} from "
    if n == 1:
        f = fuls[0]
        where = _name(f["location_id"], names)
        dist = f.get("distance_km")
        text = head + where + ("" if dist is None else f", {dist:,.1f} km")
    else:
        parts = []
        for f in fuls:
            dist = f.get("distance_km")
            parts.append(
                _name(f["location_id"], names) + ("" if dist is None else f" ({dist:,.1f} km)")
            )
        text = head + " + ".join(parts)
    if back:
        text += f", {back} unit{'s' if back > 1 else ''} backordered"
    return text


def summary(raw: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The round in one line: what was chosen, and why over the next best plan."""
    chosen = raw.get("chosen") or {}
    cause = CAUSES.get(str(raw.get("cause", "")), f"Sourced again ({raw.get('cause')})")
    prefix = f"{cause}: " if cause else ""
    what = describe_plan(chosen, names)
    method = raw.get("method") or {}
    if method.get("name") == "promise":
        return f"{prefix}{what}: the units held by promise {method.get('promise_id')}"
    if not chosen.get("fulfillments"):
        return f"{prefix}{what}: no eligible location has them available"
    complete = not chosen.get("backordered")
    why = "cheapest complete plan" if complete else "cheapest plan"
    total = (chosen.get("cost") or {}).get("total")
    others = [p for p in raw.get("plans") or [] if p != chosen]
    if others and total is not None:
        runner = others[0]
        diff = (runner.get("cost") or {}).get("total", total) - total
        other = describe_plan(runner, names)
        if diff < 0.005:
            compared = f"as cheap as {other}, and preferred by location priority, then distance"
        else:
            compared = f"{diff:,.2f} less than {other}"
    else:
        compared = "the only plan the rules allow"
    gap = method.get("gap")
    proof = "" if method.get("name") != "highs" else f" (HiGHS, proven within {gap:.2%})"
    return f"{prefix}{what}: {why}{proof}, {compared}"


def _candidate(
    c: Mapping[str, Any], names: Mapping[str, str], best: float | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "location_id": c["location_id"],
        "name": _name(c["location_id"], names),
        "type": c.get("type"),
        "distance_km": km(c.get("distance_km")),
        "supplies": c.get("supplies", {}),
        "excluded": c.get("excluded"),
    }
    if "delivery_date" in c:
        out["delivery_date"] = c["delivery_date"]
    if "lower_bound" in c:
        out["lower_bound"] = money(c["lower_bound"])
    reason = c.get("excluded")
    if reason == "cost_bound":
        bound = c.get("bound") or {}
        alone, together = bound.get("alone"), bound.get("with_others")
        text = "cannot beat the chosen plan"
        if best is not None:
            text += f" ({best:,.2f})"
        if alone is not None and together is not None:
            rule = _RULES.get(str(bound.get("rule")), str(bound.get("rule")))
            text += (
                f": alone it costs {alone:,.2f}, and any plan with other locations at least "
                f"{together:,.2f} ({rule})"
            )
        else:
            text += f": every plan with it costs at least {c.get('lower_bound', 0):,.2f}"
        out["reason"] = text
    elif reason == "too_far" and c.get("distance_km") is not None:
        out["reason"] = f"{REASONS['too_far']} ({c['distance_km']:,.1f} km)"
    elif reason is not None:
        out["reason"] = REASONS.get(str(reason), str(reason))
    return out


def _plan(plan: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": describe_plan(plan, names),
        "fulfillments": [
            {
                "location_id": f["location_id"],
                "name": _name(f["location_id"], names),
                "distance_km": km(f.get("distance_km")),
                "lines": f.get("lines", []),
            }
            for f in plan.get("fulfillments") or []
        ],
        "backordered": plan.get("backordered", []),
    }
    if "cost" in plan:
        out["cost"] = {term: money(v) for term, v in plan["cost"].items()}
    return out


def explain_round(raw: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """One round of the trace for people, with the exact record under ``detail``."""
    chosen = raw.get("chosen") or {}
    best = (chosen.get("cost") or {}).get("total")
    out: dict[str, Any] = {
        "summary": summary(raw, names),
        "cause": raw.get("cause"),
        "profile": raw.get("profile"),
        "method": raw.get("method"),
        "candidates": [_candidate(c, names, best) for c in raw.get("candidates") or []],
        "plans": [_plan(p, names) for p in raw.get("plans") or []],
        "chosen": _plan(chosen, names),
    }
    for key in ("candidates_total", "eligible", "attempts", "elapsed_ms"):
        if key in raw:
            out[key] = raw[key]
    out["detail"] = dict(raw)
    return out


def location_ids(raw: Mapping[str, Any]) -> set[str]:
    """Every location a round names (to look their names up)."""
    ids = {c["location_id"] for c in raw.get("candidates") or []}
    for plan in [raw.get("chosen") or {}, *(raw.get("plans") or [])]:
        ids |= {f["location_id"] for f in plan.get("fulfillments") or []}
    return ids
