"""The click grid: every click of a tempo map, computed once, read by every output.

:func:`build_grid` turns a :class:`~ictus.tempomap.model.TempoMap` into clicks. Click
positions are exact quarter-note offsets; their times come from the map's
:class:`~ictus.tempomap.timeline.Timeline` (closed forms added to exactly summed section
starts), so nothing accumulates: the millionth click is as exact as the first. The grid
keeps that timeline, so every other question about time goes to the same place.

>>> from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap
>>> grid = build_grid(TempoMap((Section(2, Tempo(120)),), count_in=CountIn(bars=1)))
>>> len(grid), grid.time[:5].tolist(), grid.bar[:5].tolist(), grid.beat[:5].tolist()
(12, [0.0, 0.5, 1.0, 1.5, 2.0], [0, 0, 0, 0, 1], [1, 2, 3, 4, 1])
>>> grid.duration, int(grid.samples(48000)[4])
(6.0, 96000)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.limits import MAX_CLICKS, MAX_DURATION_S
from ictus.tempomap.model import Level, Section, TempoMap
from ictus.tempomap.timeline import Timeline

# kept importable from here for older callers; they live in the timeline now
from ictus.tempomap.timeline import piecewise as piecewise
from ictus.tempomap.timeline import section_duration as section_duration
from ictus.tempomap.timeline import section_times as section_times
from ictus.tempomap.timeline import times_in_section as times_in_section

COUNT_IN = "count-in"


class GridCue(NamedTuple):
    """A text cue placed in time."""

    time: float
    bar: int
    beat: int
    text: str
    section: str


class LayerClicks(NamedTuple):
    """The clicks of the polyrhythm layers, in time order, beside the beat grid.

    They are kept apart from the beats so that bar lines, beat lists and exports read
    the beats alone; the mixer sounds both. ``layer`` indexes the grid's
    :attr:`ClickGrid.layer_voices`; ``pulse`` counts the layer's clicks in a bar from 1.
    """

    time: NDArray[np.float64]
    bar: NDArray[np.int32]
    pulse: NDArray[np.int32]
    layer: NDArray[np.int16]
    level: NDArray[np.int8]
    volume: NDArray[np.float32]
    position: NDArray[np.float64]

    @classmethod
    def none(cls) -> LayerClicks:
        return cls(
            np.zeros(0),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0, np.int16),
            np.zeros(0, np.int8),
            np.zeros(0, np.float32),
            np.zeros(0),
        )


#: A layer's voice as the grid names it: (its place among its section's layers, its
#: sound or None). The mixer turns None into a sound unlike the main click's.
LayerVoice = tuple[int, str | None]


@dataclass(frozen=True, eq=False)
class ClickGrid:
    """Every click of a map as parallel numpy arrays, in time order.

    Attributes
    ----------
    time : float64 seconds from the start of the render (count-in included)
    bar : int32, map bar number from 1 (count-in bars are 0, -1, ...)
    beat : int32, beat in the bar from 1
    sub : int16, 0 on the beat, 1..n-1 on subdivisions
    level : int8 :class:`~ictus.tempomap.model.Level` code
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
    #: The timeline the grid was built from (its start, origin and count-in lead).
    timeline: Timeline | None = None
    #: Polyrhythm layer clicks (:class:`LayerClicks`), empty without layers.
    layers: LayerClicks = field(default_factory=LayerClicks.none)
    #: The voice of each layer index of :attr:`layers`.
    layer_voices: tuple[LayerVoice, ...] = ()
    #: Map bars a gap click mutes (they keep their clicks, at level ``silent``).
    gap_bars: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.time)

    def samples(self, rate: int) -> NDArray[np.int64]:
        """The sample where each click starts at ``rate``: ``round(time * rate)``."""
        if rate <= 0:
            raise ParameterError(f"sample rate must be > 0, got {rate}")
        return np.rint(self.time * rate).astype(np.int64)

    def map_times(self) -> NDArray[np.float64]:
        """Each click's time from bar 1's downbeat of the map, wherever the grid starts.

        Count-in clicks come out negative (before the start bar's downbeat).

        >>> from ictus.tempomap.model import CountIn, Section, Tempo, TempoMap
        >>> m = TempoMap((Section(2, Tempo(120)),), count_in=CountIn(bars=1))
        >>> build_grid(m, start_bar=2).map_times()[:6].tolist()
        [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
        """
        if self.timeline is None:
            raise ParameterError("this grid was not built from a map: it has no timeline")
        line = self.timeline
        shifted: NDArray[np.float64] = self.time + float(line.origin - line.lead)
        return shifted

    def level_names(self) -> list[str]:
        names = [level.label for level in Level]
        return [names[i] for i in self.level.tolist()]

    @property
    def count_in(self) -> NDArray[np.bool_]:
        """Which clicks belong to the count-in (their bars are numbered 0, -1, ...).

        The mixer gives them the count-in voice when there is one (``--count-in-sound``).

        >>> from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap
        >>> m = TempoMap((Section(1, Tempo(120), Meter(2, 4)),), count_in=CountIn(beats=3))
        >>> build_grid(m).count_in.tolist()
        [True, True, True, False, False]
        """
        mask: NDArray[np.bool_] = self.bar <= 0
        return mask

    def audible(self) -> NDArray[np.bool_]:
        mask: NDArray[np.bool_] = self.level != Level.SILENT
        return mask

    def at(self, index: int) -> dict[str, Any]:
        """One click as a plain dict (for display and tests)."""
        return {
            "time": float(self.time[index]),
            "bar": int(self.bar[index]),
            "beat": int(self.beat[index]),
            "sub": int(self.sub[index]),
            "level": Level(int(self.level[index])).label,
            "tempo": float(self.tempo[index]),
            "section": self.section_names[self.section[index]],
        }


