"""``MediaCaches``: one local media cache (``spool.LocalMediaCache``) and its ``Uploader`` per
``localMediaCachePath``, made the first time a video sink names the path.

Two video sinks naming the same path share one cache and its size bound (the first sink's
``localMediaCacheMaximumSizeMiB``). A relative path lies under ApplicationDataDirectory; an
absolute one is used as written (``/var/lib/videoanalyzer/tmp/`` in the published topologies).
A cache is started (swept, reloaded, validated) before its first video opens.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ova.contracts.edge_api import PublishVideoRequest
from ova.edge.ports import EventSink, RecordingSpool, VideoSpool
from ova.edge.spool import LocalMediaCache, SpoolSettings
from ova.edge.uploader import EdgeVideos, Uploader, UploaderSettings

MAX_CACHES = 16


class _StartedCache:
    """A ``RecordingSpool`` that starts its cache before the first video opens."""

    def __init__(self, cache: LocalMediaCache) -> None:
        self.cache = cache
        self._started: asyncio.Task[None] | None = None

    async def open_video(self, video_name: str, publish: PublishVideoRequest, subject: str) -> VideoSpool:
        if self._started is None:
            self._started = asyncio.ensure_future(self.cache.start())
        await asyncio.shield(self._started)
        return await self.cache.open_video(video_name, publish, subject)


class MediaCaches:
    def __init__(
        self,
        data_dir: Path,
        cloud: EdgeVideos,
        events: EventSink,
        *,
        uploader: UploaderSettings | None = None,
        verify: str | bool = True,
    ) -> None:
        self._data_dir = data_dir
        self._cloud, self._events = cloud, events
        self._uploader_settings = uploader
        self._verify = verify
        self._caches: dict[Path, _StartedCache] = {}
        self.uploaders: list[Uploader] = []

    def __call__(self, path: str, maximum_size_mib: int) -> RecordingSpool:
        """``graph.context.SpoolFactory``."""
        folder = (self._data_dir / path).resolve()
        cache = self._caches.get(folder)
        if cache is None:
            if len(self._caches) >= MAX_CACHES:
                raise ValueError(f"At most {MAX_CACHES} different localMediaCachePath values are supported.")
            local = LocalMediaCache(SpoolSettings(path=folder, max_size_mib=maximum_size_mib), self._events)
            self.uploaders.append(Uploader(self._cloud, local, self._uploader_settings, verify=self._verify))
            cache = self._caches[folder] = _StartedCache(local)
        return cache

    @property
    def caches(self) -> list[LocalMediaCache]:
        return [started.cache for started in self._caches.values()]

    async def last_sequence(self, video_id: str) -> int:
        """``SequenceHistory``: the cloud's lastSequence as the uploaders last heard it."""
        known = [await uploader.last_sequence(video_id) for uploader in self.uploaders]
        return max(known, default=0)

    async def close(self) -> None:
        for uploader in self.uploaders:
            await uploader.close()
