"""Tempos as people typed them: reading MIDI's microseconds, writing tempos for people.

A Standard MIDI File stores a tempo as whole microseconds per quarter note. A DAW set
to 112 BPM stores ``round(60e6 / 112) = 535714`` us, which is exactly
``30000000/267857`` = 112.000064 BPM: nobody typed that. The rule used on reading:

    A stored tempo of ``u`` microseconds per quarter is read as the decimal ``d`` with
    the fewest places (0 to 3) that a writer could have stored as ``u``: ``60e6 / d``
    rounded to the nearest integer or cut to a whole number (writers do both) gives
    ``u``, that is ``u - 1/2 <= 60e6 / d < u + 1``. Of several with that many places,
    the one nearest the exact ``60e6 / u``. When no decimal with 3 places or fewer fits,
    the exact value ``60e6 / u`` is kept.

The difference is under one microsecond per quarter note, the file's own resolution:
the map then plays the typed tempo, which is what the DAW meant (its own clock runs at
the typed tempo; the file only rounds it), and differs from a plain tick-by-tick reading
of the file by less than 1 us per quarter note (under 0.4 ms after 100 bars of 4/4 at
one rounded tempo; 0.29 us per quarter at 112 BPM).

For people, :func:`readable` writes a tempo with at most 3 decimals (exact values stay
in JSON and inside the model).

>>> typed_bpm(535714), typed_bpm(476190), typed_bpm(450000), typed_bpm(500000)
(Fraction(112, 1), Fraction(126, 1), Fraction(400, 3), Fraction(120, 1))
>>> typed_bpm(450011), typed_bpm(450001), typed_bpm(545454)  # 545454: 110, cut
(Fraction(13333, 100), Fraction(133333, 1000), Fraction(110, 1))
>>> readable(Fraction(30000000, 267857)), readable(Fraction(400, 3)), readable(96.5)
('112', '133.333', '96.5')
"""

from __future__ import annotations

import math
from fractions import Fraction

MICROSECONDS_PER_MINUTE = 60_000_000
MAX_PLACES = 3


def typed_bpm(uspq: int) -> Fraction:
    """The quarter-note tempo a person typed, for a stored ``uspq`` (see the module)."""
    exact = Fraction(MICROSECONDS_PER_MINUTE, uspq)
    # u - 1/2 <= 60e6/d < u + 1, i.e. 60e6/(u + 1) < d <= 60e6/(u - 1/2)
    low = Fraction(MICROSECONDS_PER_MINUTE) / (uspq + 1)
    high = Fraction(MICROSECONDS_PER_MINUTE) / (uspq - Fraction(1, 2)) if uspq > 1 else None
    for places in range(MAX_PLACES + 1):
        step = Fraction(1, 10**places)
        first = math.floor(low / step) + 1  # the smallest multiple of step above low
        last = math.floor(high / step) if high is not None else first
        if first > last:
            continue
        nearest = min(max(round(exact / step), first), last)
        return nearest * step
    return exact


def readable(value: Fraction | float) -> str:
    """A tempo for people: at most 3 decimals, no trailing zeros."""
    text = f"{float(value):.{MAX_PLACES}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
