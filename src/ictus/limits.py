"""The documented limits on input: far beyond any real song, show or film, and refused
with one line before they cost unbounded time or memory.

=====================  ==========================================================
limit                  why
=====================  ==========================================================
``MAX_INPUT_BYTES``    a tempo map, score, MIDI file or hit list is read whole
``MAX_DIGITS``         digits in one number (``1e999999999`` or 5,000 digits hang)
``MAX_EXPONENT``       the power of ten in a number written with ``e``
``MAX_CLICKS``         clicks in one map: the grid holds every click (43 bytes each)
``MAX_DURATION_S``     length of one map, count-in included, after ``--scale``
``MAX_PULSES``         pulses in one bar (its meter's numerator)
``MAX_REPEATS``        times a MusicXML repeat is played
``MAX_HITS``           hits in one hit list
=====================  ==========================================================

>>> check_number_text("96.5", "tempo")
>>> check_number_text("1e999999999", "--scale")
Traceback (most recent call last):
...
ictus.errors.ParameterError: --scale: '1e999999999' has a power of ten beyond 1e±100
"""

from __future__ import annotations

from ictus.errors import ParameterError
from ictus.patterns import lazy

MAX_INPUT_BYTES = 64 << 20
MAX_DIGITS = 100
MAX_EXPONENT = 100
MAX_CLICKS = 10_000_000
MAX_DURATION_S = 100 * 3600
MAX_PULSES = 1024
MAX_REPEATS = 100
MAX_HITS = 10_000

_EXPONENT_RE = lazy(r"[eE]\s*([-+]?)\s*(\d+)")
_DIGITS_RE = lazy(rf"\d{{{MAX_DIGITS + 1},}}")


def check_number_text(text: str, what: str) -> None:
    """Refuse a number written with more than ``MAX_DIGITS`` digits or a huge exponent.

    ``Fraction("1e999999999")`` would compute a billion-digit power of ten, and
    ``int()`` refuses 4,301 digits with a traceback; both are refused here first.
    """
    if len(text) > 4 * MAX_DIGITS or sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise ParameterError(
            f"{what}: a number of more than {MAX_DIGITS} digits ({len(text)} characters)"
        )
    m = _EXPONENT_RE.search(text)
    if m is not None and int(m.group(2)) > MAX_EXPONENT:
        raise ParameterError(f"{what}: {text!r} has a power of ten beyond 1e±{MAX_EXPONENT}")


def find_long_number(text: str) -> int | None:
    """Where (0-based) the first run of more than ``MAX_DIGITS`` digits starts, if any.

    >>> find_long_number("a: 4 4/4 " + "1" * 5000), find_long_number("a: 4 4/4 120")
    (9, None)
    """
    m = _DIGITS_RE.search(text)
    return None if m is None else m.start()


def read_input(path: str, what: str = "file") -> bytes:
    """The bytes of an input file, refused beyond ``MAX_INPUT_BYTES`` (``/dev/zero`` too).

    Reads at most one byte more than the limit, so a device or pipe that never ends
    costs no more memory than the largest file allowed.
    """
    with open(path, "rb") as f:
        data = f.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ParameterError(
            f"{path}: more than {MAX_INPUT_BYTES >> 20} MB; too large for a {what}"
        )
    return data
