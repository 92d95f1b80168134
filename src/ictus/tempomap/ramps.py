"""Closed forms for time inside one section: the only place tempo becomes seconds.

Every function takes positions ``q`` in quarter notes from the section start (a numpy
array) and returns seconds from the section start, computed absolutely (no running
sums), so a click's time never depends on how many clicks came before it.

Tempos are quarter notes per minute. A ramp runs over the section's ``Q`` quarters from
``t0`` to ``t1``; ``t1`` is reached on the downbeat after the section. The three shapes
(docs/REFERENCE.md section 2):

- ``beats``: tempo linear in beats (klick's). ``t(q) = 60 Q/(t1-t0) * ln(T(q)/t0)``
- ``time``: tempo linear in seconds over the ramp's duration ``120 Q/(t0+t1)``
- ``period``: seconds per beat linear in beats. ``t(q) = 60 (q/t0 + (1/t1-1/t0) q^2/(2Q))``

>>> import numpy as np
>>> q = np.array([16.0])
>>> [round(float(seconds(q, 100, t1, 16, shape)[0]), 6)
...  for t1, shape in ((142.503911475, "beats"), (140, "time"), (150, "period"))]
[8.0, 8.0, 8.0]
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def seconds(q: Array, t0: float, t1: float, length: float, shape: str) -> Array:
    """Seconds from the section start to positions ``q`` (quarters) of a ramp or constant."""
    if t0 == t1:
        return q * (60.0 / t0)
    if shape == "beats":
        # log1p keeps full precision when the ramp is gentle (ratio close to 1)
        return (60.0 * length / (t1 - t0)) * np.log1p(q * ((t1 - t0) / (length * t0)))
    if shape == "time":
        duration = 120.0 * length / (t0 + t1)
        a = (t1 - t0) / (2.0 * duration)
        # the root of a t^2 + t0 t - 60 q = 0 written without cancellation
        return (120.0 * q) / (t0 + np.sqrt(t0 * t0 + 240.0 * a * q))
    if shape == "period":
        return 60.0 * (q / t0 + (1.0 / t1 - 1.0 / t0) * q * q / (2.0 * length))
    raise ValueError(f"unknown ramp shape {shape!r}")


def tempo_at(q: Array, t0: float, t1: float, length: float, shape: str) -> Array:
    """Instantaneous quarter-note tempo at positions ``q`` of a ramp or constant."""
    if t0 == t1:
        return np.full_like(q, t0)
    if shape == "beats":
        return t0 + (t1 - t0) * q / length
    if shape == "time":
        duration = 120.0 * length / (t0 + t1)
        return t0 + (t1 - t0) * seconds(q, t0, t1, length, shape) / duration
    if shape == "period":
        return 1.0 / (1.0 / t0 + (1.0 / t1 - 1.0 / t0) * q / length)
    raise ValueError(f"unknown ramp shape {shape!r}")


def duration(t0: float, t1: float, length: float, shape: str) -> float:
    """Seconds the whole section lasts: the closed forms at ``q = length``.

    >>> round(duration(100, 140, 16, "time"), 12), round(duration(100, 150, 16, "period"), 12)
    (8.0, 8.0)
    """
    if t0 == t1:
        return 60.0 * length / t0
    if shape == "beats":
        return 60.0 * length * math.log(t1 / t0) / (t1 - t0)
    if shape == "time":
        return 120.0 * length / (t0 + t1)
    if shape == "period":
        return 30.0 * length * (1.0 / t0 + 1.0 / t1)
    raise ValueError(f"unknown ramp shape {shape!r}")


def position_at(t: Array, t0: float, t1: float, length: float, shape: str) -> Array:
    """Inverse of :func:`seconds`: quarters from the section start at ``t`` seconds."""
    if t0 == t1:
        return t * (t0 / 60.0)
    if shape == "beats":
        return (length * t0 / (t1 - t0)) * np.expm1(t * ((t1 - t0) / (60.0 * length)))
    if shape == "time":
        dur = 120.0 * length / (t0 + t1)
        return (t0 * t + (t1 - t0) * t * t / (2.0 * dur)) / 60.0
    if shape == "period":
        # 60 (q/t0 + k q^2) = t with k = (1/t1 - 1/t0)/(2 length): stable quadratic root
        k = (1.0 / t1 - 1.0 / t0) / (2.0 * length)
        b = 1.0 / t0
        c = t / 60.0
        return (2.0 * c) / (b + np.sqrt(b * b + 4.0 * k * c))
    raise ValueError(f"unknown ramp shape {shape!r}")
