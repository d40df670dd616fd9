"""Errors raised while checking credentials against access policies.

Exception tree::

    Unauthenticated (ova.common.errors)        401
    └── AuthError                              root of this package's 401s
        └── InvalidToken                       any token rejection; one uniform message
    Forbidden (ova.common.errors)              403
    └── NoAccessPolicy                         the account defines no usable access policy
    ValidationFailed (ova.common.errors)       400
    └── InvalidTokenKey                        a policy key that must not be stored

``InvalidToken`` never says *why* a token was refused, and no error here ever carries
the token itself: the reason would help an attacker more than a legitimate caller.
"""

from __future__ import annotations

from ova.common.errors import Forbidden, Unauthenticated, ValidationFailed

REJECTION_MESSAGE = "The access token is invalid."
NO_ACCESS_POLICY_MESSAGE = "No access policy is defined for this account; all access is denied."


class AuthError(Unauthenticated):
    """Root of the credential failures this package reports as 401."""


class InvalidToken(AuthError):
    """A token was refused (malformed, bad signature, expired, or matching no policy)."""

    default_code = "InvalidToken"

    def __init__(self) -> None:
        super().__init__(REJECTION_MESSAGE)


class NoAccessPolicy(Forbidden):
    """The account has no usable access policy, so every request is denied (403)."""

    default_code = "AccessPolicyNotFound"

    def __init__(self) -> None:
        super().__init__(NO_ACCESS_POLICY_MESSAGE)


class InvalidTokenKey(ValidationFailed):
    """An access-policy token key that is malformed, weak, or inconsistent."""

    default_code = "InvalidTokenKey"
