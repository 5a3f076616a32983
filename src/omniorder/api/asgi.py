"""ASGI entry point for uvicorn workers: settings come from the environment."""

from omniorder.api.app import create_app

app = create_app()
