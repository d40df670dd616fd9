"""MediaFeed: a full queue drops packets and flags the next one that gets in."""

from __future__ import annotations

from fractions import Fraction

from ova.edge.sinks.media_feed import MediaFeed
from ova.media.codec import CodecParameters, StreamKind
from ova.media.packet import IngestPacket
from ova.media.wallclock import ClockAnchor

VIDEO = CodecParameters(StreamKind.VIDEO, "h264", "avc1.42C01F", "v")


def packet(number: int) -> IngestPacket:
    return IngestPacket(
        StreamKind.VIDEO, b"x", number, number, Fraction(1, 90000), False, VIDEO, ClockAnchor(0, Fraction(0))
    )


async def test_a_full_feed_drops_and_marks_the_hole() -> None:
    feed = MediaFeed(queue_size=2)
    for number in range(4):
        feed.put(packet(number))
    assert feed.dropped == 2
    items = feed.items()
    assert [await anext(items), await anext(items)] == [packet(0), packet(1)]
    feed.put(packet(4))
    resumed = await anext(items)
    assert isinstance(resumed, IngestPacket) and resumed.dts == 4 and resumed.discontinuity
    await items.aclose()
