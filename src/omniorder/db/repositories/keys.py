"""API keys (stored as SHA-256 hashes of high-entropy secrets) and idempotency records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from omniorder.db import tables as t
from omniorder.db.clock import as_utc, utcnow
from omniorder.db.repositories._util import decode_cursor, page
from omniorder.db.repositories.base import Repository
from omniorder.domain.model import Role


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    role: Role
    prefix: str
    channel: str | None
    location_ids: tuple[str, ...] | None
    active: bool
    created_at: datetime


def _key(row: Any) -> ApiKey:
    locs = row.location_ids
    return ApiKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        prefix=row.prefix,
        channel=row.channel,
        location_ids=None if locs is None else tuple(locs),
        active=row.active,
        created_at=as_utc(row.created_at),
    )


class KeyRepository(Repository):
    def by_hash(self, key_hash: str) -> ApiKey | None:
        q = select(t.api_keys).where(t.api_keys.c.key_hash == key_hash)
        row = self.execute(q).first()
        return None if row is None else _key(row)

    def hash_of(self, key_id: str) -> str | None:
        q = select(t.api_keys.c.key_hash).where(t.api_keys.c.id == key_id)
        return self.execute(q).scalar_one_or_none()

    def set_hash(self, key_id: str, key_hash: str) -> None:
        ak = t.api_keys
        self.execute(ak.update().where(ak.c.id == key_id).values(key_hash=key_hash))

    def add(self, key: ApiKey, key_hash: str) -> None:
        self.execute(
            t.api_keys.insert().values(
                id=key.id,
                name=key.name,
                role=key.role.value,
                key_hash=key_hash,
                prefix=key.prefix,
                channel=key.channel,
                location_ids=None if key.location_ids is None else list(key.location_ids),
                active=key.active,
                created_at=key.created_at,
            )
        )

    def list_page(self, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        """Keys in the order they were made (their ids sort by creation time)."""
        ak = t.api_keys
        q = select(ak).order_by(ak.c.id).limit(limit + 1)
        after = decode_cursor(cursor, "api-keys")
        if after is not None:
            q = q.where(ak.c.id > after[0])
        return page([_key(r) for r in self.execute(q)], limit, "api-keys", lambda k: [k.id])


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: Any


class IdempotencyRepository(Repository):
    def get(self, api_key_id: str, key: str) -> StoredResponse | None:
        ik = t.idempotency_keys
        q = select(ik).where(ik.c.api_key_id == api_key_id, ik.c.key == key)
        row = self.execute(q).first()
        if row is None:
            return None
        return StoredResponse(row.request_hash, row.status_code, row.response)

    def add(self, api_key_id: str, key: str, request_hash: str, status: int, body: Any) -> None:
        """Staged with the change it answers: written in the same statement at commit (a
        concurrent request with the same key fails there on the unique key)."""
        self.staged.add(
            t.idempotency_keys,
            [
                {
                    "api_key_id": api_key_id,
                    "key": key,
                    "request_hash": request_hash,
                    "status_code": status,
                    "response": body,
                    "created_at": utcnow(),
                }
            ],
        )
