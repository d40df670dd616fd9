"""Loading a process's settings model: flags, then the environment, then a YAML file.

Each process (``ova cloud``, ``ova edge``) has one pydantic-settings model; this builds it once,
with command-line values (``None`` meaning "not given") over environment variables over the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, YamlConfigSettingsSource

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(model: type[SettingsT], config_file: Path | None = None, **overrides: Any) -> SettingsT:
    """``model`` from flags (``overrides``, None ignored), then the environment, then ``config_file``."""
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")

    class _FromFile(model):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_file is not None:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
            return tuple(sources)

    settings: SettingsT = _FromFile(**{key: value for key, value in overrides.items() if value is not None})
    return settings
