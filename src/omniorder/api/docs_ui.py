"""The API docs pages, /docs (Swagger UI) and /redoc (ReDoc), with every script, style sheet and
icon they load served by the application itself: they work offline and behind a firewall, and
tell no CDN who reads them. FastAPI's own pages load their assets from cdn.jsdelivr.net.

The assets are the static folder of the pinned ``fastapi-offline`` package (Swagger UI 5.32,
ReDoc 2.5); nothing else of that package is used. (``swagger-ui-bundle`` ships Swagger UI 4.15,
which refuses OpenAPI 3.1 documents, and FastAPI writes 3.1.)

Like /openapi.json, the pages and their assets need no API key."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
STATIC_URL = "/docs/static"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
#: Swagger UI would otherwise show a badge loaded from validator.swagger.io on public hosts.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets (under /docs/static) from ``app``. The app is built
    with ``docs_url=None, redoc_url=None`` so that FastAPI's CDN pages do not shadow these."""
    openapi_url = app.openapi_url
    assert openapi_url is not None, "the docs pages need the OpenAPI document"
    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="docs-static")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
