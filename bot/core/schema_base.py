"""The bases every validated input shape builds on: ids the database can hold, text it can store,
unknown keys refused, and explicit nulls refused where a field cannot be empty."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Every id column is a PostgreSQL INTEGER; a larger number can name no row and would fail the query.
MAX_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]

# PostgreSQL text cannot hold NUL, and no other C0 control character (tab and line breaks aside) or
# lone surrogate belongs in what people type; both databases are told the same: refused.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
CONTROL_MESSAGE = "must not contain control characters such as NUL (\\u0000); remove them"


def has_control(value: Any) -> bool:
    """Whether `value`, or any string nested in it (dict keys included), holds a control character."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _CONTROL.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def clean_text(value: str | None) -> str | None:
    """A query filter as given; refused (ValueError) when it holds a control character."""
    if value is not None and _CONTROL.search(value):
        raise ValueError(CONTROL_MESSAGE)
    return value


def as_utc(value: datetime) -> datetime:
    """An aware time in UTC, as stored; one whose offset pushes it past year 1 or 9999 is refused."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range: pick a time between years 1 and 9999 in UTC") from None


def refuse_null(value: Any) -> Any:
    """For a field whose absence means "unchanged": an explicit null is a mistake worth naming.

    Use as a field validator; it runs only when the field is given, so absence stays allowed.
    """
    if value is None:
        raise ValueError("cannot be null; leave the field out to keep it")
    return value


class CleanInput(BaseModel):
    """Input whose text the database can store as given."""

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, values: Any) -> Any:
        if has_control(values):
            raise ValueError(f"text {CONTROL_MESSAGE}")
        return values


class StrictInput(CleanInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
