"""Fitting a tempo map with changes: the fewest tempo changes that catch every hit.

When no single tempo catches all the hits, the music changes tempo. This module finds a
chain of **segments**, each running from one sync point to the next, by dynamic
programming over the hits:

- A segment starts at the cue start or at a hit, and ends exactly on a later hit, after
  a whole number of beats: its tempo is exact (``60 * beats / seconds``).
- It is **constant**, or a **ramp** that starts from the tempo the music arrives with and
  ends on the tempo that lands the hit (solved with the ramp's own closed form, shape
  ``beats``, ``time`` or ``period``, see :mod:`ictus.tempomap.ramps`).
- Every hit between the segment's ends must land within half a frame of its grid; a
  hit that cannot costs as much as a thousand changes.
- Cost = ``penalty`` per change + the weighted square errors (frames): so the fewest
  changes win, and among those the smallest errors.
- Only a few arrivals are kept at each hit, so a span that surely costs more than
  those is skipped unseen: a lower bound of its misses comes from a window of the hits
  before its end, sliced by tempo (:class:`_HitWindow`). A knot keeps one arrival a
  tempo, so a step is skipped too when an arrival at its very tempo is already found
  cheaper: on a steady grid every span lands, but at the tempo the cue start's span
  brings for less. The fit is the one trying every span gives, in time about linear
  in the hits of a real cue instead of cubic.

The result is written as a tempo map: each segment becomes whole bars plus, where the
beats do not fill a bar, one short bar (``3/4`` in a ``4/4`` cue), so every sync point
falls on a downbeat, as a composer writes it. The map is then checked against its own
click grid (:func:`ictus.tempomap.build_grid`), and those errors are what is reported.

>>> from ictus.timebase import FPS_24
>>> from ictus.film.hits import Hit
>>> from ictus.formats import format_click
>>> hits = [Hit(Fraction(f, 24)) for f in (96, 192, 245, 298)]  # no one tempo catches all
>>> fit = fit_map(hits, rate=FPS_24, lo=100, hi=130)
>>> [(s.beats, s.bpm_start) for s in fit.segments], fit.changes, fit.statuses
([(16, Fraction(120, 1)), (8, Fraction(5760, 53))], 1, ('hit', 'hit', 'hit', 'hit'))
>>> print(format_click(fit.tempo_map), end="")
4 4/4 12-0@24
2 4/4 13-2@24
1 4/4 13-2@24
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.film.fit import HIT, Candidate, classify
from ictus.film.hits import Hit
from ictus.tempomap import (
    CountIn,
    Cue,
    Meter,
    Section,
    Tempo,
    TempoMap,
    build_grid,
    ramps,
    seconds_at_tempo,
    tempo_for,
)
from ictus.timebase import FrameRate, Timecode, bpm_to_frames

_MISS_COST = 1000.0  # in changes: a missed hit costs a thousand changes
_RAMP_EXTRA = 0.25  # in changes: a ramp is a little more to conduct than a step
_BEAM = 6  # arrival tempos kept per hit (ramps start from them)
_SHORT_BAR = 0.2  # in changes: a segment that ends in a short bar
# The map's own grid is float seconds: half a frame and a hair is still half a frame.
_GRID_EPS = 1e-6


def _status(error_frames: float) -> str:
    if abs(error_frames) <= 0.5 + _GRID_EPS:
        return HIT
    return classify(Fraction(error_frames))


@dataclass(frozen=True)
class Segment:
    """One stretch of the fitted map.

    Attributes
    ----------
    start, end : exact seconds from the cue start (``end`` is a hit, or the cue end)
    beats : whole beats in the segment
    bpm_start, bpm_end : tempo at the start and at the downbeat after the segment
    ramp : ramp shape, or None for a constant tempo
    hit : index (in time order) of the hit the segment lands on
    """

    start: Fraction
    end: Fraction
    beats: int
    bpm_start: Fraction
    bpm_end: Fraction
    ramp: str | None
    hit: int


@dataclass(frozen=True)
class MapFit:
    """A fitted map and how the hits land in its own click grid.

    Attributes
    ----------
    tempo_map : the map (its ``start`` is the cue start when one was given)
    segments : the segments, in order
    errors_frames : per hit (time order), hit - nearest allowed click time, in frames
    statuses : per hit, ``"hit"``, ``"near"`` or ``"miss"``
    """

    tempo_map: TempoMap
    segments: tuple[Segment, ...]
    hits: tuple[Hit, ...]
    errors_frames: tuple[float, ...]
    statuses: tuple[str, ...]

    @property
    def changes(self) -> int:
        return len(self.segments) - 1


@dataclass
class _State:
    cost: float
    bpm: Fraction
    back: tuple[int, int] | None  # (knot, state index) it came from
    segment: Segment | None


def _grid_errors(
    rel: NDArray[np.float64], grid_times: NDArray[np.float64], fps: float
) -> NDArray[np.float64]:
    return (rel - grid_times) * fps


def _constant_costs(
    rel: NDArray[np.float64],
    d: NDArray[np.float64],
    w: NDArray[np.float64],
    duration: float,
    beats: NDArray[np.int64],
    fps: float,
) -> NDArray[np.float64]:
    """Cost (square errors + misses) of the inner hits for each beat count."""
    if not len(rel):
        return np.zeros(len(beats))
    step = (duration / beats)[:, None] / d[None, :]
    n = np.floor(rel[None, :] / step + 0.5)
    err = (rel[None, :] - n * step) * fps
    miss = np.abs(err) > 0.5 + 1e-9
    result: NDArray[np.float64] = (w * err * err).sum(1) * 1e-3 + miss.sum(1) * _MISS_COST
    return result


def _solve_ramp_end(t0: float, per_beat: float, shape: str, lo: float, hi: float) -> float | None:
    """The end tempo whose ramp from ``t0`` lasts ``per_beat`` seconds a beat on average."""

    def f(t1: float) -> float:
        return ramps.duration(t0, t1, 1.0, shape) - per_beat

    a, b = lo, hi
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        return None
    # Illinois false position: the duration is smooth and monotonic in the end tempo.
    for _ in range(60):
        c = b - fb * (b - a) / (fb - fa)
        fc = f(c)
        if abs(fc) < 1e-13 * per_beat or abs(b - a) < 1e-10:
            return c
        if fc * fb < 0:
            a, fa = b, fb
        else:
            fa /= 2
        b, fb = c, fc
    return b


def _ramp_cost(
    rel: NDArray[np.float64],
    d: NDArray[np.float64],
    w: NDArray[np.float64],
    t0: float,
    t1: float,
    beats: int,
    shape: str,
    fps: float,
) -> float:
    if not len(rel):
        return 0.0
    q = ramps.position_at(rel, t0, t1, float(beats), shape)
    grid = np.round(q * d) / d
    err = _grid_errors(rel, ramps.seconds(grid, t0, t1, float(beats), shape), fps)
    miss = np.abs(err) > 0.5 + 1e-9
    return float((w * err * err).sum() * 1e-3 + miss.sum() * _MISS_COST)


def _round_bpm(value: float) -> Fraction:
    # a thousandth of a BPM moves a 16-beat ramp's end by well under a millisecond
    return Fraction(round(value * 1000), 1000)


def fit_map(
    hits: Sequence[Hit],
    *,
    rate: FrameRate,
    lo: float | Fraction,
    hi: float | Fraction,
    meter: Meter | None = None,
    penalty: float = 1.0,
    ramps_allowed: bool = True,
    ramp_shape: str = "beats",
    max_ramp_hits: int = 6,
    start: Timecode | None = None,
    warning_bars: int = 0,
    title: str | None = None,
) -> MapFit:
    """Fit a tempo map with the fewest changes that catch every hit (see the module doc).

    Parameters
    ----------
    hits
        Hit points, seconds after the cue start (the first downbeat).
    rate
        The picture's frame rate: errors are in its frames; clicks that are whole
        eighth-frames are written as frame clicks at this rate.
    lo, hi
        Tempo range in BPM of the meter's beat.
    meter
        The cue's meter (default 4/4); a plain ``N/D`` with the click on each 1/D.
    penalty
        Cost of one change, in units where a missed hit costs 1000 and a square frame
        of error (times its weight) 0.001.
    ramps_allowed, ramp_shape, max_ramp_hits
        Whether segments may ramp, how (``beats``, ``time`` or ``period``) and across
        how many hits at most.
    start, warning_bars, title
        Written into the map: its start timecode, a count-in of warning bars, a title.
    """
    meter = meter or Meter(4, 4)
    lo_f, hi_f = _check_map_fit(meter, lo, hi, penalty, ramp_shape)
    hits = _sorted_hits(hits)
    search = _Search.of(hits, rate, lo_f, hi_f, penalty, meter.count, ramp_shape)
    states = search.run(ramps_allowed=ramps_allowed, max_ramp_hits=max_ramp_hits)
    if not states[-1]:
        raise ParameterError(f"no tempo in {lo}-{hi} BPM reaches the last hit; widen the range")
    segments = _cheapest_path(states)
    tempo_map = segments_to_map(
        segments,
        hits,
        meter=meter,
        rate=rate,
        start=start,
        warning_bars=warning_bars,
        title=title,
    )
    errors = hit_errors(tempo_map, hits, rate)
    return MapFit(
        tempo_map,
        tuple(segments),
        tuple(hits),
        tuple(float(e) for e in errors),
        tuple(_status(e) for e in errors),
    )


def _check_map_fit(
    meter: Meter, lo: float | Fraction, hi: float | Fraction, penalty: float, ramp_shape: str
) -> tuple[float, float]:
    """Refuse what :func:`fit_map` cannot fit; return the tempo range as floats."""
    if meter.grouping is not None:
        raise ParameterError("fit a map in a plain meter such as 4/4 or 6/8 (no grouping)")
    lo_f, hi_f = float(lo), float(hi)
    if not 0 < lo_f <= hi_f:
        raise ParameterError(f"tempo range must be LO-HI with 0 < LO <= HI, got {lo}-{hi}")
    if penalty < 0:
        raise ParameterError(f"the penalty per change must be >= 0, got {penalty}")
    if ramp_shape not in ramps_shapes():
        raise ParameterError(
            f"unknown ramp shape {ramp_shape!r}; choose one of beats, time, period"
        )
    return lo_f, hi_f


def _sorted_hits(hits: Sequence[Hit]) -> list[Hit]:
    """The hits in time order; none before the cue start, at least one after it."""
    hits = sorted(hits, key=lambda h: h.time)
    if hits and hits[0].time < 0:
        raise ParameterError(f"hit {hits[0].label!r} is before the cue start")
    if not hits or hits[-1].time <= 0:
        raise ParameterError("fitting a map needs at least one hit after the cue start")
    return hits


def _knots(hits: Sequence[Hit]) -> tuple[list[Fraction], list[int]]:
    """The knots: the cue start, then every distinct hit time after it; and for each
    knot, the last hit that lands on it (-1 for the cue start)."""
    knot_times = [Fraction(0)]
    knot_hit = [-1]
    for i, h in enumerate(hits):
        if h.time > knot_times[-1]:
            knot_times.append(h.time)
            knot_hit.append(i)
        else:
            knot_hit[-1] = i  # same time as the knot before: that hit lands with it
    return knot_times, knot_hit


@dataclass(frozen=True)
class _Span:
    """From knot ``i`` to knot ``j``: exact bounds, and the hits strictly inside
    (times from the start, divisions, weights)."""

    i: int
    j: int
    start: Fraction
    end: Fraction
    rel: NDArray[np.float64]
    d: NDArray[np.float64]
    w: NDArray[np.float64]

    @property
    def duration(self) -> float:
        return float(self.end - self.start)


@dataclass(frozen=True)
class _Search:
    """The cheapest-path search over the knots: for each knot, the best few ways
    (a step or a ramp from an earlier knot) to land on it."""

    hits: Sequence[Hit]
    rate: FrameRate
    fps: float
    lo_f: float
    hi_f: float
    change: float  # the cost of one tempo change
    per_bar: int
    ramp_shape: str
    t: NDArray[np.float64]
    d: NDArray[np.float64]
    w: NDArray[np.float64]
    knot_times: list[Fraction]
    knot_hit: list[int]
    cheapest_since: list[float] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        hits: Sequence[Hit],
        rate: FrameRate,
        lo_f: float,
        hi_f: float,
        penalty: float,
        per_bar: int,
        ramp_shape: str,
    ) -> _Search:
        knot_times, knot_hit = _knots(hits)
        return cls(
            hits,
            rate,
            float(rate.fps),
            lo_f,
            hi_f,
            penalty,
            per_bar,
            ramp_shape,
            np.array([float(h.time) for h in hits]),
            np.array([float(h.divisions) for h in hits]),
            np.array([float(h.weight) for h in hits]),
            knot_times,
            knot_hit,
        )

    @cached_property
    def whole(self) -> _WholeNumbers:
        return _WholeNumbers.of(self.hits, self.rate, self.lo_f, self.hi_f)

    def run(self, *, ramps_allowed: bool, max_ramp_hits: int) -> list[list[_State]]:
        """The kept arrivals at every knot (the last knot's list may be empty).

        The spans into a knot are tried from the nearest start back, and a span is
        skipped when it surely costs more than what the knot keeps anyway (see
        :meth:`_arrive` and :meth:`_arrive_last`). The fit is exactly the one trying
        every span gives (candidates are gathered in the same order), but a long span
        is costed only while it could still matter.
        """
        n_knots = len(self.knot_times)
        states: list[list[_State]] = [[] for _ in range(n_knots)]
        states[0] = [_State(0.0, Fraction(0), None, None)]
        cheapest_before = [math.inf, 0.0]  # the cheapest arrival at any knot before k
        self.cheapest_since.clear()
        self.cheapest_since.extend([math.inf, math.inf])  # ... at any knot from 1 to k - 1
        ramps = max_ramp_hits if ramps_allowed else 0
        for j in range(1, n_knots):
            if j == n_knots - 1:
                states[j] = self._arrive_last(j, states, ramps)
            else:
                states[j] = self._arrive(j, states, cheapest_before, ramps)
            here = min((s.cost for s in states[j]), default=math.inf)
            cheapest_before.append(min(cheapest_before[j], here))
            self.cheapest_since.append(min(self.cheapest_since[j], here))
        return states

    def _from(
        self, i: int, j: int, arrivals: list[_State], ramp: bool, worst: float
    ) -> list[_State]:
        """The candidate arrivals at knot ``j`` over the span from knot ``i`` (ramps
        from an arrival that surely ends above ``worst`` left out)."""
        span = self.span(i, j)
        last = j == len(self.knot_times) - 1
        # (a soft ending may cost less than its step: at the last knot, every step)
        here = self.steps(span, arrivals, last=last, limit=math.inf if last else worst)
        if ramp:
            here.extend(self.ramps(span, arrivals, worst))
        return here

    def _floor(self, i: int, arrivals: list[_State]) -> float:
        """What every way from knot ``i`` costs at least: its cheapest arrival and,
        after the cue start, one change (ramps and soft endings included)."""
        return min(s.cost for s in arrivals) + (self.change if i else 0.0)

    def _arrive(
        self, j: int, states: list[list[_State]], cheapest_before: list[float], ramps: int
    ) -> list[_State]:
        """The ``_BEAM`` arrivals kept at knot ``j``.

        A span whose every step misses at least ``m`` hits (counted on a few probe
        hits) is skipped when even ``m`` misses after its cheapest arrival cost more
        than the ``_BEAM``-th best arrival found so far: it could not be kept. And
        the search stops going back once every earlier start must miss as much
        (:class:`_HitWindow`).
        """
        found: dict[int, list[_State]] = {}
        beam = _Beam()
        window = _HitWindow(self, float(self.knot_times[j]))
        unpriced = 0  # spans past the ramps costed before the cue start's
        next_try = ramps + _START_FIRST_AFTER  # how far back to try _rest_dominated
        for i in range(j - 1, -1, -1):
            ramp = 0 < j - i <= ramps and i > 0
            floor = self._floor(i, states[i]) if states[i] else math.inf
            if i not in found and states[i] and not _surely_above(floor, beam.worst()):
                span = self.span(i, j)
                keep = ramp or not self._cannot_be_kept(span, states[i], beam)
                if keep and not ramp and 0 not in found:
                    unpriced += 1
                    if unpriced >= _START_FIRST_AFTER:
                        # The cue start's span, early (it has no ramps, so its place in
                        # the order changes nothing): on a steady grid it lands every
                        # tempo that lands at all, and cheapest, so the spans from
                        # later starts are dominated at their own tempos.
                        found[0] = self._from(0, j, states[0], False, beam.worst())
                        beam.add(found[0])
                        keep = not self._cannot_be_kept(span, states[i], beam)
                if keep:
                    found[i] = self._from(i, j, states[i], ramp, beam.worst())
                    beam.add(found[i])
            if i <= 1 or j - (i - 1) <= ramps:
                continue
            window.add_knot(i)
            if _surely_above(cheapest_before[i] + window.fewest_misses() * _MISS_COST,
                             beam.worst()):
                break  # every start before knot i misses too much to be kept
            if 0 in found and j - i >= next_try:
                if self._rest_dominated(i, j, window, beam):
                    break  # every start before knot i is dominated at its tempos
                next_try = 2 * (j - i)
        return _keep([c for i in sorted(found) for c in found[i]])

    def _arrive_last(self, j: int, states: list[list[_State]], ramps: int) -> list[_State]:
        """The arrivals at the last knot, of which only the cheapest counts (nothing
        follows it): a span is skipped when it surely costs more than the cheapest so
        far. Its steps miss at least what the end-anchored window says, its soft
        ending (a refitted tempo from its start) what a start-anchored one says."""
        # The cue start's span first (it has no ramps, so its place in the order
        # changes nothing): on a steady grid it is the cheapest by a change.
        found: dict[int, list[_State]] = {}
        best = math.inf
        if self._lands_somewhere(self.span(0, j)):
            found[0] = self._from(0, j, states[0], False, math.inf)
            best = min((c.cost for c in found[0]), default=math.inf)
        window = _HitWindow(self, float(self.knot_times[j]))
        for i in range(j - 1, 0 if 0 in found else -1, -1):
            if i == 0:
                if not self._loses(0, states[0], window, best):
                    found[0] = self._from(0, j, states[0], False, best)
                break
            ramp = 0 < j - i <= ramps
            if states[i] and (ramp or not self._loses(i, states[i], window, best)):
                found[i] = self._from(i, j, states[i], ramp, best)
                best = min(best, min((c.cost for c in found[i]), default=math.inf))
            if i >= 1:
                window.add_knot(i)
        return _keep([c for i in sorted(found) for c in found[i]])

    def _lands_somewhere(self, span: _Span) -> bool:
        """Whether some step over ``span`` catches all its probe hits."""
        first_beats = max(1, math.ceil(span.duration * self.lo_f / 60 - 1e-9))
        last_beats = math.floor(span.duration * self.hi_f / 60 + 1e-9)
        if last_beats < first_beats:
            return False
        beats = np.arange(first_beats, last_beats + 1)
        return bool(_probe_misses(span.rel, span.d, span.duration, beats, self.fps).min() == 0)

    def _rest_dominated(self, i: int, j: int, window: _HitWindow, beam: _Beam) -> bool:
        """True when no step from a knot after the cue start and before knot ``i`` to
        knot ``j`` could be kept (the cue start's span is already costed).

        Such a step pays at least the cheapest arrival at those knots and a change,
        plus a thousand for each hit of ``window`` (those from knot ``i`` on) its
        tempo's slice must miss: the slices where that is not yet more than the worst
        kept arrival are live. A step's tempo is ``60 n / (t_j - t_s)``; every one
        that falls in a live slice must be a tempo already found, more cheaply.
        """
        worst = beam.worst()
        floor = self.cheapest_since[i] + self.change
        if i < 2 or math.isinf(floor):
            return True  # no arrival there: no step from there
        if math.isinf(worst):
            return False
        misses = window.misses
        allowed = -1
        most = int(misses.max())
        while allowed < most and not _surely_above(floor + (allowed + 1) * _MISS_COST, worst):
            allowed += 1
        live = np.flatnonzero(misses <= allowed)
        if len(live) > _LIVE_SLICES:
            return False
        if not len(live):
            return True
        # live slices as tempo intervals, a hair wider than the slices (float edges)
        cut = np.flatnonzero(np.diff(live) > 1) + 1
        firsts = live[np.r_[0, cut]]
        lasts = live[np.r_[cut - 1, len(live) - 1]]
        t_lo = (window.lo + firsts * window.width) * (1 - 1e-9)
        t_hi = (window.lo + (lasts + 1) * window.width) * (1 + 1e-9)
        whole = self.whole
        ends = self.knot_hit
        t_j = whole.times[ends[j]]
        seconds = (t_j - np.array([whole.times[ends[s]] for s in range(1, i)], dtype=object))
        secs = seconds.astype(np.float64) / whole.den
        n_lo = np.ceil(t_lo[None, :] * secs[:, None] / 60)
        n_hi = np.floor(t_hi[None, :] * secs[:, None] / 60)
        count = np.maximum(n_hi - n_lo + 1, 0).astype(np.int64)
        if count.sum() > 64 * i + 64:
            return False
        # every (start, beats) pair whose tempo falls in a live slice
        rows, cols = np.nonzero(count)
        reps = count[rows, cols]
        pair_row = np.repeat(rows, reps)
        pair_n = np.repeat(n_lo[rows, cols].astype(np.int64), reps) + (
            np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
        )
        bpm = 60 * pair_n / secs[pair_row]
        keys = sorted(beam.best)
        floats = np.array([float(b) for b in keys])
        at = np.clip(np.searchsorted(floats, bpm), 1, max(1, len(floats) - 1))
        near = np.zeros(len(bpm), dtype=bool)
        if len(floats):
            for side in (at - 1, np.minimum(at, len(floats) - 1)):
                near |= np.abs(floats[side] - bpm) <= 1e-9 * bpm
        if not self._probes_miss(i, pair_row[~near] + 1, pair_n[~near], secs, allowed + 1):
            return False
        dearest = -math.inf
        exact = {(b.numerator, b.denominator): cost for b, cost in beam.best.items()}
        for r, n in zip(pair_row[near].tolist(), pair_n[near].tolist(), strict=True):
            # the step's tempo 60 n den / gap in lowest terms: one already found?
            num, gap = 60 * n * whole.den, int(seconds[r])
            g = math.gcd(num, gap)
            cost = exact.get((num // g, gap // g))
            if cost is None:
                return False
            dearest = max(dearest, cost)
        # none at all: every step misses more than the worst kept arrival allows
        return dearest == -math.inf or _surely_above(floor, dearest)

    def _probes_miss(
        self,
        i: int,
        starts: NDArray[np.int64],
        beats: NDArray[np.int64],
        secs: NDArray[np.float64],
        at_least: int,
    ) -> bool:
        """True when each step (from knot ``starts[k]``, ``beats[k]`` beats, to the knot
        ``secs[starts[k] - 1]`` seconds later) surely misses ``at_least`` of five hits
        spread between its start and knot ``i`` (by its own test, with a margin)."""
        if not len(starts):
            return True
        ends = np.array(self.knot_hit)
        first = ends[starts] + 1
        size = ends[i - 1] - first + 1
        if size.min() < 5:
            return False
        probes = first[:, None] + (np.arange(5)[None, :] * size[:, None]) // 5
        rel = self.t[probes] - self.t[ends[starts]][:, None]
        step = (secs[starts - 1] / beats)[:, None] / self.d[probes]
        err = (rel - np.floor(rel / step + 0.5) * step) * self.fps
        misses = (np.abs(err) > 0.5 + 1e-6).sum(1)
        return bool(misses.min() >= at_least)

    def _loses(self, i: int, arrivals: list[_State], window: _HitWindow, best: float) -> bool:
        """True when every way from knot ``i`` to the last knot surely costs more than
        ``best``; ``window`` holds the hits strictly between them."""
        floor = self._floor(i, arrivals)
        if _surely_above(floor, best):
            return True  # even with no miss at all
        if not _surely_above(floor + window.fewest_misses() * _MISS_COST, best):
            return False
        start = _HitWindow(self, float(self.knot_times[i]))
        first = self.knot_hit[i] + 1
        for h in range(first, min(first + _PROBE_HITS, len(self.hits))):
            start.add_hit(h)
        return _surely_above(floor + start.fewest_misses() * _MISS_COST, best)

    def _cannot_be_kept(self, span: _Span, arrivals: list[_State], beam: _Beam) -> bool:
        """True when no step over ``span`` could be kept: each surely costs more than
        the beam's worst, or more than a cheaper arrival already found at its very tempo
        (a knot keeps one arrival a tempo). On a steady grid every span lands, but its
        landing tempo is the one the start's span already brought, far cheaper."""
        worst = beam.worst()
        if math.isinf(worst):
            return False
        duration = span.duration
        first_beats = max(1, math.ceil(duration * self.lo_f / 60 - 1e-9))
        last_beats = math.floor(duration * self.hi_f / 60 + 1e-9)
        if last_beats < first_beats:
            return True  # no step at all
        misses = _probe_misses(
            span.rel, span.d, duration, np.arange(first_beats, last_beats + 1), self.fps
        )
        # every step pays its start's cheapest arrival, a change after the cue start
        # (a jump and a short bar only add) and a thousand a missed probe hit
        floor = min(s.cost for s in arrivals) + (self.change if span.i else 0.0)
        fewest = int(misses.min())
        if _surely_above(floor + fewest * _MISS_COST, worst):
            return True
        # the beat counts whose probe misses alone do not rule them out
        allowed = fewest
        most = int(misses.max())
        while allowed < most and not _surely_above(floor + (allowed + 1) * _MISS_COST, worst):
            allowed += 1
        live = np.flatnonzero(misses <= allowed)
        if len(live) > _DOMINATED_TRIES:
            return False
        seconds = span.end - span.start
        for k in live.tolist():
            bpm = Fraction(60 * (first_beats + k)) / seconds
            if not _surely_above(floor + int(misses[k]) * _MISS_COST,
                                 beam.best.get(bpm, math.inf)):
                return False
        return True

    def span(self, i: int, j: int) -> _Span:
        start, end = self.knot_times[i], self.knot_times[j]
        # the hits are in time order: the inner ones are one slice (found by bisection,
        # not by a mask over every hit, which made the search cubic in the hits)
        t = self.t
        lo = int(np.searchsorted(t, float(start), side="right"))
        hi = int(np.searchsorted(t, float(end), side="left"))
        inner = slice(lo, max(lo, hi))
        return _Span(i, j, start, end, t[inner] - float(start), self.d[inner], self.w[inner])

    def steps(
        self, span: _Span, arrivals: list[_State], *, last: bool, limit: float = math.inf
    ) -> list[_State]:
        """Constant tempos over ``span`` (the best three beat counts), each after the
        cheapest arrival at its start; none that surely costs more than ``limit``."""
        duration = span.duration
        first_beats = max(1, math.ceil(duration * self.lo_f / 60 - 1e-9))
        last_beats = math.floor(duration * self.hi_f / 60 + 1e-9)
        if last_beats < first_beats:
            return []
        base = min(s.cost for s in arrivals)
        best_from = min(range(len(arrivals)), key=lambda k: arrivals[k].cost)
        beats = np.arange(first_beats, last_beats + 1)
        out: list[_State] = []
        for k, cost in self._cheapest_counts(span, beats, arrivals[best_from].bpm,
                                             base, limit):
            n = int(beats[k])
            bpm = Fraction(60 * n) / (span.end - span.start)
            seg = Segment(span.start, span.end, n, bpm, bpm, None, self.knot_hit[span.j])
            out.append(_State(base + cost, bpm, (span.i, best_from), seg))
            if last:
                # nothing follows the last segment: it need not land exactly on
                # the last hit, so its tempo may be the least-squares one
                soft = self._soft(span, bpm, beats[k : k + 1], cost, base)
                if soft is not None:
                    out.append(_State(soft[0], soft[1].bpm_end, (span.i, best_from), soft[1]))
        return out

    def _cheapest_counts(
        self,
        span: _Span,
        beats: NDArray[np.int64],
        before: Fraction,
        base: float = 0.0,
        limit: float = math.inf,
    ) -> list[tuple[int, float]]:
        """The three cheapest beat counts over ``span`` (ties to the fewer beats), as
        (index into ``beats``, cost of the step), less those whose step after ``base``
        surely costs more than ``limit``.

        A long span's counts are priced first on a few probe hits: the square errors
        and misses of some hits are a lower bound of all of them, so only the counts
        whose bound is not surely above the third cheapest found are priced on every
        hit (each count's cost is its own row, the same floats either way).
        """
        rel, d, w, duration, fps = span.rel, span.d, span.w, span.duration, self.fps

        def price(
            hits: slice | NDArray[np.int64], counts: NDArray[np.int64]
        ) -> NDArray[np.float64]:
            landing = _constant_costs(rel[hits], d[hits], w[hits], duration, beats[counts], fps)
            return self._step_costs(landing, span, beats[counts], before)

        def wanted(ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
            return [(k, c) for k, c in ranked if not _surely_above(base + c, limit)]

        def beyond(bound: float) -> bool:
            return _surely_above(bound, third) or _surely_above(base + bound, limit)

        every = np.arange(len(beats))
        if len(beats) * len(rel) <= _PRICED_WHOLE:
            costs = price(slice(None), every)
            order = np.argsort(costs, kind="stable")[:3]
            return wanted(list(zip(order.tolist(), costs[order].tolist(), strict=True)))
        chosen, probes, third = every, _PRICE_PROBES, math.inf
        while len(chosen) > 32 and probes < len(rel):
            probe = np.unique(np.linspace(0, len(rel) - 1, probes).astype(np.int64))
            bound = price(probe, chosen)
            by_bound = np.argsort(bound, kind="stable")
            if math.isinf(third):
                first = np.sort(chosen[by_bound[:8]])
                third = float(np.sort(price(slice(None), first))[min(2, len(first) - 1)])
            # the counts whose bound is not surely above it are a prefix of by_bound
            low, high = 0, len(by_bound)
            while low < high:
                mid = (low + high) // 2
                if beyond(float(bound[by_bound[mid]])):
                    high = mid
                else:
                    low = mid + 1
            kept, chosen = len(chosen), np.sort(chosen[by_bound[:low]])
            if 2 * len(chosen) > kept:
                break  # the bound hardly separates them: price them all at once
            probes *= 8  # still many: a finer bound for those
        costs = price(slice(None), chosen)
        order = np.argsort(costs, kind="stable")[:3]
        return wanted(list(zip(chosen[order].tolist(), costs[order].tolist(), strict=True)))

    def _step_costs(
        self,
        costs: NDArray[np.float64],
        span: _Span,
        beats: NDArray[np.int64],
        before: Fraction,
    ) -> NDArray[np.float64]:
        """Add to the landing costs what each step costs as a change of tempo."""
        tempos = 60 * beats / span.duration
        change = self.change
        if span.i > 0:
            # a change is cheaper the smaller the jump: smooth tempo moves first
            jump = np.abs(np.log(tempos / float(before)))
            costs = costs + change * (1 + 0.25 * jump)
        else:
            # the first tempo: near the middle of the range, round if it can be
            costs = costs + 1e-3 * np.abs(np.log(tempos / math.sqrt(self.lo_f * self.hi_f)))
            costs = costs + 1e-4 * (np.abs(tempos - np.round(tempos)) > 1e-9)
        # a short bar to land the hit is fine, whole bars are finer
        result: NDArray[np.float64] = costs + _SHORT_BAR * change * (beats % self.per_bar != 0)
        return result

    def _soft(
        self, span: _Span, bpm: Fraction, beats: NDArray[np.int64], cost: float, base: float
    ) -> tuple[float, Segment] | None:
        """The last segment at its least-squares tempo instead: (total cost, segment)."""
        n = int(beats[0])
        soft = self.whole.soft_ending(span.start, self.knot_hit[span.j], bpm, n)
        if soft is None:
            return None
        soft_seg, soft_cost = soft
        landing = _constant_costs(span.rel, span.d, span.w, span.duration, beats, self.fps)
        extra = cost - float(landing[0])
        return base + extra + soft_cost, soft_seg

    def ramps(
        self, span: _Span, arrivals: list[_State], worst: float = math.inf
    ) -> list[_State]:
        """Ramps over ``span`` from each arrival's tempo, one per whole beat count
        whose ramp lands the hit; none from an arrival whose every ramp (its cost, a
        change and a ramp's extra at least) surely costs more than ``worst``."""
        duration, shape = span.duration, self.ramp_shape
        out: list[_State] = []
        for k, state in enumerate(arrivals):
            if _surely_above(state.cost + self.change * (1 + _RAMP_EXTRA), worst):
                continue
            t0 = float(state.bpm)
            low, high = max(self.lo_f, t0 / 1.5), min(self.hi_f, t0 * 1.5)
            n_lo = max(1, math.ceil(duration / ramps.duration(t0, low, 1.0, shape)))
            n_hi = math.floor(duration / ramps.duration(t0, high, 1.0, shape))
            for n in range(n_lo, n_hi + 1):
                t1 = _solve_ramp_end(t0, duration / n, shape, low, high)
                if t1 is None or abs(t1 - t0) < 1e-6 * t0:
                    continue  # no ramp lands the hit, or it is a constant tempo
                end = _round_bpm(t1)
                cost = _ramp_cost(span.rel, span.d, span.w, t0, float(end), n, shape, self.fps)
                seg = Segment(span.start, span.end, n, state.bpm, end, shape, self.knot_hit[span.j])
                ramp_jump = abs(math.log(t1 / t0))
                short = _SHORT_BAR if n % self.per_bar else 0.0
                total = state.cost + self.change * (1 + _RAMP_EXTRA + short + 0.25 * ramp_jump)
                total += cost
                out.append(_State(total, end, (span.i, k), seg))
        return out


#: Hits of a span checked on every beat count to bound its misses from below.
_PROBE_HITS = 32


#: Spans (past the ramps) costed into a knot before the cue start's span is, early.
_START_FIRST_AFTER = 16

#: Steps (beat counts times inner hits) priced on every hit at once; past it, on
#: ``_PRICE_PROBES`` probe hits first.
_PRICED_WHOLE = 200_000
_PRICE_PROBES = 8

#: Live tempo slices past which :meth:`_Search._rest_dominated` does not look.
_LIVE_SLICES = 256

#: Tempos of a span checked one by one against the arrivals already found at them.
_DOMINATED_TRIES = 8


def _probe_misses(
    rel: NDArray[np.float64],
    d: NDArray[np.float64],
    duration: float,
    beats: NDArray[np.int64],
    fps: float,
) -> NDArray[np.int64]:
    """How many probe hits each beat count misses: a lower bound of its misses, by
    :func:`_constant_costs`'s own elementwise test on up to ``_PROBE_HITS`` hits
    spread over the span."""
    if not len(rel):
        return np.zeros(len(beats), dtype=np.int64)
    probe = np.unique(np.linspace(0, len(rel) - 1, min(len(rel), _PROBE_HITS)).astype(np.int64))
    step = (duration / beats)[:, None] / d[None, probe]
    n = np.floor(rel[None, probe] / step + 0.5)
    err = (rel[None, probe] - n * step) * fps
    result: NDArray[np.int64] = (np.abs(err) > 0.5 + 1e-9).sum(1)
    return result


def _surely_above(bound: float, worst: float) -> bool:
    """``bound`` (a lower bound of a cost: an arrival's plus misses', float sums of
    terms >= 0) is above ``worst`` by more than a rounding: a tie stays on the safe side."""
    return not math.isinf(worst) and bound > worst + 1e-9 * max(1.0, abs(worst))


class _HitWindow:
    """How many of some hits any grid anchored at one time must miss, whatever its
    tempo in the fit's range.

    A span ending on knot ``j`` after whole beats puts its grid on ``t_j - k g / d``
    (``g`` the beat, ``d`` the hit's divisions) wherever it starts, so whether a hit
    inside is caught depends on the tempo alone (anchored at the end); a soft ending's
    refitted grid is anchored at its start. For each of ``_BINS`` slices of the tempo
    range, a hit that no tempo in the slice catches (with a margin far above float
    rounding) counts as a miss; the fewest over the slices bounds the misses of every
    such grid from below, and only grows as hits are added.
    """

    _BINS = 16384

    def __init__(self, search: _Search, anchor: float) -> None:
        self.search = search
        self.anchor = anchor
        # a step's tempo is 60 * beats / seconds with beats rounded inside lo..hi
        self.lo = search.lo_f * (1 - 1e-6)
        self.hi = search.hi_f * (1 + 1e-6)
        self.width = (self.hi - self.lo) / self._BINS
        self.misses = np.zeros(self._BINS, dtype=np.int64)
        self.reach = (0.5 + 1e-6) / search.fps  # seconds a hit may be off and caught

    def add_knot(self, i: int) -> None:
        """Count the hits on knot ``i``."""
        for h in range(self.search.knot_hit[i - 1] + 1, self.search.knot_hit[i] + 1):
            self.add_hit(h)

    def add_hit(self, h: int) -> None:
        """Count hit ``h`` (in time order)."""
        search = self.search
        self._add(abs(float(search.t[h]) - self.anchor), float(search.d[h]))

    def _add(self, r: float, d: float) -> None:
        eps = self.reach
        if r <= eps:
            return  # on the end's own beat: always caught
        m_lo = max(1, math.ceil(self.lo * d * (r - eps) / 60))
        m_hi = math.floor(self.hi * d * (r + eps) / 60)
        if m_hi - m_lo > 4 * self._BINS:
            return  # grid points closer than the slices: assume it can be caught
        if m_hi < m_lo:
            self.misses += 1
            return
        m = np.arange(m_lo, m_hi + 1, dtype=np.float64)
        # the tempos that put a grid point within reach: 60 m / (d (r -+ eps)); the
        # reach's margin (1e-6 frame) is far wider than the float error of a slice edge
        first = np.floor((60 * m / (d * (r + eps)) - self.lo) / self.width).astype(np.int64)
        last = np.floor((60 * m / (d * (r - eps)) - self.lo) / self.width).astype(np.int64)
        size = self._BINS + 1
        cover = np.bincount(np.clip(first, 0, self._BINS), minlength=size) - np.bincount(
            np.clip(last + 1, 0, self._BINS), minlength=size
        )
        self.misses += np.cumsum(cover[: self._BINS]) == 0

    def fewest_misses(self) -> int:
        return int(self.misses.min())


class _Beam:
    """The cheapest cost per distinct tempo among candidates so far, to bound a knot's
    ``_BEAM``-th kept arrival from above (more candidates only lower it)."""

    def __init__(self) -> None:
        self.best: dict[Fraction, float] = {}

    def add(self, candidates: list[_State]) -> None:
        for c in candidates:
            if c.cost < self.best.get(c.bpm, math.inf):
                self.best[c.bpm] = c.cost

    def worst(self) -> float:
        if len(self.best) < _BEAM:
            return math.inf
        return heapq.nsmallest(_BEAM, self.best.values())[-1]


def _keep(candidates: list[_State]) -> list[_State]:
    """The cheapest arrival for each distinct tempo, then the best few."""
    candidates.sort(key=lambda s: s.cost)
    kept: list[_State] = []
    for cand in candidates:
        if all(cand.bpm != k.bpm for k in kept):
            kept.append(cand)
        if len(kept) >= _BEAM:
            break
    return kept


def _cheapest_path(states: list[list[_State]]) -> list[Segment]:
    """The segments of the cheapest way to the last knot, in order."""
    segments: list[Segment] = []
    at: tuple[int, int] | None = (len(states) - 1, 0)
    while at is not None:
        state = states[at[0]][at[1]]
        if state.segment is not None:
            segments.append(state.segment)
        at = state.back
    segments.reverse()
    return segments


def _soft_ending(
    hits: Sequence[Hit],
    start: Fraction,
    last: int,
    bpm: Fraction,
    beats: int,
    rate: FrameRate,
    lo: float,
    hi: float,
) -> tuple[Segment, float] | None:
    """The last segment refitted by exact weighted least squares over its hits.

    The hits keep the grid points the exactly landing tempo gives them; the cost is
    counted as for any segment (square errors, misses).
    """
    beat = seconds_at_tempo(1, bpm)
    rows = []
    for h in hits[: last + 1]:
        if h.time <= start:
            continue
        step = beat / h.divisions
        k = math.floor((h.time - start) / step + Fraction(1, 2))
        rows.append((h, Fraction(k, h.divisions)))
    weighted = [(h.weight, h.time - start, b) for h, b in rows if h.weight > 0]
    sbb = sum((w * b * b for w, _, b in weighted), Fraction(0))
    if sbb == 0:
        return None
    fitted = sum((w * t * b for w, t, b in weighted), Fraction(0)) / sbb
    new_bpm = tempo_for(1, fitted)
    if not lo <= new_bpm <= hi or new_bpm == bpm:
        return None
    cost = 0.0
    for h, b in rows:
        error = float((h.time - start - b * fitted) * rate.fps)
        cost += float(h.weight) * error * error * 1e-3
        if abs(error) > 0.5 + 1e-9:
            cost += _MISS_COST
    end = start + beats * fitted
    return Segment(start, end, beats, new_bpm, new_bpm, None, last), cost


@dataclass(frozen=True)
class _WholeNumbers:
    """The hits as whole numbers over common denominators, for :func:`_soft_ending`'s
    exact arithmetic without a Fraction per hit (it runs for every span into the last
    hit: a Fraction per hit each time made the end of a long fit quadratic and slow).

    Times are ``times[h] / den``, weights ``weights[h] / weight_den``; ``lcm`` is the
    least common multiple of the hits' divisions.
    """

    hits: Sequence[Hit]
    rate: FrameRate
    lo: float
    hi: float
    den: int
    times: list[int]
    weights: list[int]
    float_weights: list[float]
    divisions: list[int]
    lcm: int

    @classmethod
    def of(cls, hits: Sequence[Hit], rate: FrameRate, lo: float, hi: float) -> _WholeNumbers:
        den = math.lcm(*(Fraction(h.time).denominator for h in hits))
        weight_den = math.lcm(*(Fraction(h.weight).denominator for h in hits))
        divisions = [int(h.divisions) for h in hits]
        return cls(
            hits,
            rate,
            lo,
            hi,
            den,
            [int(Fraction(h.time) * den) for h in hits],
            [int(Fraction(h.weight) * weight_den) for h in hits],
            [float(h.weight) for h in hits],
            divisions,
            math.lcm(*divisions),
        )

    def soft_ending(
        self, start: Fraction, last: int, bpm: Fraction, beats: int
    ) -> tuple[Segment, float] | None:
        """:func:`_soft_ending` of the hits up to ``last``, with the same exact numbers
        (so the same floats: a quotient of whole numbers is rounded once, correctly)."""
        den, times, divs = self.den, self.times, self.divisions
        s = int(start * den)
        beat = seconds_at_tempo(1, bpm)
        p, q = beat.numerator, beat.denominator
        first = bisect.bisect_right(times, s, 0, last + 1)
        rows = range(first, last + 1)
        # k = floor((t - start) / (beat / d) + 1/2), in whole numbers
        ks = [(2 * (times[h] - s) * q * divs[h] + den * p) // (2 * den * p) for h in rows]
        lcm = self.lcm
        # fitted = sum(w t b) / sum(w b b) with b = k / d, over common denominators
        pairs = list(zip(rows, ks, strict=True))
        sbb = sum(self.weights[h] * (k * (lcm // divs[h])) ** 2 for h, k in pairs)
        if sbb == 0:
            return None
        stb = sum(self.weights[h] * (times[h] - s) * k * (lcm // divs[h]) for h, k in pairs)
        fitted = Fraction(stb * lcm, sbb * den)
        new_bpm = tempo_for(1, fitted)
        if not self.lo <= new_bpm <= self.hi or new_bpm == bpm:
            return None
        fn, fd = fitted.numerator, fitted.denominator
        fps = Fraction(self.rate.fps)
        an, ad = fps.numerator, fps.denominator
        cost = 0.0
        for h, k in pairs:
            d = divs[h]
            error = ((times[h] - s) * d * fd - den * k * fn) * an / (den * d * fd * ad)
            cost += self.float_weights[h] * error * error * 1e-3
            if abs(error) > 0.5 + 1e-9:
                cost += _MISS_COST
        end = start + beats * fitted
        return Segment(start, end, beats, new_bpm, new_bpm, None, last), cost


def ramps_shapes() -> tuple[str, ...]:
    from ictus.tempomap import RAMP_SHAPES

    return RAMP_SHAPES


def _tempo(bpm: Fraction, rate: FrameRate, unit: Fraction | None) -> Tempo:
    """A frame click when the tempo is whole eighth-frames at the picture's rate."""
    frames = bpm_to_frames(bpm, rate)
    if (frames * 8).denominator == 1 and frames >= 1:
        return Tempo.from_frame_click(frames, rate, unit)
    return Tempo(bpm, unit)


def _cue_text(label: str) -> str:
    return label.replace('"', "'").replace("\n", " ").strip()


def segments_to_map(
    segments: Sequence[Segment],
    hits: Sequence[Hit],
    *,
    meter: Meter,
    rate: FrameRate,
    start: Timecode | None = None,
    warning_bars: int = 0,
    title: str | None = None,
) -> TempoMap:
    """Sections for the segments: whole bars, a short bar to land each sync point on a
    downbeat, and a last bar after the final hit. Hits become cues at their beats."""
    per_bar = meter.count
    unit = None if meter.unit == 4 else Fraction(1, meter.unit)
    sections: list[Section] = []
    for seg in segments:
        full, rest = divmod(seg.beats, per_bar)
        parts: list[tuple[int, Meter, int]] = []  # (bars, meter, beats)
        if full:
            parts.append((full, meter, full * per_bar))
        if rest:
            parts.append((1, Meter(rest, meter.unit), rest))
        done = 0
        for bars, part_meter, beats in parts:
            t0 = _bpm_at(seg, done)
            t1 = _bpm_at(seg, done + beats)
            if seg.ramp is None:
                section = Section(bars, _tempo(seg.bpm_start, rate, unit), part_meter)
            else:
                section = Section(
                    bars, Tempo(t0, unit), part_meter, tempo_end=Tempo(t1, unit), ramp=seg.ramp
                )
            sections.append(section)
            done += beats
    last = segments[-1].bpm_end if segments else Fraction(120)
    sections.append(Section(1, _tempo(last, rate, unit), meter))
    count_in = CountIn(bars=warning_bars) if warning_bars else CountIn()
    plain = TempoMap(tuple(sections), title=title, count_in=count_in, start=start)
    return with_hit_cues(plain, hits, rate)


def with_hit_cues(tempo_map: TempoMap, hits: Sequence[Hit], rate: FrameRate) -> TempoMap:
    """The map with a cue (the hit's label) on the beat each labelled hit lands on."""
    grid = build_grid(replace(tempo_map, count_in=CountIn()))
    on_beat = grid.sub == 0
    times, bars, beats = grid.time[on_beat], grid.bar[on_beat], grid.beat[on_beat]
    fps = float(rate.fps)
    added: dict[int, list[Cue]] = {}
    for h in hits:
        if not h.label:
            continue
        k = int(np.argmin(np.abs(times - float(h.time))))
        if abs(times[k] - float(h.time)) * fps > 0.5 + 1e-9:
            continue  # not on a beat: the click sheet shows it
        index, offset = tempo_map.bar_start(int(bars[k]))
        added.setdefault(index, []).append(Cue(_cue_text(h.label), offset + 1, int(beats[k])))
    sections = tuple(
        replace(s, cues=(*s.cues, *added.get(i, ()))) for i, s in enumerate(tempo_map.sections)
    )
    return replace(tempo_map, sections=sections)


def _bpm_at(seg: Segment, beat: int) -> Fraction:
    if seg.ramp is None or beat == 0:
        return seg.bpm_start
    if beat == seg.beats:
        return seg.bpm_end
    value = ramps.tempo_at(
        np.array([float(beat)]),
        float(seg.bpm_start),
        float(seg.bpm_end),
        float(seg.beats),
        seg.ramp,
    )
    return _round_bpm(float(value[0]))


def hit_errors(tempo_map: TempoMap, hits: Sequence[Hit], rate: FrameRate) -> list[float]:
    """Each hit's error (frames) against the map's own clicks on its grid.

    The map is built with 12 subdivisions a beat (so 8ths, 16ths and triplets are all
    clicks) and no count-in; the first downbeat is the cue start.
    """
    fine = replace(
        tempo_map,
        sections=tuple(replace(s, sub=12, pattern=None) for s in tempo_map.sections),
        count_in=CountIn(),
    )
    grid = build_grid(fine)
    fps = float(rate.fps)
    errors = []
    for h in hits:
        allowed = grid.sub % (12 // h.divisions) == 0
        times = grid.time[allowed]
        k = int(np.argmin(np.abs(times - float(h.time))))
        errors.append((float(h.time) - float(times[k])) * fps)
    return errors


def statuses_ok(fit: MapFit) -> bool:
    """Whether every hit is caught within half a frame."""
    return all(s == HIT for s in fit.statuses)


def candidate_map(
    candidate: Candidate,
    meter: Meter | None = None,
    *,
    start_frame: int = 0,
    warning_bars: int = 1,
    title: str | None = None,
) -> TempoMap:
    """A one-tempo map for a fitted candidate, through the bar after the last hit.

    The map starts (``start:``) at the first downbeat; pickup beats before it and
    ``warning_bars`` bars of warning clicks are its count-in. The tempo is a frame click
    when it is whole eighth-frames. Hits on beats become cues.

    >>> from ictus.timebase import FPS_24
    >>> from ictus.film.fit import fit_tempo
    >>> from ictus.formats import format_click
    >>> hits = [Hit(Fraction(f, 24), f"h{f}") for f in (53, 106, 212, 265)]
    >>> best = fit_tempo(hits, rate=FPS_24, lo=100, hi=120)[0]
    >>> print(format_click(candidate_map(best, start_frame=86400)), end="")
    count-in: 1 bar
    start: 01:00:00:00 @ 24
    7 4/4 13-2@24 cue@2="h53" cue@3="h106" cue@5="h212" cue@6="h265"
    """
    meter = meter or Meter(4, 4)
    rate = candidate.rate
    per_bar = candidate.beats_per_bar
    unit = None if meter.unit == 4 else Fraction(1, meter.unit)
    last = max((r.beat for r in candidate.results), default=Fraction(0))
    bars = max(1, math.floor(last / per_bar) + 2)
    frames = candidate.offset * rate.fps
    downbeat = start_frame + math.floor(frames + Fraction(1, 2))
    pickup = candidate.pickup_beats
    if pickup:
        count_in = CountIn(beats=pickup + per_bar * warning_bars)
    else:
        count_in = CountIn(bars=warning_bars) if warning_bars else CountIn()
    tempo_map = TempoMap(
        (Section(bars, _tempo(candidate.bpm, rate, unit), meter),),
        title=title,
        count_in=count_in,
        start=Timecode.from_frame(downbeat, rate),
    )
    shifted = [replace(h, time=h.time - candidate.offset) for h in candidate_hits(candidate)]
    return with_hit_cues(tempo_map, shifted, rate)


def candidate_hits(candidate: Candidate) -> list[Hit]:
    """The hits after the first downbeat (those before it cannot carry a cue)."""
    return [r.hit for r in candidate.results if r.hit.time >= candidate.offset]
