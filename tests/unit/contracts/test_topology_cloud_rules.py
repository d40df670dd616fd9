"""Cloud topology rules (kind, SKU, sources, video sink options), reported at the offending JSON path."""

from __future__ import annotations

import pytest

from .topology_builders import (
    DELETE,
    Case,
    P,
    check,
    cloud_batch,
    cloud_live,
    motion,
    params,
    plain,
    rtsp_source,
)

TWO_RANGES = (
    '[["2021-10-05T00:00:00Z","2021-10-05T01:00:00Z"],["2021-10-05T02:00:00Z","2021-10-05T03:00:00Z"]]'
)

CLOUD_CASES = params(
    Case("unknown-kind", cloud_live, "kind", "Live, Batch", {"kind": "Stream"}),
    Case("sku-does-not-match-kind", cloud_live, "sku.name", "Live_S1", {"sku.name": "Batch_S1"}),
    Case("unknown-sku", cloud_live, "sku.name", "Batch_S1", {"sku.name": "Premium"}),
    Case(
        "two-sources",
        cloud_live,
        "properties.sources",
        "exactly one source",
        {"properties.sources": [rtsp_source(), rtsp_source("second")]},
    ),
    Case("no-source", cloud_live, "properties.sources", "exactly one source", {"properties.sources": []}),
    Case(
        "live-reads-video-source",
        cloud_live,
        "properties.sources[0].@type",
        "RtspSource",
        {
            "kind": "Live",
            "properties.sources": cloud_batch()["properties"]["sources"],
            "properties.sinks[0].inputs[0].nodeName": "videoSource",
        },
    ),
    Case(
        "batch-reads-rtsp",
        cloud_batch,
        "properties.sources[0].@type",
        "VideoSource",
        {"properties.sources": [rtsp_source("videoSource")]},
    ),
    Case(
        "segment-not-30s-step",
        cloud_live,
        "properties.sinks[0].videoCreationProperties.segmentLength",
        "steps of 30",
        {"properties.sinks[0].videoCreationProperties.segmentLength": "PT45S"},
    ),
    Case(
        "segment-too-long",
        cloud_live,
        "properties.sinks[0].videoCreationProperties.segmentLength",
        "300",
        {"properties.sinks[0].videoCreationProperties.segmentLength": "PT5M30S"},
    ),
    Case(
        "segment-not-a-duration",
        cloud_live,
        "properties.sinks[0].videoCreationProperties.segmentLength",
        "ISO 8601",
        {"properties.sinks[0].videoCreationProperties.segmentLength": "30 seconds"},
    ),
    Case(
        "retention-zero-days",
        cloud_live,
        "properties.sinks[0].videoCreationProperties.retentionPeriod",
        "P1D to P3650D",
        {"properties.sinks[0].videoCreationProperties.retentionPeriod": "P0D"},
    ),
    Case(
        "retention-over-ten-years",
        cloud_live,
        "properties.sinks[0].videoCreationProperties.retentionPeriod",
        "P3650D",
        {"properties.sinks[0].videoCreationProperties.retentionPeriod": "P3651D"},
    ),
    Case(
        "retention-in-hours",
        cloud_live,
        "properties.sinks[0].videoCreationProperties.retentionPeriod",
        "whole days",
        {"properties.sinks[0].videoCreationProperties.retentionPeriod": "PT36H"},
    ),
    Case(
        "archive-and-rtsp-both-disabled",
        cloud_live,
        "properties.sinks[0].videoPublishingOptions",
        "both",
        {
            "properties.sinks[0].videoPublishingOptions": {
                "disableArchive": "true",
                "disableRtspPublishing": "TRUE",
            }
        },
    ),
    Case(
        "publishing-flag-not-boolean",
        cloud_live,
        "properties.sinks[0].videoPublishingOptions.disableArchive",
        "boolean",
        {"properties.sinks[0].videoPublishingOptions.disableArchive": "no"},
    ),
    Case(
        "publishing-options-in-batch",
        cloud_batch,
        "properties.sinks[0].videoPublishingOptions",
        "Live",
        {"properties.sinks[0].videoPublishingOptions": {"disableArchive": "false"}},
    ),
    Case(
        "segment-length-in-batch",
        cloud_batch,
        "properties.sinks[0].videoCreationProperties.segmentLength",
        "Live",
        {"properties.sinks[0].videoCreationProperties.segmentLength": "PT30S"},
    ),
    Case(
        "range-over-a-day",
        cloud_batch,
        "properties.sources[0].timeSequences.ranges",
        "24 hours",
        {"properties.sources[0].timeSequences.ranges": '[["2021-10-05T00:00:00Z","2021-10-06T00:00:01Z"]]'},
    ),
    Case(
        "two-ranges",
        cloud_batch,
        "properties.sources[0].timeSequences.ranges",
        "one pair",
        {"properties.sources[0].timeSequences.ranges": TWO_RANGES},
    ),
    Case(
        "unknown-system-preset",
        cloud_batch,
        "properties.processors[0].preset.name",
        "SingleLayer_1080p_H264_AAC",
        {"properties.processors[0].preset.name": "SingleLayer_4K"},
    ),
    Case(
        "cloud-credentials-are-username-password",
        cloud_live,
        "properties.sources[0].endpoint.credentials.@type",
        "UsernamePasswordCredentials",
        {
            "properties.sources[0].endpoint.credentials": {
                "@type": f"{P}HttpHeaderCredentials",
                "headerName": "a",
                "headerValue": "b",
            }
        },
    ),
    Case(
        "cloud-endpoint-needs-credentials",
        cloud_live,
        "properties.sources[0].endpoint.credentials",
        "required",
        {"properties.sources[0].endpoint.credentials": DELETE},
    ),
    Case(
        "edge-processor-in-cloud",
        cloud_batch,
        "properties.processors[0].@type",
        "EncoderProcessor",
        {"properties.processors[0]": motion("encoder", [plain("videoSource")])},
    ),
)


@pytest.mark.parametrize("case", CLOUD_CASES)
def test_problem_is_reported_at_its_path(case: Case) -> None:
    check(case)
