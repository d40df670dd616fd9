"""Pure media: receiving cameras, packaging CMAF, event messages, previews and manifests.

Nothing here decodes on the record path, and nothing imports network code other than
PyAV's own RTSP demuxer. Import from the modules (this package imports nothing, so the
manifest writers do not pull PyAV in):

Record path
    ``rtsp_ingest.RtspIngest``  one camera, reconnecting; yields ``packet.IngestPacket`` and
                                ``ingest_events`` (``Connected``, ``Disconnected``, ``CodecChanged``,
                                ``Discontinuity``); ``ingest_settings.IngestSettings``
    ``demuxer``                 the blocking PyAV session behind it
    ``access_units``            equal-DTS merge, start at a keyframe, bounds, drop accounting
    ``wallclock``               media time to UTC epoch milliseconds, re-anchoring on jumps
    ``cmaf.CmafSegmenter``      packets to ``InitSegment`` / ``MediaSegment`` (tfdt = wall clock)
    ``fmp4``, ``sample_entry``, ``isobmff``  the boxes it writes
    ``codec``, ``nal``, ``sps`` codec configurations, NAL units, sequence parameter sets

Around it
    ``emsg``       inference events as ``emsg`` boxes (``urn:msft:media:ava:event:2020:json``)
    ``preview``    small/medium/large JPEGs from one keyframe
    ``synthetic``  generated test streams (tests and benchmarks only)
    ``errors``     the package's exception tree
"""
