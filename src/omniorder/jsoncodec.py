"""JSON encoding for responses and JSON columns: orjson, several times faster than the standard
library on the large documents omniorder writes for every order (sourcing traces, events).

Datetimes come out in RFC 3339, as ``datetime.isoformat`` writes them for aware values.
"""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=_OPTIONS).decode()
