"""The network a simulation runs over: locations, the units each can give, product weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omniorder.demo.network import DemoNetwork
from omniorder.domain.model import Location


@dataclass(frozen=True, slots=True)
class SimNetwork:
    country: str
    locations: tuple[Location, ...]
    #: Units each location can give per SKU (on hand less reserved and safety stock).
    stock: Mapping[str, Mapping[str, int]]
    #: Shipping weight per SKU in kg (for CO2); a SKU without one counts as DEFAULT_WEIGHT_KG.
    weights: Mapping[str, float]

    @classmethod
    def from_demo(cls, net: DemoNetwork) -> SimNetwork:
        stock: dict[str, dict[str, int]] = {loc.id: {} for loc in net.locations}
        for s in net.stock:
            if s.on_hand - s.safety_stock > 0:
                stock[s.location_id][s.sku] = s.on_hand - s.safety_stock
        return cls(
            net.country,
            tuple(loc.to_location(capacities=False) for loc in net.locations),
            stock,
            {p.sku: p.weight_kg for p in net.products},
        )

    def stock_copy(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {loc.id: {} for loc in self.locations}
        for loc_id, held in self.stock.items():
            out.setdefault(loc_id, {}).update({k: v for k, v in held.items() if v > 0})
        return out


def units_per_sku(stock: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """The units of each SKU that all locations of ``stock`` hold together."""
    held: dict[str, int] = {}
    for units in stock.values():
        for sku, q in units.items():
            held[sku] = held.get(sku, 0) + q
    return held
