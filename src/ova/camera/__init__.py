"""The camera simulator: a real RTSP server streaming a generated H.264 (and AAC or G.711) test signal.

Modules, one concept each:

- ``pattern``: the picture (background, wall-clock stamp band, moving object) and its readers
  ``read_stamp``, ``object_box`` and ``object_rect``.
- ``h264``: Annex B NAL units. ``encoder``: the PyAV libx264 encoder. ``audio``: the AAC or G.711 tone.
- ``rtp``, ``rtp_h264`` (RFC 6184), ``rtp_aac`` (RFC 3640), ``rtp_g711`` (RFC 3551), ``rtcp``
  and ``interleaved`` (RFC 2326 §10.12): the wire formats. ``stream``: a mount's tracks and media units.
- ``sdp``: the session description. ``rtsp_message``: bounded request parsing and responses.
  ``session``: RTSP sessions and request targets. ``digest_auth``: Basic and Digest auth.
- ``mount``: one stream shared by every client of a path; ``live_source`` and ``loop_source``
  feed it. ``sink``: one client's RTP delivery. ``connection``: one RTSP control connection.
- ``server``: the listener and its mounts. ``settings``: the configuration. ``command``: the
  ``ova camera`` flags. ``errors``: the exception tree.
"""
