"""The signal gate's timing rules on synthetic packets: open, extend, maximum, late events, pre-roll."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ova.edge.processors.signal_gate import CLOCK_SLACK_MS, GateTiming, SignalGate
from ova.media.codec import CodecParameters, StreamKind
from ova.media.packet import IngestPacket
from ova.media.wallclock import ClockAnchor
from ova.recording.recorder import Pause

T0 = 1_800_000_000_000
FRAME_MS = 100
GOP = 10  # one keyframe a second
VIDEO = CodecParameters(StreamKind.VIDEO, "h264", "avc1.42C01F", "cfg")
AUDIO = CodecParameters(StreamKind.AUDIO, "aac", "mp4a.40.2", "aud", sample_rate=48000, channels=1)
ANCHOR = ClockAnchor(T0, Fraction(0))


def frame(index: int, size: int = 100) -> IngestPacket:
    ticks = index * FRAME_MS * 90
    return IngestPacket(
        StreamKind.VIDEO, b"v" * size, ticks, ticks, Fraction(1, 90000), index % GOP == 0, VIDEO, ANCHOR
    )


def audio(at_ms: int) -> IngestPacket:
    ticks = at_ms * 90
    return IngestPacket(StreamKind.AUDIO, b"a", ticks, ticks, Fraction(1, 90000), True, AUDIO, ANCHOR)


def run(gate: SignalGate, frames: range, events: dict[int, int] | None = None) -> list[IngestPacket | Pause]:
    """Push ``frames``; before frame ``i`` in ``events``, trigger an event at ``events[i]`` ms after T0."""
    out: list[IngestPacket | Pause] = []
    for index in frames:
        if events and index in events:
            gate.trigger(T0 + events[index])
        out.extend(gate.push(frame(index)))
    return out


def packets(out: list[IngestPacket | Pause]) -> list[IngestPacket]:
    return [item for item in out if isinstance(item, IngestPacket)]


def timing(**overrides: int) -> GateTiming:
    values = {
        "evaluation_window_ms": 1_000,
        "signal_offset_ms": 0,
        "minimum_ms": 10_000,
        "maximum_ms": 30_000,
    }
    return GateTiming(**(values | overrides))


def test_a_closed_gate_lets_nothing_through() -> None:
    assert run(SignalGate(timing()), range(300)) == []


def test_an_event_opens_the_gate_at_its_keyframe_for_the_minimum_time() -> None:
    out = run(SignalGate(timing()), range(400), events={105: 10_500})
    passed = packets(out)
    assert passed[0].wall_ms == T0 + 10_000 and passed[0].is_keyframe  # the GOP holding the event
    assert passed[0].discontinuity and not any(p.discontinuity for p in passed[1:])
    assert passed[-1].wall_ms == T0 + 20_400  # closes at event + 10 s
    assert isinstance(out[-1], Pause) and sum(isinstance(item, Pause) for item in out) == 1


def test_each_event_restarts_the_minimum_timer() -> None:
    out = run(SignalGate(timing()), range(500), events={100: 10_000, 150: 15_000})
    passed = packets(out)
    assert passed[0].wall_ms == T0 + 10_000
    assert passed[-1].wall_ms == T0 + 24_900  # 15 s + 10 s


def test_the_gate_never_stays_open_past_the_maximum_from_the_first_event() -> None:
    events = {index: index * FRAME_MS for index in range(100, 600, 40)}  # an event every 4 s
    out = run(SignalGate(timing(maximum_ms=20_000)), range(700), events=events)
    closed = next(index for index, item in enumerate(out) if isinstance(item, Pause))
    first = packets(out[:closed])
    assert first[0].wall_ms == T0 + 10_000
    assert first[-1].wall_ms == T0 + 29_900  # 20 s after the first event, though events kept coming
    reopened = packets(out[closed:])
    assert reopened[0].discontinuity and reopened[0].wall_ms > first[-1].wall_ms  # the next event: a new clip


def test_a_late_event_is_dropped() -> None:
    gate = SignalGate(timing(evaluation_window_ms=2_000))
    run(gate, range(200))  # media is at 19.9 s
    assert gate.trigger(T0 + 17_600) is False  # 2.3 s old: past the window and the slack
    assert gate.stats.late_events == 1
    assert run(gate, range(200, 400)) == []
    assert gate.trigger(T0 + 38_500) is True  # media is at 39.9 s: within the window


@pytest.mark.parametrize("offset_ms", [-5_000, -30_000, -60_000])
def test_a_negative_offset_replays_a_pre_roll_of_whole_gops(offset_ms: int) -> None:
    gate = SignalGate(timing(signal_offset_ms=offset_ms))
    out = run(gate, range(800), events={700: 70_050})
    first = packets(out)[0]
    assert first.is_keyframe
    assert T0 + 70_050 + offset_ms - GOP * FRAME_MS <= first.wall_ms <= T0 + 70_050 + offset_ms


def test_a_positive_offset_opens_later() -> None:
    out = run(SignalGate(timing(signal_offset_ms=3_000)), range(400), events={100: 10_000})
    passed = packets(out)
    assert passed[0].wall_ms == T0 + 13_000
    assert passed[-1].wall_ms == T0 + 22_900  # the timers count from event + offset


def test_the_pre_roll_ring_is_bounded_by_time_and_bytes() -> None:
    gate = SignalGate(timing(signal_offset_ms=-5_000, max_buffer_bytes=3_000))
    run(gate, range(2_000))  # 200 s with the gate closed
    held = sum(len(gop.packets) for gop in gate._ring)
    assert held <= (5_000 + 1_000 + CLOCK_SLACK_MS) // FRAME_MS + 2 * GOP  # offset + window + one GOP
    assert gate._ring_bytes <= 3_000
    assert gate.stats.dropped_gops > 0


def test_a_reopening_never_replays_what_already_passed() -> None:
    gate = SignalGate(timing(signal_offset_ms=-5_000))
    out = run(gate, range(600), events={100: 10_000, 250: 25_000})
    times = [p.wall_ms for p in packets(out)]
    assert times == sorted(set(times))
    assert sum(p.discontinuity for p in packets(out)) == 2


def test_audio_rides_along_while_the_gate_is_open() -> None:
    gate = SignalGate(timing())
    gate.push(frame(0))
    gate.trigger(T0)
    passed = [*gate.push(frame(1)), *gate.push(audio(150)), *gate.push(frame(2))]
    assert [p.kind for p in packets(passed)] == [
        StreamKind.VIDEO,
        StreamKind.VIDEO,
        StreamKind.AUDIO,
        StreamKind.VIDEO,
    ]


def test_timing_reads_the_node_durations() -> None:
    from ova.contracts.topology_edge import SignalGateProcessor

    node = SignalGateProcessor.model_validate(
        {
            "@type": "#Microsoft.VideoAnalyzer.SignalGateProcessor",
            "name": "gate",
            "inputs": [{"nodeName": "rtsp"}],
            "activationEvaluationWindow": "PT2S",
            "activationSignalOffset": "-PT5S",
            "minimumActivationTime": "PT20S",
            "maximumActivationTime": "PT40S",
        }
    )
    assert GateTiming.of(node) == GateTiming(2_000, -5_000, 20_000, 40_000)
    assert GateTiming.of(node.model_copy(update={"activation_signal_offset": None})).signal_offset_ms == 0
