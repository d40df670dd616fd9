"""Camera URLs in topologies: only rtsp:// and rtsps:// sources, reported at the JSON path that made them."""

from __future__ import annotations

import pytest

from ova.common.errors import Problems
from ova.contracts.camera_url import camera_url_problem
from ova.contracts.topology import check_resolved_camera_urls, validate_cloud_topology, validate_edge_topology

from .topology_builders import cloud_live, edge_topology, edited, failure, targets

URL = "properties.sources[0].endpoint.url"
REFUSED = {
    "http": "http://127.0.0.1:8080/x",
    "file": "file:///etc/passwd",
    "concat": "concat:/etc/passwd|/etc/hosts",
    "no-scheme": "camera.local/stream",
    "no-host": "rtsp:///stream",
    "port-0": "rtsp://camera:0/stream",
    "space": "rtsp://camera/ stream",
}


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_a_literal_url_that_names_no_rtsp_server_is_refused_in_cloud_and_edge_topologies(url: str) -> None:
    for validate, body in (
        (validate_cloud_topology, edited(cloud_live(), {URL: url})),
        (validate_edge_topology, edited(edge_topology(), {URL: url})),
    ):
        error = failure(validate, body)
        assert targets(error) == [URL]
        assert "camera URL of source 'rtspSource'" in error.details[0].message
        assert url not in error.details[0].message  # a URL may carry credentials


@pytest.mark.parametrize("url", ["rtsp://camera.local:554/stream", "RTSPS://[fd00::5]/live", "${rtspUrl}"])
def test_rtsp_urls_and_parameter_references_pass_the_topology(url: str) -> None:
    validate_cloud_topology(edited(cloud_live(), {URL: url}))
    validate_edge_topology(edited(edge_topology(), {URL: url}))


def test_a_resolved_url_is_blamed_on_the_parameter_value_that_made_it() -> None:
    body = cloud_live()
    body["properties"]["parameters"] += [
        {"name": "scheme", "type": "String"},
        {"name": "host", "type": "String"},
    ]
    topology = validate_cloud_topology(edited(body, {URL: "${scheme}://${host}/stream"}))
    problems = Problems()
    values = {"scheme": "http", "host": "127.0.0.1"}
    check_resolved_camera_urls(topology.properties.sources, values, ["videoName", "host", "scheme"], problems)
    assert [item.target for item in problems.items] == ["properties.parameters[1].value"]

    from_defaults = Problems()
    check_resolved_camera_urls(topology.properties.sources, values, ["videoName"], from_defaults)
    assert [item.target for item in from_defaults.items] == ["properties.parameters"]

    fine = Problems()
    check_resolved_camera_urls(topology.properties.sources, {**values, "scheme": "rtsp"}, [], fine)
    assert fine.items == []


def test_every_ffmpeg_protocol_but_rtsp_is_refused() -> None:
    for scheme in ("http", "https", "file", "tcp", "udp", "rtmp", "hls", "data", "pipe", "subfile", "crypto"):
        assert camera_url_problem(f"{scheme}://127.0.0.1/x") == "must be an rtsp:// or rtsps:// URL"
