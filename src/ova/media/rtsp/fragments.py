"""``FragmentBuffer``: one NAL unit being reassembled from fragments, bounded as it grows.

Shared by the H.264 FU-A and H.265 FU depacketizers. The size is checked before each fragment
is appended, so a unit that never ends costs at most ``MAX_NAL_BYTES``.
"""

from __future__ import annotations

from ova.media.errors import SourceProtocolError
from ova.media.rtsp.limits import MAX_NAL_BYTES


class FragmentBuffer:
    def __init__(self) -> None:
        self._data: bytearray | None = None

    def start(self, header: bytes) -> None:
        self._data = bytearray(header)

    def reset(self) -> None:
        """Forgets a partial unit (after packet loss)."""
        self._data = None

    def append(self, fragment: memoryview, end: bool) -> list[bytes]:
        """The completed unit once ``end``; ``[]`` while incomplete or without a start (lost)."""
        if self._data is None:
            return []
        if len(self._data) + len(fragment) > MAX_NAL_BYTES:
            self._data = None
            raise SourceProtocolError(f"the camera sent a NAL unit over {MAX_NAL_BYTES} bytes")
        self._data += fragment
        if not end:
            return []
        nal, self._data = bytes(self._data), None
        return [nal]
