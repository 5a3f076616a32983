"""The Unit of Work: one transaction, its repositories, and the events it will publish.

It is the only place that commits. Events collected with :meth:`UnitOfWork.emit` are written to
the outbox inside the same transaction, just before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from omniorder.db.clock import utcnow
from omniorder.db.engine import READONLY
from omniorder.db.repositories.candidates import CandidateQueries
from omniorder.db.repositories.catalog import (
    ChannelRepository,
    LocationRepository,
    ProductRepository,
    ProfileRepository,
)
from omniorder.db.repositories.changes import PositionChanges
from omniorder.db.repositories.events import EventRepository
from omniorder.db.repositories.keys import IdempotencyRepository, KeyRepository
from omniorder.db.repositories.orders import OrderRepository
from omniorder.db.repositories.promises import PromiseRepository
from omniorder.db.repositories.reports import ReportQueries
from omniorder.db.repositories.stock import StockRepository
from omniorder.db.repositories.supply import IncomingRepository, ReturnRepository
from omniorder.db.staging import StagedInserts


class UnitOfWork:
    conn: Connection
    locations: LocationRepository
    products: ProductRepository
    profiles: ProfileRepository
    channels: ChannelRepository
    stock: StockRepository
    candidates: CandidateQueries
    changes: PositionChanges
    orders: OrderRepository
    keys: KeyRepository
    idempotency: IdempotencyRepository
    events: EventRepository
    incoming: IncomingRepository
    returns: ReturnRepository
    promises: PromiseRepository
    reports: ReportQueries
    staged: StagedInserts

    def __init__(
        self,
        engine: Engine,
        *,
        readonly: bool = False,
        before_commit: Callable[[UnitOfWork], None] | None = None,
    ) -> None:
        self.engine = engine
        self.readonly = readonly
        #: Runs just before the commit (the services publish the positions' events there).
        self.before_commit = before_commit
        self._pending: list[dict[str, Any]] = []

    def __enter__(self) -> UnitOfWork:
        conn = self.engine.connect()
        if self.readonly:
            conn = conn.execution_options(**{READONLY: True})
        self.conn = conn
        self._tx = conn.begin()
        self.staged = staged = StagedInserts(conn)
        self.locations = LocationRepository(conn, staged)
        self.products = ProductRepository(conn, staged)
        self.profiles = ProfileRepository(conn, staged)
        self.channels = ChannelRepository(conn, staged)
        self.changes = PositionChanges()
        self.stock = StockRepository(conn, staged, self.changes)
        self.candidates = CandidateQueries(conn, staged)
        self.orders = OrderRepository(conn, staged)
        self.keys = KeyRepository(conn, staged)
        self.idempotency = IdempotencyRepository(conn, staged)
        self.events = EventRepository(conn, staged)
        self.incoming = IncomingRepository(conn, staged)
        self.returns = ReturnRepository(conn, staged)
        self.promises = PromiseRepository(conn, staged)
        self.reports = ReportQueries(conn, staged)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()

    def emit(self, type_: str, aggregate_id: str | None, data: dict[str, Any]) -> None:
        """Record an event; it reaches the outbox only if this unit of work commits."""
        self._pending.append(
            {"type": type_, "aggregate_id": aggregate_id, "data": data, "occurred_at": utcnow()}
        )

    def commit(self) -> None:
        if self.before_commit is not None:
            self.before_commit(self)
        self.events.append(self._pending)
        self._pending = []
        self.staged.flush()
        self._tx.commit()
        self.products.committed()

    def rollback(self) -> None:
        self._pending = []
        self.staged.clear()
        self.changes.drain()
        self._tx.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: rolled back alone when the block raises."""
        events_before = len(self._pending)
        staged_before = self.staged.mark()
        changes_before = self.changes.mark()
        nested = self.conn.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del self._pending[events_before:]
            self.staged.rewind(staged_before)
            self.changes.rewind(changes_before)
            raise
        else:
            nested.commit()
