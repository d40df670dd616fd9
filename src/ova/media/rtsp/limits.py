"""Bounds on everything a camera sends, checked before the bytes are kept (gortsplib-style).

Exceeding any of them raises ``SourceProtocolError``: the session ends, the ingest counts it
(``IngestStats.protocol_errors``), logs it once and reconnects with backoff.
"""

from __future__ import annotations

from ova.media.access_units import MAX_ACCESS_UNIT_BYTES

MAX_LINE_BYTES = 4096
"""A status line or one header line."""
MAX_HEADERS = 64
"""Header lines in one response."""
MAX_HEAD_BYTES = 16_384
"""Status line and headers together."""
MAX_BODY_BYTES = 65_536
"""A response body (the SDP of DESCRIBE); ``Content-Length`` above this is refused unread."""
MAX_SDP_LINES = 512
MAX_MEDIA_SECTIONS = 16
MAX_INTERLEAVED_BYTES = 0xFFFF
"""One interleaved frame, by its 16-bit length."""
MAX_NAL_UNITS = 128
"""NAL units in one access unit."""
MAX_NAL_BYTES = MAX_ACCESS_UNIT_BYTES
"""One NAL unit (a fragmented unit is checked before each fragment is appended)."""
MAX_UNIT_BYTES = MAX_ACCESS_UNIT_BYTES
"""One access unit, checked before each packet's bytes are buffered."""
MAX_REDIRECTS = 3
MAX_MESSAGES_BEFORE_RESPONSE = 256
"""Interleaved frames skipped while waiting for a response before giving up."""
