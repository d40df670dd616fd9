"""RTSP Basic and Digest authentication, as cameras and FFmpeg use them."""

from __future__ import annotations

import base64

from ova.camera.digest_auth import REALM, Authenticator, digest_response, parse_digest

URI = "rtsp://127.0.0.1:8554/cam"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def digest(auth: Authenticator, password: str, qop: bool = False, method: str = "DESCRIBE") -> str:
    nonce = parse_digest(auth.challenges()[0][1].removeprefix("Digest "))["nonce"]
    parameters = {"username": "admin", "realm": REALM, "nonce": nonce, "uri": URI}
    if qop:
        parameters |= {"qop": "auth", "nc": "00000001", "cnonce": "abc"}
    response = digest_response("admin", password, method, parameters)
    fields = ", ".join(f'{key}="{value}"' for key, value in parameters.items())
    return f'Digest {fields}, response="{response}"'


def test_challenges_offer_digest_then_basic() -> None:
    challenges = Authenticator("admin", "pw").challenges()
    assert [value.split(" ")[0] for _, value in challenges] == ["Digest", "Basic"]
    assert all(name == "WWW-Authenticate" for name, _ in challenges)
    assert [v.split(" ")[0] for _, v in Authenticator("a", "b", "basic").challenges()] == ["Basic"]


def test_basic() -> None:
    auth = Authenticator("admin", "pw")
    assert auth.check("DESCRIBE", basic("admin", "pw")) == "ok"
    assert auth.check("DESCRIBE", basic("admin", "nope")) == "denied"
    assert auth.check("DESCRIBE", "Basic !!!notbase64") == "denied"
    assert auth.check("DESCRIBE", None) == "denied"
    assert Authenticator("admin", "pw", "digest").check("DESCRIBE", basic("admin", "pw")) == "denied"


def test_digest_with_and_without_qop() -> None:
    auth = Authenticator("admin", "pw")
    assert auth.check("DESCRIBE", digest(auth, "pw")) == "ok"
    assert auth.check("DESCRIBE", digest(auth, "pw", qop=True)) == "ok"
    assert auth.check("DESCRIBE", digest(auth, "wrong")) == "denied"
    assert auth.check("SETUP", digest(auth, "pw")) == "denied"  # signed for another method
    assert Authenticator("admin", "pw", "basic").check("DESCRIBE", digest(auth, "pw")) == "denied"


def test_expired_nonce_is_stale_and_forged_nonce_denied() -> None:
    clock = Clock()
    auth = Authenticator("admin", "pw", clock=clock)
    credential = digest(auth, "pw")
    clock.now += 301
    assert auth.check("DESCRIBE", credential) == "stale"
    assert "stale=true" in auth.challenges(stale=True)[0][1]
    forged = Authenticator("admin", "pw", clock=clock)
    assert forged.check("DESCRIBE", digest(auth, "pw")) == "denied"


def test_parse_digest_handles_quotes_and_tokens() -> None:
    parsed = parse_digest('username="a\\"b", nc=00000001, qop=auth, uri="rtsp://h/cam"')
    assert parsed == {"username": 'a"b', "nc": "00000001", "qop": "auth", "uri": "rtsp://h/cam"}
