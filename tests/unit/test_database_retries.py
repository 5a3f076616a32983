"""Transient database failures are retried whole; persistent ones are a 503, not a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from omniorder.db.engine import make_engine
from omniorder.domain.errors import Conflict, ServiceUnavailable
from omniorder.services.database import TRANSIENT_ATTEMPTS, Database


class _Deadlock(Exception):
    sqlstate = "40P01"


class _Syntax(Exception):
    sqlstate = "42601"


def _db(tmp_path: Path) -> Database:
    return Database(make_engine(f"sqlite:///{tmp_path}/r.db"))


def _failing(times: int, error: Exception) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def action(_uow: Any) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    return action, calls


def test_a_deadlock_is_retried_and_then_succeeds(tmp_path: Path) -> None:
    action, calls = _failing(2, OperationalError("UPDATE …", {}, _Deadlock()))
    assert _db(tmp_path).write(action) == "done"
    assert len(calls) == 3


def test_a_persistent_deadlock_is_a_503(tmp_path: Path) -> None:
    action, calls = _failing(99, OperationalError("UPDATE …", {}, _Deadlock()))
    with pytest.raises(ServiceUnavailable):
        _db(tmp_path).write(action)
    assert len(calls) == TRANSIENT_ATTEMPTS


def test_a_locked_sqlite_database_is_retried(tmp_path: Path) -> None:
    action, calls = _failing(1, OperationalError("BEGIN", {}, Exception("database is locked")))
    assert _db(tmp_path).write(action) == "done"
    assert len(calls) == 2


def test_other_database_errors_are_not_retried(tmp_path: Path) -> None:
    action, calls = _failing(1, OperationalError("SELECT", {}, _Syntax()))
    with pytest.raises(OperationalError):
        _db(tmp_path).write(action)
    assert len(calls) == 1


class _UniqueViolation(Exception):
    sqlstate = "23505"


class _CheckViolation(Exception):
    sqlstate = "23514"


@pytest.mark.parametrize(
    "orig",
    [_UniqueViolation("duplicate key"), Exception("UNIQUE constraint failed: orders.id")],
    ids=["postgresql", "sqlite"],
)
def test_a_unique_race_is_retried_once_then_a_conflict(tmp_path: Path, orig: Exception) -> None:
    action, calls = _failing(99, IntegrityError("INSERT …", {}, orig))
    with pytest.raises(Conflict):
        _db(tmp_path).write(action)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "orig",
    [_CheckViolation("check"), Exception("CHECK constraint failed: units_accounted")],
    ids=["postgresql", "sqlite"],
)
def test_any_other_integrity_error_is_a_bug_not_a_conflict(tmp_path: Path, orig: Exception) -> None:
    action, calls = _failing(99, IntegrityError("UPDATE …", {}, orig))
    with pytest.raises(IntegrityError):
        _db(tmp_path).write(action)
    assert len(calls) == 1
