"""The :class:`Voice` type, the three click levels and level-gain parsing.

A voice is the set of three short mono sounds one click track plays: ``accent`` (the
first beat of a bar, or any marked beat), ``normal`` (every other beat) and ``sub``
(subdivisions). Built-in voices come from :mod:`ictus.sounds.voices`, voices made
from the user's own files from :mod:`ictus.sounds.samples`.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from ictus.errors import ParameterError
from ictus.patterns import lazy
from ictus.tempomap.model import SOUNDING_LEVELS

#: The sounding levels of a click, loudest first: the names of
#: :data:`~ictus.tempomap.model.SOUNDING_LEVELS`, so a grid's level code indexes them.
LEVELS: tuple[str, ...] = tuple(level.label for level in SOUNDING_LEVELS)

#: The sample rates ictus works at, in Hz: every output (files, live) and every
#: built-in voice. One range, checked by :func:`check_rate` with one message.
MIN_RATE, MAX_RATE = 8000, 384000


def check_rate(rate: object) -> int:
    """``rate`` as an int if it is a sample rate ictus works at, else a ParameterError.

    >>> check_rate(44100)
    44100
    >>> check_rate(400000)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: sample rate must be 8000..384000 Hz, got 400000
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Integral):
        raise ParameterError(f"sample rate must be a whole number of Hz, got {rate!r}")
    if not MIN_RATE <= int(rate) <= MAX_RATE:
        raise ParameterError(f"sample rate must be {MIN_RATE}..{MAX_RATE} Hz, got {rate}")
    return int(rate)


#: Highest gain :func:`parse_gains` accepts, in dB. More than this is almost surely a
#: typo for a cut (``normal=30`` for ``normal=-30``) and would clip badly.
MAX_GAIN_DB = 24.0


def _frozen_mono(samples: npt.ArrayLike, what: str) -> npt.NDArray[np.float32]:
    """``samples`` as a read-only, C-contiguous, 1-D float32 array.

    An array that is already frozen and owns its data is shared, not copied, so one
    sample given for several levels costs its memory once. Anything else is copied
    first: freezing the caller's own array in place would surprise them.
    """
    arr = np.ascontiguousarray(samples, dtype=np.float32)
    if arr.ndim != 1:
        raise ParameterError(f"{what} must be 1-D mono samples, got shape {arr.shape}")
    if arr.size == 0:
        raise ParameterError(f"{what} has no samples")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{what} contains non-finite samples (NaN or infinity)")
    if arr.flags.writeable or not arr.flags.owndata:
        arr = arr.copy()
        arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)  # eq=False: arrays make field-wise == ambiguous
class Voice:
    """Three mono click sounds at one sample rate, one per level.

    The arrays are converted to read-only float32 on construction, so a voice (which
    :func:`~ictus.sounds.synth_voice` caches and shares) can never be changed under
    its other users.

    Parameters
    ----------
    name : str
        What to call the voice in messages (a built-in name, or the sample files).
    rate : int
        Sample rate of all three sounds, in Hz.
    accent, normal, sub : numpy.ndarray
        The sounds, mono, 1-D, finite.
    count_in : Voice or None
        Another voice for the count-in clicks (a DAW's count-in sound), at the same
        rate; None: the count-in sounds like the rest. See :meth:`with_count_in`.

    Examples
    --------
    >>> v = Voice("test", 48000, [0.0, 0.9, 0.0], [0.0, 0.7, 0.0], [0.0, 0.45])
    >>> v.level("normal").dtype, v.normal.flags.writeable
    (dtype('float32'), False)
    >>> v.max_length
    3
    >>> v
    Voice(name='test', rate=48000, lengths accent=3 normal=3 sub=2)
    """

    name: str
    rate: int
    accent: npt.NDArray[np.float32]
    normal: npt.NDArray[np.float32]
    sub: npt.NDArray[np.float32]
    count_in: Voice | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Integral) or rate <= 0:
            raise ParameterError(f"sample rate must be a positive integer, got {rate!r}")
        # object.__setattr__: the dataclass is frozen, normalising fields is the one
        # write it allows itself.
        object.__setattr__(self, "rate", int(rate))
        for level in LEVELS:
            samples = _frozen_mono(getattr(self, level), f"voice {self.name!r} {level}")
            object.__setattr__(self, level, samples)
        if self.count_in is not None and self.count_in.rate != self.rate:
            raise ParameterError(
                f"count-in voice is at {self.count_in.rate} Hz, the voice at {self.rate} Hz"
            )

    def with_count_in(self, count_in: Voice | None) -> Voice:
        """This voice, with ``count_in`` sounding the count-in clicks.

        >>> v = Voice("wood", 8000, [0.5], [0.25], [0.125])
        >>> v.with_count_in(Voice("beep", 8000, [0.9], [0.7], [0.4]))
        Voice(name='wood', rate=8000, lengths accent=1 normal=1 sub=1, count-in 'beep')
        """
        if count_in is not None and count_in.count_in is not None:
            count_in = replace(count_in, count_in=None)
        return replace(self, count_in=count_in)

    def level(self, level: str) -> npt.NDArray[np.float32]:
        """The sound of one level, by name.

        >>> Voice("t", 8000, [0.5], [0.25], [0.125]).level("sub")
        array([0.125], dtype=float32)
        >>> Voice("t", 8000, [0.5], [0.25], [0.125]).level("ghost")
        Traceback (most recent call last):
        ...
        ictus.errors.ParameterError: unknown level 'ghost'; choose one of: accent, normal, sub
        """
        if level not in LEVELS:
            raise ParameterError(f"unknown level {level!r}; choose one of: {', '.join(LEVELS)}")
        samples: npt.NDArray[np.float32] = getattr(self, level)
        return samples

    def scaled(self, factor: float) -> Voice:
        """This voice (count-in voice included) with every sound times ``factor``.

        >>> Voice("t", 8000, [0.5], [0.25], [1.0]).scaled(0.5).sub.tolist()
        [0.5]
        """
        count_in = None if self.count_in is None else self.count_in.scaled(factor)
        sounds = [np.multiply(self.level(level), np.float32(factor)) for level in LEVELS]
        return Voice(self.name, self.rate, *sounds, count_in=count_in)

    @property
    def max_length(self) -> int:
        """Length of the longest sound, in samples (the count-in voice's included)."""
        own = max(len(self.accent), len(self.normal), len(self.sub))
        return own if self.count_in is None else max(own, self.count_in.max_length)

    def __repr__(self) -> str:
        # The default repr would print three arrays of thousands of samples.
        lengths = " ".join(f"{level}={len(self.level(level))}" for level in LEVELS)
        extra = "" if self.count_in is None else f", count-in {self.count_in.name!r}"
        return f"Voice(name={self.name!r}, rate={self.rate}, lengths {lengths}{extra})"


