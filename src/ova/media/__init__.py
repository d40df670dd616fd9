"""Pure media: receiving cameras, packaging CMAF, event messages, previews and manifests.

Nothing here decodes on the record path, and the only network code is the RTSP client in
``rtsp`` (and the camera-network check it runs first). Import from the modules (this package
imports nothing, so the manifest writers do not pull PyAV in):

Record path
    ``rtsp_ingest.RtspIngest``  one camera, reconnecting; yields ``packet.IngestPacket`` and
                                ``ingest_events`` (``Connected``, ``Disconnected``, ``CodecChanged``,
                                ``Discontinuity``); ``ingest_settings.IngestSettings``
    ``rtsp``                    the bounded asyncio RTSP/RTP client behind it (``rtsp.limits``)
    ``camera_networks``         the networks cameras may be on, checked before connecting
    ``demuxer``                 PyAV for local files (benchmarks, tests; ``local_file``) only
    ``access_units``            equal-DTS merge, start at a keyframe, bounds, drop accounting
    ``wallclock``               media time to UTC epoch milliseconds, re-anchoring on jumps and
                                never ahead of the wall clock
    ``cmaf.CmafSegmenter``      packets to ``InitSegment`` / ``MediaSegment`` (tfdt = wall clock)
    ``fmp4``, ``sample_entry``, ``isobmff``  the boxes it writes
    ``codec``, ``nal``, ``sps`` codec configurations, NAL units, sequence parameter sets

Around it
    ``emsg``       inference events as ``emsg`` boxes (``urn:msft:media:ava:event:2020:json``)
    ``preview``    small/medium/large JPEGs from one keyframe
    ``synthetic``  generated test streams (tests and benchmarks only)
    ``errors``     the package's exception tree
"""
