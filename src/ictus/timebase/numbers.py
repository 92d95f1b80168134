"""User numbers to exact fractions and back: the one rule for every input and output.

A number a user writes, in a ``.click`` file, a JSON map, a command-line option or a
Python call, means its decimal value: ``133.33`` is 13333/100 wherever it is written.
A Python ``float`` (a JSON number arrives as one) is read by its shortest ``repr``, the
digits it was typed with, not by its binary value (133.3299999999999982946974341757595539
...). :func:`exact_number` is that rule, :func:`format_number` writes an exact number
back as the shortest decimal, and :func:`round_fraction` is the one rounding rule.

>>> exact_number(133.33, "tempo"), exact_number("133.33", "tempo")
(Fraction(13333, 100), Fraction(13333, 100))
>>> format_number(Fraction(13333, 100))
'133.33'
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal, TypeAlias

from ictus.errors import ParameterError
from ictus.limits import check_number_text

#: Anything :func:`exact_number` accepts.
Number: TypeAlias = Fraction | int | float | str

#: How a non-integer number of frames (or eighth-frames) becomes an integer.
Rounding: TypeAlias = Literal["nearest", "floor", "ceil"]


def exact_number(value: Number, what: str) -> Fraction:
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
    >>> exact_number(60.06, "seconds")
    Fraction(3003, 50)
    >>> exact_number("1001/30000", "seconds")
    Fraction(1001, 30000)
    >>> exact_number(float("nan"), "seconds")
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
        # 1e999999999 or 5,000 digits would take forever or raise: refused by the limits
        check_number_text(value, what)
        try:
            return Fraction(value.strip())
        except ZeroDivisionError:
            raise ParameterError(f"{what} {value!r} divides by zero") from None
        except ValueError:
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


#: The same rule under its older name.
to_fraction = exact_number


def format_number(value: Fraction) -> str:
    """Shortest exact decimal for ``value``, or ``p/q`` when it has none.

    The inverse of :func:`exact_number` on text: ``exact_number(format_number(x)) == x``.

    >>> [format_number(Fraction(x)) for x in (96, "133.33", "400/3", "-1/8")]
    ['96', '133.33', '400/3', '-0.125']
    """
    if value.denominator == 1:
        return str(value.numerator)
    d = value.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    digits = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 else ""
    s = str(digits).rjust(places + 1, "0")
    return f"{sign}{s[:-places]}.{s[-places:]}".rstrip("0").rstrip(".")
