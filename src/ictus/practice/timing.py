"""How a take sits against the click: notes matched to clicks, early and late in ms.

The recording and the map share one clock once we know ``offset``: the recording time
of the map's time 0 (the first count-in click, or bar 1 without a count-in). A note's
*deviation* is its onset minus ``click time + offset``: positive is late (behind the
click, dragging), negative early (ahead, rushing).

:func:`find_offset` finds ``offset`` when nobody knows it (a recording started at some
moment before the song): the offset that matches most notes to clicks, then moved so
the median note is on its click. That last step cannot tell a player who sits 10 ms
behind everywhere from a recording 10 ms late, so ``--offset auto`` reads such a
player as centred; give the offset in seconds when it is known.

>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> grid = build_grid(TempoMap((Section(2, Tempo(120), label="verse"),)))
>>> onsets = grid.time + 0.25 + np.array([0.01, -0.02, 0.0, 0.03, 0.01, 0.0, -0.01, 0.02])
>>> report = analyze(onsets, grid, offset=0.25)
>>> [round(n.deviation * 1000) for n in report.notes]
[10, -20, 0, 30, 10, 0, -10, 20]
>>> round(report.overall.mean * 1000, 2), [b.bar for b in report.bars]
(5.0, [1, 2])
>>> round(find_offset(onsets, grid), 3)
0.255
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ictus.errors import IctusError, ParameterError
from ictus.tempomap import ClickGrid

#: A section whose mean deviation lies further than this from the click is ahead or behind.
FEEL_THRESHOLD = 0.005


class Feel(enum.Enum):
    """Where a section sits against the click."""

    AHEAD = "ahead (rushing)"
    ON = "on the click"
    BEHIND = "behind (dragging)"


@dataclass(frozen=True)
class Note:
    """One played note matched to its click."""

    onset: float  # seconds in the recording
    click: float  # seconds in the map
    bar: int
    beat: int
    sub: int
    section: str
    deviation: float  # seconds, positive = late


@dataclass(frozen=True)
class Spread:
    """Mean and standard deviation (population) of deviations, in seconds."""

    count: int
    mean: float
    spread: float
    earliest: float
    latest: float

    @classmethod
    def of(cls, deviations: NDArray[np.float64]) -> Spread:
        """
        >>> Spread.of(np.array([0.01, 0.03]))
        Spread(count=2, mean=0.02, spread=0.01, earliest=0.01, latest=0.03)
        """
        if len(deviations) == 0:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        d = np.asarray(deviations, dtype=np.float64)
        return cls(len(d), float(d.mean()), float(d.std()), float(d.min()), float(d.max()))


@dataclass(frozen=True)
class BarTiming:
    bar: int
    section: str
    timing: Spread


@dataclass(frozen=True)
class SectionTiming:
    """One run of bars under one label, with its feel and its trend inside."""

    label: str
    first_bar: int
    last_bar: int
    timing: Spread
    feel: Feel
    trend: float  # seconds of deviation gained per second of map time (linear fit)


@dataclass(frozen=True)
class Drift:
    """A straight line through deviation over map time: ``deviation = start + rate * t``."""

    start: float  # seconds of deviation at map time 0
    rate: float  # seconds of deviation gained per second

    @property
    def per_minute(self) -> float:
        return self.rate * 60.0


@dataclass(frozen=True)
class TimingReport:
    offset: float
    notes: tuple[Note, ...]
    bars: tuple[BarTiming, ...]
    sections: tuple[SectionTiming, ...]
    overall: Spread
    drift: Drift | None
    missed: int  # clicks after the count-in that no note matched
    extra: int  # onsets that matched no click


def _targets(grid: ClickGrid, until: float | None = None) -> NDArray[np.intp]:
    """The clicks a player plays to: every click after the count-in, muted ones too
    (before grid time ``until``, when given)."""
    keep = grid.bar > 0
    if until is not None:
        keep &= grid.time < until
    return np.flatnonzero(keep)


def _nearest(onsets: NDArray[np.float64], clicks: NDArray[np.float64]) -> NDArray[np.intp]:
    """Index into ``clicks`` (sorted) of the click nearest each onset."""
    right = np.clip(np.searchsorted(clicks, onsets), 1, len(clicks) - 1)
    left = right - 1
    pick_left = np.abs(onsets - clicks[left]) <= np.abs(clicks[right] - onsets)
    result: NDArray[np.intp] = np.where(pick_left, left, right)
    return result


def _match(
    onsets: NDArray[np.float64], clicks: NDArray[np.float64], window: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (onset index, click index): nearest click within ``window``, one note a click."""
    near = np.zeros(len(onsets), dtype=np.intp) if len(clicks) == 1 else _nearest(onsets, clicks)
    dev = np.abs(onsets - clicks[near])
    ok = np.flatnonzero(dev <= window)
    # when two notes claim one click, the closer one gets it
    order = ok[np.argsort(dev[ok], kind="stable")]
    _, first = np.unique(near[order], return_index=True)
    chosen = np.sort(order[first])
    return chosen, near[chosen]


