"""The module twin's desired properties: case-insensitive keys, string booleans, patches, dynamic vs
restart-only properties, and what the module reports back."""

from __future__ import annotations

import logging

import pytest

from ova.edge import module_config
from ova.edge.module_config import LogCategory, LogLevel, ModuleConfig

SAMPLE = {  # the casing of Video Analyzer's published deployment manifest
    "applicationDataDirectory": "/var/lib/videoanalyzer",
    "ProvisioningToken": "eyJ.token.sig",
    "diagnosticsEventsOutputName": "diagnostics",
    "operationalEventsOutputName": "operational",
    "logLevel": "information",
    "LogCategories": "Application,Events,MediaPipeline",
    "allowUnsecuredEndpoints": "false",
    "telemetryOptOut": False,
    "$version": 12,
}


def test_published_sample_parses_whatever_the_casing() -> None:
    config = module_config.parse(SAMPLE)
    assert config.application_data_directory == "/var/lib/videoanalyzer"
    assert config.provisioning_token == "eyJ.token.sig"
    assert config.diagnostics_events_output_name == "diagnostics"
    assert config.operational_events_output_name == "operational"
    assert config.log_level is LogLevel.INFORMATION
    assert config.log_categories == {LogCategory.APPLICATION, LogCategory.EVENTS, LogCategory.MEDIA_PIPELINE}
    assert config.allow_unsecured_endpoints is False
    assert config.telemetry_opt_out is False
    assert config.version == 12 and config.errors == ()


def test_defaults_match_video_analyzer() -> None:
    config = module_config.parse({})
    assert config.log_level is LogLevel.INFORMATION
    assert config.log_categories == {LogCategory.APPLICATION, LogCategory.EVENTS}
    assert config.allow_unsecured_endpoints is True and config.telemetry_opt_out is False
    assert config.diagnostics_events_output_name is None  # absent: those events are dropped
    assert module_config.parse({"DiagnosticsEventsOutputName": "  "}).diagnostics_events_output_name is None


@pytest.mark.parametrize("text", ["TRUE", "true", " True ", True])
def test_string_booleans(text: object) -> None:
    assert module_config.parse({"TelemetryOptOut": text}).telemetry_opt_out is True


def test_bad_values_keep_defaults_and_are_named() -> None:
    config = module_config.parse(
        {"AllowUnsecuredEndpoints": "yes", "LogLevel": "Loud", "LogCategories": "Audio"}
    )
    assert config.allow_unsecured_endpoints is True and config.log_level is LogLevel.INFORMATION
    assert config.errors == (
        "AllowUnsecuredEndpoints must be true or false.",
        "LogLevel must be one of Verbose, Information, Warning, Error, None.",
        "LogCategories must be a CSV of Application, MediaPipeline, Events.",
    )


def test_unknown_keys_are_ignored_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "ova.edge.module_config"):
        module_config.parse({"ShinyNewSetting": 1, "$metadata": {}})
        module_config.parse({"shinynewsetting": 2})
    assert [record.getMessage() for record in caplog.records] == [
        "ignoring unknown module twin property 'ShinyNewSetting'"
    ]


def test_patch_merges_case_insensitively_and_null_removes() -> None:
    merged = module_config.merge(
        SAMPLE, {"LOGLEVEL": "Error", "operationalEventsOutputName": None, "$version": 13}
    )
    config = module_config.parse(merged)
    assert config.log_level is LogLevel.ERROR and config.operational_events_output_name is None
    assert config.version == 13 and config.diagnostics_events_output_name == "diagnostics"


def test_restart_only_properties_wait_and_are_reported() -> None:
    applied = module_config.parse(SAMPLE)
    desired = module_config.parse(
        module_config.merge(
            SAMPLE,
            {
                "ApplicationDataDirectory": "/data",
                "TelemetryOptOut": "true",
                "LogLevel": "Verbose",
                "$version": 13,
            },
        )
    )
    effective = module_config.effective(applied, desired)
    assert effective.application_data_directory == "/var/lib/videoanalyzer"  # restart-only
    assert effective.telemetry_opt_out is False
    assert effective.log_level is LogLevel.VERBOSE  # dynamic: at once
    reported = module_config.reported(effective, desired, "0.1.0")
    assert reported["restartRequired"] == ["ApplicationDataDirectory", "TelemetryOptOut"]
    assert reported["LogLevel"] == "Verbose" and reported["desiredVersion"] == 13
    assert reported["ApplicationDataDirectory"] == "/var/lib/videoanalyzer"
    assert "eyJ.token.sig" not in repr(reported) and "eyJ" not in repr(applied)


def test_nothing_pending_reports_nulls() -> None:
    config = module_config.parse(SAMPLE)
    reported = module_config.reported(config, config, "0.1.0")
    assert reported["restartRequired"] is None and reported["configurationErrors"] is None
    assert reported["LogCategories"] == "Application,Events,MediaPipeline"
    assert module_config.changed(config, ModuleConfig()) >= {"ProvisioningToken", "LogCategories"}


def test_log_level_none_silences() -> None:
    assert LogLevel.NONE.python_level > logging.CRITICAL
    assert LogLevel.VERBOSE.python_level == logging.DEBUG
