"""Settings, validated once (pydantic-settings, prefix OMNIORDER_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from omniorder.domain.policy import DEFAULT_ACCEPT_MINUTES, LifecyclePolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIORDER_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/omniorder.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    admin_key: SecretStr | None = Field(
        default=None, description="The first admin API key; stored hashed, never logged."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    request_threads: int = Field(
        default=4, ge=1, le=1000, description="Requests a worker process runs at once."
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    accept_minutes: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_ACCEPT_MINUTES),
        description="Minutes a location of each type has to accept a fulfillment (JSON).",
    )
    pickup_hours: int = Field(default=72, ge=1, le=24 * 60)
    max_reroutes: int = Field(default=3, ge=0, le=100)
    background_worker: bool = Field(
        default=True,
        description="Run the lifecycle worker (timers, backorders) in each server process.",
    )

    def policy(self) -> LifecyclePolicy:
        return LifecyclePolicy(
            accept_minutes={**DEFAULT_ACCEPT_MINUTES, **self.accept_minutes},
            pickup_hours=self.pickup_hours,
            max_reroutes=self.max_reroutes,
        )
