"""The JSON response every route returns, encoded with :mod:`omniorder.jsoncodec`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse as _StarletteJSON

from omniorder.jsoncodec import dumps_bytes


class JSONResponse(_StarletteJSON):
    def render(self, content: Any) -> bytes:
        return dumps_bytes(content)
