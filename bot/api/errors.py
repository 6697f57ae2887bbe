"""JSON errors with a clear message; bad input is never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.core.errors import Conflict, NotFound, UserError

log = logging.getLogger(__name__)


# FastAPI's own words when a body cannot be decoded at all (bad bytes, nesting too deep).
_UNPARSEABLE_BODY = "There was an error parsing the body"
NOT_JSON = "The request body is not valid UTF-8 JSON; send a JSON object."


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_body(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
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

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            status_code=503,
            content={"error": "unavailable", "message": "The database is unreachable; retry in a moment."},
            headers={"Retry-After": "5"},
        )

    for database_down in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(database_down, unavailable)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={
                "error": "internal_error",
                "message": "Something went wrong on our side; it was logged.",
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSEABLE_BODY:
            return JSONResponse(status_code=422, content={"error": "invalid_request", "message": NOT_JSON})
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": code.get(exc.status_code, "error"), "message": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )
