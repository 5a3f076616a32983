"""The error tree of omniorder.

Every error knows the HTTP status it maps to (RFC 9457 problem+json in the API) and the exit
code the CLI uses. Routes and commands never build error responses themselves.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field, e.g. ``lines[2].sku``."""

    field: str
    message: str


class OmniorderError(Exception):
    """Base of every error omniorder raises on purpose."""

    status: int = 500
    title: str = "Internal error"
    type_slug: str = "internal"
    exit_code: int = 1

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ValidationFailed(OmniorderError):
    """The request is well-formed but its content is not acceptable (422)."""

    status = 422
    title = "Validation failed"
    type_slug = "validation"
    exit_code = 2


class NotFound(OmniorderError):
    status = 404
    title = "Not found"
    type_slug = "not-found"
    exit_code = 3


class Conflict(OmniorderError):
    """The request contradicts the current state (illegal move, replay with another body)."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"
    exit_code = 4


class StaleSequence(Conflict):
    type_slug = "stale-sequence"
    title = "Stale inventory feed"


class IllegalTransition(Conflict):
    type_slug = "illegal-transition"
    title = "Illegal state transition"


class Unauthorized(OmniorderError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"
    exit_code = 5


class Forbidden(OmniorderError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"
    exit_code = 5


class PayloadTooLarge(OmniorderError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"
    exit_code = 2


class ServiceUnavailable(OmniorderError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"
    exit_code = 6


class DatabaseNotMigrated(ServiceUnavailable):
    title = "Database not migrated"
    type_slug = "not-migrated"
