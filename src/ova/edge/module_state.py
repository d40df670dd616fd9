"""What the edge module keeps of its link to the cloud, in ApplicationDataDirectory (mode 0600).

``edge-link.json`` holds the instance id (chosen at the first start, kept for good), and after
the handshake the edge module's id, name and account, the edge family's base URL, the current
module key (a secret) with the time it was received, the policy and the time the cloud last
answered. It is replaced whole and durably (temp → fsync → rename → fsync folder), so a crash
leaves the old state or the new, never half of one: a rotated key is saved before it is used.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ova.contracts.edge_api import EdgePolicy, ModuleKey
from ova.storage import durable

STATE_FILE = "edge-link.json"
MAX_STATE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ModuleState:
    instance_id: str
    edge_module_id: str | None = None
    edge_module_name: str | None = None
    account_id: str | None = None
    base_url: str | None = None
    key: ModuleKey | None = None
    key_received_at: datetime | None = None
    policy: EdgePolicy | None = None
    last_contact: datetime | None = None

    @property
    def provisioned(self) -> bool:
        return self.edge_module_id is not None and self.key is not None

    def with_key(self, key: ModuleKey, received_at: datetime) -> ModuleState:
        return replace(self, key=key, key_received_at=received_at)

    def to_json(self) -> bytes:
        document = {
            "instanceId": self.instance_id,
            "edgeModuleId": self.edge_module_id,
            "edgeModuleName": self.edge_module_name,
            "accountId": self.account_id,
            "baseUrl": self.base_url,
            "moduleKey": self.key.model_dump(by_alias=True) if self.key else None,
            "keyReceivedAt": _time(self.key_received_at),
            "policy": self.policy.model_dump(by_alias=True) if self.policy else None,
            "lastContact": _time(self.last_contact),
        }
        return json.dumps(document).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ModuleState:
        document = json.loads(data)
        key, policy = document.get("moduleKey"), document.get("policy")
        return cls(
            instance_id=str(document["instanceId"]),
            edge_module_id=document.get("edgeModuleId"),
            edge_module_name=document.get("edgeModuleName"),
            account_id=document.get("accountId"),
            base_url=document.get("baseUrl"),
            key=ModuleKey.model_validate(key) if key else None,
            key_received_at=_parse_time(document.get("keyReceivedAt")),
            policy=EdgePolicy.model_validate(policy) if policy else None,
            last_contact=_parse_time(document.get("lastContact")),
        )


def load_or_create(data_dir: Path) -> ModuleState:
    """The saved state, or a fresh one with a new instance id (saved at once)."""
    path = data_dir / STATE_FILE
    if path.is_file():
        if path.stat().st_size > MAX_STATE_BYTES:
            raise ValueError(f"{path} is larger than {MAX_STATE_BYTES} bytes")
        return ModuleState.from_json(path.read_bytes())
    state = ModuleState(instance_id=str(uuid.uuid4()))
    save(data_dir, state)
    return state


def save(data_dir: Path, state: ModuleState) -> None:
    """Replace the saved state durably, readable by this user only (blocking)."""
    data_dir.mkdir(mode=durable.PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    temp = durable.write_temp(data_dir, state.to_json(), {})
    try:
        os.chmod(temp, durable.PRIVATE_FILE_MODE)
        os.replace(temp, data_dir / STATE_FILE)
    finally:
        temp.unlink(missing_ok=True)
    durable.fsync_dir(data_dir)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse_time(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None
