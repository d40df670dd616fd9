"""The edge module's entity store: pipeline topologies and live pipelines, one JSON file each.

Files live under the application data directory (``ApplicationDataDirectory``)::

    <data>/entities/pipelineTopologies/<name>.json
    <data>/entities/livePipelines/<name>.json
    <data>/entities/tmp/            half-written files, swept when the store opens

Each write is durable before it returns (temp file → fsync → rename → fsync of the folder) and
every file is mode 0600: a pipeline's ``secretString`` values are kept on disk, but never
returned on reads (``TopologyRecord.entity`` and ``PipelineRecord.entity`` leave them out).
Everything is loaded once when the store opens; a file that does not parse is skipped and
logged (by name only), never fatal. Names are checked before they become file names.

Limits (Video Analyzer's): 50 topologies and 1000 live pipelines per module.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ova.common.clock import Clock, isoformat
from ova.contracts.topology import EdgeTopology, secret_parameter_names
from ova.contracts.topology_values import ENTITY_NAME, ENTITY_NAME_RULE
from ova.edge.errors import MethodRequestInvalid
from ova.storage.durable import fsync_dir, make_dirs, sweep_temp, write_temp

log = logging.getLogger(__name__)

MAX_TOPOLOGIES = 50
MAX_PIPELINES = 1000
MAX_FILE_BYTES = 1024 * 1024
TOPOLOGY_FOLDER = "pipelineTopologies"
PIPELINE_FOLDER = "livePipelines"
TEMP_FOLDER = "tmp"


def check_name(name: object, target: str = "name") -> str:
    """``name`` when it is a valid entity name, else ``MethodRequestInvalid``."""
    if not isinstance(name, str) or not ENTITY_NAME.fullmatch(name):
        shown = name[:64] if isinstance(name, str) else type(name).__name__
        raise MethodRequestInvalid(
            f"'{shown}' is not a valid name. {ENTITY_NAME_RULE}", code="InvalidResource", target=target
        )
    return name


def _system_data(created_at: datetime, last_modified_at: datetime) -> dict[str, str]:
    return {"createdAt": isoformat(created_at), "lastModifiedAt": isoformat(last_modified_at)}


@dataclass(frozen=True)
class TopologyRecord:
    """A stored topology: its ``properties`` in canonical spelling, parsed once."""

    name: str
    properties: Mapping[str, Any]
    created_at: datetime
    last_modified_at: datetime
    model: EdgeTopology = field(compare=False, repr=False)

    @classmethod
    def of(cls, model: EdgeTopology, created_at: datetime, last_modified_at: datetime) -> TopologyRecord:
        properties = model.model_dump(exclude_none=True)["properties"]
        return cls(model.name, properties, created_at, last_modified_at, model)

    @property
    def secrets(self) -> frozenset[str]:
        return secret_parameter_names(self.model)

    def entity(self) -> dict[str, Any]:
        """The topology as ``pipelineTopologyGet`` answers it: secret defaults left out."""
        secrets = self.secrets
        parameters = []
        for declaration in self.properties.get("parameters", []):
            shown = dict(declaration)
            if declaration["name"] in secrets:
                shown.pop("default", None)
            parameters.append(shown)
        return {
            "name": self.name,
            "systemData": _system_data(self.created_at, self.last_modified_at),
            "properties": {**self.properties, "parameters": parameters},
        }

    def stored(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "systemData": _system_data(self.created_at, self.last_modified_at),
            "properties": self.properties,
        }

    @classmethod
    def load(cls, document: Mapping[str, Any]) -> TopologyRecord:
        model = EdgeTopology.model_validate({"name": document["name"], "properties": document["properties"]})
        system = document["systemData"]
        return cls.of(
            model,
            datetime.fromisoformat(system["createdAt"]),
            datetime.fromisoformat(system["lastModifiedAt"]),
        )


@dataclass(frozen=True)
class PipelineRecord:
    """A stored live pipeline. ``desired_active`` survives restarts: an active pipeline resumes."""

    name: str
    topology_name: str
    parameters: tuple[tuple[str, str], ...]
    created_at: datetime
    last_modified_at: datetime
    description: str | None = None
    desired_active: bool = False

    @property
    def values(self) -> dict[str, str]:
        return dict(self.parameters)

    def entity(self, state: str, secrets: frozenset[str]) -> dict[str, Any]:
        """The pipeline as ``livePipelineGet`` answers it: values of secret parameters left out."""
        parameters = [
            {"name": name} if name in secrets else {"name": name, "value": value}
            for name, value in self.parameters
        ]
        properties: dict[str, Any] = {"topologyName": self.topology_name, "parameters": parameters}
        if self.description is not None:
            properties["description"] = self.description
        properties["state"] = state
        return {
            "name": self.name,
            "systemData": _system_data(self.created_at, self.last_modified_at),
            "properties": properties,
        }

    def stored(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "systemData": _system_data(self.created_at, self.last_modified_at),
            "properties": {
                "topologyName": self.topology_name,
                "description": self.description,
                "parameters": [{"name": name, "value": value} for name, value in self.parameters],
            },
            "desiredActive": self.desired_active,
        }

    @classmethod
    def load(cls, document: Mapping[str, Any]) -> PipelineRecord:
        properties = document["properties"]
        system = document["systemData"]
        return cls(
            name=check_name(document["name"]),
            topology_name=check_name(properties["topologyName"]),
            parameters=tuple((str(item["name"]), str(item["value"])) for item in properties["parameters"]),
            created_at=datetime.fromisoformat(system["createdAt"]),
            last_modified_at=datetime.fromisoformat(system["lastModifiedAt"]),
            description=properties.get("description"),
            desired_active=bool(document.get("desiredActive", False)),
        )


class EntityStore:
    """Topologies and live pipelines in memory, each change written through to its file.

    Changes may come from worker threads (the file writes block); they are made one at a time.
    """

    def __init__(self, directory: Path, clock: Clock) -> None:
        self._root = directory / "entities"
        self._clock = clock
        self.topologies: dict[str, TopologyRecord] = {}
        self.pipelines: dict[str, PipelineRecord] = {}
        self._changes = threading.Lock()

    @classmethod
    def open(cls, data_directory: Path, clock: Clock) -> EntityStore:
        """Create the folders if needed and load every stored entity."""
        store = cls(data_directory, clock)
        for folder in (TOPOLOGY_FOLDER, PIPELINE_FOLDER, TEMP_FOLDER):
            make_dirs(store._root / folder, data_directory)
        sweep_temp(store._root / TEMP_FOLDER, older_than=0)  # what a crash left half-written
        store.topologies = store._load(TOPOLOGY_FOLDER, TopologyRecord.load)
        pipelines = store._load(PIPELINE_FOLDER, PipelineRecord.load)
        store.pipelines = {name: p for name, p in pipelines.items() if p.topology_name in store.topologies}
        return store

    def _load(self, folder: str, parse: Any) -> dict[str, Any]:
        records: dict[str, Any] = {}
        for path in sorted((self._root / folder).glob("*.json")):
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError("file too large")
                record = parse(json.loads(path.read_bytes()))
                if f"{record.name}.json" != path.name:
                    raise ValueError("the file name does not match the entity name")
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.warning("skipping unreadable %s entry %s: %s", folder, path.name, type(error).__name__)
                continue
            records[record.name] = record
        return records

    # --- topologies ---------------------------------------------------------------------------

    def put_topology(self, model: EdgeTopology) -> tuple[TopologyRecord, bool]:
        """Store ``model``; the record and whether it was created (else updated)."""
        with self._changes:
            now = self._clock.now()
            existing = self.topologies.get(model.name)
            if existing is None and len(self.topologies) >= MAX_TOPOLOGIES:
                raise MethodRequestInvalid(f"A module holds at most {MAX_TOPOLOGIES} pipeline topologies.")
            record = TopologyRecord.of(model, existing.created_at if existing else now, now)
            self._write(TOPOLOGY_FOLDER, record.name, record.stored())
            self.topologies[record.name] = record
            return record, existing is None

    def delete_topology(self, name: str) -> bool:
        with self._changes:
            if self.topologies.pop(name, None) is None:
                return False
            self._remove(TOPOLOGY_FOLDER, name)
            return True

    # --- live pipelines -----------------------------------------------------------------------

    def put_pipeline(self, record: PipelineRecord) -> tuple[PipelineRecord, bool]:
        """Store ``record`` (its times set here); the stored record and whether it was created."""
        with self._changes:
            now = self._clock.now()
            existing = self.pipelines.get(record.name)
            if existing is None and len(self.pipelines) >= MAX_PIPELINES:
                raise MethodRequestInvalid(f"A module holds at most {MAX_PIPELINES} live pipelines.")
            created_at = existing.created_at if existing else now
            desired = existing.desired_active if existing else False
            record = replace(record, created_at=created_at, last_modified_at=now, desired_active=desired)
            self._save_pipeline(record)
            return record, existing is None

    def set_desired_active(self, name: str, desired_active: bool) -> None:
        """Remember whether ``name`` should be running after a restart."""
        with self._changes:
            record = self.pipelines.get(name)
            if record is not None and record.desired_active != desired_active:
                self._save_pipeline(replace(record, desired_active=desired_active))

    def delete_pipeline(self, name: str) -> bool:
        with self._changes:
            if self.pipelines.pop(name, None) is None:
                return False
            self._remove(PIPELINE_FOLDER, name)
            return True

    def pipelines_of(self, topology_name: str) -> list[PipelineRecord]:
        return [record for record in self.pipelines.values() if record.topology_name == topology_name]

    def _save_pipeline(self, record: PipelineRecord) -> None:
        self._write(PIPELINE_FOLDER, record.name, record.stored())
        self.pipelines[record.name] = record

    # --- files --------------------------------------------------------------------------------

    def _write(self, folder: str, name: str, document: Mapping[str, Any]) -> None:
        directory = self._root / folder
        data = json.dumps(document, separators=(",", ":")).encode()
        temp = write_temp(self._root / TEMP_FOLDER, data, {})
        try:
            os.replace(temp, directory / f"{check_name(name)}.json")
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        fsync_dir(directory)

    def _remove(self, folder: str, name: str) -> None:
        directory = self._root / folder
        (directory / f"{check_name(name)}.json").unlink(missing_ok=True)
        fsync_dir(directory)
