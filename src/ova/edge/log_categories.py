"""The twin's ``LogLevel`` and ``LogCategories`` applied to the module's loggers, at once.

Categories (Video Analyzer's) map onto logger names:

- ``Application``: the module itself (``ova.edge``: hub and cloud links, methods, state,
  cache and uploads, configuration; ``ova.common``, ``ova.auth``, ``ova.storage``);
- ``MediaPipeline``: the running graphs (``ova.edge.graph``, ``.sources``, ``.processors``,
  ``.sinks``; ``ova.recording``, ``ova.media``);
- ``Events``: the events the module sends (``ova.edge.events``).

A category left out of ``LogCategories`` is silent; ``LogLevel: None`` silences everything.
Masking of secrets (``ova.common.logging``) applies whatever the level.
"""

from __future__ import annotations

import logging

from ova.edge.module_config import LogCategory, LogLevel

LOGGERS: dict[LogCategory, tuple[str, ...]] = {
    LogCategory.APPLICATION: ("ova.edge", "ova.common", "ova.auth", "ova.storage", "gmqtt"),
    LogCategory.MEDIA_PIPELINE: (
        "ova.edge.graph",
        "ova.edge.sources",
        "ova.edge.processors",
        "ova.edge.sinks",
        "ova.recording",
        "ova.media",
    ),
    LogCategory.EVENTS: ("ova.edge.events",),
}
SILENT = logging.CRITICAL + 10


def apply(level: LogLevel, categories: frozenset[LogCategory]) -> None:
    for category, names in LOGGERS.items():
        chosen = level.python_level if category in categories else SILENT
        for name in names:
            # gmqtt is chatty at INFO: it follows the level, never below WARNING
            logging.getLogger(name).setLevel(max(chosen, logging.WARNING) if name == "gmqtt" else chosen)
