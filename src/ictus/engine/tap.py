"""Tap tempo: the beat length a player taps, from the last few taps.

>>> taps = Taps()
>>> taps.tap(10.0), taps.tap(10.5), taps.tap(11.1), taps.tap(11.6)
(None, Fraction(1, 2), Fraction(11, 20), Fraction(1, 2))
>>> taps.tap(20.0) is None  # a pause longer than RESET starts again
True
"""

from __future__ import annotations

import itertools
import statistics
from fractions import Fraction

#: Taps further apart than this (seconds) start a new tap tempo.
RESET = 2.0
#: How many taps count (the median of their intervals: one stray tap changes nothing).
KEEP = 5


class Taps:
    """The taps of one player; :meth:`tap` returns the beat length they show."""

    def __init__(self) -> None:
        self._times: list[float] = []

    def tap(self, at: float) -> Fraction | None:
        """A tap at ``at`` seconds; the tapped beat in seconds from the second tap on
        (None after a first tap, or when the taps do not move forward)."""
        if self._times and at - self._times[-1] > RESET:
            self._times = []
        self._times = [*self._times[-(KEEP - 1) :], at]
        if len(self._times) < 2:
            return None
        intervals = [b - a for a, b in itertools.pairwise(self._times)]
        tapped = statistics.median(intervals)
        if tapped <= 0:
            return None
        return Fraction(str(round(tapped, 9)))
