"""Service SAS for the filesystem blob store, in Azure Blob's format so the same URLs and tools work.

A SAS is a query string: ``sv`` (signed version), ``sr`` (``c`` container, ``b`` blob), ``sp``
(permissions, a subset of ``racwdl`` in that order), ``st``/``se`` (start and expiry, UTC
``YYYY-MM-DDTHH:MM:SSZ``), ``spr`` (``https`` or ``https,http``) and ``sig``: base64
HMAC-SHA256, under the account key, of Azure's service-SAS string-to-sign::

    sp \\n st \\n se \\n /blob/<account>/<container>[/<blob>] \\n si \\n sip \\n spr \\n sv \\n sr
    \\n snapshot \\n ses \\n rscc \\n rscd \\n rsce \\n rscl \\n rsct

(the fields this signer never sets are empty), exactly as ``azure.storage.blob.generate_*_sas``
and Azurite compute it, so a SAS from either verifies here and one from here verifies there.

Verification is stricter than Azure's: each SAS field at most once and in lowercase (``sig``
twice or ``SIG`` is refused), ``spr`` and ``se`` required, stored access policies (``si``), IP
ranges, encryption scopes and response-header overrides refused, ``st`` honoured without slack
(the issuer back-dates it 15 minutes instead), ``se`` exclusive. Two keys are tried, primary and
secondary, so keys rotate without breaking URLs in flight; signatures are compared with
``hmac.compare_digest``. Errors never carry the signature or the URL.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from hashlib import sha256
from urllib.parse import quote

from ova.common.clock import Clock, SystemClock
from ova.storage.errors import SasDenied

SIGNED_VERSION = "2025-11-05"
# Azure Storage versions whose shared-key service SAS string-to-sign has the layout above.
ACCEPTED_VERSIONS = frozenset(
    "2020-12-06 2021-02-12 2021-04-10 2021-06-08 2021-08-06 2021-12-02 2022-11-02 2023-01-03 "  # noqa: SIM905
    "2023-05-03 2023-08-03 2023-11-03 2024-05-04 2024-08-04 2024-11-04 2025-01-05 2025-05-05 "
    "2025-07-05 2025-11-05 2026-02-06 2026-04-06 2026-06-06 2026-10-06".split()
)
PERMISSION_ORDER = "racwdl"
START_BACKDATE = timedelta(minutes=15)
MAX_LIFETIME = timedelta(days=7)
FIELDS = ("sv", "sr", "sp", "st", "se", "spr", "sig")
UNSUPPORTED = frozenset(  # SAS fields of features this store does not offer
    "si sip ses rscc rscd rsce rscl rsct sdd srt ss skoid sktid skt ske sks skv skdutid sduoid "  # noqa: SIM905
    "saoid suoid scid srh srq".split()
)
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z$")


class Operation(Enum):
    """What a request does, and the permissions any one of which allows it."""

    READ = "r"
    CREATE = "cw"
    WRITE = "w"
    DELETE = "d"
    LIST = "l"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str, field: str) -> datetime:
    if not _TIME.fullmatch(value):
        raise SasDenied(f"The SAS field '{field}' is not a UTC time.")
    return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)


def canonical_permissions(permissions: str) -> str:
    """``permissions`` when they are distinct letters of ``racwdl`` in that order; ValueError otherwise."""
    positions = [PERMISSION_ORDER.find(letter) for letter in permissions]
    if not permissions or -1 in positions or positions != sorted(set(positions)):
        raise ValueError(f"permissions must be distinct letters of '{PERMISSION_ORDER}' in that order")
    return permissions


def string_to_sign(account: str, container: str, blob: str | None, fields: dict[str, str]) -> str:
    resource = f"/blob/{account}/{container}" + (f"/{blob}" if fields["sr"] == "b" else "")
    signed = [fields["sp"], fields.get("st", ""), fields["se"], resource, "", "", fields["spr"]]
    return "\n".join([*signed, fields["sv"], fields["sr"], "", "", "", "", "", "", ""])


def _signature(key: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(key, text.encode(), sha256).digest()).decode()


class SasSigner:
    """Signs and verifies service SAS for one account, with a primary and an optional secondary key."""

    def __init__(
        self,
        account_name: str,
        primary_key: bytes,
        secondary_key: bytes | None = None,
        *,
        clock: Clock | None = None,
        max_lifetime: timedelta = MAX_LIFETIME,
    ) -> None:
        if len(primary_key) < 32 or (secondary_key is not None and len(secondary_key) < 32):
            raise ValueError("SAS keys must be at least 32 bytes")
        self.account_name = account_name
        self._keys = [primary_key] + ([secondary_key] if secondary_key is not None else [])
        self._clock = clock or SystemClock()
        self._max_lifetime = max_lifetime

    @classmethod
    def from_base64(
        cls, account_name: str, primary: str, secondary: str | None = None, *, clock: Clock | None = None
    ) -> SasSigner:
        """A signer from base64 keys, as Azure account keys are written."""
        decode = base64.b64decode
        second = decode(secondary, validate=True) if secondary else None
        return cls(account_name, decode(primary, validate=True), second, clock=clock)

    def sign(
        self,
        container: str,
        blob: str | None,
        permissions: str,
        expires_at: datetime,
        start_at: datetime | None = None,
        *,
        allow_http: bool = False,
    ) -> str:
        """The SAS query string (no leading ``?``) for a container (``blob`` None) or one blob."""
        now = self._clock.now()
        start = start_at or now - START_BACKDATE
        canonical_permissions(permissions)
        if blob is not None and "l" in permissions:
            raise ValueError("a blob SAS cannot grant list")
        if not start < expires_at <= now + self._max_lifetime:
            raise ValueError(f"a SAS must expire after it starts and within {self._max_lifetime} from now")
        fields = {
            "sv": SIGNED_VERSION,
            "sr": "c" if blob is None else "b",
            "sp": permissions,
            "st": format_time(start),
            "se": format_time(expires_at),
            "spr": "https,http" if allow_http else "https",
        }
        fields["sig"] = _signature(self._keys[0], string_to_sign(self.account_name, container, blob, fields))
        return "&".join(f"{key}={quote(value, safe='')}" for key, value in fields.items())

    def verify(
        self,
        query: Iterable[tuple[str, str]],
        container: str,
        blob: str | None,
        operation: Operation,
        now: datetime,
        scheme: str,
    ) -> None:
        """Nothing when the SAS in ``query`` allows ``operation``; SasDenied otherwise.

        ``query`` is the request's decoded name/value pairs, repeats included; ``blob`` is None
        for container operations (listing); ``scheme`` is the request's.
        """
        fields = sas_fields(query)
        _check_format(fields)
        _check_resource(fields["sr"], blob, operation)
        self._check_signature(fields, string_to_sign(self.account_name, container, blob, fields))
        _check_times(fields, now)
        _check_protocol(fields["spr"], scheme)
        if not any(letter in fields["sp"] for letter in operation.value):
            raise SasDenied(
                "This request is not authorized to perform this operation using this permission.",
                code="AuthorizationPermissionMismatch",
            )

    def _check_signature(self, fields: dict[str, str], text: str) -> None:
        given = fields["sig"].encode()
        matches = [hmac.compare_digest(_signature(key, text).encode(), given) for key in self._keys]
        if not any(matches):
            raise SasDenied("Signature did not match the request.")


def sas_fields(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The SAS fields of a request's query, refusing ambiguous or unsupported ones."""
    fields: dict[str, str] = {}
    for name, value in query:
        lowered = name.lower()
        if lowered in UNSUPPORTED:
            raise SasDenied(f"The SAS field '{lowered}' is not supported here.")
        if lowered not in FIELDS:
            continue
        if name != lowered or lowered in fields:
            raise SasDenied(f"The SAS field '{lowered}' is repeated or not in lowercase.")
        fields[lowered] = value
    missing = [name for name in FIELDS if name not in fields and name != "st"]
    if missing:
        raise SasDenied(f"The SAS lacks {', '.join(missing)}.")
    return fields


