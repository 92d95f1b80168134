"""Which beats come next, and at which backend clock: the flashes a page schedules ahead.

The engine reports each beat with the exact backend clock of its first sample, but a
page hears of it a few tens of milliseconds later. So from every reported beat we walk
the click grid of the map (:func:`ictus.tempomap.build_grid`, the same grid the engine
plays) to the beats that follow, adding grid time differences to the reported clock.
The walk follows what the engine will do at the next bar lines: a pending jump, the
wrap of a looped section, the end of the count-in, the end of the map.

>>> from fractions import Fraction
>>> from ictus.tempomap import CountIn, Section, Tempo, TempoMap
>>> song = TempoMap((Section(1, Tempo(120), label="a"), Section(1, Tempo(60), label="b")))
>>> f = Forecast(song, CountIn(bars=1), rate=1000)
>>> [(b.clock, b.bar, b.beat) for b in f.after(5000, 1, 4, scale=Fraction(1), limit=3)]
[(5500, 2, 1), (6500, 2, 2), (7500, 2, 3)]
>>> [(b.clock, b.bar, b.beat) for b in f.after(0, 1, 4, Fraction(1), loop="a", limit=2)]
[(500, 1, 1), (1000, 1, 2)]
>>> [(b.clock, b.bar, b.count_in) for b in f.after(0, 0, 4, Fraction(2), anchor=1, limit=2)]
[(250, 1, False), (500, 1, False)]
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ictus.tempomap import ClickGrid, CountIn, TempoMap, build_grid

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Upcoming:
    """A beat still to come: its backend ``clock``, place, level and count-in countdown
    (beats of count-in left including this one; 0 outside the count-in)."""

    clock: int
    bar: int
    beat: int
    level: str
    section: str
    count_in: bool
    countdown: int


class _Beats:
    """The on-beat clicks (``sub == 0``) of one grid, indexed by (bar, beat)."""

    def __init__(self, grid: ClickGrid) -> None:
        on = np.flatnonzero(grid.sub == 0)
        self.time: NDArray[np.float64] = grid.time[on]
        self.end = float(grid.duration)
        self.bar = [int(x) for x in grid.bar[on]]
        self.beat = [int(x) for x in grid.beat[on]]
        names = grid.level_names()
        self.level = [names[i] for i in on]
        self.section = [grid.section_names[grid.section[i]] for i in on]
        self.index = {(b, k): i for i, (b, k) in enumerate(zip(self.bar, self.beat, strict=True))}
        self.cues = grid.cues

    def time_of(self, i: int) -> float:
        return float(self.time[i]) if i < len(self.time) else self.end


#: Grids kept per kind (whole map, count-in leads).
KEEP = 6


def _cached(cache: OrderedDict[K, _Beats], key: K, make: Callable[[], _Beats]) -> _Beats:
    """``cache[key]``, made if missing; the least recently used go beyond :data:`KEEP`."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    cache[key] = value = make()
    while len(cache) > KEEP:
        cache.popitem(last=False)
    return value