def _sub_level(section: Section, k: int, beat_level: int) -> int:
    """Level of click ``k`` of a beat (0: the beat itself), after the sub-pattern.

    ``X`` accents it, ``.`` silences it, ``x`` leaves it as it is.
    """
    level = beat_level if k == 0 else Level.SUB
    mark = section.sub_pattern[k] if section.sub_pattern is not None else "x"
    if mark == ".":
        return Level.SILENT
    if mark == "X" and level != Level.SILENT:
        return Level.ACCENT
    return level


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
            lvls.append(_sub_level(section, k, levels[b]))
    if section.mute:
        lvls = [Level.SILENT] * len(lvls)
    return (
        np.array([float(o) for o in offs]),
        np.array(beats, dtype=np.int32),
        np.array(subs, dtype=np.int16),
        np.array(lvls, dtype=np.int8),
    )


def _section_clicks(
    line: Timeline, index: int, template: tuple[NDArray[Any], ...], bar_from: int, bar_to: int
) -> tuple[dict[str, NDArray[Any]], NDArray[np.float64], NDArray[np.float64]]:
    """Clicks of bars ``bar_from..bar_to - 1`` (from 0) of a section: (columns, seconds
    from the section start, tempo).

    Every value is computed from the bar number and the bar's template alone, so a few
    bars at a time give exactly the numbers the whole section at once would.
    """
    section = line.tempo_map.sections[index]
    offs, beats, subs, lvls = template
    bar_q = float(section.bar_quarters)
    nbars = bar_to - bar_from
    per_bar = len(offs)
    bar_idx = np.repeat(np.arange(bar_from, bar_to, dtype=np.int64), per_bar)
    q = bar_idx * bar_q + np.tile(offs, nbars)
    seconds, tempo = line.section_clock(index, q)
    volume = np.full(len(q), section.volume, dtype=np.float32)
    volume[np.tile(subs, nbars) > 0] *= section.sub_volume
    levels = np.tile(lvls, nbars)
    if section.gap is not None:
        # a gap bar keeps its clicks (the grid still counts it), silent
        levels[np.isin(bar_idx, section.gap_bars())] = Level.SILENT
    cols = {
        "bar": (line.tempo_map.first_bar_of(index) + bar_idx).astype(np.int32),
        "beat": np.tile(beats, nbars),
        "sub": np.tile(subs, nbars),
        "level": levels,
        "volume": volume,
        "q": q,
    }
    return cols, seconds, tempo


def layer_offsets(section: Section, pulses: int) -> tuple[Fraction, ...]:
    """Where a layer of ``pulses`` clicks falls in a bar: ``k * bar / pulses`` quarters.

    >>> from ictus.tempomap.model import Tempo
    >>> [str(q) for q in layer_offsets(Section(1, Tempo(120)), 3)]
    ['0', '4/3', '8/3']
    """
    return tuple(k * section.bar_quarters / pulses for k in range(pulses))


