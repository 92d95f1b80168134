"""The timeline: where every bar, beat and quarter of a map falls in time, and back.

A :class:`Timeline` is the one public answer to "when is bar 17, beat 2.5?" and "which
bar is playing 83.2 s in?". Everything above :mod:`ictus.tempomap` (exporters, film,
the CLI, sync outputs) asks it instead of turning tempo into time itself; the click grid
(:func:`~ictus.tempomap.grid.build_grid`) is built from it too.

Two coordinates are used:

- **map** time and quarters count from bar 1's downbeat of the map (no count-in).
  Bars, beats and cues are named in them. Before bar 1 and after the map's end they
  continue at the first and last tempo, so a follower or locate never falls off.
- **grid** time and quarters count from the grid's time 0: the first count-in click,
  or the start bar's downbeat without a count-in (what the WAV, the live engine and a
  MIDI file's tick 0 play). The count-in lasts :attr:`Timeline.lead` seconds at
  :attr:`Timeline.count_in_tempo`; then the music plays from :attr:`Timeline.origin`.

Times are exact :class:`~fractions.Fraction` seconds for constant and stepped tempos;
inside a ramp the closed forms of :mod:`ictus.tempomap.ramps` give a float, taken as
exact (``Fraction(float)``), added to exact section starts, so nothing accumulates. The
map's ``scale`` divides every time and multiplies every tempo, as in the grid.

>>> from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap
>>> m = TempoMap((Section(2, Tempo(120)), Section(2, Tempo(90), Meter(3, 4))),
...              count_in=CountIn(bars=1))
>>> line = Timeline(m)
>>> line.bar_times()
[Fraction(0, 1), Fraction(2, 1), Fraction(4, 1), Fraction(6, 1), Fraction(8, 1)]
>>> line.time_of(3, Fraction(5, 2)), line.position_at(Fraction(5))
(Fraction(5, 1), Position(bar=3, beat=Fraction(5, 2), quarter=Fraction(19, 2)))
>>> line.lead, line.origin, line.grid_time(Fraction(0)), line.duration
(Fraction(2, 1), Fraction(0, 1), Fraction(2, 1), Fraction(10, 1))
>>> line.times([0.0, 1.0, 9.5]).tolist(), line.quarters([0.5, 5.0]).tolist()
([0.0, 0.5, 5.0], [1.0, 9.5])
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ictus.errors import ParameterError
from ictus.tempomap import ramps
from ictus.tempomap.model import Section, TempoMap

Array = NDArray[np.float64]


class Position(NamedTuple):
    """A place in the music: map ``bar`` (from 1), ``beat`` in it (from 1, fractional
    between beats: 2.5 is halfway through beat 2, uneven beats included) and the same
    place in ``quarter`` notes from bar 1's downbeat."""

    bar: int
    beat: Fraction
    quarter: Fraction


# -- the steady-tempo rule, for code that has a tempo but no map -------------------------


def seconds_at_tempo(quarters: Fraction | int, bpm: Fraction | int) -> Fraction:
    """Seconds ``quarters`` quarter notes last at a steady quarter-note tempo ``bpm``.

    >>> seconds_at_tempo(1, Fraction(13333, 100)), seconds_at_tempo(Fraction(3, 2), 90)
    (Fraction(6000, 13333), Fraction(1, 1))
    """
    return Fraction(quarters) * 60 / Fraction(bpm)


def tempo_for(quarters: Fraction | int, seconds: Fraction | int) -> Fraction:
    """The steady quarter-note tempo at which ``quarters`` last ``seconds`` (the inverse).

    >>> tempo_for(4, 2), tempo_for(1, Fraction(6000, 13333))
    (Fraction(120, 1), Fraction(13333, 100))
    """
    return Fraction(quarters) * 60 / Fraction(seconds)


