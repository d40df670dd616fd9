"""LogLevel and LogCategories reach the module's loggers."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from ova.edge import log_categories
from ova.edge.module_config import LogCategory, LogLevel


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    names = [name for group in log_categories.LOGGERS.values() for name in group]
    before = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_categories_left_out_are_silent() -> None:
    log_categories.apply(LogLevel.WARNING, frozenset({LogCategory.APPLICATION}))
    assert logging.getLogger("ova.edge.cloud_link").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("ova.edge.sinks.video").getEffectiveLevel() == log_categories.SILENT
    assert logging.getLogger("ova.edge.events").getEffectiveLevel() == log_categories.SILENT
    assert not logging.getLogger("ova.media.rtsp_ingest").isEnabledFor(logging.CRITICAL)


def test_verbose_everything_but_gmqtt_stays_at_warning() -> None:
    log_categories.apply(LogLevel.VERBOSE, frozenset(LogCategory))
    assert logging.getLogger("ova.recording.recorder").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("gmqtt").level == logging.WARNING
