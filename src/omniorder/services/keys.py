"""API keys: created with a secret shown once, stored as a SHA-256 hash, looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from omniorder.db.clock import utcnow
from omniorder.db.repositories.keys import ApiKey
from omniorder.db.uow import UnitOfWork
from omniorder.domain.errors import FieldError, Forbidden, Unauthorized, ValidationFailed
from omniorder.domain.ids import new_id
from omniorder.domain.model import Role
from omniorder.services.database import Database
from omniorder.services.payloads import api_key_dict

ENV_ADMIN_KEY_ID = "key_env_admin"


def hash_secret(secret: str) -> str:
    # Keys are 256-bit random secrets: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewKey:
    key: ApiKey
    secret: str


def create_key(
    uow: UnitOfWork,
    name: str,
    role: Role,
    channel: str | None = None,
    location_ids: list[str] | None = None,
) -> NewKey:
    """A new key; a ``channel`` key names the one channel whose orders it places and reads,
    a ``location`` key the locations whose queues and stock it works with."""
    errors = []
    if role is Role.CHANNEL and not channel:
        errors.append(FieldError("channel", "required for role 'channel': the key's channel"))
    if role is not Role.CHANNEL and channel:
        errors.append(FieldError("channel", f"only for role 'channel', not '{role.value}'"))
    if role is not Role.LOCATION and location_ids:
        errors.append(FieldError("location_ids", f"only for role 'location', not '{role.value}'"))
    if errors:
        raise ValidationFailed("the key's scope does not fit its role", errors)
    if role is Role.LOCATION:
        if not location_ids:
            raise ValidationFailed(
                "a location key needs location_ids",
                [FieldError("location_ids", "required for role 'location'")],
            )
        unknown = sorted(set(location_ids) - uow.locations.existing_ids(location_ids))
        if unknown:
            raise ValidationFailed(
                "unknown location(s)",
                [FieldError("location_ids", f"unknown location '{u}'") for u in unknown],
            )
    prefix = secrets.token_hex(4)
    secret = f"oo_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        id=new_id("key"),
        name=name,
        role=role,
        prefix=prefix,
        channel=channel,
        location_ids=tuple(sorted(set(location_ids))) if location_ids else None,
        active=True,
        created_at=utcnow(),
    )
    uow.keys.add(key, hash_secret(secret))
    uow.emit("api_key.created", key.id, api_key_dict(key))
    return NewKey(key, secret)


def ensure_env_admin_key(db: Database, secret: str) -> None:
    """Store (hashed) the admin key given in OMNIORDER_ADMIN_KEY, replacing an older one."""
    digest = hash_secret(secret)

    def run(uow: UnitOfWork) -> None:
        stored = uow.keys.hash_of(ENV_ADMIN_KEY_ID)
        if stored is None:
            uow.keys.add(
                ApiKey(
                    ENV_ADMIN_KEY_ID,
                    "admin (OMNIORDER_ADMIN_KEY)",
                    Role.ADMIN,
                    "env",
                    None,
                    None,
                    True,
                    utcnow(),
                ),
                digest,
            )
        elif stored != digest:
            uow.keys.set_hash(ENV_ADMIN_KEY_ID, digest)

    db.write(run)


class Authenticator:
    """Resolves bearer secrets to keys, with a short cache so hot paths skip a query."""

    def __init__(self, db: Database, ttl_seconds: float = 5.0) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def cached(self, secret: str | None) -> ApiKey | None:
        """The key for this secret when the cache can answer without the database; raises
        Unauthorized for a missing secret or a cached unknown/inactive one."""
        if not secret:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        with self._lock:
            hit = self._cache.get(hash_secret(secret))
        if hit is None or hit[0] <= time.monotonic():
            return None
        return _active(hit[1])

    def authenticate(self, secret: str | None) -> ApiKey:
        found = self.cached(secret)
        if found is not None:
            return found
        assert secret is not None  # cached() refused a missing one
        digest = hash_secret(secret)
        now = time.monotonic()
        key = self.db.read(lambda uow: uow.keys.by_hash(digest))
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self.ttl, key)
        return _active(key)


def _active(key: ApiKey | None) -> ApiKey:
    if key is None or not key.active:
        raise Unauthorized("unknown or inactive API key")
    if key.role is Role.CHANNEL and not key.channel:
        # made before channel keys had to name their channel: it would act for every channel
        raise Forbidden(
            f"channel key '{key.id}' names no channel, so it may not act for any: create a "
            "new key with `channel` set and stop using this one"
        )
    return key
