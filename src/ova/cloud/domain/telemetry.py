"""Telemetry: usage and health reports edge modules send, and the per-module summary operators read.

Modules authenticate with the deployment's pre-shared key (``telemetry.pre_shared_key``, or
``DATA_DIR/keys/telemetry-psk``, generated 0600 on first start), compared in constant time. A
report must name a module instance that shook hands (``edgeModuleId`` and ``instanceId``), else
404; reports older than ``telemetry.retention_days`` are deleted as new ones arrive.
"""

from __future__ import annotations

import hmac
import os
import secrets
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud import data_dir
from ova.cloud.db.models import EdgeModuleInstanceRow, ResourceRow, TelemetryReportRow
from ova.cloud.domain.edge_link.link import take_write_lock
from ova.cloud.settings import CloudSettings
from ova.common.clock import Clock, isoformat
from ova.common.errors import NotFound, Unauthenticated
from ova.contracts.edge_api import TelemetryReport

PSK_PATH = Path("keys") / "telemetry-psk"
MAX_MODULES_IN_SUMMARY = 1000


def load_or_create_key(settings: CloudSettings) -> str:
    """The telemetry pre-shared key: configured, or the data directory's (created 0600). Blocking."""
    if settings.telemetry.pre_shared_key is not None:
        return settings.telemetry.pre_shared_key.get_secret_value()
    path = settings.data_dir / PSK_PATH
    if not path.exists():
        data_dir.make_private_dir(path.parent)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        data_dir.write_private_file(temp, secrets.token_urlsafe(32).encode() + b"\n")
        try:
            os.link(temp, path)  # never replaces a key another replica's process created meanwhile
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
    data_dir.check_private(files=[path])
    return path.read_text().strip()


def check_key(presented: str, expected: str) -> None:
    """``Unauthenticated`` unless ``presented`` is the pre-shared key (constant time)."""
    if not hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode()):
        raise Unauthenticated("The telemetry key is not valid.")


async def store(session: AsyncSession, report: TelemetryReport, clock: Clock, retention: timedelta) -> None:
    """Keep ``report`` from a known module instance; forget reports past ``retention``."""
    await take_write_lock(session)
    await check_instance(session, report.edge_module_id, report.instance_id)
    now = clock.now()
    session.add(
        TelemetryReportRow(
            edge_module_id=report.edge_module_id,
            instance_id=report.instance_id,
            received_at=now,
            period_end=report.period_end[:40],
            active_live_pipelines=report.active_live_pipelines,
            segments_recorded=report.segments_recorded,
            segments_uploaded=report.segments_uploaded,
            bytes_uploaded=report.bytes_uploaded,
            data_dropped=report.data_dropped,
            report=report.model_dump(by_alias=True),
        )
    )
    await session.execute(delete(TelemetryReportRow).where(TelemetryReportRow.received_at < now - retention))
    await session.flush()


async def check_instance(session: AsyncSession, edge_module_id: str, instance_id: str) -> None:
    statement = (
        select(ResourceRow.document)
        .join(EdgeModuleInstanceRow, EdgeModuleInstanceRow.resource_id == ResourceRow.id)
        .where(EdgeModuleInstanceRow.instance_id == instance_id)
    )
    for document in (await session.execute(statement)).scalars():
        if document.get("internal", {}).get("edgeModuleId") == edge_module_id:
            return
    raise NotFound("No edge module instance with this edgeModuleId and instanceId shook hands.")


async def summary(session: AsyncSession) -> list[dict[str, Any]]:
    """Per edge module (at most ``MAX_MODULES_IN_SUMMARY``): its last report and the totals of all kept."""
    totals = (
        select(
            TelemetryReportRow.edge_module_id,
            func.count().label("reports"),
            func.sum(TelemetryReportRow.segments_recorded).label("segments_recorded"),
            func.sum(TelemetryReportRow.segments_uploaded).label("segments_uploaded"),
            func.sum(TelemetryReportRow.bytes_uploaded).label("bytes_uploaded"),
            func.sum(TelemetryReportRow.data_dropped).label("data_dropped"),
            func.max(TelemetryReportRow.id).label("last_id"),
        )
        .group_by(TelemetryReportRow.edge_module_id)
        .order_by(TelemetryReportRow.edge_module_id)
        .limit(MAX_MODULES_IN_SUMMARY)
    )
    rows = (await session.execute(totals)).all()
    last_ids = [row.last_id for row in rows]
    lasts = {
        last.id: last
        for last in (
            await session.execute(select(TelemetryReportRow).where(TelemetryReportRow.id.in_(last_ids)))
        ).scalars()
    }
    return [module_summary(row, lasts[row.last_id]) for row in rows]


def module_summary(totals: Any, last: TelemetryReportRow) -> dict[str, Any]:
    return {
        "edgeModuleId": totals.edge_module_id,
        "reports": int(totals.reports),
        "activeLivePipelines": last.active_live_pipelines,
        "lastReport": {
            "receivedAt": isoformat(last.received_at.replace(tzinfo=last.received_at.tzinfo or UTC)),
            "instanceId": last.instance_id,
            "moduleVersion": last.report.get("moduleVersion", ""),
            "periodEnd": last.period_end,
            "cacheBytes": last.report.get("cacheBytes", 0),
            "errors": last.report.get("errors", {}),
        },
        "totals": {
            "segmentsRecorded": int(totals.segments_recorded or 0),
            "segmentsUploaded": int(totals.segments_uploaded or 0),
            "bytesUploaded": int(totals.bytes_uploaded or 0),
            "dataDropped": int(totals.data_dropped or 0),
        },
    }
