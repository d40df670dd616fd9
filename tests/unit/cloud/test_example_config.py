"""The committed example config lists every key with its default, and loads back to the defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from ova.cloud import example_config
from ova.cloud.settings import CloudSettings, load_settings

EXAMPLE = Path(__file__).parents[3] / "config" / "ova-cloud.example.yaml"


def test_committed_example_matches_the_settings_model() -> None:
    assert EXAMPLE.read_text() == example_config.render(), (
        "config/ova-cloud.example.yaml is stale: run "
        "`.venv/bin/python -m ova.cloud.example_config > config/ova-cloud.example.yaml`"
    )


def test_example_loads_back_to_the_defaults() -> None:
    assert load_settings(EXAMPLE).model_dump() == CloudSettings().model_dump()


def test_every_settings_key_is_in_the_example() -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    assert set(document) == set(CloudSettings.model_fields)
    assert set(document["client_api"]) == set(CloudSettings().client_api.model_dump())
    assert set(document["listeners"][0]) == set(CloudSettings().listeners[0].model_dump())
