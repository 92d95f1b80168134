"""Streamers, punches and flutters: what the conductor sees (docs/REFERENCE.md section 6).

A **streamer** is a vertical band that sweeps across the picture from left to right
over a fixed time (2, 3 or 4 s are common; 2.67 and 3.33 s are 4 and 5 feet of 35 mm)
and reaches the right edge on the hit frame, where a **punch** (a bright circle) shows
for one or two frames. A **flutter** is a row of 1, 3, 5 or 7 small punches on every
other frame, here on each downbeat.

Colours by convention: **yellow** into a warning (the first warning click), **green**
into a downbeat (bar 1 and the hits), **red** at the end (the last hit). A hit may ask
for its own colour.

This module only plans (whole frames, exact); :mod:`ictus.film.video` draws.

>>> from fractions import Fraction
>>> from ictus.tempomap import Section, Tempo, TempoMap
>>> from ictus.timebase import FPS_24, Timecode, format_timecode
>>> from ictus.film.hits import Hit
>>> from ictus.film.picture import Placement
>>> m = TempoMap((Section(8, Tempo(120)),), start=Timecode.parse("01:00:00:00", FPS_24))
>>> plan = plan_streamers(Placement.of(m), [Hit(Fraction(10), "door")], length_s=2)
>>> [(format_timecode(s.start, FPS_24), format_timecode(s.end, FPS_24), s.colour)
...  for s in plan.streamers]
[('00:59:58:00', '01:00:00:00', 'green'), ('01:00:08:00', '01:00:10:00', 'red')]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ictus.errors import ParameterError
from ictus.film.hits import Hit
from ictus.film.picture import Placement
from ictus.tempomap import ClickGrid, build_grid

#: Screen colours (RGB) of the colour names streamers and punches use.
RGB: dict[str, tuple[int, int, int]] = {
    "green": (40, 220, 70),
    "yellow": (250, 215, 30),
    "red": (235, 35, 35),
    "white": (245, 245, 245),
    "blue": (60, 120, 255),
    "cyan": (40, 220, 230),
    "magenta": (230, 50, 220),
    "orange": (255, 140, 20),
}
FLUTTERS = (0, 1, 3, 5, 7)


@dataclass(frozen=True)
class Streamer:
    """A band entering at the left on frame ``start`` and reaching the right on ``end``
    (absolute frames), where its punch is."""

    start: int
    end: int
    colour: str
    label: str = ""

    def position(self, frame: int) -> float | None:
        """How far across (0 at the left edge, 1 at the right) on ``frame``, or None."""
        if not self.start <= frame <= self.end:
            return None
        if self.end == self.start:
            return 1.0
        return (frame - self.start) / (self.end - self.start)


@dataclass(frozen=True)
class Punch:
    """A bright circle from absolute frame ``frame`` for ``frames`` frames."""

    frame: int
    frames: int
    colour: str = "white"
    big: bool = True


@dataclass(frozen=True)
class StreamerPlan:
    """Everything to draw, in absolute frames."""

    streamers: tuple[Streamer, ...]
    punches: tuple[Punch, ...]

    def punch_frames(self, big_only: bool = True) -> list[int]:
        """The first frame of every (big) punch, sorted."""
        return sorted(p.frame for p in self.punches if p.big or not big_only)


def hit_frame(placement: Placement, hit: Hit) -> int:
    """The absolute frame of a hit: the frame nearest its exact time (halves go later)."""
    return placement.start_frame + math.floor(hit.time * placement.rate.fps + Fraction(1, 2))


def streamer_frames(length_s: float | Fraction, placement: Placement) -> int:
    """A streamer's length in whole frames: 2 s at 24 fps is 48."""
    frames = round(Fraction(str(length_s)) * placement.rate.fps)
    if frames < 1:
        raise ParameterError(f"a streamer must last at least one frame, got {length_s} s")
    return frames


def plan_streamers(
    placement: Placement,
    hits: Sequence[Hit],
    *,
    length_s: float | Fraction = 2,
    punch_frames: int = 2,
    flutter: int = 0,
    grid: ClickGrid | None = None,
    start_streamers: bool = True,
) -> StreamerPlan:
    """Plan the streamers and punches of a cue.

    Parameters
    ----------
    placement
        The cue in picture.
    hits
        The hits (seconds after the cue start): a streamer and a punch each.
    length_s
        Streamer length in seconds (rounded to whole frames).
    punch_frames
        How long a punch stays (1 or 2 frames is usual).
    flutter
        Small punches on every downbeat: 0 (none), 1, 3, 5 or 7.
    grid
        The map's grid (built if not given).
    start_streamers
        Also a yellow streamer into the first warning click (when the map has a
        count-in) and a green one into bar 1.
    """
    if flutter not in FLUTTERS:
        raise ParameterError(f"flutter must be one of {FLUTTERS}, got {flutter}")
    if not 1 <= punch_frames <= 12:
        raise ParameterError(f"a punch lasts 1..12 frames, got {punch_frames}")
    length = streamer_frames(length_s, placement)
    grid = grid if grid is not None else build_grid(placement.tempo_map)
    click_frames = placement.frames(grid)
    streamers: list[Streamer] = []
    punches: list[Punch] = []
    hit_ends = {hit_frame(placement, h) for h in hits}
    if start_streamers and len(grid):
        bar_one = placement.start_frame
        if grid.bar[0] <= 0:
            first = math.floor(float(click_frames[0]) + 0.5)
            if first != bar_one:
                streamers.append(Streamer(first - length, first, "yellow", "warning"))
        if bar_one not in hit_ends:
            streamers.append(Streamer(bar_one - length, bar_one, "green", "bar 1"))
    ordered = sorted(hits, key=lambda h: h.time)
    for i, h in enumerate(ordered):
        end = hit_frame(placement, h)
        colour = h.colour or ("red" if i == len(ordered) - 1 else "green")
        streamers.append(Streamer(end - length, end, colour, h.label))
        punches.append(Punch(end, punch_frames, "white", True))
    if flutter:
        downbeats = np.flatnonzero((grid.sub == 0) & (grid.beat == 1) & (grid.bar >= 1))
        for i in downbeats.tolist():
            frame = math.floor(float(click_frames[i]) + 0.5)
            punches.extend(Punch(frame + 2 * k, 1, "white", False) for k in range(flutter))
    streamers.sort(key=lambda s: (s.end, s.start))
    punches.sort(key=lambda p: (p.frame, not p.big))
    return StreamerPlan(tuple(streamers), tuple(punches))
