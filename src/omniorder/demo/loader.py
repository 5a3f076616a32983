"""Load the demo network into the database through the same services the API uses."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from functools import partial

from rich.console import Group
from rich.table import Table
from rich.text import Text

from omniorder.api.routers.orders import order_command
from omniorder.api.schemas import OrderIn
from omniorder.config import Settings
from omniorder.db.engine import make_engine
from omniorder.db.migrate import is_up_to_date
from omniorder.db.uow import UnitOfWork
from omniorder.demo.network import DemoNetwork, DemoOrder, build_network, generate_orders
from omniorder.domain.errors import Conflict, DatabaseNotMigrated
from omniorder.domain.model import Product, Role
from omniorder.services import catalog, inventory, orders
from omniorder.services.database import Database
from omniorder.services.keys import create_key, ensure_env_admin_key


@dataclass
class DemoSummary:
    warehouses: int
    stores: int
    products: int
    positions: int
    orders_by_status: dict[str, int] = field(default_factory=dict)
    admin_key: str | None = None
    admin_key_from_env: bool = False
    base_url: str = "http://127.0.0.1:8000"
    sample_sku: str = ""

    def render(self) -> Group:
        table = Table(title="demo network loaded", show_header=True)
        table.add_column("what")
        table.add_column("count", justify="right")
        table.add_row("warehouses", str(self.warehouses))
        table.add_row("stores", str(self.stores))
        table.add_row("products", str(self.products))
        table.add_row("stock positions", str(self.positions))
        for status, n in sorted(self.orders_by_status.items()):
            table.add_row(f"sample orders {status}", str(n))
        key = self.admin_key or "<your OMNIORDER_ADMIN_KEY>"
        body = json.dumps(
            {
                "channel": "web",
                "external_id": "W-1000",
                "lines": [{"sku": self.sample_sku, "quantity": 1}],
                "ship_to": {"name": "Ada Lovelace", "postal_code": "10001", "country": "US"},
            }
        )
        where = "from OMNIORDER_ADMIN_KEY" if self.admin_key_from_env else "created now"
        lines = [
            Text(f"admin API key ({where}): {key}", style="bold"),
            Text("place an order (more in the README, 'Try it'):"),
            Text(f"  KEY='{key}'"),
            Text(
                f'  curl -s -X POST {self.base_url}/v1/orders -H "Authorization: Bearer $KEY" '
                f"-H 'Content-Type: application/json' -d '{body}'"
            ),
            Text(f"API docs: {self.base_url}/docs"),
        ]
        return Group(table, *lines)


FIRST_NAMES = ("Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen")


def shop_order(order: DemoOrder, names: dict[str, str], n: int) -> dict[str, object]:
    """A demo order as a web shop sends it: a customer, line names and prices in USD, the
    shop's order number (the point to ship to comes from the demand model)."""
    body = order.as_payload()
    person = f"{FIRST_NAMES[n % 8]} {LAST_NAMES[(n // 8 + n) % 8]}"
    body["customer"] = {"name": person, "email": f"customer{n + 1}@example.com"}
    body["currency"] = "USD"
    body["metadata"] = {"shop_order_name": f"#{1001 + n}"}
    body["lines"] = [
        {"sku": sku, "quantity": qty, "name": names[sku], "unit_price": _price(sku)}
        for sku, qty in order.lines
    ]
    if order.ship_to is not None:
        lat, lon = order.ship_to
        body["ship_to"] = {"name": person, "latitude": lat, "longitude": lon}
    return body


def _price(sku: str) -> str:
    """A steady price per SKU between 4.99 and 99.99."""
    return f"{4 + zlib.crc32(sku.encode()) % 96}.99"


def store_network(
    db: Database, net: DemoNetwork, warehouse_stock_factor: int = 1, capacities: bool = True
) -> None:
    """Write a demo network's locations, products and stock in one transaction.

    ``warehouse_stock_factor`` multiplies warehouse stock (benchmarks use it so that a run
    does not just drain the network); ``capacities=False`` drops daily capacity limits."""

    def run(uow: UnitOfWork) -> None:
        for loc in net.locations:
            location = loc.to_location(capacities)
            catalog.put_location(uow, location)
        for p in net.products:
            catalog.put_product(uow, Product(p.sku, p.name, p.weight_kg))
        kinds = {loc.id: loc.type for loc in net.locations}
        rows = [
            inventory.SnapshotRow(
                s.location_id,
                s.sku,
                s.on_hand * (warehouse_stock_factor if kinds[s.location_id] == "warehouse" else 1),
                s.safety_stock,
            )
            for s in net.stock
        ]
        inventory.apply_snapshot(uow, rows, None)

    db.write(run)


def load_demo(
    settings: Settings,
    seed: int = 7,
    warehouses: int = 4,
    stores: int = 40,
    products: int = 200,
    sample_orders: int = 25,
) -> DemoSummary:
    engine = make_engine(settings.database_url)
    try:
        if not is_up_to_date(engine):
            raise DatabaseNotMigrated("the database is not migrated: run `omniorder db upgrade`")
        db = Database(engine)
        net = build_network(seed=seed, warehouses=warehouses, stores=stores, products=products)
        store_network(db, net)
        counts: dict[str, int] = {}
        names = {p.sku: p.name for p in net.products}
        for n, demo_order in enumerate(generate_orders(net, sample_orders, seed=seed + 1)):
            cmd = order_command(OrderIn.model_validate(shop_order(demo_order, names, n)))
            try:
                order, _ = db.write(partial(orders.place_order, cmd=cmd))
            except Conflict:  # loaded before, by an older version of the demo
                counts["kept from an earlier load"] = counts.get("kept from an earlier load", 0) + 1
                continue
            counts[order.status] = counts.get(order.status, 0) + 1
        summary = DemoSummary(
            warehouses=sum(1 for loc in net.locations if loc.type == "warehouse"),
            stores=sum(1 for loc in net.locations if loc.type == "store"),
            products=len(net.products),
            positions=len(net.stock),
            orders_by_status=counts,
            base_url=f"http://{settings.host}:{settings.port}",
            sample_sku=net.products[0].sku,
        )
        if settings.admin_key is not None:
            ensure_env_admin_key(db, settings.admin_key.get_secret_value())
            summary.admin_key = settings.admin_key.get_secret_value()
            summary.admin_key_from_env = True
        else:
            new = db.write(lambda uow: create_key(uow, "demo admin", Role.ADMIN))
            summary.admin_key = new.secret
        return summary
    finally:
        engine.dispose()
