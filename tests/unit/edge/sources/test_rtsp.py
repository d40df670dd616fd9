"""RtspSource's diagnostics: which event a session's end raises, and the session's SDP."""

from __future__ import annotations

import pytest

from ova.edge.sources.rtsp import diagnostic, session_description
from ova.media.codec import CodecParameters, StreamKind
from ova.media.ingest_events import Connected


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("the camera refused the credentials (DESCRIBE answered 401)", ("ProtocolError", "401")),
        ("the camera answered SETUP with status 454", ("ProtocolError", "454")),
        ("the camera connection failed (ConnectionRefusedError)", ("NetworkError", "ConnectionFailed")),
        ("the camera host 'x' could not be reached", ("NetworkError", "ConnectionFailed")),
        ("the camera sent a NAL unit over 4194304 bytes", ("MediaFormatError", "UnsupportedMedia")),
        ("the camera answered SETUP without a Session", ("ProtocolError", "ProtocolViolation")),
    ],
)
def test_a_session_end_raises_the_matching_diagnostics_event(reason: str, expected: tuple[str, str]) -> None:
    found = diagnostic(reason)
    assert found is not None
    type_, body = found
    assert (type_, body.get("errorCode", body.get("code"))) == expected


def test_the_session_description_names_the_codecs_and_no_credentials() -> None:
    video = CodecParameters(StreamKind.VIDEO, "h264", "avc1.42C01F", "v")
    audio = CodecParameters(StreamKind.AUDIO, "aac", "mp4a.40.2", "a", sample_rate=48_000, channels=2)
    sdp = session_description(Connected("rtsp://camera/cam", video, audio))
    assert "a=rtpmap:96 H264/90000" in sdp and "MPEG4-GENERIC/48000/2" in sdp
    assert sdp.startswith("v=0\r\ns=rtsp://camera/cam\r\n")
