"""Edge pipeline topologies: the ``pipelineTopologySet`` payload and its node catalogue.

Shape: ``{"@apiVersion": "1.1", "name", "properties": {description, parameters[], sources[],
processors[], sinks[]}}``. Enumerations use the edge spelling (``tcp``, ``medium``,
``secretString``); any casing is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

from ova.contracts.topology_blocks import (
    EDGE_ENDPOINTS,
    EdgeEndpoint,
    EdgeParameterDeclaration,
    VideoCreationProperties,
)
from ova.contracts.topology_model import (
    ContractModel,
    NodeInput,
    SourceNode,
    TypedModel,
    TypeRegistry,
    WiredNode,
)
from ova.contracts.topology_values import (
    MAX_NODES,
    MAX_PARAMETERS,
    PREFIX,
    BoolText,
    Description,
    EntityName,
    Flag,
    IntText,
    NumberText,
    RequiredText,
    Text,
    choice,
    duration,
    has_reference,
    invalid,
    number,
    references,
)

MAX_SELECTORS = 10
MAX_LINES = 100


def _line(value: str) -> str:
    """``[[x1,y1],[x2,y2]]`` with coordinates from 0 to 1 (origin top-left)."""
    if has_reference(value):
        return value
    try:
        points = json.loads(value)
        valid = len(points) == 2 and all(len(p) == 2 and all(0 <= float(c) <= 1 for c in p) for p in points)
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise invalid('A line is written as "[[x1,y1],[x2,y2]]" with coordinates from 0 to 1.')
    return value


def _file_name_pattern(value: str) -> str:
    if not any(name.startswith("System.") for name in references(value)):
        raise invalid(
            "The file name pattern must contain a system variable, e.g. ${System.Runtime.DateTime}."
        )
    return value


Sensitivity = Annotated[Text, AfterValidator(choice("low", "medium", "high"))]


# --- inputs -----------------------------------------------------------------------------------


class OutputSelector(ContractModel):
    """Picks which media of the upstream node flow in, e.g. ``mediaType is video``."""

    property_: Annotated[Text, AfterValidator(choice("mediaType"))] = Field(alias="property")
    operator: Annotated[Text, AfterValidator(choice("is", "isNot"))]
    value: Annotated[Text, AfterValidator(choice("video", "audio"))]


class EdgeNodeInput(NodeInput):
    output_selectors: list[OutputSelector] | None = Field(default=None, max_length=MAX_SELECTORS)

    @property
    def video_only(self) -> bool:
        """True when a selector lets only video through (``is video`` or ``isNot audio``)."""
        return any(
            (s.operator, s.value) in (("is", "video"), ("isNot", "audio"))
            for s in self.output_selectors or ()
        )


class EdgeWiredNode(WiredNode):
    inputs: Sequence[EdgeNodeInput] = Field(min_length=1, max_length=MAX_NODES)


# --- sources ----------------------------------------------------------------------------------


class EdgeRtspSource(SourceNode):
    TYPE = f"{PREFIX}RtspSource"

    transport: Annotated[Text, AfterValidator(choice("http", "tcp"))] | None = None
    endpoint: Annotated[EdgeEndpoint, EDGE_ENDPOINTS]


class IotHubMessageSource(SourceNode):
    TYPE = f"{PREFIX}IotHubMessageSource"

    hub_input_name: Text | None = None


# --- processors -------------------------------------------------------------------------------


class MotionDetectionProcessor(EdgeWiredNode):
    TYPE = f"{PREFIX}MotionDetectionProcessor"

    sensitivity: Sensitivity | None = None
    output_motion_region: Flag | None = None
    event_aggregation_window: Annotated[Text, AfterValidator(duration(0, 86400))] | None = None


class ObjectTrackingProcessor(EdgeWiredNode):
    TYPE = f"{PREFIX}ObjectTrackingProcessor"

    accuracy: Sensitivity | None = None


class NamedLineString(TypedModel):
    TYPE = f"{PREFIX}NamedLineString"

    name: RequiredText
    line: Annotated[RequiredText, AfterValidator(_line)]


class LineCrossingProcessor(EdgeWiredNode):
    TYPE = f"{PREFIX}LineCrossingProcessor"

    lines: list[NamedLineString] = Field(min_length=1, max_length=MAX_LINES)


class ImageScale(ContractModel):
    mode: Annotated[Text, AfterValidator(choice("preserveAspectRatio", "pad", "stretch"))] | None = None
    width: IntText | None = None
    height: IntText | None = None


class ImageFormat(TypedModel):
    """Base of the encodings frames are sent to an extension in."""


class ImageFormatJpeg(ImageFormat):
    TYPE = f"{PREFIX}ImageFormatJpeg"

    quality: Annotated[Text, AfterValidator(number(integer=True, minimum=0, maximum=100))] | None = None


class ImageFormatBmp(ImageFormat):
    TYPE = f"{PREFIX}ImageFormatBmp"


class ImageFormatPng(ImageFormat):
    TYPE = f"{PREFIX}ImageFormatPng"


PIXEL_FORMATS = (
    "yuv420p",
    "rgb565be",
    "rgb565le",
    "rgb555be",
    "rgb555le",
    "rgb24",
    "bgr24",
    "argb",
    "rgba",
    "abgr",
    "bgra",
)


class ImageFormatRaw(ImageFormat):
    TYPE = f"{PREFIX}ImageFormatRaw"

    pixel_format: Annotated[Text, AfterValidator(choice(*PIXEL_FORMATS))]


IMAGE_FORMATS = TypeRegistry[ImageFormat](
    "an image format", ImageFormatJpeg, ImageFormatBmp, ImageFormatPng, ImageFormatRaw
)


class ImageProperties(ContractModel):
    scale: ImageScale | None = None
    format: Annotated[ImageFormat, IMAGE_FORMATS] | None = None


class SamplingOptions(ContractModel):
    skip_samples_without_annotation: BoolText | None = None
    maximum_samples_per_second: NumberText | None = None


class ExtensionProcessor(EdgeWiredNode):
    """Sends frames to an external inference service; the pipeline takes its results."""

    endpoint: Annotated[EdgeEndpoint, EDGE_ENDPOINTS]
    image: ImageProperties
    sampling_options: SamplingOptions | None = None


class HttpExtension(ExtensionProcessor):
    TYPE = f"{PREFIX}HttpExtension"


class GrpcExtensionDataTransfer(ContractModel):
    mode: Annotated[RequiredText, AfterValidator(choice("embedded", "sharedMemory"))]
    shared_memory_size_mi_b: IntText | None = None


class GrpcExtension(ExtensionProcessor):
    TYPE = f"{PREFIX}GrpcExtension"

    data_transfer: GrpcExtensionDataTransfer
    extension_configuration: Text | None = None


class SpatialAnalysisOperation(TypedModel):
    """What the Spatial Analysis container computes."""


class SpatialAnalysisCustomOperation(SpatialAnalysisOperation):
    TYPE = f"{PREFIX}SpatialAnalysisCustomOperation"

    extension_configuration: RequiredText


class SpatialAnalysisTypedOperation(SpatialAnalysisOperation):
    """A person count/zone/distance/line operation, kept as given (zones, lines, event settings)."""

    model_config = ConfigDict(extra="allow")

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SpatialAnalysisPersonCountOperation(SpatialAnalysisTypedOperation):
    TYPE = f"{PREFIX}SpatialAnalysisPersonCountOperation"


class SpatialAnalysisPersonZoneCrossingOperation(SpatialAnalysisTypedOperation):
    TYPE = f"{PREFIX}SpatialAnalysisPersonZoneCrossingOperation"


class SpatialAnalysisPersonDistanceOperation(SpatialAnalysisTypedOperation):
    TYPE = f"{PREFIX}SpatialAnalysisPersonDistanceOperation"


class SpatialAnalysisPersonLineCrossingOperation(SpatialAnalysisTypedOperation):
    TYPE = f"{PREFIX}SpatialAnalysisPersonLineCrossingOperation"


SPATIAL_ANALYSIS_OPERATIONS = TypeRegistry[SpatialAnalysisOperation](
    "a spatial analysis operation",
    SpatialAnalysisCustomOperation,
    SpatialAnalysisPersonCountOperation,
    SpatialAnalysisPersonZoneCrossingOperation,
    SpatialAnalysisPersonDistanceOperation,
    SpatialAnalysisPersonLineCrossingOperation,
)


class CognitiveServicesVisionProcessor(EdgeWiredNode):
    TYPE = f"{PREFIX}CognitiveServicesVisionProcessor"

    endpoint: Annotated[EdgeEndpoint, EDGE_ENDPOINTS]
    image: ImageProperties | None = None
    sampling_options: SamplingOptions | None = None
    operation: Annotated[SpatialAnalysisOperation, SPATIAL_ANALYSIS_OPERATIONS]


class SignalGateProcessor(EdgeWiredNode):
    TYPE = f"{PREFIX}SignalGateProcessor"

    activation_evaluation_window: Annotated[Text, AfterValidator(duration(0, 10))] | None = None
    activation_signal_offset: Annotated[Text, AfterValidator(duration(-60, 60))] | None = None
    minimum_activation_time: Annotated[Text, AfterValidator(duration(10, 3600))] | None = None
    maximum_activation_time: Annotated[Text, AfterValidator(duration(10, 3600))] | None = None


# --- sinks ------------------------------------------------------------------------------------


class EdgeVideoPublishingOptions(ContractModel):
    enable_video_preview_image: BoolText | None = None


class EdgeVideoSink(EdgeWiredNode):
    TYPE = f"{PREFIX}VideoSink"

    video_name: RequiredText
    video_creation_properties: VideoCreationProperties | None = None
    video_publishing_options: EdgeVideoPublishingOptions | None = None
    local_media_cache_path: RequiredText
    local_media_cache_maximum_size_mi_b: IntText


class FileSink(EdgeWiredNode):
    TYPE = f"{PREFIX}FileSink"

    base_directory_path: RequiredText
    file_name_pattern: Annotated[RequiredText, AfterValidator(_file_name_pattern)]
    maximum_size_mi_b: IntText


class IotHubMessageSink(EdgeWiredNode):
    TYPE = f"{PREFIX}IotHubMessageSink"

    hub_output_name: Text


EDGE_SOURCES = TypeRegistry[SourceNode]("an edge source", EdgeRtspSource, IotHubMessageSource)
EDGE_PROCESSORS = TypeRegistry[EdgeWiredNode](
    "an edge processor",
    MotionDetectionProcessor,
    ObjectTrackingProcessor,
    LineCrossingProcessor,
    HttpExtension,
    GrpcExtension,
    CognitiveServicesVisionProcessor,
    SignalGateProcessor,
)
EDGE_SINKS = TypeRegistry[EdgeWiredNode]("an edge sink", EdgeVideoSink, FileSink, IotHubMessageSink)


class EdgeTopologyProperties(ContractModel):
    description: Description | None = None
    parameters: list[EdgeParameterDeclaration] = Field(default_factory=list, max_length=MAX_PARAMETERS)
    sources: list[Annotated[SourceNode, EDGE_SOURCES]] = Field(default_factory=list, max_length=MAX_NODES)
    processors: list[Annotated[EdgeWiredNode, EDGE_PROCESSORS]] = Field(
        default_factory=list, max_length=MAX_NODES
    )
    sinks: list[Annotated[EdgeWiredNode, EDGE_SINKS]] = Field(default_factory=list, max_length=MAX_NODES)


class EdgeTopology(ContractModel):
    """The body of ``pipelineTopologySet`` (``systemData`` is read-only and ignored)."""

    api_version: Annotated[Text, AfterValidator(choice("1.0", "1.1"))] | None = Field(
        default=None, alias="@apiVersion"
    )
    name: EntityName
    properties: EdgeTopologyProperties
    system_data: dict[str, Any] | None = Field(default=None, exclude=True)