def find_offset(
    onsets: NDArray[np.float64],
    grid: ClickGrid,
    *,
    tolerance: float = 0.035,
    candidates: int = 64,
    shortlist: int = 40,
) -> float:
    """The recording time of the map's time 0 that matches most notes to clicks.

    Every pair of one of the first ``candidates`` onsets and a click proposes an offset;
    the ``shortlist`` most proposed (in bins of ``tolerance``) are each scored by the
    number of notes within ``tolerance`` of a click (ties: the smaller mean distance),
    and the winner is moved so the median note sits on its click.
    """
    clicks = grid.time[_targets(grid)]
    onsets = np.asarray(onsets, dtype=np.float64)
    if len(clicks) == 0 or len(onsets) == 0:
        raise IctusError("no notes or no clicks to align: cannot find the offset")
    head = onsets[:candidates]
    # vote first: every (onset, click) pair proposes an offset, in tolerance-wide bins;
    # then score the most proposed bins properly (periodic grids make many near-ties)
    diffs = (head[:, None] - clicks[None, :]).ravel()
    bins, votes = np.unique(np.round(diffs / tolerance).astype(np.int64), return_counts=True)
    best: tuple[int, float, float] | None = None
    for b in bins[np.argsort(-votes, kind="stable")[:shortlist]]:
        offset = float(b) * tolerance
        i, j = _match(onsets - offset, clicks, tolerance)
        if best is not None and len(i) < best[0]:
            continue
        mean = float(np.abs(onsets[i] - offset - clicks[j]).mean()) if len(i) else 0.0
        if best is None or (len(i), -mean) > (best[0], -best[1]):
            best = (len(i), mean, offset)
    assert best is not None
    offset = best[2]
    for _ in range(2):
        i, j = _match(onsets - offset, clicks, tolerance)
        offset += float(np.median(onsets[i] - offset - clicks[j]))
    return offset


def analyze(
    onsets: NDArray[np.float64],
    grid: ClickGrid,
    *,
    offset: float,
    window: float = 0.1,
    until: float | None = None,
) -> TimingReport:
    """Match ``onsets`` (recording seconds) to the clicks of ``grid`` and measure them.

    Parameters
    ----------
    onsets : increasing times in seconds
    grid : ClickGrid
        The map the take was played to; its count-in clicks are not matched.
    offset : float
        Recording time of the map's time 0 (:func:`find_offset` when unknown).
    window : float
        A note further than this from its nearest click is not counted (an extra note).
    until : float, optional
        Grid time where the take stops counting (the player stopped, ``--bars``):
        later clicks are not missed, notes after it plus ``window`` not extra.
    """
    if window <= 0:
        raise ParameterError(f"window must be > 0 s, got {window}")
    targets = _targets(grid, until)
    if len(targets) == 0:
        raise IctusError("the map has no clicks after the count-in")
    clicks = grid.time[targets]
    onsets = np.sort(np.asarray(onsets, dtype=np.float64))
    if until is not None:
        onsets = onsets[onsets - offset < until + window]
    oi, ci = (
        _match(onsets - offset, clicks, window)
        if len(onsets)
        else (
            np.zeros(0, np.intp),
            np.zeros(0, np.intp),
        )
    )
    gi = targets[ci]
    deviations = onsets[oi] - offset - clicks[ci]
    names = grid.section_names
    notes = tuple(
        Note(
            float(onsets[o]),
            float(grid.time[g]),
            int(grid.bar[g]),
            int(grid.beat[g]),
            int(grid.sub[g]),
            names[grid.section[g]],
            float(d),
        )
        for o, g, d in zip(oi, gi, deviations, strict=True)
    )
    bar_of = grid.bar[gi]
    bars = tuple(
        BarTiming(
            int(b), names[grid.section[gi[bar_of == b][0]]], Spread.of(deviations[bar_of == b])
        )
        for b in np.unique(bar_of)
    )
    return TimingReport(
        offset=offset,
        notes=notes,
        bars=bars,
        sections=_sections(grid, targets, gi, deviations),
        overall=Spread.of(deviations),
        drift=_fit(grid.time[gi], deviations),
        missed=len(targets) - len(gi),
        extra=len(onsets) - len(oi),
    )


