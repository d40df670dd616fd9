"""``ModuleConfig``: the module twin's desired properties (Video Analyzer's schema), and what the
module reports back.

| Property | Default | Applied |
|---|---|---|
| ``ProvisioningToken`` | (required) | at start (restart to change) |
| ``ApplicationDataDirectory`` | ``OVA_EDGE_DATA_DIR`` | at start (restart to change) |
| ``DiagnosticsEventsOutputName`` | none: diagnostics events are dropped | at once |
| ``OperationalEventsOutputName`` | none: operational events are dropped | at once |
| ``LogLevel`` | ``Information`` (``Verbose``, ``Information``, ``Warning``, ``Error``, ``None``) | at once |
| ``LogCategories`` | ``Application,Events`` (CSV of Application, MediaPipeline, Events) | at once |
| ``AllowUnsecuredEndpoints`` | ``true`` | at once (checked at each activation) |
| ``TelemetryOptOut`` | ``false`` | at start (restart to change) |
| ``DebugLogsDirectory`` | none | at once (ova writes no binary debug logs; kept and reported) |

Keys are read case-insensitively (the published samples mix ``applicationDataDirectory`` and
``ProvisioningToken``); booleans may be JSON booleans or the strings ``"true"``/``"false"``;
unknown keys are ignored (and logged once each); a desired patch is merged into what came
before, ``null`` removing a key, as IoT Hub's twin patches do. A value that does not parse keeps
the default and is named in the reported ``configurationErrors``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)

MAX_VALUE_LENGTH = 4096


class LogLevel(StrEnum):
    VERBOSE = "Verbose"
    INFORMATION = "Information"
    WARNING = "Warning"
    ERROR = "Error"
    NONE = "None"

    @property
    def python_level(self) -> int:
        return {
            LogLevel.VERBOSE: logging.DEBUG,
            LogLevel.INFORMATION: logging.INFO,
            LogLevel.WARNING: logging.WARNING,
            LogLevel.ERROR: logging.ERROR,
            LogLevel.NONE: logging.CRITICAL + 10,
        }[self]


class LogCategory(StrEnum):
    APPLICATION = "Application"
    MEDIA_PIPELINE = "MediaPipeline"
    EVENTS = "Events"


DEFAULT_CATEGORIES = frozenset({LogCategory.APPLICATION, LogCategory.EVENTS})
RESTART_PROPERTIES = frozenset({"ProvisioningToken", "ApplicationDataDirectory", "TelemetryOptOut"})
"""Read at start only: a change is reported as pending until the module restarts."""


@dataclass(frozen=True)
class ModuleConfig:
    provisioning_token: str | None = field(default=None, repr=False)
    application_data_directory: str | None = None
    diagnostics_events_output_name: str | None = None
    operational_events_output_name: str | None = None
    log_level: LogLevel = LogLevel.INFORMATION
    log_categories: frozenset[LogCategory] = DEFAULT_CATEGORIES
    allow_unsecured_endpoints: bool = True
    telemetry_opt_out: bool = False
    debug_logs_directory: str | None = None
    version: int | None = None
    """The desired properties' ``$version`` this configuration came from."""
    errors: tuple[str, ...] = ()
    """Properties whose value did not parse (the default applies)."""


_NAMES = {
    "provisioning_token": "ProvisioningToken",
    "application_data_directory": "ApplicationDataDirectory",
    "diagnostics_events_output_name": "DiagnosticsEventsOutputName",
    "operational_events_output_name": "OperationalEventsOutputName",
    "log_level": "LogLevel",
    "log_categories": "LogCategories",
    "allow_unsecured_endpoints": "AllowUnsecuredEndpoints",
    "telemetry_opt_out": "TelemetryOptOut",
    "debug_logs_directory": "DebugLogsDirectory",
}
"""Python field → twin property name."""
_BY_LOWER = {name.lower(): attribute for attribute, name in _NAMES.items()}
_warned_unknown: set[str] = set()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise ValueError("a string")
    return value.strip() or None


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("true or false")


