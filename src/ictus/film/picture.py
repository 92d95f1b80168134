"""Where the clicks fall in picture: frames, timecodes and feet+frames of a map's grid.

A map knows where it sits in picture through its ``start`` (the timecode of bar 1's
downbeat at a frame rate). Commands may also give ``--fps`` and ``--start``; they
override the map's. Times come from the map's timeline (exact where it can be), frames
from exact rates, rounded to the nearest frame by the one rule (halves go later).

>>> from ictus.tempomap import Section, Tempo, TempoMap, build_grid
>>> from ictus.timebase import FPS_24, Timecode
>>> m = TempoMap((Section(1, Tempo(120)),), start=Timecode.parse("01:00:00:00", FPS_24))
>>> cue = Placement.of(m)
>>> cue.frames(build_grid(m)).tolist(), cue.label(86412.0)
([86400.0, 86412.0, 86424.0, 86436.0], '01:00:00:12')
>>> cue.frame_at(Fraction(1, 48)), cue.label(cue.frame_at(Fraction(1, 48)))
(Fraction(172801, 2), '01:00:00:01')
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from ictus.errors import ParameterError
from ictus.tempomap import ClickGrid, TempoMap, Timeline
from ictus.timebase import (
    GAUGE_35MM,
    FilmGauge,
    FrameRate,
    PictureStart,
    Timecode,
    format_timecode,
    parse_rate,
    parse_timecode,
    round_fraction,
)

#: A frame position: exact (``Fraction``, ``int``) or, for drawing, a float.
Frame = Fraction | int | float


def nearest_frame(frame: Frame) -> int:
    """The frame nearest ``frame``; a half goes to the later frame.

    Floats are taken by their digits (:func:`ictus.timebase.exact_number`), so pass
    exact frames (:meth:`Placement.frame_at`) where a half must count as one.

    >>> nearest_frame(Fraction(3, 2)), nearest_frame(2.4999), nearest_frame(-0.5)
    (2, 2, 0)
    """
    exact = frame if isinstance(frame, Fraction | int) else Fraction(repr(float(frame)))
    return round_fraction(Fraction(exact), "nearest")


@dataclass(frozen=True)
class Placement:
    """A cue placed in picture: its frame rate, the frame of its first downbeat, and where
    feet+frames count from.

    Attributes
    ----------
    tempo_map : the map (times are read from its grid)
    rate : frame rate of the picture
    start_frame : absolute frame (from 00:00:00:00) of bar 1's downbeat
    reel : picture start (0+00) and gauge for feet+frames
    """

    tempo_map: TempoMap
    rate: FrameRate
    start_frame: int
    reel: PictureStart

    @classmethod
    def of(
        cls,
        tempo_map: TempoMap,
        *,
        fps: str | FrameRate | None = None,
        start: str | None = None,
        picture_start: str | None = None,
        gauge: FilmGauge = GAUGE_35MM,
    ) -> Placement:
        """Place ``tempo_map``: ``fps``/``start`` override its ``start:`` line.

        Without a rate anywhere this is an error; without a start timecode the cue
        starts at 00:00:00:00. Feet count from ``picture_start``, by default the whole
        hour at or before the cue start (reels start on the hour: 01:00:00:00).
        """
        rate: FrameRate | None
        if isinstance(fps, FrameRate):
            rate = fps
        elif fps is not None:
            rate = parse_rate(fps)
        else:
            rate = tempo_map.start.rate if tempo_map.start is not None else None
        if rate is None:
            raise ParameterError(
                "give the picture's frame rate with --fps, or a 'start: 01:00:00:00 @ 24' "
                "line in the map"
            )
        if start is not None:
            start_frame = parse_timecode(start, rate)
        elif tempo_map.start is None:
            start_frame = 0
        elif tempo_map.start.rate == rate:
            start_frame = tempo_map.start.to_frame()
        else:
            # --fps differs from the map's rate: keep the label (a reel re-timed to another
            # rate keeps its timecodes), read at the rate in force
            start_frame = parse_timecode(str(tempo_map.start).replace(";", ":"), rate)
        if picture_start is not None:
            reel_frame = parse_timecode(picture_start, rate)
        else:
            hour = Timecode.from_frame(start_frame, rate).hours
            reel_frame = parse_timecode(f"{hour:02d}:00:00:00", rate)
        return cls(tempo_map, rate, start_frame, PictureStart(reel_frame, gauge))

    @property
    def start_timecode(self) -> Timecode:
        return Timecode.from_frame(self.start_frame, self.rate)

    @property
    def timeline(self) -> Timeline:
        """The map's timeline (map time 0 is bar 1's downbeat, the cue start)."""
        return Timeline(self.tempo_map)

    def frames(self, grid: ClickGrid) -> NDArray[np.float64]:
        """Absolute frame position of each click (fractional between frames; floats)."""
        if grid.timeline is None:
            raise ParameterError("the grid has no timeline: build it with build_grid")
        frames: NDArray[np.float64] = self.start_frame + grid.map_times() * float(self.rate.fps)
        return frames

    def frame_at(self, seconds: Fraction) -> Fraction:
        """Exact absolute frame position of a time after the cue start."""
        return self.start_frame + Fraction(seconds) * self.rate.fps

    def seconds_to_frame(self, seconds: float) -> float:
        """Absolute frame position of a time after the cue start (float, for drawing)."""
        return self.start_frame + seconds * float(self.rate.fps)

    def label(self, frame: Frame) -> str:
        """The timecode of the frame nearest ``frame``; ``""`` before 00:00:00:00."""
        n = nearest_frame(frame)
        return format_timecode(n, self.rate) if n >= 0 else ""

    def feet(self, frame: Frame) -> str:
        """Feet+frames of the frame nearest ``frame``; ``""`` before picture start."""
        n = nearest_frame(frame)
        return self.reel.to_feet(n) if n >= self.reel.start_frame else ""
