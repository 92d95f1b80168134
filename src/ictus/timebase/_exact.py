"""Turning user numbers into exact fractions (private to :mod:`ictus.timebase`)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal, TypeAlias

from ictus.errors import ParameterError

#: Anything :func:`to_fraction` accepts.
Number: TypeAlias = Fraction | int | float | str

#: How a non-integer number of frames (or eighth-frames) becomes an integer.
Rounding: TypeAlias = Literal["nearest", "floor", "ceil"]


def to_fraction(value: Number, what: str) -> Fraction:
    """Return ``value`` as an exact :class:`~fractions.Fraction`.

    A float is read as its shortest decimal form (``repr``), not as its binary
    value: ``60.06`` typed by a user means 6006/100, and reading the binary
    value (60.0599999...) would put a floor one frame early.

    Parameters
    ----------
    value
        A Fraction, int, float or a string such as ``"60.06"`` or ``"1001/30000"``.
    what
        What the value is, for the error message.

    Examples
    --------
    >>> to_fraction(60.06, "seconds")
    Fraction(3003, 50)
    >>> to_fraction("1001/30000", "seconds")
    Fraction(1001, 30000)
    >>> to_fraction(float("nan"), "seconds")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: seconds must be a finite number, got nan
    """
    # bool is an int subclass; True seconds is a bug, not a number.
    if isinstance(value, bool):
        raise ParameterError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{what} must be a finite number, got {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        from ictus.limits import check_number_text

        check_number_text(value, what)
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ParameterError(f"{what} must be a number, got {value!r}") from None
    raise ParameterError(f"{what} must be a number, got {value!r}")


def round_fraction(value: Fraction, rounding: Rounding) -> int:
    """Round an exact value to an integer; ``"nearest"`` rounds halves up.

    Halves go up (towards +infinity) rather than to even so that equally spaced
    times map to frames monotonically and without a parity pattern.

    Examples
    --------
    >>> round_fraction(Fraction(5, 2), "nearest"), round_fraction(Fraction(-5, 2), "nearest")
    (3, -2)
    >>> round_fraction(Fraction(7, 3), "floor"), round_fraction(Fraction(7, 3), "ceil")
    (2, 3)
    """
    if rounding == "nearest":
        return math.floor(value + Fraction(1, 2))
    if rounding == "floor":
        return math.floor(value)
    if rounding == "ceil":
        return math.ceil(value)
    raise ParameterError(f"rounding must be 'nearest', 'floor' or 'ceil', got {rounding!r}")
