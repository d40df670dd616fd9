"""Error roots shared by every package.

Exception tree::

    OvaError
    ├── ValidationFailed (ValueError)   bad input: a 400 in every endpoint family
    │   └── carries ``code``, ``target`` and ``details`` for the ARM error envelope
    ├── NotFound (LookupError)          a named thing does not exist: 404
    ├── Conflict                        the thing exists or is in the wrong state: 409
    ├── Unauthenticated                 no or bad credential: 401
    ├── Forbidden (PermissionError)     a credential that is not allowed here: 403
    └── TooManyRequests                 rate limit hit: 429

Each package derives its own errors from these, so a family's error handler maps any
of them to its envelope in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of an ARM error's ``details`` list."""

    code: str
    message: str
    target: str | None = None


class OvaError(Exception):
    """Root of every error the project raises on purpose."""

    status = 500
    default_code = "InternalServerError"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        target: str | None = None,
        details: list[ErrorDetail] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.target = target
        self.details: list[ErrorDetail] = details or []
        self.headers: dict[str, str] = {}


class ValidationFailed(OvaError, ValueError):
    status = 400
    default_code = "InvalidRequest"


class NotFound(OvaError, LookupError):
    status = 404
    default_code = "ResourceNotFound"


class Conflict(OvaError):
    status = 409
    default_code = "Conflict"


class Unauthenticated(OvaError):
    status = 401
    default_code = "AuthenticationFailed"


class Forbidden(OvaError, PermissionError):
    status = 403
    default_code = "AuthorizationFailed"


class TooManyRequests(OvaError):
    status = 429
    default_code = "TooManyRequests"


@dataclass
class Problems:
    """Collects validation problems so one request reports all of them at once."""

    items: list[ErrorDetail] = field(default_factory=list)

    def add(self, target: str, message: str, code: str = "InvalidValue") -> None:
        self.items.append(ErrorDetail(code=code, message=message, target=target))

    def raise_if_any(self, summary: str = "The request is invalid.") -> None:
        if not self.items:
            return
        first = self.items[0]
        message = first.message if len(self.items) == 1 else f"{summary} {len(self.items)} problems found."
        raise ValidationFailed(message, code="InvalidRequest", target=first.target, details=list(self.items))
