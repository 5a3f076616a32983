"""The event feed: number what has committed, then read in feed order."""

from __future__ import annotations

from omniorder.db.repositories.events import StoredEvent
from omniorder.db.uow import UnitOfWork
from omniorder.services.database import Database


def feed(db: Database, after: int, limit: int, types: list[str] | None = None) -> list[StoredEvent]:
    def run(uow: UnitOfWork) -> list[StoredEvent]:
        uow.events.sequence()
        return uow.events.after(after, limit, types)

    return db.write(run)
