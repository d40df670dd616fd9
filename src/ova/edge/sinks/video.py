"""``VideoSink``: a recording into a video of the cloud's archive, through the local media cache.

The sink's recorder writes into ``RecordingSpool.open_video(videoName, ...)`` of the cache at
``localMediaCachePath`` bounded by ``localMediaCacheMaximumSizeMiB`` (the uploader drains it
into the cloud). Segments last ``videoCreationProperties.segmentLength`` (PT30S by default),
their sequence numbers start past the highest the cache (or the cloud) knows for the video, and
previews are made when ``videoPublishingOptions.enableVideoPreviewImage`` is not false. Stopping
stores what the recorder buffered, then waits (up to the flush timeout) for the cache to drain.
"""

from __future__ import annotations

from ova.contracts.edge_api import PublishVideoRequest, VideoCreation
from ova.contracts.topology_edge import EdgeVideoSink
from ova.contracts.topology_values import parse_bool
from ova.edge.graph.context import NodeScope
from ova.edge.ports import VideoSpool
from ova.edge.sinks.recording import Announcing, RecordingNode
from ova.recording.plan import duration_ms
from ova.recording.recorder import RecorderSettings
from ova.recording.sequences import next_sequence


def publish_request(node: EdgeVideoSink) -> PublishVideoRequest:
    """What the cloud needs to create the video: ``videoCreationProperties`` and previews."""
    creation = node.video_creation_properties
    options = node.video_publishing_options
    previews = options.enable_video_preview_image if options is not None else None
    fields: dict[str, object] = {}
    if creation is not None:
        given = {
            "title": creation.title,
            "description": creation.description,
            "segmentLength": creation.segment_length,
            "retentionPeriod": creation.retention_period,
        }
        fields = {key: value for key, value in given.items() if value is not None}
    return PublishVideoRequest.model_validate(
        {
            "creation": VideoCreation.model_validate(fields),
            "enableVideoPreviewImage": parse_bool(previews or "true"),
        }
    )


class _SpoolHistory:
    """The spool's own knowledge of the sequence numbers its video used."""

    def __init__(self, spool: VideoSpool) -> None:
        self._spool = spool

    async def last_sequence(self, video_id: str) -> int:
        return self._spool.last_sequence


class VideoSinkNode(RecordingNode):
    def __init__(self, scope: NodeScope, node: EdgeVideoSink, source: str) -> None:
        super().__init__(scope, source)
        self.config = node
        self.publish = publish_request(node)
        self.spool: VideoSpool | None = None

    @property
    def segment_ms(self) -> int:
        override = self._scope.context.segment_ms
        return override if override is not None else duration_ms(self.publish.creation.segment_length)

    async def _open(self) -> tuple[Announcing, RecorderSettings]:
        node, context = self.config, self._scope.context
        cache = context.spools(node.local_media_cache_path, int(node.local_media_cache_maximum_size_mi_b))
        spool = await cache.open_video(node.video_name, self.publish, self._scope.subject)
        self.spool = spool
        first = await next_sequence(node.video_name, _SpoolHistory(spool), *context.histories)
        settings = RecorderSettings(
            segment_ms=self.segment_ms,
            previews=self.publish.enable_preview_image,
            ingest=context.ingest,
            first_sequence=first,
        )
        return Announcing(self._scope, "videoName", spool, lambda: node.video_name), settings

    async def stop(self, flush_timeout_s: float) -> bool:
        stored = await self._stop_recorder()
        if self.spool is None:
            return stored
        return await self.spool.close(flush_timeout_s) and stored
