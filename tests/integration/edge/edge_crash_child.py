"""A tiny recorder + uploader, run as a child process by the crash tests (security.md D4).

``python edge_crash_child.py <data dir> <cache dir> <video name> <segments>`` records the
segments the cache does not hold yet (sequence ``last_sequence + 1`` up to ``segments``), then
waits for the cache to drain into the cloud and exits 0 (1 if it did not drain in time). With
``OVA_TEST_KILL_AT`` set, ``ova.edge.crash_points`` kills it on the way.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from edge_media import Events, init_segment, media_segment

from ova.contracts.edge_api import PublishVideoRequest
from ova.edge.cloud_link import CloudLink, CloudLinkSettings
from ova.edge.spool import LocalMediaCache, SpoolSettings
from ova.edge.uploader import Uploader, UploaderSettings

FLUSH_TIMEOUT_S = 20.0


async def main(data_dir: Path, cache_dir: Path, video_name: str, segments: int) -> int:
    link = CloudLink(CloudLinkSettings(timeout_s=5), data_dir)
    await link.start()
    cache = LocalMediaCache(SpoolSettings(path=cache_dir, max_size_mib=64), Events())
    uploader = Uploader(
        link, cache, UploaderSettings(backoff_initial_s=0.05, backoff_max_s=0.5, batch_segments=2)
    )
    video = await cache.open_video(
        video_name, PublishVideoRequest(), f"/edgeModules/edge1/sinks/{video_name}"
    )
    await video.init_segment(init_segment())
    for sequence in range(video.last_sequence + 1, segments + 1):
        await video.media_segment(media_segment(sequence))
    drained = await video.close(FLUSH_TIMEOUT_S)
    await uploader.close()
    await link.close()
    return 0 if drained else 1


if __name__ == "__main__":
    data, cache, name, count = sys.argv[1:5]
    sys.exit(asyncio.run(main(Path(data), Path(cache), name, int(count))))