def _fit(times: NDArray[np.float64], deviations: NDArray[np.float64]) -> Drift | None:
    if len(times) < 3 or np.ptp(times) == 0:
        return None
    rate, start = np.polyfit(times, deviations, 1)
    return Drift(float(start), float(rate))


def _sections(
    grid: ClickGrid,
    targets: NDArray[np.intp],
    played: NDArray[np.intp],
    deviations: NDArray[np.float64],
) -> tuple[SectionTiming, ...]:
    """Runs of consecutive clicks under one section label (a label may come back later)."""
    sec = grid.section[targets]
    starts = np.flatnonzero(np.r_[True, sec[1:] != sec[:-1]])
    ends = np.r_[starts[1:], len(targets)]
    out = []
    for s, e in zip(starts, ends, strict=True):
        lo, hi = targets[s], targets[e - 1]
        inside = (played >= lo) & (played <= hi)
        d = deviations[inside]
        timing = Spread.of(d)
        if timing.count == 0 or abs(timing.mean) <= FEEL_THRESHOLD:
            feel = Feel.ON
        else:
            feel = Feel.AHEAD if timing.mean < 0 else Feel.BEHIND
        drift = _fit(grid.time[played[inside]], d)
        out.append(
            SectionTiming(
                grid.section_names[sec[s]],
                int(grid.bar[lo]),
                int(grid.bar[hi]),
                timing,
                feel,
                drift.rate if drift else 0.0,
            )
        )
    return tuple(out)


def to_json(report: TimingReport, **about: object) -> dict[str, object]:
    """The report as plain data, times in seconds and deviations in milliseconds.

    >>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
    >>> grid = build_grid(TempoMap((Section(1, Tempo(120)),)))
    >>> data = to_json(analyze(grid.time + 0.01, grid, offset=0.0))
    >>> data["overall"]["mean_ms"], data["notes"][0]["deviation_ms"], data["sections"][0]["feel"]
    (10.0, 10.0, 'behind (dragging)')
    """

    def ms(x: float) -> float | None:
        return None if np.isnan(x) else round(x * 1000, 3)

    def spread(s: Spread) -> dict[str, object]:
        return {
            "count": s.count,
            "mean_ms": ms(s.mean),
            "spread_ms": ms(s.spread),
            "earliest_ms": ms(s.earliest),
            "latest_ms": ms(s.latest),
        }

    return {
        **about,
        "offset_s": round(report.offset, 6),
        "overall": spread(report.overall),
        "drift": None
        if report.drift is None
        else {
            "ms_per_minute": round(report.drift.per_minute * 1000, 3),
            "start_ms": round(report.drift.start * 1000, 3),
        },
        "missed_clicks": report.missed,
        "extra_notes": report.extra,
        "sections": [
            {
                "label": s.label,
                "bars": [s.first_bar, s.last_bar],
                **spread(s.timing),
                "feel": s.feel.value,
                "trend_ms_per_minute": round(s.trend * 60_000, 3),
            }
            for s in report.sections
        ],
        "bars": [{"bar": b.bar, "section": b.section, **spread(b.timing)} for b in report.bars],
        "notes": [
            {
                "onset_s": round(n.onset, 6),
                "click_s": round(n.click, 6),
                "bar": n.bar,
                "beat": n.beat,
                "sub": n.sub,
                "section": n.section,
                "deviation_ms": round(n.deviation * 1000, 3),
            }
            for n in report.notes
        ],
    }