def _layer_clicks(
    line: Timeline, index: int, bar_from: int, voices: dict[LayerVoice, int]
) -> list[dict[str, NDArray[Any]]]:
    """The layer clicks of bars ``bar_from..`` of a section (times from the section start)."""
    section = line.tempo_map.sections[index]
    nbars = section.bars - bar_from
    bar_idx = np.arange(bar_from, section.bars, dtype=np.int64)
    silent = np.isin(bar_idx, section.gap_bars()) | section.mute
    out = []
    for j, layer in enumerate(section.layers):
        key = (j, layer.sound)
        voice = voices.setdefault(key, len(voices))
        offs = np.array([float(o) for o in layer_offsets(section, layer.pulses)])
        n = layer.pulses
        q = np.repeat(bar_idx, n) * float(section.bar_quarters) + np.tile(offs, nbars)
        seconds, _ = line.section_clock(index, q)
        # every layer click is a normal one: the bar's accent is the beat's already, and
        # a second accent on the same downbeat would only be louder, not clearer
        level = np.full(n * nbars, Level.NORMAL, dtype=np.int8)
        level[np.repeat(silent, n)] = Level.SILENT
        out.append(
            {
                "seconds": seconds,
                "bar": (line.tempo_map.first_bar_of(index) + np.repeat(bar_idx, n)).astype(
                    np.int32
                ),
                "pulse": np.tile(np.arange(1, n + 1, dtype=np.int32), nbars),
                "layer": np.full(len(q), voice, dtype=np.int16),
                "level": level,
                "volume": np.full(len(q), section.volume, dtype=np.float32),
                "q": q,
            }
        )
    return out


def clicks_per_bar(section: Section) -> int:
    """How many clicks (beats and subdivisions, silent ones too) one bar of ``section`` has.

    >>> from ictus.tempomap.model import Meter, Tempo
    >>> clicks_per_bar(Section(1, Tempo(120), meter=Meter(7, 8, (2, 2, 3)), sub=2))
    6
    """
    return sum(len(subs) for subs in section.sub_offsets())


def check_size(tempo_map: TempoMap, line: Timeline | None = None) -> Timeline:
    """Refuse a map beyond ictus's documented limits, before any click is built.

    The clicks are counted per bar template (no grid), stopping as soon as the limit is
    passed, so ``1000000000 4/4 120`` is refused at once. Returns the map's timeline.

    >>> from ictus.tempomap.model import Tempo
    >>> check_size(TempoMap((Section(10_000_000, Tempo(120)),)))
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: more than 10,000,000 clicks, ictus's limit (reached in section 1)
    """
    clicks = 0
    for i, section in enumerate(tempo_map.sections):
        layer_clicks = sum(layer.pulses for layer in section.layers)
        clicks += section.bars * (clicks_per_bar(section) + layer_clicks)
        if clicks > MAX_CLICKS:
            raise ParameterError(
                f"more than {MAX_CLICKS:,} clicks, ictus's limit (reached in section {i + 1})"
            )
    line = line or _timeline_of(tempo_map)
    seconds = line.end / tempo_map.scale
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
    return line


def _timeline_of(tempo_map: TempoMap) -> Timeline:
    """The map's timeline from its first bar, made once per (immutable) map.

    Reading checks the limits, then ``info`` summarises: one timeline serves both.
    """
    line: Timeline | None = tempo_map.__dict__.get("_timeline")
    if line is None:
        line = Timeline(tempo_map)
        object.__setattr__(tempo_map, "_timeline", line)
    return line


class MapSummary(NamedTuple):
    """What a grid would say about its map, computed without building it."""

    duration: float  #: seconds from the first click to the map's end (count-in included)
    lead: float  #: seconds of count-in before bar 1
    clicks: int  #: every click, silent ones included
    sounding: int  #: clicks that are not silent


def summarize(tempo_map: TempoMap, line: Timeline | None = None) -> MapSummary:
    """Duration, count-in and click counts of ``build_grid(tempo_map)``, one bar at a time.

    Equal to what the grid gives (``grid.duration``, ``len(grid)``,
    ``grid.audible().sum()``), but one bar's clicks per section are all it builds:
    ``ictus info`` on a long map needs no gigabytes.

    >>> from ictus.tempomap.model import CountIn, Tempo
    >>> summarize(TempoMap((Section(2, Tempo(120), pattern="X.x."),), count_in=CountIn(1)))
    MapSummary(duration=6.0, lead=2.0, clicks=12, sounding=8)
    """
    line = check_size(tempo_map, line)
    clicks = len(line.count_in_clicks()) if tempo_map.count_in else 0
    sounding = clicks  # a count-in always sounds
    for section in tempo_map.sections:
        levels = _bar_template(section)[3]
        clicks += section.bars * len(levels)
        heard = section.bars - len(section.gap_bars())
        sounding += heard * int(np.count_nonzero(levels != Level.SILENT))
    return MapSummary(float(line.duration), float(line.lead), clicks, sounding)


