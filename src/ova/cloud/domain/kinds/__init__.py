"""Nested management resource kinds; importing this package registers them all."""

from ova.cloud.domain.kinds import (
    access_policies,
    edge_modules,
    live_pipelines,
    pipeline_jobs,
    pipeline_topologies,
    videos,
)

__all__ = [
    "access_policies",
    "edge_modules",
    "live_pipelines",
    "pipeline_jobs",
    "pipeline_topologies",
    "videos",
]
