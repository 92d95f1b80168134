"""The click grid: every click of a tempo map, computed once, read by every output.

:func:`build_grid` is the one place where a :class:`~ictus.tempomap.model.TempoMap`
becomes time. Click positions are exact quarter-note offsets; times come from the closed
forms in :mod:`ictus.tempomap.ramps` added to exactly summed section starts, so nothing
accumulates: the millionth click is as exact as the first.

>>> from ictus.tempomap.model import Section, Tempo, TempoMap, CountIn
>>> grid = build_grid(TempoMap((Section(2, Tempo(120)),), count_in=CountIn(bars=1)))
>>> len(grid), grid.time[:5].tolist(), grid.bar[:5].tolist(), grid.beat[:5].tolist()
(12, [0.0, 0.5, 1.0, 1.5, 2.0], [0, 0, 0, 0, 1], [1, 2, 3, 4, 1])
>>> grid.duration, int(grid.samples(48000)[4])
(6.0, 96000)
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.limits import MAX_CLICKS, MAX_DURATION_S
from ictus.tempomap import ramps
from ictus.tempomap.model import ACCENT, LEVELS, NORMAL, SILENT, SUB, Section, TempoMap

COUNT_IN = "count-in"


@dataclass(frozen=True)
class GridCue:
    """A text cue placed in time."""

    time: float
    bar: int
    beat: int
    text: str
    section: str


@dataclass(frozen=True, eq=False)
class ClickGrid:
    """Every click of a map as parallel numpy arrays, in time order.

    Attributes
    ----------
    time : float64 seconds from the start of the render (count-in included)
    bar : int32, map bar number from 1 (count-in bars are 0, -1, ...)
    beat : int32, beat in the bar from 1
    sub : int16, 0 on the beat, 1..n-1 on subdivisions
    level : int8 code into :data:`~ictus.tempomap.model.LEVELS`
    volume : float32 gain from the map (section volume, sub volume, count-in volume)
    section : int32 index into ``section_names`` (a map may have more than 32,767)
    tempo : float64 quarter-note tempo at the click (scale applied)
    position : float64 quarter notes from the first bar of the map (count-in negative)
    """

    time: NDArray[np.float64]
    bar: NDArray[np.int32]
    beat: NDArray[np.int32]
    sub: NDArray[np.int16]
    level: NDArray[np.int8]
    volume: NDArray[np.float32]
    section: NDArray[np.int32]
    tempo: NDArray[np.float64]
    position: NDArray[np.float64]
    section_names: tuple[str, ...]
    duration: float
    cues: tuple[GridCue, ...] = ()
    title: str | None = None

    def __len__(self) -> int:
        return len(self.time)

    def samples(self, rate: int) -> NDArray[np.int64]:
        """The sample where each click starts at ``rate``: ``round(time * rate)``."""
        if rate <= 0:
            raise ParameterError(f"sample rate must be > 0, got {rate}")
        return np.rint(self.time * rate).astype(np.int64)

    def level_names(self) -> list[str]:
        return [LEVELS[i] for i in self.level]

    def audible(self) -> NDArray[np.bool_]:
        mask: NDArray[np.bool_] = self.level != SILENT
        return mask

    def at(self, index: int) -> dict[str, Any]:
        """One click as a plain dict (for display and tests)."""
        return {
            "time": float(self.time[index]),
            "bar": int(self.bar[index]),
            "beat": int(self.beat[index]),
            "sub": int(self.sub[index]),
            "level": LEVELS[self.level[index]],
            "tempo": float(self.tempo[index]),
            "section": self.section_names[self.section[index]],
        }


@dataclass(frozen=True)
class _Timing:
    """Exact start (seconds, unscaled) of every section and the end of the map."""

    starts: tuple[Fraction, ...]
    end: Fraction


def section_duration(section: Section) -> Fraction:
    """Seconds one section lasts at scale 1 (exact for constant and stepped tempos)."""
    steps = piecewise(section)
    if steps is not None:
        return steps[2][-1]
    t0, t1 = section.start_quarter_bpm, section.end_quarter_bpm
    length = section.length_quarters
    if t0 == t1:
        return length * 60 / t0
    # Fraction(float) is exact, so summing section starts adds no error of its own
    return Fraction(ramps.duration(float(t0), float(t1), float(length), section.ramp))


def piecewise(
    section: Section,
) -> tuple[list[Fraction], list[Fraction], list[Fraction]] | None:
    """A stepped section's tempo as breakpoints, or None for a constant tempo or ramp.

    Returns ``(positions, tempos, times)``: the tempo ``tempos[k]`` holds from quarter
    position ``positions[k]`` (section-relative) until the next one, and ``times[k]`` is
    the exact time of ``positions[k]``. The lists end with the section's end (its
    position and time, the last tempo repeated). klick's per-beat lists are steps at
    every beat.
    """
    if section.tempi is not None:
        lengths = _beat_lengths(section)
        per_bar = len(lengths)
        positions, at = [], Fraction(0)
        for i in range(len(section.tempi)):
            positions.append(at)
            at += lengths[i % per_bar]
        tempos = list(section.tempi)
    elif section.steps is not None:
        positions = [Fraction(0), *(q for q, _ in section.steps)]
        tempos = [section.tempo.quarter_bpm, *(t for _, t in section.steps)]
    else:
        return None
    positions.append(section.length_quarters)
    tempos.append(tempos[-1])
    times, t = [Fraction(0)], Fraction(0)
    for k in range(len(positions) - 1):
        t += (positions[k + 1] - positions[k]) * 60 / tempos[k]
        times.append(t)
    return positions, tempos, times


def _beat_lengths(section: Section) -> tuple[Fraction, ...]:
    offsets = section.beat_offsets()
    ends = (*offsets[1:], section.bar_quarters)
    return tuple(e - s for s, e in zip(offsets, ends, strict=True))


def _timing(tempo_map: TempoMap) -> _Timing:
    # kept on the (immutable) map: reading, checking and building each ask for it
    cached: _Timing | None = tempo_map.__dict__.get("_timing")
    if cached is not None:
        return cached
    starts, at = [], Fraction(0)
    for section in tempo_map.sections:
        starts.append(at)
        at += section_duration(section)
    timing = _Timing(tuple(starts), at)
    object.__setattr__(tempo_map, "_timing", timing)
    return timing


def clicks_per_bar(section: Section) -> int:
    """How many clicks (beats and subdivisions, silent ones too) one bar of ``section`` has.

    >>> from ictus.tempomap.model import Meter, Tempo
    >>> clicks_per_bar(Section(1, Tempo(120), meter=Meter(7, 8, (2, 2, 3)), sub=2))
    6
    """
    return sum(len(subs) for subs in section.sub_offsets())


def check_size(tempo_map: TempoMap) -> None:
    """Refuse a map beyond ictus's documented limits, before any click is built.

    The clicks are counted bar by bar template (no grid), stopping as soon as the
    limit is passed, so ``1000000000 4/4 120`` is refused at once.

    >>> from ictus.tempomap.model import Tempo
    >>> check_size(TempoMap((Section(10_000_000, Tempo(120)),)))
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: more than 10,000,000 clicks, ictus's limit (reached in section 1)
    """
    clicks = 0
    for i, section in enumerate(tempo_map.sections):
        clicks += section.bars * clicks_per_bar(section)
        if clicks > MAX_CLICKS:
            raise ParameterError(
                f"more than {MAX_CLICKS:,} clicks, ictus's limit (reached in section {i + 1})"
            )
    seconds = _timing(tempo_map).end / tempo_map.scale
    if seconds > MAX_DURATION_S:
        raise ParameterError(
            f"the map lasts {float(seconds) / 3600:,.1f} h, more than ictus's limit of "
            f"{MAX_DURATION_S // 3600} h"
        )
    start = tempo_map.start
    if start is not None:
        from ictus.timebase.timecode import frames_per_day, seconds_to_frames

        end = start.to_frame() + seconds_to_frames(seconds, start.rate, "ceil")
        if end > frames_per_day(start.rate):
            raise ParameterError(
                f"the map starts at {start} and lasts {float(seconds):.1f} s: it runs past "
                "24 h of timecode; start it earlier"
            )


class MapSummary(NamedTuple):
    """What a grid would say about its map, computed without building it."""

    duration: float  #: seconds from the first click to the map's end (count-in included)
    lead: float  #: seconds of count-in before bar 1
    clicks: int  #: every click, silent ones included
    sounding: int  #: clicks that are not silent


def summarize(tempo_map: TempoMap) -> MapSummary:
    """Duration, count-in and click counts of ``build_grid(tempo_map)``, in memory per bar.

    Equal to what the grid gives (``grid.duration``, ``len(grid)``,
    ``grid.audible().sum()``), but one bar's clicks per section are all it builds:
    ``ictus info`` on a long map needs no gigabytes.

    >>> from ictus.tempomap.model import CountIn, Tempo
    >>> summarize(TempoMap((Section(2, Tempo(120), pattern="X.x."),), count_in=CountIn(1)))
    MapSummary(duration=6.0, lead=2.0, clicks=12, sounding=8)
    """
    check_size(tempo_map)
    timing = _timing(tempo_map)
    scale = float(tempo_map.scale)
    lead = Fraction(0)
    clicks = 0
    count_in = tempo_map.count_in
    if count_in:
        first = tempo_map.sections[0]
        tempo = _tempo_in_section(first, Fraction(0))
        cols, lead = _count_in_clicks(
            first, count_in.bars, count_in.beats, count_in.volume, tempo
        )
        clicks = len(cols["time"])
    sounding = clicks  # a count-in always sounds
    for section in tempo_map.sections:
        levels = _bar_template(section)[3]
        clicks += section.bars * len(levels)
        sounding += section.bars * int(np.count_nonzero(levels != SILENT))
    return MapSummary(float(timing.end + lead) / scale, float(lead) / scale, clicks, sounding)


def section_times(tempo_map: TempoMap) -> list[tuple[Fraction, Fraction]]:
    """(start, duration) in seconds of every section, at scale 1, without count-in.

    >>> from ictus.tempomap.model import Section, Tempo, TempoMap
    >>> section_times(TempoMap((Section(2, Tempo(120)), Section(1, Tempo(60)))))
    [(Fraction(0, 1), Fraction(4, 1)), (Fraction(4, 1), Fraction(4, 1))]
    """
    timing = _timing(tempo_map)
    ends = (*timing.starts[1:], timing.end)
    return [(s, e - s) for s, e in zip(timing.starts, ends, strict=True)]


def _bar_template(section: Section) -> tuple[NDArray[Any], ...]:
    """One bar's clicks: offsets (quarters), beat numbers, sub numbers, levels."""
    offsets = section.beat_offsets()
    levels = section.beat_levels()
    offs, beats, subs, lvls = [], [], [], []
    for b, (start, sub_offs) in enumerate(zip(offsets, section.sub_offsets(), strict=True)):
        for k, off in enumerate(sub_offs):
            offs.append(start + off)
            beats.append(b + 1)
            subs.append(k)
            lvls.append(levels[b] if k == 0 else SUB)
    if section.mute:
        lvls = [SILENT] * len(lvls)
    return (
        np.array([float(o) for o in offs]),
        np.array(beats, dtype=np.int32),
        np.array(subs, dtype=np.int16),
        np.array(lvls, dtype=np.int8),
    )