#: Clicks in one block of :func:`grid_blocks` (whole bars, so a block may hold more).
BLOCK_CLICKS = 1 << 14


def _section_names(tempo_map: TempoMap, first: int) -> tuple[list[str], dict[str, int]]:
    """The grid's section names in order of first use from section ``first`` on."""
    names: list[str] = [COUNT_IN]
    index: dict[str, int] = {COUNT_IN: 0}
    for section in tempo_map.sections[first:]:
        name = section.label or ""
        if name not in index:
            index[name] = len(names)
            names.append(name)
    return names, index


def grid_blocks(
    tempo_map: TempoMap,
    *,
    start_label: str | None = None,
    start_bar: int | None = None,
    clicks: int = BLOCK_CLICKS,
) -> Iterator[ClickGrid]:
    """The clicks of :func:`build_grid`, in order, a few whole bars at a time.

    Each block is a :class:`ClickGrid` of about ``clicks`` clicks (at least one bar;
    count-in and short sections are gathered into one block) holding exactly the
    numbers the whole grid holds at those places, with the grid's ``section_names``,
    ``duration`` and ``timeline``; cues, layers and gap bars are the whole grid's
    (:func:`build_grid`). Memory stays that of one block however long the map:
    ``ictus beats`` writes ten million clicks this way.

    >>> from ictus.tempomap.model import Tempo
    >>> m = TempoMap((Section(3, Tempo(120)), Section(2, Tempo(60), label="b")))
    >>> [len(b) for b in grid_blocks(m, clicks=6)]
    [8, 8, 4]
    >>> np.concatenate([b.time for b in grid_blocks(m, clicks=6)]).tolist() == (
    ...     build_grid(m).time.tolist())
    True
    """
    if clicks < 1:
        raise ParameterError(f"a block holds at least one click, got {clicks}")
    line = Timeline(tempo_map, start_label=start_label, start_bar=start_bar)
    check_size(tempo_map, line)
    i0, b0 = line.start_index, line.start_bar_offset
    names, name_index = _section_names(tempo_map, i0)
    empty: NDArray[Any] = np.empty(0)
    head = ClickGrid(
        *(empty,) * 9,
        section_names=tuple(names),
        duration=float(line.duration),
        title=tempo_map.title,
        timeline=line,
    )
    parts: list[dict[str, NDArray[Any]]] = []
    held = 0
    if tempo_map.count_in:
        parts.append(_count_in_clicks(line))
        held = len(parts[0]["time"])
    lead = float(line.lead * line.scale)
    for i in range(i0, len(tempo_map.sections)):
        section = tempo_map.sections[i]
        template = _bar_template(section)
        bar_from = b0 if i == i0 else 0
        step = max(1, clicks // len(template[0]))
        offset = float(line.unscaled_offset(i))
        first_seconds = None
        for lo in range(bar_from, section.bars, step):
            to = min(lo + step, section.bars)
            cols, seconds, tempo = _section_clicks(line, i, template, lo, to)
            if i == i0 and bar_from > 0:
                # starting mid-section: measure from the start bar's own (float) downbeat,
                # so the first click is exactly at the count-in's end, not a rounding
                # error off
                if first_seconds is None:
                    first_seconds = seconds[0]
                cols["time"] = lead + (seconds - first_seconds)
            else:
                cols["time"] = offset + seconds
            cols["tempo"] = tempo
            cols["section"] = np.full(len(seconds), name_index[section.label or ""], np.int32)
            cols["position"] = float(line.section_quarter(i)) + cols.pop("q")
            parts.append(cols)
            held += len(seconds)
            if held >= clicks:
                yield _block(head, parts)
                parts, held = [], 0
    if parts:
        yield _block(head, parts)


def _block(head: ClickGrid, parts: list[dict[str, NDArray[Any]]]) -> ClickGrid:
    """One block of clicks from its parts (times and tempos still at scale 1)."""

    def cat(key: str, dtype: Any) -> NDArray[Any]:
        return np.concatenate([p[key] for p in parts]).astype(dtype, copy=False)

    assert head.timeline is not None
    scale = float(head.timeline.scale)
    time = cat("time", np.float64)
    if scale != 1.0:
        time = time / scale
    return replace(
        head,
        time=time,
        bar=cat("bar", np.int32),
        beat=cat("beat", np.int32),
        sub=cat("sub", np.int16),
        level=cat("level", np.int8),
        volume=cat("volume", np.float32),
        section=cat("section", np.int32),
        tempo=cat("tempo", np.float64) * scale,
        position=cat("position", np.float64),
    )


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
        Its :attr:`~ClickGrid.timeline` answers time questions about the same start.
        The clicks are those of :func:`grid_blocks`, joined.
    """
    # one block the size of the limit: the whole grid, joined once
    (grid,) = grid_blocks(
        tempo_map, start_label=start_label, start_bar=start_bar, clicks=MAX_CLICKS + 1
    )
    assert grid.timeline is not None
    return _with_marks(grid, grid.timeline)


def _with_marks(grid: ClickGrid, line: Timeline) -> ClickGrid:
    """The grid with its cues, polyrhythm layers and gap bars, from where it starts."""
    tempo_map = line.tempo_map
    i0, b0 = line.start_index, line.start_bar_offset
    scale = float(tempo_map.scale)
    lead = float(line.lead * line.scale)
    cues: list[GridCue] = []
    layer_parts: list[dict[str, NDArray[Any]]] = []
    voices: dict[LayerVoice, int] = {}
    gap_bars: set[int] = set()
    # starting mid-section: layers are measured from the start bar's own downbeat, the
    # same float the beats are measured from (grid_blocks)
    first_seconds = 0.0
    if b0 > 0:
        start = tempo_map.sections[i0]
        first_seconds = _section_clicks(line, i0, _bar_template(start), b0, b0 + 1)[1][0]
    for i in range(i0, len(tempo_map.sections)):
        section = tempo_map.sections[i]
        bar_from = b0 if i == i0 else 0
        first_bar = tempo_map.first_bar_of(i)
        gap_bars.update(first_bar + b for b in section.gap_bars() if b >= bar_from)
        for layer in _layer_clicks(line, i, bar_from, voices):
            if i == i0 and bar_from > 0:
                layer["time"] = lead + (layer.pop("seconds") - first_seconds)
            else:
                layer["time"] = float(line.unscaled_offset(i)) + layer.pop("seconds")
            layer["position"] = float(line.section_quarter(i)) + layer.pop("q")
            layer_parts.append(layer)
        for cue in section.cues:
            if cue.bar - 1 < bar_from:
                continue
            q = (cue.bar - 1) * section.bar_quarters + section.beat_offsets()[cue.beat - 1]
            t = line.unscaled_offset(i) + line.unscaled_section_time(i, q)
            cues.append(
                GridCue(
                    float(t) / scale,
                    first_bar + cue.bar - 1,
                    cue.beat,
                    cue.text,
                    section.label or "",
                )
            )
    return replace(
        grid,
        cues=tuple(cues),
        layers=_joined_layers(layer_parts, scale),
        layer_voices=tuple(sorted(voices, key=voices.__getitem__)),
        gap_bars=frozenset(gap_bars),
    )


def _joined_layers(parts: list[dict[str, NDArray[Any]]], scale: float) -> LayerClicks:
    """Every section's layer clicks as one table in time order (scale applied)."""
    if not parts:
        return LayerClicks.none()
    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(cols["time"], kind="stable")
    return LayerClicks(
        time=(cols["time"] / scale)[order],
        bar=cols["bar"][order],
        pulse=cols["pulse"][order],
        layer=cols["layer"][order],
        level=cols["level"][order],
        volume=cols["volume"][order],
        position=cols["position"][order],
    )


def _count_in_clicks(line: Timeline) -> dict[str, NDArray[Any]]:
    """Count-in clicks at the timeline's count-in tempo, in the start section's meter."""
    clicks = line.count_in_clicks()
    q = [x for _, _, x in clicks]
    beat_no = np.array([beat for _, beat, _ in clicks], dtype=np.int32)
    total_q = line.count_in_quarters
    # unscaled: build_grid divides every time by the scale at the end
    tempo = line.count_in_tempo / line.scale
    n = len(q)
    levels = np.full(n, Level.NORMAL, dtype=np.int8)
    levels[beat_no == 1] = Level.ACCENT
    return {
        "time": np.array([float(x * 60 / tempo) for x in q]),
        "bar": np.array([bar for bar, _, _ in clicks], dtype=np.int32),
        "beat": beat_no,
        "sub": np.zeros(n, dtype=np.int16),
        "level": levels,
        "volume": np.full(n, line.tempo_map.count_in.volume, dtype=np.float32),
        "section": np.zeros(n, dtype=np.int32),
        "tempo": np.full(n, float(tempo)),
        "position": np.array([float(x - total_q) for x in q]),
    }
