"""Keyset pagination with signed, opaque cursors: `{"items": [...], "next_cursor": "…" | null}`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from bot.api.cursors import BAD_CURSOR, MAX_CURSOR_LENGTH, CursorSigner, cursor_key, scope_of
from bot.api.deps import RuntimeDep
from bot.core.errors import UserError
from bot.core.schema_base import MAX_ID, as_utc, has_control

__all__ = ["BAD_CURSOR", "Page", "PageDep", "PageParams", "position_time", "position_value"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Longer than any slug or ISO time a cursor carries.
MAX_POSITION_TEXT = 100


T = TypeVar("T")
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `?cursor=` to get the next page; null on the last page."
    )


@dataclass(frozen=True)
class PageParams:
    """One page request: its size, where the previous page ended, and its list's cursor signer."""

    limit: int
    position: dict[str, Any] | None
    signer: CursorSigner

    def next_cursor(self, rows: Sequence[Row], position: Callable[[Row], dict[str, Any]]) -> str | None:
        """The cursor after the last item shown, when `rows` (fetched `limit + 1`) hold more."""
        if len(rows) <= self.limit:
            return None
        return self.signer.sign(position(rows[self.limit - 1]))


def page_params(
    request: Request,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="`next_cursor` from the previous page, with the same path and filters.",
        ),
    ] = None,
) -> PageParams:
    signer = CursorSigner(
        cursor_key(runtime.settings), scope_of(request.url.path, request.query_params.multi_items())
    )
    return PageParams(limit=limit, position=signer.open(cursor) if cursor else None, signer=signer)


PageDep = Annotated[PageParams, Depends(page_params)]


def _checked(value: Any, kind: type) -> bool:
    # Signed positions are still checked: only values a page could have ended on pass.
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
