"""Game audio: bar/beat cue points, whole-bar loop regions, and the loop-drift check.

Game engines (Wwise, FMOD, Unity, Unreal) place music transitions on bar and beat cue
points and loop whole bars by sample positions. This module lists them from the one
click grid, at an audio sample rate, from bar 1 (no count-in: the music file starts on
the downbeat).

It also reports sections whose tempo gives a **non-integer number of samples per beat**
at that rate: an engine that counts whole samples per beat (or loops a region rounded
to whole samples) drifts against the music a little every loop. 120 BPM at 48 kHz is
exactly 24000 samples a beat; 133 BPM is 21654.135..., and the nearest tempo with whole
samples (21654) is 133.0008 BPM.

>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> m = TempoMap((Section(2, Tempo(120), label="a"), Section(1, Tempo(133), label="b")))
>>> [(r.section, r.samples_per_beat, r.whole) for r in drift_report(m, 48000)]
[('a', Fraction(24000, 1), True), ('b', Fraction(2880000, 133), False)]
>>> [(x.name, x.start_sample, x.end_sample, x.whole_samples) for x in loop_regions(m, 48000)]
[('a', 0, 192000, True), ('b', 192000, 278617, False)]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ictus.errors import ParameterError
from ictus.tempomap import CountIn, Section, TempoMap, Timeline, build_grid


@dataclass(frozen=True)
class CuePoint:
    """A bar or beat where the music may be entered or left."""

    kind: str  # "bar" or "beat"
    bar: int
    beat: int
    time_s: float
    sample: int
    section: str
    cue: str = ""


@dataclass(frozen=True)
class LoopRegion:
    """Whole bars ``first_bar..last_bar`` as a loop: exact times and sample positions.

    ``whole_samples`` says whether the region's exact length is a whole number of
    samples; when it is not, a loop of ``length_samples`` drifts by the rest every pass.
    """

    name: str
    first_bar: int
    last_bar: int
    start_s: float
    end_s: float
    start_sample: int
    end_sample: int
    length_samples: int
    exact_length_samples: float
    whole_samples: bool


@dataclass(frozen=True)
class DriftLine:
    """Samples per beat of one constant-tempo section, and a tempo that would be whole."""

    section: str
    bpm: Fraction
    samples_per_beat: Fraction
    whole: bool
    suggestion_bpm: Fraction

    def message(self, rate: int) -> str:
        return (
            f"section {self.section}: {float(self.bpm):.3f} BPM is "
            f"{float(self.samples_per_beat):.3f} samples a beat at {rate} Hz (not whole: "
            f"loops drift); {float(self.suggestion_bpm):.4f} BPM would be "
            f"{round(self.samples_per_beat)} exactly"
        )


def _name(section: Section, index: int) -> str:
    return section.label or f"section{index + 1}"


def _music(tempo_map: TempoMap) -> TempoMap:
    return tempo_map.with_count_in(CountIn()) if tempo_map.count_in else tempo_map


def cue_points(tempo_map: TempoMap, rate: int, every: str = "beat") -> list[CuePoint]:
    """Every beat (or every bar) of the map from bar 1, with its sample at ``rate``."""
    if every not in ("beat", "bar"):
        raise ParameterError(f"cue points go on every 'beat' or 'bar', got {every!r}")
    grid = build_grid(_music(tempo_map))
    samples = grid.samples(rate)
    texts = {(c.bar, c.beat): c.text for c in grid.cues}
    keep = grid.sub == 0
    if every == "bar":
        keep &= grid.beat == 1
    return [
        CuePoint(
            "bar" if grid.beat[i] == 1 else "beat",
            int(grid.bar[i]),
            int(grid.beat[i]),
            float(grid.time[i]),
            int(samples[i]),
            grid.section_names[grid.section[i]],
            texts.get((int(grid.bar[i]), int(grid.beat[i])), ""),
        )
        for i in np.flatnonzero(keep).tolist()
    ]


def _bar_starts(tempo_map: TempoMap) -> list[Fraction]:
    """Exact start (seconds, scale applied) of every bar, and the end of the map last.

    From the map's timeline: exact for constant and stepped sections, the closed forms'
    floats (taken as exact) inside ramps.
    """
    return Timeline(_music(tempo_map)).bar_times()


def loop_regions(
    tempo_map: TempoMap, rate: int, loops: Sequence[tuple[int, int]] | None = None
) -> list[LoopRegion]:
    """Loop regions: one per section, or the given ``(first_bar, last_bar)`` ranges."""
    if rate <= 0:
        raise ParameterError(f"sample rate must be > 0, got {rate}")
    starts = _bar_starts(tempo_map)
    total = len(starts) - 1
    ranges: list[tuple[str, int, int]] = []
    if loops:
        for first, last in loops:
            if not 1 <= first <= last <= total:
                raise ParameterError(f"loop {first}-{last} is outside the map (bars 1..{total})")
            ranges.append((f"bars {first}-{last}", first, last))
    else:
        for i, section in enumerate(tempo_map.sections):
            first = tempo_map.first_bar_of(i)
            ranges.append((_name(section, i), first, first + section.bars - 1))
    out = []
    for name, first, last in ranges:
        start, end = starts[first - 1], starts[last]
        exact = (end - start) * rate
        start_sample = math.floor(start * rate + Fraction(1, 2))
        end_sample = math.floor(end * rate + Fraction(1, 2))
        out.append(
            LoopRegion(
                name,
                first,
                last,
                float(start),
                float(end),
                start_sample,
                end_sample,
                end_sample - start_sample,
                float(exact),
                exact.denominator == 1,
            )
        )
    return out


def drift_report(tempo_map: TempoMap, rate: int) -> list[DriftLine]:
    """Samples per beat of every constant-tempo section (ramps have no single value)."""
    line = Timeline(_music(tempo_map))
    lines = []
    for i, section in enumerate(tempo_map.sections):
        if section.is_ramp or section.steps is not None or section.tempi is not None:
            continue
        # grouped beats are uneven: count the meter's pulses instead
        per_bar = section.meter.count if section.meter.grouping else section.beats_per_bar
        seconds_per_beat = line.section_duration(i) / (section.bars * per_bar)
        samples = seconds_per_beat * rate
        bpm = 60 / seconds_per_beat
        whole = round(samples) or 1
        lines.append(
            DriftLine(
                _name(section, i), bpm, samples, samples.denominator == 1, bpm * samples / whole
            )
        )
    return lines


def game_json(
    tempo_map: TempoMap,
    rate: int,
    every: str = "beat",
    loops: Sequence[tuple[int, int]] | None = None,
) -> str:
    """Cue points, loop regions and the drift report as one JSON document."""
    drift = drift_report(tempo_map, rate)
    data: dict[str, Any] = {
        "sample_rate": rate,
        "cue_points": [asdict(c) for c in cue_points(tempo_map, rate, every)],
        "loops": [asdict(x) for x in loop_regions(tempo_map, rate, loops)],
        "drift": [
            {
                "section": d.section,
                "bpm": float(d.bpm),
                "samples_per_beat": float(d.samples_per_beat),
                "samples_per_beat_exact": str(d.samples_per_beat),
                "whole": d.whole,
                "suggestion_bpm": float(d.suggestion_bpm),
            }
            for d in drift
        ],
    }
    return json.dumps(data, indent=1) + "\n"


GAME_CSV_HEADER = (
    "kind",
    "name",
    "bar",
    "beat",
    "time_s",
    "sample",
    "end_bar",
    "end_s",
    "end_sample",
    "length_samples",
    "whole_samples",
)


def game_csv_rows(
    tempo_map: TempoMap,
    rate: int,
    every: str = "beat",
    loops: Sequence[tuple[int, int]] | None = None,
    with_loops: bool = True,
) -> list[tuple[object, ...]]:
    """Rows for one CSV: cue points (kind ``bar``/``beat``) then loops (kind ``loop``)."""
    rows: list[tuple[object, ...]] = [
        (c.kind, c.cue or c.section, c.bar, c.beat, f"{c.time_s:.9f}", c.sample, "", "", "", "", "")
        for c in cue_points(tempo_map, rate, every)
    ]
    if with_loops:
        rows.extend(
            (
                "loop",
                x.name,
                x.first_bar,
                1,
                f"{x.start_s:.9f}",
                x.start_sample,
                x.last_bar,
                f"{x.end_s:.9f}",
                x.end_sample,
                x.length_samples,
                str(x.whole_samples).lower(),
            )
            for x in loop_regions(tempo_map, rate, loops)
        )
    return rows


def parse_loop(text: str) -> tuple[int, int]:
    """``"5-8"`` -> (5, 8); ``"5"`` -> (5, 5).

    >>> parse_loop("5-8"), parse_loop("3")
    ((5, 8), (3, 3))
    """
    first, _, last = text.strip().partition("-")
    try:
        a, b = int(first), int(last or first)
    except ValueError:
        raise ParameterError(f"--loop: expected bars such as 5-8, got {text!r}") from None
    if a < 1 or b < a:
        raise ParameterError(
            f"--loop: expected FIRST-LAST bars with 1 <= FIRST <= LAST, got {text!r}"
        )
    return a, b
