"""The base every validated input shape builds on: unknown keys refused, text trimmed, no NUL."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def has_nul(value: Any) -> bool:
    """Whether `value`, or any string nested in it (dict keys included), holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, values: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
        if has_nul(values):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return values
