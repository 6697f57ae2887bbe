"""Keyset pagination with opaque cursors: `{"items": [...], "next_cursor": "…" | null}`."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from bot.core.errors import UserError
from bot.core.schema_base import MAX_ID, as_utc, has_control

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
BAD_CURSOR = "cursor: not a cursor this API returned; pass `next_cursor` from the previous page."
# Longer than any slug or ISO time a cursor carries.
MAX_POSITION_TEXT = 100


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


def _checked(value: Any, kind: type) -> bool:
    # A client can send any JSON as a cursor: only values a page could have ended on pass.
    if kind is int:
        return type(value) is int and 0 <= value <= MAX_ID
    if kind is str:
        return isinstance(value, str) and len(value) <= MAX_POSITION_TEXT and not has_control(value)
    return isinstance(value, kind)


def position_value(params: PageParams, key: str, kind: type) -> Any:
    """One field of the cursor's position, checked for type and range; absent on the first page."""
    if params.position is None:
        return None
    value = params.position.get(key)
    if not _checked(value, kind):
        raise UserError(BAD_CURSOR)
    return value


def position_time(params: PageParams, key: str) -> datetime | None:
    """A time field of the cursor's position, as the aware UTC time it was written from."""
    text = position_value(params, key, str)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError("naive time")
        return as_utc(value)
    except ValueError:
        raise UserError(BAD_CURSOR) from None
