"""A play plan: one click grid made ready for the audio callback, frozen once built.

The transport plays one :class:`Plan` at a time. A plan is the grid ``ictus render``
would compute for the same map, start and count-in (so playing it is sample-identical to
the rendered file), plus the block mixers of every output and the lookup tables the
callback needs to find bar lines and section ends without allocating: plain Python lists
and dicts of integers, searched with :mod:`bisect`.

Frames here are *grid frames*: sample ``round(time * rate)`` of the grid, where the
first count-in click (or the start bar's downbeat) is frame 0. An output with a negative
latency offset sounds its clicks early, so playback starts ``preroll`` frames before 0.

>>> from ictus.tempomap import Section, Tempo, TempoMap, CountIn
>>> from ictus.sounds import Voice
>>> m = TempoMap((Section(2, Tempo(120), label="a"), Section(1, Tempo(60), label="b")),
...              count_in=CountIn(bars=1))
>>> tick = Voice("tick", 1000, [1.0], [0.5], [0.25])
>>> plan = build_plan(m, tick, rate=1000, outputs=Outputs(1))
>>> plan.bar_numbers, plan.bar_frames, plan.end
([0, 1, 2, 3], [0, 2000, 4000, 6000], 10000)
>>> plan.section_spans, plan.next_bar_frame(2000), plan.bar_at(4500)
({0: (2000, 6000), 1: (6000, 10000)}, 4000, 2)
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.render import BlockMixer, Router, Routing, SourceBlock
from ictus.sounds import Voice
from ictus.tempomap import ClickGrid, CountIn, TempoMap, build_grid

#: Scratch size every mixer is prepared for: the largest period a backend may ask for.
#: Bigger periods are served too (the mixer grows its buffer once), just not free.
MAX_PERIOD = 8192

#: plans with one key differ only in tempo scale or rate: (anchor bar, count-in)
PlanKey = tuple[int, CountIn]

_serials = itertools.count(1)


@dataclass(frozen=True)
class Outputs:
    """Where the click goes: ``channels`` outputs, the click on ``click_on`` (0-based),
    each click channel delayed by its latency offset in samples (negative: early).

    ``click_on=()`` sends the click nowhere: a show whose outputs carry only stems,
    spoken cues and event outputs (MIDI, timecode) still has the map's grid, its bar
    lines and its transport, just no click mixed in.

    >>> Outputs(8, (6, 7), (-48, 0)).groups()
    [((6,), -48), ((7,), 0)]
    >>> Outputs(2).groups(), Outputs(2, ()).groups()
    ([((0, 1), 0)], [])
    """

    channels: int
    click_on: tuple[int, ...] | None = None
    offsets: tuple[int, ...] | None = None  # one per click channel, in click_on order
    gains: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.channels <= 64:
            raise ParameterError(f"channels must be 1..64, got {self.channels}")
        click_on = self.targets
        if any(not 0 <= c < self.channels for c in click_on):
            raise ParameterError(f"click channels {click_on} outside 0..{self.channels - 1}")
        if self.offsets is not None and not click_on:
            raise ParameterError("latency: the click goes to no output")
        if self.offsets is not None and len(self.offsets) not in (1, len(click_on)):
            raise ParameterError(
                f"latency: give one value for all click channels or one per click channel "
                f"({len(click_on)} of them), got {len(self.offsets)}"
            )

    @property
    def targets(self) -> tuple[int, ...]:
        return tuple(range(self.channels)) if self.click_on is None else tuple(self.click_on)

    def groups(self) -> list[tuple[tuple[int, ...], int]]:
        """Click channels grouped by equal offset: one block mixer per group."""
        targets = self.targets
        offsets = self.offsets or (0,)
        if len(offsets) == 1:
            offsets = offsets * len(targets)
        by_offset: dict[int, list[int]] = {}
        for ch, off in zip(targets, offsets, strict=True):
            by_offset.setdefault(off, []).append(ch)
        return [(tuple(chs), off) for off, chs in by_offset.items()]

    @property
    def preroll(self) -> int:
        """Frames playback starts before frame 0 so the earliest output misses nothing."""
        return max(0, -min(self.offsets or (0,)))


class Plan:
    """One grid ready to play. Build it with :func:`build_plan` (outside the callback).

    Attributes
    ----------
    tempo_map : TempoMap
        The map as played (its ``scale`` is the plan's tempo scale).
    grid : ClickGrid
    anchor : int
        Map bar the grid starts at (after its count-in).
    count_in : bool
        Whether the grid begins with a count-in.
    rate : int
    mixers : tuple of BlockMixer
        One per output group; only the audio callback calls them (through :meth:`mix`).
    router : Router or None
        Routes each group's click (a source) to its channels: the routing path every
        output shares, so the live samples are the file's, overs included. None when
        the click goes to no output.
    end : int
        Grid frame where the music ends (the downbeat after the last bar).
    length : int
        Grid frame where the last sound has died away: the transport stops here. The
        last sound is the click's, or an audio source's (``sounds_until``); with
        neither, the music's end.
    preroll : int
    bar_numbers, bar_frames : list of int
        Every bar's number and downbeat frame, in order (count-in bars are <= 0).
    bar_frame : dict int -> int
    section_spans : dict int -> (int, int)
        Map section index -> (first frame, end frame) of the part of it in this grid.
    serial : int
        Unique per plan, for events and tests.
    origin : int
        Grid frame of the map's bar 1 downbeat at this plan's scale and rate (negative
        when the grid starts later in the map): ``frame - origin`` is the *map frame*,
        the same for one musical place in every plan of one scale, which is what
        position-aware audio sources (:mod:`ictus.engine.sources`) play from.
    cues_at : dict (bar, beat) -> tuple of str
        The map's text cues on the beats of this grid.

    The ``sounds_until`` argument is the map frame after the last sample of the audio
    sources played with the click (a stem running on past the map's end): the plan
    lasts until then too.
    """

    def __init__(
        self,
        tempo_map: TempoMap,
        grid: ClickGrid,
        voice: Voice,
        *,
        rate: int,
        outputs: Outputs,
        anchor: int,
        sounds_until: int | None = None,
    ) -> None:
        self.tempo_map = tempo_map
        self.grid = grid
        self.anchor = anchor
        self.count_in = bool(len(grid) and grid.bar[0] <= 0)
        self.rate = rate
        self.outputs = outputs
        self.scale = Fraction(tempo_map.scale)
        self.serial = next(_serials)
        mixers = []
        for click_on, offset in outputs.groups():
            mixer = BlockMixer(
                grid,
                voice,
                rate=rate,
                channels=outputs.channels,
                click_on=click_on,
                gains=outputs.gains,
                offset=offset,
            )
            mixer.prepare(MAX_PERIOD)
            mixers.append(mixer)
        self.mixers = tuple(mixers)
        groups = [g for g, _ in outputs.groups()]
        self.router = (
            Router(Routing.groups(outputs.channels, groups), max_frames=MAX_PERIOD)
            if groups
            else None
        )
        # one slot per mixer, filled in place each block: the callback allocates no list
        self._blocks: list[SourceBlock] = [(np.zeros(0, np.float32), [])] * len(mixers)
        # every sound's first frame, all outputs together, for the callback's quick
        # "is this block silent?" (a typed array: 8 bytes a click, bisect-able)
        starts = [m.starts for m in mixers] or [np.zeros(0, np.int64)]
        self.sound_starts = array("q", np.sort(np.concatenate(starts)))
        self.max_voice = max((m.max_voice for m in mixers), default=0)
        self.preroll = outputs.preroll
        self.end = round(grid.duration * rate)
        self.samples: NDArray[np.int64] = grid.samples(rate)
        #: the same as a typed array, for :mod:`bisect` in the callback (no numpy call)
        self.click_frames = array("q", self.samples.tolist())
        downbeats = np.flatnonzero((grid.sub == 0) & (grid.beat == 1))
        # a count-in of beats has no downbeat of its own: its first click starts "bar 0"
        if len(grid) and (not len(downbeats) or downbeats[0] != 0):
            downbeats = np.concatenate([[0], downbeats])
        self.bar_numbers: list[int] = [int(b) for b in grid.bar[downbeats]]
        self.bar_frames: list[int] = [int(s) for s in self.samples[downbeats]]
        self.bar_frame: dict[int, int] = dict(zip(self.bar_numbers, self.bar_frames, strict=True))
        self.section_spans = self._section_spans(tempo_map)
        #: map section index of every map bar in the grid (count-in bars: -1)
        self.bar_section: dict[int, int] = {
            b: (tempo_map.bar_start(b)[0] if b >= 1 else -1) for b in self.bar_numbers
        }
        #: plans with the same key differ only in tempo scale (or rate): the transport
        #: converts a position between them by musical time, see :func:`convert_frame`
        self.key: PlanKey = (anchor, tempo_map.count_in)
        # map time 0 on this grid's clock, from the timeline it was built from
        line = grid.timeline
        self.origin = round(line.grid_time(Fraction(0)) * rate) if line is not None else 0
        lengths = [m.length for m in mixers] or [self.end]
        if sounds_until is not None:
            lengths.append(self.origin + sounds_until)
        self.length = max(lengths)
        cues: dict[tuple[int, int], tuple[str, ...]] = {}
        for cue in grid.cues:
            cues[(cue.bar, cue.beat)] = (*cues.get((cue.bar, cue.beat), ()), cue.text)
        self.cues_at = cues

    def _section_spans(self, tempo_map: TempoMap) -> dict[int, tuple[int, int]]:
        spans: dict[int, tuple[int, int]] = {}
        for i in range(len(tempo_map.sections)):
            first = tempo_map.first_bar_of(i)
            last = first + tempo_map.sections[i].bars  # the bar after the section
            bars = [b for b in range(first, last) if b in self.bar_frame]
            if not bars:
                continue
            stop = self.bar_frame.get(last, self.end)
            spans[i] = (self.bar_frame[bars[0]], stop)
        return spans

    # -- the audio (callback-safe) -----------------------------------------------------

    def mix(self, frame: int, out: NDArray[np.float32]) -> bool:
        """Fill ``out`` (frames x channels) with the grid's audio from grid ``frame``.

        Every output group's click, routed to its channels by :attr:`router`; returns
        False for a silent block.
        """
        if self.router is None:  # the click goes nowhere
            out.fill(0.0)
            return False
        blocks = self._blocks
        frames = out.shape[0]
        for i, mixer in enumerate(self.mixers):
            blocks[i] = mixer.mix_mono(frame, frames)
        return self.router.route(blocks, out)

    # -- lookups (callback-safe: no allocation beyond small ints) --------------------

    def quiet(self, frame: int, frames: int) -> bool:
        """True when no sound of any output is heard in ``frames`` from ``frame``."""
        starts = self.sound_starts
        i = bisect.bisect_right(starts, frame - self.max_voice)
        return i == len(starts) or starts[i] >= frame + frames

    def next_bar_frame(self, frame: int) -> int:
        """Frame of the first bar line after ``frame`` (``end`` after the last bar)."""
        i = bisect.bisect_right(self.bar_frames, frame)
        return self.bar_frames[i] if i < len(self.bar_frames) else self.end

    def bar_at(self, frame: int) -> int:
        """Number of the bar sounding at ``frame`` (the first bar before the grid)."""
        i = bisect.bisect_right(self.bar_frames, frame) - 1
        return self.bar_numbers[max(i, 0)]

    # -- what is playing (control thread: status and display) ------------------------

    def click_index(self, frame: int) -> int:
        """Index of the last click at or before grid ``frame`` (-1 before the first)."""
        return int(np.searchsorted(self.samples, frame, side="right")) - 1

    def beat_click_index(self, frame: int) -> int:
        """Index of the last on-beat click (sub 0) at or before ``frame``."""
        i = self.click_index(frame)
        while i > 0 and self.grid.sub[i] != 0:
            i -= 1
        return i

    def beat_seconds(self, frame: int) -> float | None:
        """Length in seconds of the beat sounding at ``frame`` (as played now)."""
        i = self.beat_click_index(frame)
        if i < 0:
            i = 0
        beats = np.flatnonzero(self.grid.sub[i:] == 0)
        if len(beats) >= 2:
            return float(self.grid.time[i + beats[1]] - self.grid.time[i + beats[0]])
        j = np.flatnonzero(self.grid.sub[: i + 1] == 0)
        if len(j) >= 2:
            return float(self.grid.time[j[-1]] - self.grid.time[j[-2]])
        return None


def build_plan(
    tempo_map: TempoMap,
    voice: Voice,
    *,
    rate: int,
    outputs: Outputs,
    start_label: str | None = None,
    start_bar: int | None = None,
    count_in: CountIn | None = None,
    sounds_until: int | None = None,
) -> Plan:
    """The plan of ``tempo_map`` from a label or bar, with ``count_in`` (None: the map's).

    This is :func:`~ictus.tempomap.build_grid` with the same arguments ``ictus render``
    passes, so the plan plays exactly the samples of the rendered file.
    ``sounds_until``: see :class:`Plan`.
    """
    if count_in is not None:
        tempo_map = tempo_map.with_count_in(count_in)
    grid = build_grid(tempo_map, start_label=start_label, start_bar=start_bar)
    if start_label is not None:
        anchor = tempo_map.first_bar_of(tempo_map.section_index(start_label))
    else:
        anchor = start_bar or 1
    return Plan(
        tempo_map,
        grid,
        voice,
        rate=rate,
        outputs=outputs,
        anchor=anchor,
        sounds_until=sounds_until,
    )


class PlanCache:
    """The plans of one engine, built on the control side and kept for reuse.

    A plan is the map from an anchor bar with a count-in, at a tempo scale and rate; the
    most recently used :attr:`SIZE` are kept (a locate back to a bar played before, or a
    tempo change back and forth, costs nothing).

    >>> from ictus.tempomap import Section, Tempo, TempoMap
    >>> tick = Voice("tick", 1000, [1.0], [0.5], [0.25])
    >>> cache = PlanCache(TempoMap((Section(4, Tempo(120)),)), tick, 1000, Outputs(1))
    >>> cache.get(3, CountIn(bars=1), Fraction(1)) is cache.get(3, CountIn(bars=1), Fraction(1))
    True
    >>> cache.get(3, CountIn(bars=1), Fraction(1)).origin, cache.whole(Fraction(1)).bar_frame[3]
    (-2000, 4000)
    """

    SIZE = 12

    def __init__(
        self,
        tempo_map: TempoMap,
        voice: Voice,
        rate: int,
        outputs: Outputs,
        on_new: Callable[[Plan], None] | None = None,
        sounds_until: int | None = None,
    ) -> None:
        self.tempo_map = tempo_map.with_count_in(CountIn())
        self.voice = voice
        self.rate = rate
        self.outputs = outputs
        #: called with every plan built, before it can play (event outputs and audio
        #: sources build their tables for it)
        self.on_new = on_new
        #: map frame after the audio sources' last sample (see :class:`Plan`)
        self.sounds_until = sounds_until
        self._plans: OrderedDict[tuple[int, CountIn, Fraction], Plan] = OrderedDict()

    def get(self, anchor: int, count_in: CountIn, scale: Fraction) -> Plan:
        """The plan from bar ``anchor`` with ``count_in`` at ``scale`` (cached)."""
        key = (anchor, count_in, scale)
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            return plan
        plan = build_plan(
            self.tempo_map.with_scale(scale),
            self.voice,
            rate=self.rate,
            outputs=self.outputs,
            start_bar=anchor,
            count_in=count_in,
            sounds_until=self.sounds_until,
        )
        if self.on_new is not None:
            self.on_new(plan)
        self._plans[key] = plan
        while len(self._plans) > self.SIZE:
            self._plans.popitem(last=False)
        return plan

    def whole(self, scale: Fraction) -> Plan:
        """The whole map from bar 1 without count-in: holds every bar (the fallback)."""
        return self.get(1, CountIn(), scale)

    def same_keys(self, keys: set[PlanKey], scale: Fraction) -> dict[PlanKey, Plan]:
        """For a tempo change: the plans with these keys at ``scale``."""
        return {key: self.get(key[0], key[1], scale) for key in keys}


def convert_frame(frame: int, old: Plan, new: Plan) -> int:
    """The frame of ``new`` at the musical position of ``frame`` in ``old``.

    Plans with one key are one grid at different tempo scales (and maybe rates). A tempo
    scale ``s`` divides every time of the grid by ``s``: each ramp closed form
    (``ictus.tempomap.ramps``) and every step satisfies ``t(q; s*tempos) = t(q; tempos)/s``,
    and the count-in scales with the tempo it is played at. So the quarter position at
    time ``t`` of the old grid is at ``t * s_old / s_new`` in the new one, exactly, for
    every shape; in frames ``frame * s_old * r_new / (s_new * r_old)``, rounded half up,
    in integers (no float drift however long the song).

    >>> from ictus.tempomap import Section, Tempo, TempoMap
    >>> from ictus.sounds import Voice
    >>> m = TempoMap((Section(8, Tempo(120), tempo_end=Tempo(90)),))
    >>> v = Voice("tick", 1000, [1.0], [0.5], [0.25])
    >>> a = build_plan(m, v, rate=1000, outputs=Outputs(1))
    >>> b = build_plan(m.with_scale("0.8"), v, rate=1000, outputs=Outputs(1))
    >>> convert_frame(a.bar_frames[3], a, b) == b.bar_frames[3], convert_frame(1001, a, b)
    (True, 1251)
    """
    s0, s1 = old.scale, new.scale
    num = frame * s0.numerator * s1.denominator * new.rate
    den = s0.denominator * s1.numerator * old.rate
    return (2 * num + den) // (2 * den)