def _section_clicks(
    section: Section, first_bar: int, bar_from: int
) -> tuple[dict[str, NDArray[Any]], NDArray[np.float64], NDArray[np.float64]]:
    """Clicks of bars ``bar_from..`` of a section: (columns, seconds from section start, tempo)."""
    offs, beats, subs, lvls = _bar_template(section)
    bar_q = float(section.bar_quarters)
    nbars = section.bars - bar_from
    per_bar = len(offs)
    bar_idx = np.repeat(np.arange(bar_from, section.bars, dtype=np.int64), per_bar)
    q = bar_idx * bar_q + np.tile(offs, nbars)
    steps = piecewise(section)
    if steps is not None:
        positions, tempos, times = steps
        qb = np.array([float(p) for p in positions])
        seg = np.searchsorted(qb, q, side="right") - 1
        seg = np.clip(seg, 0, len(qb) - 2)
        tempo_arr = np.array([float(t) for t in tempos])
        seconds = np.array([float(t) for t in times])[seg] + (q - qb[seg]) * 60.0 / tempo_arr[seg]
        tempo = tempo_arr[seg]
    else:
        t0, t1 = float(section.start_quarter_bpm), float(section.end_quarter_bpm)
        length = float(section.length_quarters)
        seconds = ramps.seconds(q, t0, t1, length, section.ramp)
        tempo = ramps.tempo_at(q, t0, t1, length, section.ramp)
    volume = np.full(len(q), section.volume, dtype=np.float32)
    volume[np.tile(subs, nbars) > 0] *= section.sub_volume
    cols = {
        "bar": (first_bar + bar_idx).astype(np.int32),
        "beat": np.tile(beats, nbars),
        "sub": np.tile(subs, nbars),
        "level": np.tile(lvls, nbars),
        "volume": volume,
        "q": q,
    }
    return cols, seconds, tempo