def stepped_seconds(at: Sequence[Fraction], bpm: Sequence[Fraction], q: Fraction) -> Fraction:
    """Exact seconds from quarter 0 to ``q`` of a stepped tempo line.

    ``bpm[k]`` holds from quarter ``at[k]`` (``at[0]`` is 0) until ``at[k + 1]``; the
    last tempo holds on. A MIDI file's tempo events are such a line.

    >>> stepped_seconds([Fraction(0), Fraction(4)], [Fraction(120), Fraction(60)], Fraction(5))
    Fraction(3, 1)
    """
    total, k = Fraction(0), 0
    while k + 1 < len(at) and at[k + 1] < q:
        total += seconds_at_tempo(at[k + 1] - at[k], bpm[k])
        k += 1
    return total + seconds_at_tempo(q - at[k], bpm[k])


# -- one section's time, relative to its own start, at scale 1 ---------------------------


def _beat_lengths(section: Section) -> tuple[Fraction, ...]:
    offsets = section.beat_offsets()
    ends = (*offsets[1:], section.bar_quarters)
    return tuple(e - s for s, e in zip(offsets, ends, strict=True))


def piecewise(
    section: Section,
) -> tuple[list[Fraction], list[Fraction], list[Fraction]] | None:
    """A stepped section's tempo as breakpoints, or None for a constant tempo or ramp.

    Returns ``(positions, tempos, times)``: the tempo ``tempos[k]`` holds from quarter
    position ``positions[k]`` (section-relative) until the next one, and ``times[k]`` is
    the exact time of ``positions[k]``. The lists end with the section's end (its
    position and time, the last tempo repeated). klick's per-beat lists are steps at
    every beat.

    >>> from ictus.tempomap.model import Tempo
    >>> piecewise(Section(1, Tempo(120), steps=((Fraction(2), Fraction(60)),)))[2]
    [Fraction(0, 1), Fraction(1, 1), Fraction(3, 1)]
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


class _Part:
    """Time inside one section (seconds from its start, scale 1), both ways.

    Constant and stepped tempos are exact; ramps use the closed forms in
    :mod:`ictus.tempomap.ramps` (their inverse included).
    """

    def __init__(self, section: Section) -> None:
        self.section = section
        self.steps = piecewise(section)
        self.t0 = section.start_quarter_bpm
        self.t1 = section.end_quarter_bpm
        self.length = section.length_quarters
        self.ramp = self.steps is None and self.t0 != self.t1
        if self.steps is not None:
            positions, tempos, times = self.steps
            self.qf = np.array([float(p) for p in positions])
            self.tf = np.array([float(t) for t in times])
            self.bpmf = np.array([float(t) for t in tempos])

    def _ramp_args(self) -> tuple[float, float, float, str]:
        return float(self.t0), float(self.t1), float(self.length), self.section.ramp

    @cached_property
    def duration(self) -> Fraction:
        if self.steps is not None:
            return self.steps[2][-1]
        if not self.ramp:
            return self.length * 60 / self.t0
        # Fraction(float) is exact, so summing section starts adds no error of its own
        return Fraction(ramps.duration(*self._ramp_args()))

    def time(self, q: Fraction) -> Fraction:
        if self.steps is not None:
            positions, tempos, times = self.steps
            k = min(max(bisect.bisect_right(positions, q) - 1, 0), len(positions) - 2)
            return times[k] + (q - positions[k]) * 60 / tempos[k]
        if not self.ramp:
            return q * 60 / self.t0
        if q == 0:
            return Fraction(0)  # the closed form at 0 is 0 already; keep it exactly 0
        return Fraction(float(ramps.seconds(np.array([float(q)]), *self._ramp_args())[0]))

    def times(self, q: Array) -> Array:
        if self.steps is not None:
            seg = np.clip(np.searchsorted(self.qf, q, side="right") - 1, 0, len(self.qf) - 2)
            out: Array = self.tf[seg] + (q - self.qf[seg]) * 60.0 / self.bpmf[seg]
            return out
        return ramps.seconds(q, *self._ramp_args())

    def quarter(self, t: Fraction) -> Fraction:
        if self.steps is not None:
            positions, tempos, times = self.steps
            k = min(max(bisect.bisect_right(times, t) - 1, 0), len(times) - 2)
            return positions[k] + (t - times[k]) * tempos[k] / 60
        if not self.ramp:
            return t * self.t0 / 60
        if t == 0:
            return Fraction(0)
        return Fraction(float(ramps.position_at(np.array([float(t)]), *self._ramp_args())[0]))

    def quarters(self, t: Array) -> Array:
        if self.steps is not None:
            seg = np.clip(np.searchsorted(self.tf, t, side="right") - 1, 0, len(self.tf) - 2)
            out: Array = self.qf[seg] + (t - self.tf[seg]) * self.bpmf[seg] / 60.0
            return out
        return ramps.position_at(t, *self._ramp_args())

    def tempo(self, q: Fraction) -> Fraction:
        if self.steps is not None:
            positions, tempos, _ = self.steps
            k = min(max(bisect.bisect_right(positions, q) - 1, 0), len(positions) - 2)
            return tempos[k]
        if not self.ramp:
            return self.t0
        return Fraction(float(self.tempos(np.array([float(q)]))[0]))

    def tempos(self, q: Array) -> Array:
        if self.steps is not None:
            seg = np.clip(np.searchsorted(self.qf, q, side="right") - 1, 0, len(self.qf) - 2)
            out: Array = self.bpmf[seg]
            return out
        return ramps.tempo_at(q, *self._ramp_args())


def section_duration(section: Section) -> Fraction:
    """Seconds one section lasts at scale 1 (exact for constant and stepped tempos).

    >>> from ictus.tempomap.model import Tempo
    >>> section_duration(Section(2, Tempo(90)))
    Fraction(16, 3)
    """
    return _Part(section).duration


def times_in_section(section: Section, qs: Sequence[Fraction]) -> list[Fraction]:
    """Seconds (scale 1) from a section's start to each quarter position in ``qs``.

    Exact for constant and stepped tempos; a ramp's closed form is a float made exact
    (``Fraction(float)``).

    >>> from ictus.tempomap.model import Tempo
    >>> times_in_section(Section(1, Tempo(120), steps=((Fraction(2), Fraction(60)),)),
    ...                  [Fraction(1), Fraction(3)])
    [Fraction(1, 2), Fraction(2, 1)]
    """
    part = _Part(section)
    return [part.time(q) for q in qs]


def section_times(tempo_map: TempoMap) -> list[tuple[Fraction, Fraction]]:
    """(start, duration) in seconds of every section, at scale 1, without count-in.

    >>> from ictus.tempomap.model import Section, Tempo, TempoMap
    >>> section_times(TempoMap((Section(2, Tempo(120)), Section(1, Tempo(60)))))
    [(Fraction(0, 1), Fraction(4, 1)), (Fraction(4, 1), Fraction(4, 1))]
    """
    line = Timeline(tempo_map)
    return [(s, line._parts[i].duration) for i, s in enumerate(line._starts)]


# -- the whole map -----------------------------------------------------------------------


class Timeline:
    """Time of every position of ``tempo_map`` and position at every time.

    Parameters
    ----------
    tempo_map : TempoMap
    start_label, start_bar : optional
        Where playback starts, as for :func:`~ictus.tempomap.grid.build_grid`: the
        first section with this label, or this 1-based map bar. It sets the
        :attr:`origin` and the count-in's tempo and meter; map times do not change.

    Examples
    --------
    >>> from ictus.tempomap.model import CountIn, Section, Tempo, TempoMap
    >>> m = TempoMap((Section(4, Tempo(120)), Section(4, Tempo(60), label="b")),
    ...              count_in=CountIn(beats=2), scale=Fraction(1, 2))
    >>> line = Timeline(m, start_label="b")
    >>> line.origin, line.count_in_tempo, line.lead, line.grid_time(line.origin)
    (Fraction(16, 1), Fraction(30, 1), Fraction(4, 1), Fraction(4, 1))
    >>> line.tempo_at(Fraction(17)), line.grid_times([0.0, 2.0, 4.0, 5.0]).tolist()
    (Fraction(30, 1), [0.0, 4.0, 8.0, 10.0])
    """

    def __init__(
        self,
        tempo_map: TempoMap,
        *,
        start_label: str | None = None,
        start_bar: int | None = None,
    ) -> None:
        self.tempo_map = tm = tempo_map
        if start_label is not None and start_bar is not None:
            raise ParameterError("start from a label or from a bar, not both")
        if start_label is not None:
            i0, b0 = tm.section_index(start_label), 0
        elif start_bar is not None:
            i0, b0 = tm.bar_start(start_bar)
        else:
            i0, b0 = 0, 0
        parts = tuple(_Part(s) for s in tm.sections)
        starts, quarters, bars = [], [], []
        at, q, bar = Fraction(0), Fraction(0), 1
        for part in parts:
            starts.append(at)
            quarters.append(q)
            bars.append(bar)
            at += part.duration
            q += part.section.length_quarters
            bar += part.section.bars
        self._parts = parts
        self._starts = tuple(starts)
        self._quarters = tuple(quarters)
        self._bars = tuple(bars)
        self._end = at
        self._end_quarter = q
        self._start_index = i0
        self._start_offset = b0
        self._startsf = np.array([float(s) for s in starts])
        self._quartersf = np.array([float(x) for x in quarters])
        first = tm.sections[i0]
        origin_q = b0 * first.bar_quarters
        self._origin_in_section = origin_q
        self._origin = starts[i0] + parts[i0].time(origin_q)
        # the count-in plays at the tempo where playback starts, in that section's meter
        self._count_in_tempo = parts[i0].tempo(origin_q)
        ci = tm.count_in
        if ci.bars:
            ci_q = ci.bars * first.bar_quarters
        else:
            lengths = _beat_lengths(first)
            ci_q = sum((lengths[k % len(lengths)] for k in range(ci.beats)), Fraction(0))
        # (the clicks themselves: count_in_clicks)
        self._count_in_quarters = ci_q
        self._lead = ci_q * 60 / self._count_in_tempo

    # -- facts ---------------------------------------------------------------------------

    @property
    def scale(self) -> Fraction:
        return self.tempo_map.scale

    @property
    def end(self) -> Fraction:
        """Map time of the map's end (the downbeat after its last bar)."""
        return self._end / self.scale

    @property
    def end_quarter(self) -> Fraction:
        return self._end_quarter

    @property
    def origin(self) -> Fraction:
        """Map time where playback starts (the start bar's downbeat; 0 from bar 1)."""
        return self._origin / self.scale

    @property
    def origin_quarter(self) -> Fraction:
        """Map quarter where playback starts."""
        return self._quarters[self._start_index] + self._origin_in_section

    @property
    def start_index(self) -> int:
        """Index of the section playback starts in."""
        return self._start_index

    @property
    def start_bar_offset(self) -> int:
        """Bars of that section skipped before playback starts."""
        return self._start_offset

    @property
    def lead(self) -> Fraction:
        """Seconds of count-in before the music (0 without a count-in)."""
        return self._lead / self.scale

    @property
    def count_in_quarters(self) -> Fraction:
        """Length of the count-in in quarter notes."""
        return self._count_in_quarters

    @property
    def count_in_tempo(self) -> Fraction:
        """Quarter-note tempo of the count-in: the tempo where playback starts."""
        return self._count_in_tempo * self.scale

    @property
    def duration(self) -> Fraction:
        """Seconds the grid lasts: count-in plus the music from the origin to the end."""
        return self.grid_time(self.end)

    def count_in_clicks(self) -> list[tuple[int, int, Fraction]]:
        """``(bar, beat, grid quarter)`` of every count-in click, in order.

        Whole bars are numbered up to 0 (``-1, 0`` for two); single beats are all bar 0,
        following the start bar's own beats (2+2+3 stays uneven), repeated if longer.

        >>> from ictus.tempomap.model import CountIn, Meter, Section, Tempo, TempoMap
        >>> m = TempoMap((Section(1, Tempo(120), Meter(7, 8, (2, 2, 3))),),
        ...              count_in=CountIn(beats=4))
        >>> [(bar, beat, str(q)) for bar, beat, q in Timeline(m).count_in_clicks()]
        [(0, 1, '0'), (0, 2, '1'), (0, 3, '2'), (0, 4, '7/2')]
        """
        section = self.tempo_map.sections[self._start_index]
        count_in = self.tempo_map.count_in
        offsets = section.beat_offsets()
        if count_in.bars:
            bars = count_in.bars
            return [
                (b - bars + 1, k + 1, b * section.bar_quarters + o)
                for b in range(bars)
                for k, o in enumerate(offsets)
            ]
        lengths = _beat_lengths(section)
        out, at = [], Fraction(0)
        for k in range(count_in.beats):
            out.append((0, k + 1, at))
            at += lengths[k % len(lengths)]
        return out

    def section_start(self, index: int) -> Fraction:
        """Map time of section ``index``'s first downbeat."""
        return self._starts[index] / self.scale

    def section_duration(self, index: int) -> Fraction:
        return self._parts[index].duration / self.scale

    def section_quarter(self, index: int) -> Fraction:
        """Map quarter of section ``index``'s first downbeat."""
        return self._quarters[index]

    def section_times(self) -> list[tuple[Fraction, Fraction]]:
        """(start, duration) in map seconds of every section."""
        return [(self.section_start(i), self.section_duration(i)) for i in range(len(self._parts))]

    # -- bars and beats <-> quarters -----------------------------------------------------

    def bar_quarter(self, bar: int) -> Fraction:
        """Map quarter of ``bar``'s downbeat; ``total_bars + 1`` is the map's end."""
        if bar == self.tempo_map.total_bars + 1:
            return self._end_quarter
        index, offset = self.tempo_map.bar_start(bar)
        return self._quarters[index] + offset * self._parts[index].section.bar_quarters

    def quarter_of(self, bar: int, beat: Fraction | int = 1) -> Fraction:
        """Map quarter of ``beat`` (from 1, fractional allowed) of map ``bar``.

        >>> from ictus.tempomap.model import Meter, Section, Tempo, TempoMap
        >>> m = TempoMap((Section(2, Tempo(120), Meter(7, 8, (2, 2, 3))),))
        >>> Timeline(m).quarter_of(2, Fraction(7, 2))   # halfway through the 3-eighth beat
        Fraction(25, 4)
        """
        beat = Fraction(beat)
        start = self.bar_quarter(bar)
        if bar == self.tempo_map.total_bars + 1:
            if beat != 1:
                raise ParameterError(f"bar {bar} is the map's end; only its beat 1 exists")
            return start
        section = self._parts[self.tempo_map.bar_start(bar)[0]].section
        lengths = _beat_lengths(section)
        whole = int(beat)
        if not 1 <= beat < len(lengths) + 1:
            raise ParameterError(
                f"beat {beat} is outside bar {bar} (beats 1..{len(lengths)}, fractions allowed)"
            )
        return start + section.beat_offsets()[whole - 1] + (beat - whole) * lengths[whole - 1]

    def _section_at_quarter(self, q: Fraction) -> int:
        return max(bisect.bisect_right(self._quarters, q) - 1, 0)

    def position_of(self, quarter: Fraction) -> Position:
        """Bar and beat of a map quarter inside the map (``0 <= quarter < end``)."""
        if not 0 <= quarter < self._end_quarter:
            raise ParameterError(f"quarter {quarter} is outside the map (0..{self._end_quarter})")
        index = self._section_at_quarter(quarter)
        section = self._parts[index].section
        inside = quarter - self._quarters[index]
        bar_in = int(inside // section.bar_quarters)
        offset = inside - bar_in * section.bar_quarters
        offsets = section.beat_offsets()
        k = bisect.bisect_right(offsets, offset) - 1
        length = _beat_lengths(section)[k]
        beat = k + 1 + (offset - offsets[k]) / length
        return Position(self._bars[index] + bar_in, beat, quarter)

    # -- quarters <-> time (exact) -------------------------------------------------------

    def _time(self, q: Fraction) -> Fraction:
        """Unscaled map seconds at map quarter ``q`` (constant tempo beyond the ends)."""
        if q < 0:
            return q * 60 / self._parts[0].t0
        if q >= self._end_quarter:
            return self._end + (q - self._end_quarter) * 60 / self._parts[-1].t1
        i = self._section_at_quarter(q)
        return self._starts[i] + self._parts[i].time(q - self._quarters[i])

    def time_at(self, quarter: Fraction | int) -> Fraction:
        """Map seconds at a map quarter (fractional; beyond the ends at the end tempos).

        >>> from ictus.tempomap.model import Section, Tempo, TempoMap
        >>> Timeline(TempoMap((Section(1, Tempo("133.33")),))).time_at(1)
        Fraction(6000, 13333)
        """
        return self._time(Fraction(quarter)) / self.scale

    def time_of(self, bar: int, beat: Fraction | int = 1) -> Fraction:
        """Map seconds of ``beat`` (from 1, fractional allowed) of map ``bar``."""
        return self.time_at(self.quarter_of(bar, beat))

    def bar_time(self, bar: int) -> Fraction:
        """Map seconds of ``bar``'s downbeat; ``total_bars + 1`` is the map's end."""
        return self.time_at(self.bar_quarter(bar))

    def bar_times(self) -> list[Fraction]:
        """Map seconds of every bar's downbeat, and the map's end last."""
        out: list[Fraction] = []
        for i, part in enumerate(self._parts):
            bar_q = part.section.bar_quarters
            start = self._starts[i]
            if not part.ramp and part.steps is None:
                # equal bars: split the exact duration (no per-bar rounding)
                out.extend(
                    (start + part.duration * k / part.section.bars) / self.scale
                    for k in range(part.section.bars)
                )
            else:
                out.extend(
                    (start + part.time(k * bar_q)) / self.scale for k in range(part.section.bars)
                )
        out.append(self.end)
        return out

    def quarter_at(self, time: Fraction | int) -> Fraction:
        """Map quarter at map seconds ``time``: the inverse of :meth:`time_at`.

        >>> from ictus.tempomap.model import Section, Tempo, TempoMap
        >>> line = Timeline(TempoMap((Section(2, Tempo(120)), Section(1, Tempo(60)))))
        >>> line.quarter_at(Fraction(9, 2)), line.quarter_at(-1), line.quarter_at(10)
        (Fraction(17, 2), Fraction(-2, 1), Fraction(14, 1))
        """
        t = Fraction(time) * self.scale
        if t < 0:
            return t * self._parts[0].t0 / 60
        if t >= self._end:
            return self._end_quarter + (t - self._end) * self._parts[-1].t1 / 60
        i = max(bisect.bisect_right(self._starts, t) - 1, 0)
        return self._quarters[i] + self._parts[i].quarter(t - self._starts[i])

    def position_at(self, time: Fraction | int) -> Position:
        """Bar and beat playing at map seconds ``time`` (inside the map)."""
        return self.position_of(self.quarter_at(time))

    def tempo_at(self, quarter: Fraction | int) -> Fraction:
        """Quarter-note tempo at a map quarter, scale applied (inside a ramp, its float)."""
        q = Fraction(quarter)
        if q < 0:
            return self._parts[0].t0 * self.scale
        if q >= self._end_quarter:
            return self._parts[-1].t1 * self.scale
        i = self._section_at_quarter(q)
        return self._parts[i].tempo(q - self._quarters[i]) * self.scale

    # -- map <-> grid --------------------------------------------------------------------

    def grid_time(self, map_time: Fraction) -> Fraction:
        """Grid seconds (from the first count-in click) of a map time."""
        return map_time - self.origin + self.lead

    def map_time(self, grid_time: Fraction) -> Fraction:
        """Map seconds of a grid time (the inverse of :meth:`grid_time`)."""
        return grid_time - self.lead + self.origin

    def grid_time_at(self, grid_quarter: Fraction | int) -> Fraction:
        """Grid seconds at a grid quarter: count-in quarters first, then the music's."""
        p = Fraction(grid_quarter)
        if p < self._count_in_quarters:
            return p * 60 / self._count_in_tempo / self.scale
        return self.grid_time(self.time_at(self.origin_quarter + p - self._count_in_quarters))

    # -- many positions at once (float64) ------------------------------------------------

    def _times(self, q: Array) -> Array:
        """Unscaled map seconds at map quarters ``q`` (float64)."""
        out = np.empty_like(q)
        index = np.searchsorted(self._quartersf, q, side="right") - 1
        before, after = q < 0, q >= float(self._end_quarter)
        out[before] = q[before] * (60.0 / float(self._parts[0].t0))
        out[after] = float(self._end) + (q[after] - float(self._end_quarter)) * (
            60.0 / float(self._parts[-1].t1)
        )
        inside = ~(before | after)
        for i in np.unique(index[inside]).tolist():
            sel = inside & (index == i)
            out[sel] = self._startsf[i] + self._parts[i].times(q[sel] - self._quartersf[i])
        return out

    def times(self, quarters: ArrayLike) -> Array:
        """Map seconds at many map quarters (float64; the vectorised :meth:`time_at`)."""
        q = np.asarray(quarters, dtype=np.float64)
        return self._times(q) / float(self.scale)

    def quarters(self, times: ArrayLike) -> Array:
        """Map quarters at many map seconds (float64; the vectorised :meth:`quarter_at`)."""
        t = np.asarray(times, dtype=np.float64) * float(self.scale)
        out = np.empty_like(t)
        index = np.searchsorted(self._startsf, t, side="right") - 1
        end = float(self._end)
        before, after = t < 0, t >= end
        out[before] = t[before] * (float(self._parts[0].t0) / 60.0)
        out[after] = float(self._end_quarter) + (t[after] - end) * (
            float(self._parts[-1].t1) / 60.0
        )
        inside = ~(before | after)
        for i in np.unique(index[inside]).tolist():
            sel = inside & (index == i)
            out[sel] = self._quartersf[i] + self._parts[i].quarters(t[sel] - self._startsf[i])
        return out

    def tempos(self, quarters: ArrayLike) -> Array:
        """Quarter-note tempo (scale applied) at many map quarters."""
        q = np.asarray(quarters, dtype=np.float64)
        out = np.empty_like(q)
        index = np.searchsorted(self._quartersf, q, side="right") - 1
        before, after = q < 0, q >= float(self._end_quarter)
        out[before] = float(self._parts[0].t0)
        out[after] = float(self._parts[-1].t1)
        inside = ~(before | after)
        for i in np.unique(index[inside]).tolist():
            sel = inside & (index == i)
            out[sel] = self._parts[i].tempos(q[sel] - self._quartersf[i])
        return out * float(self.scale)

    def grid_times(self, grid_quarters: ArrayLike) -> Array:
        """Grid seconds at many grid quarters: MIDI clock ticks, Link beats, ...

        Grid quarter 0 is the grid's time 0 (the first count-in click); the music
        starts at :attr:`count_in_quarters`.
        """
        p = np.asarray(grid_quarters, dtype=np.float64)
        ci_q = float(self._count_in_quarters)
        scale = float(self.scale)
        out = p * (60.0 / float(self._count_in_tempo)) / scale
        music = p >= ci_q
        offset = float(self._lead - self._origin)
        out[music] = (offset + self._times(p[music] - ci_q + float(self.origin_quarter))) / scale
        return out

    def grid_quarters(self, grid_times: ArrayLike) -> Array:
        """Grid quarters at many grid seconds: the inverse of :meth:`grid_times`."""
        g = np.asarray(grid_times, dtype=np.float64)
        lead = float(self.lead)
        out = g * (float(self._count_in_tempo) * float(self.scale) / 60.0)
        music = g >= lead
        ci_q = float(self._count_in_quarters)
        out[music] = (
            self.quarters(g[music] - lead + float(self.origin)) - float(self.origin_quarter) + ci_q
        )
        return out

    # -- what the grid builder needs -----------------------------------------------------

    def section_clock(self, index: int, q: Array) -> tuple[Array, Array]:
        """Unscaled seconds from section ``index``'s start, and tempos, at its quarters."""
        part = self._parts[index]
        if not part.ramp and part.steps is None:
            return q * (60.0 / float(part.t0)), np.full_like(q, float(part.t0))
        return part.times(q), part.tempos(q)

    def unscaled_offset(self, index: int) -> Fraction:
        """Grid seconds at scale 1 where section ``index`` starts (before its scale)."""
        return self._starts[index] - self._origin + self._lead

    def unscaled_section_time(self, index: int, q: Fraction) -> Fraction:
        return self._parts[index].time(q)
