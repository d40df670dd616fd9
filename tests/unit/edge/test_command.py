"""``ova edge`` refuses bad input with exit status 2 and one line that never shows the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ova.cli import main

KEY = "c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--connection-string", f"HostName=h;DeviceId=d;SharedAccessKey={KEY}"],
            "needs DeviceId and ModuleId",
        ),
        (
            ["--connection-string", f"HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey={KEY};Extra=1"],
            "Unknown",
        ),
        (["--connection-string", "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=!!notbase64!!"], "base64"),
        (["--connection-string", f"HostName=h:99999;DeviceId=d;ModuleId=m;SharedAccessKey={KEY}"], "port"),
        (["--metrics-port", "70000"], "metrics_port"),
        (["--config", "/nonexistent/edge.yaml"], "config file not found"),
        (["--ca-file", "/nonexistent/ca.pem"], "CA file not found"),
        ([], "no IoT Edge environment"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("OVA_EDGE_CONNECTION_STRING", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["edge", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ova edge: ") and message in err
    assert KEY not in err and "notbase64" not in err
