"""create_app(settings): builds the engine, services and routes. Nothing connects at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI

from omniorder import __version__
from omniorder.api import docs_ui, events_doc, problems
from omniorder.api.deps import reject_unknown_query
from omniorder.api.middleware import BodyLimit, Errors, RequestMetrics
from omniorder.api.routers import (
    catalog,
    fulfillments,
    inventory,
    orders,
    promises,
    stats,
    system,
)
from omniorder.api.schemas import Problem
from omniorder.config import Settings
from omniorder.db.engine import make_engine
from omniorder.db.migrate import is_up_to_date
from omniorder.domain.errors import DatabaseNotMigrated
from omniorder.process import quiet_solver_banner
from omniorder.services.database import Database
from omniorder.services.keys import Authenticator, ensure_env_admin_key
from omniorder.services.worker import BackgroundWorker

log = logging.getLogger("omniorder")

DESCRIPTION = """Distributed order management: inventory everywhere, orders captured exactly
once, least-cost sourcing with a decision trace, reservations that never oversell.

Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 problem+json."""


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    db = Database(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        quiet_solver_banner()
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        if check_migrations and not is_up_to_date(engine):
            raise DatabaseNotMigrated("the database is not migrated: run `omniorder db upgrade`")
        if settings.admin_key is not None:
            ensure_env_admin_key(db, settings.admin_key.get_secret_value())
        worker = BackgroundWorker(db, app.state.policy) if settings.background_worker else None
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        engine.dispose()

    app = FastAPI(
        title="omniorder",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # docs_ui serves /docs and /redoc without a CDN
        redoc_url=None,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.authenticator = Authenticator(db)
    app.state.policy = settings.policy()
    problems.install(app)
    docs_ui.install(app)
    events_doc.install(app)
    app.include_router(catalog.router, prefix="/v1")
    app.include_router(inventory.router, prefix="/v1")
    app.include_router(orders.router, prefix="/v1")
    app.include_router(promises.router, prefix="/v1")
    app.include_router(stats.router, prefix="/v1")
    app.include_router(fulfillments.router, prefix="/v1")
    app.include_router(system.router, prefix="/v1")
    app.include_router(system.ops)

    app.add_middleware(Errors)
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    original_openapi = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            defs = components["Problem"].pop("$defs", {})
            components.update(defs)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
