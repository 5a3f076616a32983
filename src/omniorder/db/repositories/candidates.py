"""What sourcing reads: the positions of some SKUs with units available, and the locations
holding them (remembered per process by their ``updated_at``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select

from omniorder.db import tables as t
from omniorder.db.repositories.base import Repository
from omniorder.db.repositories.catalog import LOCATION_FIELDS, location_from_values
from omniorder.domain.model import Location, StockPosition

s = t.stock
LOCATION_COLUMNS = [t.locations.c[name] for name in LOCATION_FIELDS]
# Hot-path statements, built once: each call then only binds values.
_WITH_LOCATIONS = (
    select(
        s.c.location_id,
        s.c.sku,
        s.c.on_hand,
        s.c.reserved,
        s.c.safety_stock,
        t.locations.c.updated_at,
    )
    .join(t.locations, t.locations.c.id == s.c.location_id)
    .where(
        s.c.sku.in_(bindparam("b_skus", expanding=True)),
        s.c.on_hand - s.c.reserved - s.c.safety_stock > 0,
    )
    .order_by(s.c.location_id, s.c.sku)
)
_LOCATIONS = select(t.locations.c.id, t.locations.c.updated_at, *LOCATION_COLUMNS).where(
    t.locations.c.id.in_(bindparam("b_ids", expanding=True))
)

#: Locations as last read by this process, by id, with the ``updated_at`` they had then. Every
#: change to a location sets a new ``updated_at`` (LocationRepository.put), so an entry whose
#: stamp matches the row's is the row: the sourcing read fetches the stamp with the stock and
#: reads in full only locations that are new or changed (a candidate read otherwise carries
#: some thirty location rows of seventeen columns per order).
_known_locations: dict[str, tuple[datetime, Location]] = {}


class CandidateQueries(Repository):
    def with_locations(
        self, skus: Iterable[str]
    ) -> tuple[list[StockPosition], dict[str, Location]]:
        """Positions of these SKUs with units available and the locations holding them."""
        wanted = sorted(set(skus))
        if not wanted:
            return [], {}
        positions: list[StockPosition] = []
        stamps: dict[str, datetime] = {}
        for row in self.execute(_WITH_LOCATIONS, {"b_skus": wanted}):
            positions.append(StockPosition(row[0], row[1], row[2], row[3], row[4]))
            stamps.setdefault(row[0], row[5])
        found: dict[str, Location] = {}
        stale: list[str] = []
        for loc_id, stamp in stamps.items():
            hit = _known_locations.get(loc_id)
            if hit is not None and hit[0] == stamp:
                found[loc_id] = hit[1]
            else:
                stale.append(loc_id)
        if stale:
            for row in self.execute(_LOCATIONS, {"b_ids": stale}):
                loc = found[row[0]] = location_from_values(row[0], row[2:])
                _known_locations[row[0]] = (row[1], loc)
        return positions, {loc_id: found[loc_id] for loc_id in stamps}
