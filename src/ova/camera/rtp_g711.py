"""RTP payload format for G.711 (RFC 3551 §4.5.14): PCMU (payload type 0) and PCMA (8).

The payload is the 8-bit samples themselves, one byte per sample at 8000 Hz, mono; the
RTP timestamp counts samples. The simulator sends 20 ms (160 samples) a packet, as cameras do.
"""

from __future__ import annotations

CLOCK_RATE = 8000
PACKET_SAMPLES = 160
PAYLOAD_TYPES = {"pcmu": 0, "pcma": 8}
ENCODERS = {"pcmu": "pcm_mulaw", "pcma": "pcm_alaw"}
"""PyAV's encoder for each codec."""


def rtpmap(codec: str) -> str:
    """The ``a=rtpmap`` value of a static payload type, e.g. ``PCMU/8000``."""
    return f"{codec.upper()}/{CLOCK_RATE}"
