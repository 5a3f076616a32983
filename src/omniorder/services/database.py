"""The handle services get: an engine and a way to open units of work."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import Conflict, ServiceUnavailable
from omniorder.services.payloads import publish_positions

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Idempotency:
    """An ``Idempotency-Key`` of one API key, with the fingerprint of the request it came with."""

    api_key_id: str
    key: str
    request_hash: str


TRANSIENT_ATTEMPTS = 4
# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_duplicate(exc: IntegrityError) -> bool:
    """A unique key taken by a concurrent request (the only integrity error a correct request
    meets; any other is a bug and is raised as it is)."""
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return bool(state == "23505")
    return "UNIQUE constraint failed" in str(exc.orig)


def is_transient(exc: OperationalError) -> bool:
    """A failure that retrying the whole transaction may cure."""
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return state in TRANSIENT_SQLSTATES
    return "database is locked" in str(exc.orig)


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, readonly=readonly, before_commit=publish_positions)

    def read(self, action: Callable[[UnitOfWork], R]) -> R:
        with self.uow(readonly=True) as uow:
            return action(uow)

    def write(self, action: Callable[[UnitOfWork], R]) -> R:
        """Run ``action`` in one transaction and commit.

        A lost unique race is retried once (the retry finds the winner's row). A transient
        database failure — a deadlock or serialization failure on PostgreSQL, a locked
        database on SQLite — rolls the whole transaction back and is retried; if it persists
        the answer is 503, never a half-done change."""
        unique_races = 0
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                with self.uow() as uow:
                    result = action(uow)
                    uow.commit()
                    return result
            except IntegrityError as exc:
                if not is_duplicate(exc):
                    raise
                unique_races += 1
                if unique_races == 2:
                    raise Conflict("the request conflicts with a concurrent change") from exc
            except OperationalError as exc:
                if not is_transient(exc):
                    raise
                if attempt == TRANSIENT_ATTEMPTS:
                    raise ServiceUnavailable("the database is busy; try again") from exc
                time.sleep(0.01 * attempt)
        raise Conflict("the request conflicts with a concurrent change")

    def execute(
        self,
        action: Callable[[UnitOfWork], R],
        render: Callable[[R], tuple[int, Any]],
        idempotency: Idempotency | None = None,
    ) -> tuple[int, Any, bool]:
        """Run a creating action exactly once per idempotency key; returns (status, body,
        replayed).

        The stored answer is written in the same transaction as the change, so a replay either
        finds the whole change and its answer, or neither. Same key and same request: the stored
        answer. Same key, different request: 409. Two requests with the same key at once: one
        commits, the other's insert of the key fails on the unique key, and its retry finds the
        stored answer.
        """

        def run(uow: UnitOfWork) -> tuple[int, Any, bool]:
            if idempotency is not None:
                stored = uow.idempotency.get(idempotency.api_key_id, idempotency.key)
                if stored is not None:
                    if stored.request_hash != idempotency.request_hash:
                        raise Conflict("this Idempotency-Key was used with a different request")
                    return stored.status_code, stored.body, True
            status, body = render(action(uow))
            if idempotency is not None:
                uow.idempotency.add(
                    idempotency.api_key_id,
                    idempotency.key,
                    idempotency.request_hash,
                    status,
                    body,
                )
            return status, body, False

        return self.write(run)