def times_in_section(section: Section, qs: Sequence[Fraction]) -> list[Fraction]:
    """Seconds (scale 1) from a section's start to each quarter position in ``qs``.

    Exact for constant and stepped tempos; a ramp's closed form is a float made exact
    (``Fraction(float)``). Exporters that need times at arbitrary positions call this
    rather than repeating the dispatch over the section's kinds.

    >>> from ictus.tempomap.model import Section, Tempo
    >>> times_in_section(Section(1, Tempo(120), steps=((Fraction(2), Fraction(60)),)),
    ...                  [Fraction(1), Fraction(3)])
    [Fraction(1, 2), Fraction(2, 1)]
    """
    steps = piecewise(section)
    if steps is not None:
        positions, tempos, times = steps
        out = []
        for q in qs:
            k = min(max(bisect.bisect_right(positions, q) - 1, 0), len(positions) - 2)
            out.append(times[k] + (q - positions[k]) * 60 / tempos[k])
        return out
    t0, t1 = section.start_quarter_bpm, section.end_quarter_bpm
    if t0 == t1:
        return [q * 60 / t0 for q in qs]
    seconds = ramps.seconds(
        np.array([float(q) for q in qs]),
        float(t0),
        float(t1),
        float(section.length_quarters),
        section.ramp,
    )
    # the closed form at 0 is 0 already; keep it exactly 0
    return [Fraction(float(s)) if q else Fraction(0) for q, s in zip(qs, seconds, strict=True)]


