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
# What any admin-API operation can answer besides its own results, and what any write can add.
ANY_OPERATION = {
    "401": "Missing or invalid bearer token",
    "404": "No such item, or a workspace Switchboard does not serve",
    "422": "Invalid request",
    "503": "The database (or Slack, asked which workspace this is) is unreachable; retry later",
}
ANY_WRITE = {"409": "Clashes with stored data"}


def document_errors(openapi: dict[str, Any], *, prefix: str) -> None:
    """List on every operation under `prefix` each error status it can answer, with ErrorOut's shape.

    Some are decided before a route runs (the token, the workspace, the database), so they hold
    for every route alike; routes keep their own, more specific descriptions where they give one.
    """
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}}
    for path, item in openapi["paths"].items():
        if not path.startswith(prefix):
            continue
        for method, operation in item.items():
            statuses = ANY_OPERATION | (ANY_WRITE if method in {"post", "put", "patch", "delete"} else {})
            for status, description in statuses.items():
                operation["responses"].setdefault(status, {"description": description, "content": content})