def _check_format(fields: dict[str, str]) -> None:
    if fields["sv"] not in ACCEPTED_VERSIONS:
        raise SasDenied("The SAS version (sv) is not supported.")
    try:
        canonical_permissions(fields["sp"])
    except ValueError:
        raise SasDenied("The SAS permissions (sp) are not valid.") from None
    if fields["spr"] not in ("https", "https,http"):
        raise SasDenied("The SAS protocol (spr) must be 'https' or 'https,http'.")


def _check_resource(resource: str, blob: str | None, operation: Operation) -> None:
    if resource not in ("b", "c"):
        raise SasDenied("The SAS resource (sr) must be 'b' or 'c'.")
    if resource == "b" and (blob is None or operation is Operation.LIST):
        raise SasDenied(
            "A blob SAS does not cover container operations.", code="AuthorizationResourceTypeMismatch"
        )


def _check_times(fields: dict[str, str], now: datetime) -> None:
    if "st" in fields and now < _parse_time(fields["st"], "st"):
        raise SasDenied("The SAS is not valid yet.")
    if now >= _parse_time(fields["se"], "se"):
        raise SasDenied("The SAS has expired.")


def _check_protocol(allowed: str, scheme: str) -> None:
    if scheme not in allowed.split(","):
        raise SasDenied(
            "This request is not authorized to use this protocol.", code="AuthorizationProtocolMismatch"
        )
