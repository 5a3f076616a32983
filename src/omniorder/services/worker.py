"""The background work that keeps orders moving without a person: due timers (acknowledgement
windows, pickups not collected, promise holds), and backorders to source again when stock
grows.

Everything it acts on is in the database (timer columns on fulfillments, the
``backorder_wakeups`` table written by the transaction that grew the stock), so nothing is
lost when a worker stops; each item is handled in a transaction of its own. Several workers
may run at once: on PostgreSQL each skips orders and wake-ups another holds (``SKIP LOCKED``);
SQLite has a single writer, so run one worker there.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from omniorder.db.clock import utcnow
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict
from omniorder.domain.policy import LifecyclePolicy
from omniorder.services import fulfillments, promises
from omniorder.services.database import Database

log = logging.getLogger("omniorder.worker")


@dataclass(slots=True)
class Pass:
    """What one pass did."""

    timed_out: int = 0
    expired: int = 0
    skipped: int = 0
    backorder_skus: int = 0
    backorders_served: int = 0
    promises_expired: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.timed_out or self.expired or self.backorder_skus or self.promises_expired)


def run_once(
    db: Database, policy: LifecyclePolicy, now: datetime | None = None, batch: int = 50
) -> Pass:
    """One pass over due timers and backorder wake-ups."""
    done = Pass()
    moment = now or utcnow()
    for fid, kind in db.read(lambda uow: fulfillments.due_timers(uow, moment, batch)):

        def handle(uow: UnitOfWork, fid: str = fid, kind: str = kind) -> str:
            order_id = uow.orders.order_of_fulfillment(fid)
            if order_id is None or not uow.orders.try_lock(order_id):
                return "skipped"
            if kind == "accept":
                done = fulfillments.time_out(uow, fid, policy, moment)
                return "skipped" if done is None else "timed_out"
            return "skipped" if fulfillments.expire(uow, fid, moment) is None else "expired"

        try:
            outcome = db.write(handle)
        except Conflict as exc:  # moved meanwhile by a person or another worker
            done.errors.append(f"{fid}: {exc}")
            continue
        setattr(done, outcome, getattr(done, outcome) + 1)

    def backorders(uow: UnitOfWork) -> tuple[int, int]:
        skus = uow.stock.take_wakeups(batch)
        if not skus:
            return 0, 0
        return len(skus), fulfillments.release_backorders(uow, skus, policy)

    # A read first: an idle pass takes no write lock (SQLite has one writer at a time).
    due_holds, wakeups = db.read(lambda uow: _pending(uow, moment))
    # expired promise holds first: the units they free may serve backorders in this pass
    if due_holds:
        done.promises_expired = db.write(lambda uow: promises.expire_due(uow, moment, batch))
    if wakeups or due_holds:
        done.backorder_skus, done.backorders_served = db.write(backorders)
    return done


def _pending(uow: UnitOfWork, now: datetime) -> tuple[bool, bool]:
    """(a promise hold is due, a backorder wake-up is waiting)."""
    return uow.promises.any_due(now), uow.stock.wakeups_waiting()


class BackgroundWorker:
    """``run_once`` every ``interval`` seconds in a daemon thread (used by ``omniorder serve``
    so that a single-process deployment needs no separate worker)."""

    def __init__(self, db: Database, policy: LifecyclePolicy, interval: float = 1.0) -> None:
        self.db = db
        self.policy = policy
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="omniorder-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = run_once(self.db, self.policy)
                if result.busy:
                    log.info("worker pass: %s", result)
                    continue
            except Exception:  # a pass that fails is logged and retried next time
                log.exception("worker pass failed")
            self._stop.wait(self.interval)
