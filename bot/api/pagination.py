"""Keyset pagination with opaque cursors: `{"items": [...], "next_cursor": "…" | null}`."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from bot.core.errors import UserError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
BAD_CURSOR = "cursor: not a cursor this API returned; pass `next_cursor` from the previous page."


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `?cursor=` to get the next page; null on the last page."
    )


class PageParams(BaseModel):
    limit: int
    position: dict[str, Any] | None


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque token for `position`; clients must not build or parse it."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The position a cursor stands for; a cursor we did not make is a clear 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict):
        raise UserError(BAD_CURSOR)
    return position


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="`next_cursor` from the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, position=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


def position_value(params: PageParams, key: str, kind: type) -> Any:
    """One field of the cursor's position, checked for type; absent on the first page."""
    if params.position is None:
        return None
    value = params.position.get(key)
    if not isinstance(value, kind):
        raise UserError(BAD_CURSOR)
    return value
