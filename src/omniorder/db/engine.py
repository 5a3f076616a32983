"""Engines for SQLite (embedded default) and PostgreSQL. Nothing connects at import time."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from omniorder.domain.errors import ServiceUnavailable
from omniorder.jsoncodec import dumps

READONLY = "omniorder_readonly"
WRITER_WAIT_SECONDS = 30


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine for ``url``; for SQLite, also the database's folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        # No pre-ping: it costs a round trip per transaction; recycled connections and the
        # one-retry in Database.write cover servers that restart.
        pool_recycle=1800,
        json_serializer=dumps,
    )


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=dumps
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (IMMEDIATE for writers).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    # SQLite has one writer at a time. Threads of this process queue on a lock before asking
    # for the database's write lock, instead of sleeping and retrying in SQLite's busy handler,
    # which under load leaves some writers waiting seconds. Other processes still meet the
    # busy handler.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the database write lock up front: no upgrade deadlocks, and a unit of
        # work that reads stock then reserves it sees numbers nobody can change underneath it.
        if conn.get_execution_options().get(READONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=WRITER_WAIT_SECONDS):
            raise ServiceUnavailable(
                f"the database stayed busy for {WRITER_WAIT_SECONDS} s; try again"
            )
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        conn.info["omniorder_writer"] = True

    def _on_end(conn: Any) -> None:
        if conn.info.pop("omniorder_writer", False):
            writer.release()

    event.listen(engine, "commit", _on_end)
    event.listen(engine, "rollback", _on_end)
    return engine
