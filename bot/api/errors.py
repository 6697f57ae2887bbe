"""JSON errors with a clear message; bad input is never a 500, an unreachable database is a 503."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.api.auth import refusal
from bot.core.db import is_data_error, is_unreachable
from bot.core.errors import Conflict, NotFound, UserError

log = logging.getLogger(__name__)


# FastAPI's own words when a body cannot be decoded at all (bad bytes, nesting too deep).
_UNPARSEABLE_BODY = "There was an error parsing the body"
NOT_JSON = "The request body is not valid UTF-8 JSON; send a JSON object."
DATABASE_DOWN = "Switchboard can't reach its database; try again in a minute"
SERVICE_DOWN = "A service Switchboard relies on (Slack) did not answer in time; try again in a minute"
# Long enough for a restarted database or a healed network, short enough not to idle a client.
RETRY_AFTER_SECONDS = "5"


def _message(error: dict[str, object]) -> str:
    if error.get("type") == "json_invalid":
        context = error.get("ctx") or {}
        reason = context.get("error") if isinstance(context, dict) else None
        return f"The request body is not valid JSON: {reason}." if reason else NOT_JSON
    if error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",):  # type: ignore[arg-type]
        return "The request body is missing; send a JSON object."
    return str(error.get("msg")).removeprefix("Value error, ")


def _describe(error: dict[str, object]) -> str:
    if error.get("type") == "json_invalid":
        return _message(error)
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")  # type: ignore[attr-defined]
    return f"{location}: {_message(error)}" if location else _message(error)


def _http_error(exc: StarletteHTTPException) -> JSONResponse:
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": code.get(exc.status_code, "error"), "message": str(exc.detail)},
        headers=getattr(exc, "headers", None),
    )


def _unavailable(request: Request, exc: BaseException, message: str) -> JSONResponse:
    log.warning("unavailable on %s %s: %r", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=503,
        content={"error": "unavailable", "message": message},
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={"error": "internal_error", "message": "Something went wrong on our side; it was logged."},
    )


async def _unauthenticated(request: Request) -> JSONResponse | None:
    """The 401 owed before saying anything about a body; a database too down to check is a 503."""
    try:
        denied = await refusal(request)
    except Exception as exc:
        if is_unreachable(exc):
            return _unavailable(request, exc, DATABASE_DOWN)
        raise
    return _http_error(denied) if denied is not None else None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in errors):
            if (denied := await _unauthenticated(request)) is not None:
                return denied
        message = "; ".join(_describe(e) for e in errors[:5])
        details = [{"loc": list(e.get("loc", ())), "msg": _message(e)} for e in errors]
        return JSONResponse(
            status_code=422, content={"error": "invalid_request", "message": message, "details": details}
        )

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"error": "not_found", "message": str(exc)})

    @app.exception_handler(Conflict)
    async def conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"error": "conflict", "message": str(exc)})

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": "invalid_request", "message": str(exc)})

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if is_unreachable(exc):
            return _unavailable(request, exc, DATABASE_DOWN)
        if is_data_error(exc):
            # A value the input checks let through but the database refused: still the caller's input.
            log.warning("database refused the data of %s %s: %r", request.method, request.url.path, exc)
            if isinstance(exc, sa_exc.IntegrityError):
                message = "The change clashes with stored data; reload it and try again."
                return JSONResponse(status_code=409, content={"error": "conflict", "message": message})
            message = "A value is too long or out of range for Switchboard to store; shorten or correct it."
            return JSONResponse(status_code=422, content={"error": "invalid_request", "message": message})
        return _server_error(request, exc)

    async def network_error(request: Request, exc: Exception) -> JSONResponse:
        return _unavailable(request, exc, DATABASE_DOWN if is_unreachable(exc) else SERVICE_DOWN)

    app.add_exception_handler(sa_exc.DBAPIError, database_error)
    for down in (sa_exc.TimeoutError, OSError, TimeoutError):
        app.add_exception_handler(down, network_error)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        return _server_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSEABLE_BODY:
            if (denied := await _unauthenticated(request)) is not None:
                return denied
            return JSONResponse(status_code=422, content={"error": "invalid_request", "message": NOT_JSON})
        return _http_error(exc)
