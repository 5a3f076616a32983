"""What every repository shares: its statements run through :meth:`Repository.execute`, which
first writes what the unit of work has staged, so no read or update of a repository can miss
a row staged before it in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable

from omniorder.db.staging import StagedInserts


class Repository:
    def __init__(self, conn: Connection, staged: StagedInserts) -> None:
        self.conn = conn
        self.staged = staged

    def execute(
        self, statement: Executable, parameters: Any = None
    ) -> CursorResult[*tuple[Any, ...]]:
        self.staged.flush()
        return self.conn.execute(statement, parameters)