_GAIN_ITEM = lazy(r"^\s*(?P<level>[A-Za-z]+)\s*=\s*(?P<value>.*?)\s*$")
_DB_SUFFIX = lazy(r"\s*db$", re.IGNORECASE)


def _parse_db(level: str, value: str) -> float:
    """One level's gain in dB as a linear factor (``off`` and ``-inf`` mute)."""
    text = _DB_SUFFIX.sub("", value)
    if text.lower() in ("off", "mute", "-inf", "-infinity"):
        return 0.0
    try:
        db = float(text)
    except ValueError:
        raise ParameterError(
            f"gain for {level} must be a number of dB (or 'off'), got {value!r}"
        ) from None
    if not math.isfinite(db):
        raise ParameterError(f"gain for {level} must be finite dB (or 'off'), got {value!r}")
    if db > MAX_GAIN_DB:
        raise ParameterError(f"gain for {level} must be at most +{MAX_GAIN_DB:g} dB, got {db:g}")
    return float(10.0 ** (db / 20.0))


def parse_gains(text: str) -> dict[str, float]:
    """Parse per-level gains in dB, like ``"accent=0,normal=-3,sub=-9"``.

    Items are ``level=dB`` separated by commas; spaces, upper case and a ``dB`` suffix
    are allowed, and ``off`` (or ``-inf``) mutes a level. Levels not named keep 0 dB,
    so the result always has all three levels.

    Parameters
    ----------
    text : str
        The gain list.

    Returns
    -------
    dict of str to float
        Linear gain (amplitude factor) per level, in :data:`LEVELS` order.

    Raises
    ------
    ParameterError
        On an empty list, an item without ``=``, an unknown or repeated level, a value
        that is not a finite number of dB, or a gain above ``+24 dB``.

    Examples
    --------
    >>> gains = parse_gains("accent=0, normal=-6.02, sub=off")
    >>> {level: round(g, 3) for level, g in gains.items()}
    {'accent': 1.0, 'normal': 0.5, 'sub': 0.0}
    >>> parse_gains("sub=-20dB")
    {'accent': 1.0, 'normal': 1.0, 'sub': 0.1}
    >>> parse_gains("beat=-3")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: unknown level 'beat' in gains; choose one of: accent, normal, sub
    """
    if not isinstance(text, str):
        raise ParameterError(f"gains must be text like 'accent=0,sub=-9', got {text!r}")
    if not text.strip():
        raise ParameterError("gains are empty; expected e.g. 'accent=0,normal=-3,sub=-9'")
    gains = dict.fromkeys(LEVELS, 1.0)
    seen: set[str] = set()
    for item in text.split(","):
        match = _GAIN_ITEM.match(item)
        if match is None:
            raise ParameterError(f"bad gain item {item.strip()!r}; expected level=dB, e.g. sub=-9")
        level = match["level"].lower()
        if level not in LEVELS:
            raise ParameterError(
                f"unknown level {match['level']!r} in gains; choose one of: {', '.join(LEVELS)}"
            )
        if level in seen:
            raise ParameterError(f"gain for {level} given twice in {text!r}")
        seen.add(level)
        gains[level] = _parse_db(level, match["value"])
    return gains
