"""Response shapes every admin API router shares: errors and their OpenAPI entries (domain shapes live
in each domain's api module; inputs reuse the services' validated models)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    error: str = Field(
        description="Machine-readable code: unauthorized, not_found, conflict, invalid_request…"
    )
    message: str = Field(description="What went wrong and what to do about it.")
    details: list[dict[str, Any]] | None = Field(default=None, description="Per-field problems, for 422.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or invalid bearer token"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such item"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "Clashes with stored data"}
}
