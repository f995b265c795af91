"""Domain errors raised by actions; the API and the UI translate them, never the reverse."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class ValidationFailed(DomainError):
    status = 422
    title = "Invalid request"

    def __init__(self, errors: list[FieldError], message: str | None = None):
        super().__init__(message or "; ".join(f"{e.field}: {e.message}" for e in errors), errors)

    @classmethod
    def one(cls, field: str, message: str) -> "ValidationFailed":
        return cls([FieldError(field, message)])


class Forbidden(DomainError):
    """The caller may not do this (a client whose group does not allow it)."""

    status = 403
    title = "Forbidden"


class TooManyRequests(DomainError):
    """Allowed, but not again so soon (e.g. password links per hour)."""

    status = 429
    title = "Too many requests"