def _time_in_section(section: Section, q: Fraction) -> Fraction:
    """Exact-as-possible seconds from a section's start to quarter position ``q``."""
    return times_in_section(section, [q])[0]


def _tempo_in_section(section: Section, q: Fraction) -> float:
    steps = piecewise(section)
    if steps is not None:
        positions, tempos, _ = steps
        return float(tempos[max(i for i, p in enumerate(positions[:-1]) if p <= q)])
    t0, t1 = float(section.start_quarter_bpm), float(section.end_quarter_bpm)
    arr = ramps.tempo_at(np.array([float(q)]), t0, t1, float(section.length_quarters), section.ramp)
    return float(arr[0])


def build_grid(
    tempo_map: TempoMap,
    *,
    start_label: str | None = None,
    start_bar: int | None = None,
) -> ClickGrid:
    """Compute every click of ``tempo_map``.

    Parameters
    ----------
    tempo_map : TempoMap
    start_label, start_bar : optional
        Start at the first section with this label, or at this 1-based map bar. The
        count-in (if any) then plays at the tempo found there, and time 0 is the first
        count-in click (or the start bar's downbeat without a count-in).

    Returns
    -------
    ClickGrid
        Silent clicks (pattern ``.``, muted bars) are included with level ``silent``.
    """
    if start_label is not None and start_bar is not None:
        raise ParameterError("start from a label or from a bar, not both")
    if start_label is not None:
        index = tempo_map.section_index(start_label)
        i0, b0 = index, 0
    elif start_bar is not None:
        i0, b0 = tempo_map.bar_start(start_bar)
    else:
        i0, b0 = 0, 0

    check_size(tempo_map)
    timing = _timing(tempo_map)
    first = tempo_map.sections[i0]
    origin_q = b0 * first.bar_quarters
    origin = timing.starts[i0] + _time_in_section(first, origin_q)
    scale = float(tempo_map.scale)

    names: list[str] = [COUNT_IN]
    name_index: dict[str, int] = {COUNT_IN: 0}
    parts: list[dict[str, NDArray[Any]]] = []

    # count-in: at the tempo where playback starts, in that section's meter
    count_in = tempo_map.count_in
    lead = Fraction(0)
    if count_in:
        tempo_start = _tempo_in_section(first, origin_q)
        parts_ci, lead = _count_in_clicks(
            first, count_in.bars, count_in.beats, count_in.volume, tempo_start
        )
        parts.append(parts_ci)

    map_q_starts = []
    acc = Fraction(0)
    for section in tempo_map.sections:
        map_q_starts.append(acc)
        acc += section.length_quarters

    cues: list[GridCue] = []
    for i in range(i0, len(tempo_map.sections)):
        section = tempo_map.sections[i]
        bar_from = b0 if i == i0 else 0
        name = section.label or ""
        if name not in name_index:
            name_index[name] = len(names)
            names.append(name)
        cols, seconds, tempo = _section_clicks(section, tempo_map.first_bar_of(i), bar_from)
        if i == i0 and bar_from > 0:
            # starting mid-section: measure from the start bar's own (float) downbeat, so
            # the first click is exactly at the count-in's end, not a rounding error off
            cols["time"] = float(lead) + (seconds - seconds[0])
        else:
            cols["time"] = float(timing.starts[i] - origin + lead) + seconds
        cols["tempo"] = tempo
        cols["section"] = np.full(len(seconds), name_index[name], dtype=np.int32)
        cols["position"] = float(map_q_starts[i]) + cols.pop("q")
        parts.append(cols)
        for cue in section.cues:
            if cue.bar - 1 < bar_from:
                continue
            q = (cue.bar - 1) * section.bar_quarters + section.beat_offsets()[cue.beat - 1]
            t = timing.starts[i] - origin + lead + _time_in_section(section, q)
            cues.append(
                GridCue(
                    float(t) / scale,
                    tempo_map.first_bar_of(i) + cue.bar - 1,
                    cue.beat,
                    cue.text,
                    name,
                )
            )

    def cat(key: str, dtype: Any) -> NDArray[Any]:
        return np.concatenate([p[key] for p in parts]).astype(dtype, copy=False)

    time = cat("time", np.float64)
    if scale != 1.0:
        time = time / scale
    return ClickGrid(
        time=time,
        bar=cat("bar", np.int32),
        beat=cat("beat", np.int32),
        sub=cat("sub", np.int16),
        level=cat("level", np.int8),
        volume=cat("volume", np.float32),
        section=cat("section", np.int32),
        tempo=cat("tempo", np.float64) * scale,
        position=cat("position", np.float64),
        section_names=tuple(names),
        duration=float(timing.end - origin + lead) / scale,
        cues=tuple(cues),
        title=tempo_map.title,
    )


