"""Throttling of refused credentials per client, without ever locking a valid credential out.

Every family that checks a credential (customer JWTs on the client family, content tokens on
streaming, operator keys on management) guards the check with ``CredentialThrottle.guard``:

1. A client (its address, see ``trusted_proxies``) may have ``limit`` credentials refused per
   window (each family keeps its own counts and budget). Under that budget every credential
   is checked as usual; a refused one costs 401.
2. Past the budget the client is *throttled*, but a valid credential must still get in (behind
   a load balancer every viewer may share one address). A throttled request is checked only
   when its credential is well formed (a cheap structural check, no cryptography) and either
   was seen valid recently (a bounded memory of SHA-256 digests of accepted credentials) or a
   budget of ``verifications_per_second`` (per family) for throttled clients has room. That
   budget bounds the CPU an attacker can make the process spend on signatures.
3. A throttled request that is not checked, or is checked and refused, gets 429 with
   ``Retry-After`` (the end of the client's window). One that is checked and valid is served.

No delay is slept anywhere: a throttled request is answered at once, so the event loop is
never blocked and a flood costs the server no more than the answers.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ova.cloud.domain.client_access import Monotonic, RateLimiter
from ova.cloud.settings import CredentialThrottleSettings
from ova.common.errors import Forbidden, TooManyRequests, Unauthenticated

MAX_REMEMBERED = 10_000


class CredentialsThrottled(TooManyRequests):
    """Too many refused credentials from one client: 429 with ``Retry-After``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many refused credentials from this client; retry later.", code="TooManyRequests"
        )
        self.headers["Retry-After"] = str(retry_after)


class VerificationBudget:
    """At most ``per_second`` checks a second for throttled clients, across the process."""

    def __init__(self, per_second: int, monotonic: Monotonic = time.monotonic) -> None:
        self._per_second, self._monotonic = per_second, monotonic
        self._second, self._used = -1, 0

    def take(self) -> bool:
        second = int(self._monotonic())
        if second != self._second:
            self._second, self._used = second, 0
        if self._used >= self._per_second:
            return False
        self._used += 1
        return True


class RecentlyValid:
    """Digests of credentials accepted in the last ``seconds`` (at most ``MAX_REMEMBERED``)."""

    def __init__(self, seconds: float, monotonic: Monotonic = time.monotonic) -> None:
        self._seconds, self._monotonic = seconds, monotonic
        self._entries: OrderedDict[bytes, float] = OrderedDict()

    def __contains__(self, digest: bytes) -> bool:
        seen = self._entries.get(digest)
        return seen is not None and self._monotonic() - seen < self._seconds

    def add(self, digest: bytes) -> None:
        self._entries[digest] = self._monotonic()
        self._entries.move_to_end(digest)
        while len(self._entries) > MAX_REMEMBERED:
            self._entries.popitem(last=False)


class CredentialThrottle:
    """Per-client budget of refused credentials; see the module docstring for the rules."""

    def __init__(
        self,
        failures: RateLimiter,
        budget: VerificationBudget,
        recent: RecentlyValid,
        well_formed: Callable[[str], bool] = bool,
    ) -> None:
        self._failures, self._budget, self._recent = failures, budget, recent
        self._well_formed = well_formed

    @classmethod
    def build(
        cls,
        limit: int,
        window_seconds: float,
        settings: CredentialThrottleSettings,
        well_formed: Callable[[str], bool] = bool,
    ) -> CredentialThrottle:
        """A throttle of ``limit`` refusals per ``window_seconds`` per client, with ``settings``' budget."""
        return cls(
            RateLimiter(limit, window_seconds),
            VerificationBudget(settings.verifications_per_second),
            RecentlyValid(settings.remember_valid_seconds),
            well_formed,
        )

    @classmethod
    def shared(cls, holder: object, name: str, settings: CredentialThrottleSettings) -> CredentialThrottle:
        """The throttle kept on ``holder`` (an app's state) as ``name``, built on first use."""
        throttle: CredentialThrottle | None = getattr(holder, name, None)
        if throttle is None:
            throttle = cls.build(settings.failures_per_client, settings.window_seconds, settings)
            setattr(holder, name, throttle)
        return throttle

    @contextmanager
    def guard(self, client: str, credential: str) -> Iterator[None]:
        """Check ``credential`` from ``client`` inside the block; refusals raise 401/403 or 429.

        The block raises ``Unauthenticated`` or ``Forbidden`` to refuse the credential.
        """
        digest = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).digest()
        retry_after = self._failures.retry_after(client)
        if retry_after is not None and not self._may_check(credential, digest):
            raise CredentialsThrottled(retry_after)
        try:
            yield
        except (Unauthenticated, Forbidden):
            self._failures.record(client)
            if retry_after is not None:
                raise CredentialsThrottled(retry_after) from None
            raise
        self._recent.add(digest)

    def _may_check(self, credential: str, digest: bytes) -> bool:
        if not self._well_formed(credential):
            return False
        return digest in self._recent or self._budget.take()
