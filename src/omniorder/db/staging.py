"""Inserts staged in a unit of work and written together just before it commits.

Capturing an order writes rows to seven tables (order, lines, fulfillments and their lines, the
sourcing trace, ledger and outbox). On PostgreSQL each statement is a round trip to the server
and a pass through the driver; staged, they become one statement: a chain of data-modifying
CTEs, each inserting one table's rows from a JSON array with ``json_populate_recordset``.
Foreign keys are checked at the end of that statement, so parents and children can travel
together. SQLite runs in-process, where round trips cost nothing: there the rows go in with one
``executemany`` per table, parents first.

Only appends are staged. Nobody has to think of them afterwards: every statement of a
repository runs through ``Repository.execute``, which first writes what is staged, so a read
or an update never misses a row staged before it. On the hot path nothing runs between the
staging and the commit, so the rows still travel as one statement.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, TextClause, text

from omniorder.db import tables as t
from omniorder.jsoncodec import dumps

# Parents before children: the order SQLite needs and PostgreSQL's CTE chain keeps.
ORDER = {tbl.name: i for i, tbl in enumerate(t.metadata.sorted_tables)}


def _columns(table: Table) -> list[str]:
    """The columns a staged row sets: all but a generated (autoincrement) key."""
    return [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]


@lru_cache(maxsize=64)
def _pg_statement(names: tuple[str, ...]) -> TextClause:
    parts = []
    for i, name in enumerate(names):
        cols = ", ".join(f'"{c}"' for c in _columns(t.metadata.tables[name]))
        source = f'json_populate_recordset(NULL::"{name}", CAST(:rows_{i} AS json))'
        insert = f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM {source}'  # noqa: S608
        parts.append(f"{insert} WITH ORDINALITY ORDER BY ordinality")
    *ctes, last = parts
    head = ", ".join(f"staged_{i} AS ({sql})" for i, sql in enumerate(ctes))
    return text(f"WITH {head} {last}" if ctes else last)


class StagedInserts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._rows.setdefault(table.name, []).extend(rows)

    def mark(self) -> dict[str, int]:
        """How many rows each table holds now (see :meth:`rewind`)."""
        return {name: len(rows) for name, rows in self._rows.items()}

    def rewind(self, mark: dict[str, int]) -> None:
        """Drop the rows staged since ``mark`` (a rolled-back savepoint)."""
        for name in list(self._rows):
            del self._rows[name][mark.get(name, 0) :]
            if not self._rows[name]:
                del self._rows[name]

    def clear(self) -> None:
        self._rows = {}

    def flush(self) -> None:
        if not self._rows:
            return
        names = tuple(sorted(self._rows, key=ORDER.__getitem__))
        staged, self._rows = self._rows, {}
        if self._pg:
            params = {f"rows_{i}": dumps(staged[name]) for i, name in enumerate(names)}
            self.conn.execute(_pg_statement(names), params)
            return
        for name in names:
            self.conn.execute(t.metadata.tables[name].insert(), staged[name])