def _count_in_clicks(
    section: Section, bars: int, beats: int, volume: float, tempo: float
) -> tuple[dict[str, NDArray[Any]], Fraction]:
    """Count-in clicks at constant ``tempo``; returns columns (time from 0) and its length."""
    tempo_q = Fraction(tempo)
    offsets = section.beat_offsets()
    if bars:
        per_bar = len(offsets)
        bar_q = section.bar_quarters
        q = [b * bar_q + o for b in range(bars) for o in offsets]
        bar_no = [b - bars + 1 for b in range(bars) for _ in offsets]
        beat_no = [k + 1 for _ in range(bars) for k in range(per_bar)]
        total_q = bars * bar_q
    else:
        # the bar's own beats in order (2+2+3 stays uneven), repeated if N is longer
        lengths = _beat_lengths(section)
        q, at = [], Fraction(0)
        for k in range(beats):
            q.append(at)
            at += lengths[k % len(lengths)]
        bar_no = [0] * beats
        beat_no = list(range(1, beats + 1))
        total_q = at
    n = len(q)
    levels = np.full(n, NORMAL, dtype=np.int8)
    levels[np.array(beat_no) == 1] = ACCENT
    lead = total_q * 60 / tempo_q
    cols = {
        "time": np.array([float(x * 60 / tempo_q) for x in q]),
        "bar": np.array(bar_no, dtype=np.int32),
        "beat": np.array(beat_no, dtype=np.int32),
        "sub": np.zeros(n, dtype=np.int16),
        "level": levels,
        "volume": np.full(n, volume, dtype=np.float32),
        "section": np.zeros(n, dtype=np.int32),
        "tempo": np.full(n, tempo),
        "position": np.array([float(x - total_q) for x in q]),
    }
    return cols, lead
