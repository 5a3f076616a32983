"""The stock positions a unit of work changed: each one's state after the transaction and what
changed, gathered from every write of the stock repository, so that every change of
availability becomes an ``inventory.updated`` event at commit (reservations, releases and
shipments included), one per position, whatever wrote it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class PositionChange:
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reasons: tuple[str, ...] = ()

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


@dataclass(slots=True)
class PositionChanges:
    _by_key: dict[tuple[str, str], PositionChange] = field(default_factory=dict)

    def note(
        self,
        location_id: str,
        sku: str,
        after: tuple[int, int, int],
        on_hand_delta: int,
        reserved_delta: int,
        reason: str,
    ) -> None:
        """A write left the position at ``after`` (on_hand, reserved, safety stock)."""
        on_hand, reserved, safety = after
        key = (location_id, sku)
        seen = self._by_key.get(key) or PositionChange(location_id, sku, 0, 0, 0)
        self._by_key[key] = replace(
            seen,
            on_hand=on_hand,
            reserved=reserved,
            safety_stock=safety,
            on_hand_delta=seen.on_hand_delta + on_hand_delta,
            reserved_delta=seen.reserved_delta + reserved_delta,
            reasons=seen.reasons if reason in seen.reasons else (*seen.reasons, reason),
        )

    def mark(self) -> dict[tuple[str, str], PositionChange]:
        """What is noted now (see :meth:`rewind`)."""
        return dict(self._by_key)

    def rewind(self, mark: dict[tuple[str, str], PositionChange]) -> None:
        """Forget what was noted since ``mark`` (a rolled-back savepoint)."""
        self._by_key = dict(mark)

    def drain(self) -> list[PositionChange]:
        """Every position changed, in (location, SKU) order; forgets them."""
        out = [self._by_key[k] for k in sorted(self._by_key)]
        self._by_key = {}
        return out