def _log_level(value: Any) -> LogLevel:
    text = _text(value) or ""
    for level in LogLevel:
        if level.value.lower() == text.lower():
            return level
    raise ValueError(f"one of {', '.join(level.value for level in LogLevel)}")


def _log_categories(value: Any) -> frozenset[LogCategory]:
    chosen = set()
    for item in (_text(value) or "").split(","):
        if not item.strip():
            continue
        match = [category for category in LogCategory if category.value.lower() == item.strip().lower()]
        if not match:
            raise ValueError(f"a CSV of {', '.join(category.value for category in LogCategory)}")
        chosen.add(match[0])
    return frozenset(chosen)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "log_level": _log_level,
    "log_categories": _log_categories,
    "allow_unsecured_endpoints": _boolean,
    "telemetry_opt_out": _boolean,
}


def normalize(desired: Mapping[str, Any]) -> dict[str, Any]:
    """The known properties of ``desired`` by their Python names (case-insensitive keys)."""
    known: dict[str, Any] = {}
    for key, value in desired.items():
        attribute = _BY_LOWER.get(key.lower())
        if attribute is not None:
            known[attribute] = value
        elif not key.startswith("$") and key.lower() not in _warned_unknown and len(_warned_unknown) < 256:
            _warned_unknown.add(key.lower())
            log.warning("ignoring unknown module twin property %r", key[:64])
    return known


def parse(desired: Mapping[str, Any]) -> ModuleConfig:
    """The configuration of a whole desired-properties document (``$version`` included)."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for attribute, raw in normalize(desired).items():
        if raw is None:
            continue
        try:
            parser: Callable[[Any], Any] = _PARSERS.get(attribute, _text)
            values[attribute] = parser(raw)
        except ValueError as problem:
            errors.append(f"{_NAMES[attribute]} must be {problem}.")
    version = desired.get("$version")
    values["version"] = version if isinstance(version, int) and not isinstance(version, bool) else None
    return ModuleConfig(**values, errors=tuple(errors))


def merge(desired: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``desired`` with a twin patch applied: keys matched case-insensitively, ``null`` removes."""
    merged = {key: value for key, value in desired.items()}
    for key, value in patch.items():
        for existing in [k for k in merged if k.lower() == key.lower()]:
            del merged[existing]
        if value is not None:
            merged[key] = value
    return merged


def changed(before: ModuleConfig, after: ModuleConfig) -> frozenset[str]:
    """Twin property names whose value differs between two configurations."""
    return frozenset(
        _NAMES[item.name]
        for item in fields(ModuleConfig)
        if item.name in _NAMES and getattr(before, item.name) != getattr(after, item.name)
    )


def reported(applied: ModuleConfig, desired: ModuleConfig, module_version: str) -> dict[str, Any]:
    """The reported properties: what is in effect, what waits for a restart, what did not parse.

    Never the provisioning token. ``null`` clears a reported property, as twins do.
    """
    pending = sorted(name for name in changed(applied, desired) if name in RESTART_PROPERTIES)
    return {
        "version": module_version,
        "desiredVersion": desired.version,
        "ApplicationDataDirectory": applied.application_data_directory,
        "DiagnosticsEventsOutputName": desired.diagnostics_events_output_name,
        "OperationalEventsOutputName": desired.operational_events_output_name,
        "LogLevel": desired.log_level.value,
        "LogCategories": ",".join(sorted(category.value for category in desired.log_categories)),
        "AllowUnsecuredEndpoints": desired.allow_unsecured_endpoints,
        "TelemetryOptOut": applied.telemetry_opt_out,
        "DebugLogsDirectory": desired.debug_logs_directory,
        "restartRequired": pending or None,
        "configurationErrors": list(desired.errors) or None,
    }


def effective(applied: ModuleConfig, desired: ModuleConfig) -> ModuleConfig:
    """``desired`` with the restart-only properties kept as they were applied at start."""
    return ModuleConfig(
        **{
            item.name: getattr(applied if _NAMES.get(item.name) in RESTART_PROPERTIES else desired, item.name)
            for item in fields(ModuleConfig)
        }
    )
