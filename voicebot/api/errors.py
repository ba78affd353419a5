"""The API's one error shape, `{"error": code, "message": text}`, for every route of the engine.

404 for unknown orders, calls and handoffs, 403 when the signed-in person may not,
409 when a rule forbids the change, 422 for malformed input, 429 (with Retry-After) after too many
wrong guesses, 503 when the database is down.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from voicebot.domain.errors import (
    Forbidden,
    InvalidInput,
    NotAllowed,
    NotFound,
    ServiceError,
    TooManyAttempts,
)
from voicebot.store.session import DatabaseUnavailable


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


_STATUS = ((NotFound, 404), (Forbidden, 403), (NotAllowed, 409), (InvalidInput, 422), (TooManyAttempts, 429))


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 400)
    response = _error(status, exc.code, exc.message)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return _error(503, DatabaseUnavailable.code, "The order database is unavailable; please try again shortly.")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Without the rejected input: it may hold a caller's personal data.
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
    return _error(422, "validation_error", message, details=errors)


def install_error_handlers(app: FastAPI) -> None:
    """Map service exceptions and request validation errors to the API's JSON error shape."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
