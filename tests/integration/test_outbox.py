"""The event feed never skips an event that commits after a later one was read."""

from __future__ import annotations

import pytest

from omniorder.services.database import Database
from omniorder.services.events import feed


@pytest.mark.postgres_only
def test_an_event_committed_late_is_numbered_after_everything_already_read(db: Database) -> None:
    slow = db.uow()
    slow.__enter__()
    try:
        slow.emit("test.slow", "a", {})
        slow.events.append(slow._pending)  # written, not committed
        slow._pending = []

        def fast(uow: object) -> None:
            from omniorder.db.uow import UnitOfWork

            assert isinstance(uow, UnitOfWork)
            uow.emit("test.fast", "b", {})

        db.write(fast)
        first = feed(db, 0, 50)
        assert [(e.type, e.seq) for e in first] == [("test.fast", 1)]
        slow.commit()
    finally:
        slow.__exit__(None, None, None)
    later = feed(db, first[-1].seq, 50)
    assert [(e.type, e.seq) for e in later] == [("test.slow", 2)]


def test_failed_units_of_work_leave_no_event_and_numbers_have_no_gaps(db: Database) -> None:
    def ok(uow: object) -> None:
        from omniorder.db.uow import UnitOfWork

        assert isinstance(uow, UnitOfWork)
        uow.emit("test.ok", None, {})

    def fails(uow: object) -> None:
        ok(uow)
        raise RuntimeError("boom")

    db.write(ok)
    with pytest.raises(RuntimeError):
        db.write(fails)
    db.write(ok)
    assert [e.seq for e in feed(db, 0, 50)] == [1, 2]
