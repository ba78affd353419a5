"""The engine's expected failures, each with a stable `code` that callers map to words or HTTP.

Raised by the store and the services, turned into JSON errors by the API (404 for the
`NotFound` family, 409 for `NotAllowed`, 403 for `Forbidden`, 422 for `InvalidInput`).
"""

from __future__ import annotations

from datetime import timedelta


class ServiceError(Exception):
    """Base of the expected failures; ``code`` is stable, ``message`` is for humans."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    code = "not_found"


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self, number: str) -> None:
        super().__init__(f"No order with number {number}.")
        self.number = number


class CallNotFound(NotFound):
    code = "call_not_found"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"No call with id {call_id}.")
        self.call_id = call_id


class NotAllowed(ServiceError):
    """The request is understood but the order's state or the caller's identity forbids it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Forbidden(ServiceError):
    """The signed-in person may not do this (not their queue, someone else's call)."""

    code = "forbidden"


class InvalidInput(ServiceError):
    code = "invalid_input"


class TooManyAttempts(ServiceError):
    """Too many wrong guesses (passwords, identity checks) under this key: locked for a while (HTTP 429)."""

    code = "too_many_attempts"

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after_s = max(1, int(retry_after.total_seconds() + 0.999))
        super().__init__(f"Too many failed attempts; try again in {self.retry_after_s} s.")
