"""Basic and Digest credentials as the client computes them, checked by the camera simulator."""

from __future__ import annotations

from ova.camera.digest_auth import Authenticator
from ova.media.rtsp.auth import Credentials


def test_digest_with_and_without_qop_and_basic_are_accepted_by_the_camera() -> None:
    camera = Authenticator("admin", 'p"ss:word')
    credentials = Credentials("admin", 'p"ss:word')
    assert credentials.authorization("DESCRIBE", "rtsp://h/cam") is None
    assert credentials.accept_challenges([value for _, value in camera.challenges()])
    authorization = credentials.authorization("DESCRIBE", "rtsp://h/cam")
    assert authorization is not None and authorization.startswith("Digest ")
    assert camera.check("DESCRIBE", authorization) == "ok"
    assert camera.check("SETUP", authorization) == "denied"  # bound to its method

    challenge = camera.challenges()[0][1] + ', qop="auth"'
    assert credentials.accept_challenges([challenge])
    with_qop = credentials.authorization("PLAY", "rtsp://h/cam")
    assert with_qop is not None and "nc=00000001" in with_qop
    assert camera.check("PLAY", with_qop) == "ok"

    basic_camera = Authenticator("admin", "pw", scheme="basic")
    basic = Credentials("admin", "pw")
    assert basic.accept_challenges([value for _, value in basic_camera.challenges()])
    assert basic_camera.check("PLAY", basic.authorization("PLAY", "rtsp://h/cam")) == "ok"
    assert not Credentials("a", "b").accept_challenges(['Bearer realm="x"'])