class Forecast:
    """Upcoming beats of ``tempo_map`` (without count-in) played with ``count_in``.

    Parameters
    ----------
    tempo_map : TempoMap
    count_in : CountIn
    rate : int
        The backend's sample rate: clocks are in its samples.
    """

    def __init__(self, tempo_map: TempoMap, count_in: CountIn, rate: int) -> None:
        self.tempo_map = tempo_map
        self.count_in = count_in
        self.rate = rate
        # a few grids each: taps and steps make new scales and anchors all evening
        self._full: OrderedDict[Fraction, _Beats] = OrderedDict()
        self._lead: OrderedDict[tuple[Fraction, int], _Beats] = OrderedDict()

    def full(self, scale: Fraction) -> _Beats:
        """The whole map from bar 1 at ``scale`` (cached)."""
        return _cached(
            self._full, scale, lambda: _Beats(build_grid(self.tempo_map.with_scale(scale)))
        )

    def lead(self, scale: Fraction, anchor: int) -> _Beats:
        """The count-in into bar ``anchor`` followed by the map from there (cached)."""

        def make() -> _Beats:
            m = self.tempo_map.with_scale(scale).with_count_in(self.count_in)
            return _Beats(build_grid(m, start_bar=anchor))

        return _cached(self._lead, (scale, anchor), make)

    def countdown(self, bar: int, beat: int, scale: Fraction, anchor: int) -> int:
        """Count-in beats left from (``bar``, ``beat``) on, this one included."""
        if bar > 0 or not self.count_in:
            return 0
        beats = self.lead(scale, anchor)
        i = beats.index.get((bar, beat))
        if i is None:
            return 0
        return sum(1 for b in beats.bar[i:] if b <= 0)

    def level(self, bar: int, beat: int, scale: Fraction, anchor: int) -> str | None:
        """The level (``accent``, ``normal``, ``silent``) of the beat (``bar``, ``beat``)."""
        beats = self.lead(scale, anchor) if bar <= 0 else self.full(scale)
        i = beats.index.get((bar, beat))
        return None if i is None else beats.level[i]

    def next_cue(self, bar: int, beat: int, scale: Fraction) -> str | None:
        """The text of the first cue at or after (``bar``, ``beat``), with its bar."""
        for cue in self.full(scale).cues:
            if (cue.bar, cue.beat) >= (max(bar, 1), beat if bar >= 1 else 1):
                return f"{cue.text} (bar {cue.bar})"
        return None

    def after(
        self,
        clock: int,
        bar: int,
        beat: int,
        scale: Fraction,
        *,
        loop: str | None = None,
        jump: int | None = None,
        anchor: int = 1,
        limit: int = 16,
        horizon: float = 3.0,
    ) -> list[Upcoming]:
        """The beats after the beat (``bar``, ``beat``) that sounded at ``clock``.

        At most ``limit`` beats, and none more than ``horizon`` seconds after ``clock``.
        An unknown beat (a map changed under us) gives an empty list.
        """
        rate = self.rate
        span: tuple[int, int] | None = None
        if loop is not None:
            tm = self.tempo_map
            index = tm.section_index(loop)
            first = tm.first_bar_of(index)
            span = (first, first + tm.sections[index].bars)
        full = self.full(scale)
        beats = self.lead(scale, anchor) if bar <= 0 else full
        i = beats.index.get((bar, beat))
        if i is None:
            return []
        out: list[Upcoming] = []
        t = Fraction(0)
        while len(out) < limit:
            j = i + 1
            t += Fraction(beats.time_of(j)) - Fraction(beats.time_of(i))
            if t > horizon:
                break
            here = beats.bar[i]  # the bar we leave (the grid may change below)
            if beats is not full and (j >= len(beats.bar) or beats.bar[j] > 0):
                # the count-in ends: the song goes on in the whole map's grid
                beats, j = full, full.index[(anchor, 1)]
            crossing = j >= len(beats.bar) or beats.bar[j] != here
            if crossing and jump is not None:
                j, jump = full.index.get((jump, 1), len(full.bar)), None
                beats = full
            elif (
                crossing
                and span is not None
                and span[0] <= here < span[1]
                and (j >= len(beats.bar) or not span[0] <= beats.bar[j] < span[1])
            ):
                beats, j = full, full.index[(span[0], 1)]
            if j >= len(beats.bar):
                break  # the end of the map
            b = beats.bar[j]
            countdown = sum(1 for x in beats.bar[j:] if x <= 0) if b <= 0 else 0
            out.append(
                Upcoming(
                    clock + round(t * rate),
                    b,
                    beats.beat[j],
                    beats.level[j],
                    beats.section[j],
                    b <= 0,
                    countdown,
                )
            )
            i = j
        return out
