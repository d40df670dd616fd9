"""Cloud pipeline topologies: the management API resource (``kind``, ``sku``, ``properties``).

Live topologies ingest one RTSP camera into a video sink; batch topologies export part of
an archived video through an encoder into an MP4 video. Enumerations use the management
API spelling (``Live``, ``Tcp``, ``SecretString``); any casing is accepted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ova.contracts.topology_blocks import (
    CLOUD_ENDPOINTS,
    CloudEndpoint,
    CloudParameterDeclaration,
    VideoCreationProperties,
)
from ova.contracts.topology_model import ContractModel, SourceNode, TypedModel, TypeRegistry, WiredNode
from ova.contracts.topology_values import (
    MAX_NODES,
    MAX_PARAMETERS,
    PREFIX,
    BoolText,
    Description,
    IntText,
    RequiredText,
    Text,
    choice,
    has_reference,
    invalid,
    number,
)

KINDS = ("Live", "Batch")
SKU_FOR_KIND = {"Live": "Live_S1", "Batch": "Batch_S1"}
MAX_EXPORT_SECONDS = 24 * 3600
SYSTEM_PRESETS = tuple(f"SingleLayer_{size}_H264_AAC" for size in ("540p", "720p", "1080p", "2160p"))


def _time_ranges(value: str) -> str:
    """``[["start","end"]]``: exactly one ISO 8601 range, start before end, at most 24 hours."""
    if has_reference(value):
        return value
    try:
        ((start, end),) = json.loads(value)
        seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (ValueError, TypeError):
        raise invalid(
            'Ranges are written as [["<start>","<end>"]] with one pair of ISO 8601 times.'
        ) from None
    if not 0 < seconds <= MAX_EXPORT_SECONDS:
        raise invalid("The range must end after it starts and span at most 24 hours.")
    return value


# --- sources ----------------------------------------------------------------------------------


class CloudRtspSource(SourceNode):
    TYPE = f"{PREFIX}RtspSource"

    transport: Annotated[Text, AfterValidator(choice("Http", "Tcp"))] | None = None
    endpoint: Annotated[CloudEndpoint, CLOUD_ENDPOINTS]


class VideoSequenceAbsoluteTimeMarkers(TypedModel):
    TYPE = f"{PREFIX}VideoSequenceAbsoluteTimeMarkers"

    ranges: Annotated[RequiredText, AfterValidator(_time_ranges)]


class VideoSource(SourceNode):
    """Reads an archived video (batch topologies only)."""

    TYPE = f"{PREFIX}VideoSource"

    video_name: RequiredText
    time_sequences: VideoSequenceAbsoluteTimeMarkers


# --- processors -------------------------------------------------------------------------------


class EncoderPreset(TypedModel):
    """Base of the encoder recipes."""


class EncoderSystemPreset(EncoderPreset):
    TYPE = f"{PREFIX}EncoderSystemPreset"

    name: Annotated[RequiredText, AfterValidator(choice(*SYSTEM_PRESETS))]


class AudioEncoderAac(TypedModel):
    TYPE = f"{PREFIX}AudioEncoderAac"

    bitrate_kbps: (
        Annotated[Text, AfterValidator(choice("96", "112", "128", "160", "192", "224", "256"))] | None
    ) = None


class VideoScale(ContractModel):
    height: IntText | None = None
    width: IntText | None = None
    mode: Annotated[Text, AfterValidator(choice("Pad", "PreserveAspectRatio", "Stretch"))] | None = None


class VideoEncoderH264(TypedModel):
    TYPE = f"{PREFIX}VideoEncoderH264"

    bitrate_kbps: IntText | None = None
    frame_rate: Annotated[Text, AfterValidator(number(minimum=0.001, maximum=300))] | None = None
    scale: VideoScale | None = None


class EncoderCustomPreset(EncoderPreset):
    TYPE = f"{PREFIX}EncoderCustomPreset"

    audio_encoder: AudioEncoderAac | None = None
    video_encoder: VideoEncoderH264 | None = None


ENCODER_PRESETS = TypeRegistry[EncoderPreset]("an encoder preset", EncoderSystemPreset, EncoderCustomPreset)


class EncoderProcessor(WiredNode):
    TYPE = f"{PREFIX}EncoderProcessor"

    preset: Annotated[EncoderPreset, ENCODER_PRESETS]


# --- sinks ------------------------------------------------------------------------------------


class CloudVideoPublishingOptions(ContractModel):
    """Live only; the two flags may not both be "true"."""

    disable_archive: BoolText | None = None
    disable_rtsp_publishing: BoolText | None = None


class CloudVideoSink(WiredNode):
    TYPE = f"{PREFIX}VideoSink"

    video_name: RequiredText
    video_creation_properties: VideoCreationProperties | None = None
    video_publishing_options: CloudVideoPublishingOptions | None = None


CLOUD_SOURCES = TypeRegistry[SourceNode]("a cloud source", CloudRtspSource, VideoSource)
CLOUD_PROCESSORS = TypeRegistry[WiredNode]("a cloud processor", EncoderProcessor)
CLOUD_SINKS = TypeRegistry[WiredNode]("a cloud sink", CloudVideoSink)


class CloudTopologyProperties(ContractModel):
    description: Description | None = None
    parameters: list[CloudParameterDeclaration] = Field(default_factory=list, max_length=MAX_PARAMETERS)
    sources: list[Annotated[SourceNode, CLOUD_SOURCES]] = Field(default_factory=list, max_length=MAX_NODES)
    processors: list[Annotated[WiredNode, CLOUD_PROCESSORS]] = Field(
        default_factory=list, max_length=MAX_NODES
    )
    sinks: list[Annotated[WiredNode, CLOUD_SINKS]] = Field(default_factory=list, max_length=MAX_NODES)


class Sku(ContractModel):
    name: Annotated[RequiredText, AfterValidator(choice(*SKU_FOR_KIND.values()))]
    tier: Text | None = Field(default=None, exclude=True)


class CloudTopology(ContractModel):
    """A ``pipelineTopologies`` resource; ARM's read-only ``id``, ``name``, ``type``, ``systemData``
    are accepted and ignored."""

    kind: Annotated[RequiredText, AfterValidator(choice(*KINDS))]
    sku: Sku
    properties: CloudTopologyProperties
    id: Text | None = Field(default=None, exclude=True)
    name: Text | None = Field(default=None, exclude=True)
    resource_type: Text | None = Field(default=None, alias="type", exclude=True)
    system_data: dict[str, Any] | None = Field(default=None, exclude=True)
