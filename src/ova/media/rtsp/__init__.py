"""Our own RTSP 1.0 client (RFC 2326) and the RTP payload formats a camera sends.

Modules, bottom up: ``limits`` (every bound on what a camera may send), ``message`` (bounded
response parsing, request encoding), ``sdp`` (session descriptions), ``rtp`` and ``rtcp``
(packets, sequence tracking, sender reports), ``h264``/``h265``/``audio`` (depacketizers),
``auth`` (Basic and Digest), ``client`` (one control connection), ``source`` (RTP to ingest
packets). The camera simulator shares the primitives; nothing here imports it.
"""
