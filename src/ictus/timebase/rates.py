"""Film and video frame rates, kept as exact fractions.

The NTSC-family rates are not decimals: 23.976 is 24000/1001 frames per second,
29.97 is 30000/1001 and 59.94 is 60000/1001. Rounding them to floats or to their
labels drifts by whole frames within minutes, so they are stored exactly.

Examples
--------
>>> r = parse_rate("29.97")
>>> r.fps, r.drop_frame, r.nominal, r.name
(Fraction(30000, 1001), True, 30, '29.97df')
>>> parse_rate("23.98") is FPS_23_976
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ictus.errors import ParameterError

# The NTSC colour slow-down: every "pulled-down" rate is its nominal rate times this.
_PULL_DOWN = Fraction(1000, 1001)


@dataclass(frozen=True)
class FrameRate:
    """A frame rate: exact frames per second plus how its timecode labels count.

    Parameters
    ----------
    fps
        Exact frames per second of real time (``Fraction(30000, 1001)`` for 29.97).
    nominal
        Frames per labelled timecode second (30 for 29.97): the label base.
        Must be ``round(fps)``.
    drop_frame
        Whether timecode labels skip numbers to track real time (only for the
        pulled-down multiples of 30: 29.97 and 59.94).

    Examples
    --------
    >>> FrameRate(Fraction(25), 25).name
    '25'
    >>> FrameRate(Fraction(60000, 1001), 60, drop_frame=False).name
    '59.94ndf'
    >>> FrameRate(Fraction(25), 25, drop_frame=True)
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: drop-frame needs a rate of N*1000/1001 fps with N a multiple \
of 30 (29.97, 59.94), got 25 fps
    """

    fps: Fraction
    nominal: int
    drop_frame: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.fps, Fraction) or self.fps <= 0:
            raise ParameterError(f"fps must be a positive Fraction, got {self.fps!r}")
        if isinstance(self.nominal, bool) or not isinstance(self.nominal, int):
            raise ParameterError(f"nominal must be an int, got {self.nominal!r}")
        # Labels count `nominal` frames per second; any other base would make the
        # labels run away from real time by far more than drop-frame can correct.
        if self.nominal != round(self.fps):
            raise ParameterError(
                f"nominal must be the fps rounded ({round(self.fps)}), got {self.nominal}"
            )
        if self.drop_frame and not self.drop_frame_capable:
            raise ParameterError(
                "drop-frame needs a rate of N*1000/1001 fps with N a multiple of 30 "
                f"(29.97, 59.94), got {_decimal_label(self.fps)} fps"
            )

    @property
    def drop_frame_capable(self) -> bool:
        """Whether this rate has a drop-frame form (29.97 and 59.94 do, 23.976 does not).

        >>> FPS_29_97_NDF.drop_frame_capable, FPS_23_976.drop_frame_capable
        (True, False)
        """
        return self.nominal % 30 == 0 and self.fps == self.nominal * _PULL_DOWN

    @property
    def dropped_per_minute(self) -> int:
        """Labels skipped at the start of each minute not divisible by 10 (0 if NDF).

        Two at 29.97 DF, four at 59.94 DF: 2 * 9 per 10 minutes makes up the
        0.1 % the pulled-down rate loses against its labels.

        >>> FPS_29_97_DF.dropped_per_minute, FPS_59_94_DF.dropped_per_minute
        (2, 4)
        >>> FPS_29_97_NDF.dropped_per_minute
        0
        """
        return self.nominal // 15 if self.drop_frame else 0

    @property
    def name(self) -> str:
        """The canonical text form, which :func:`parse_rate` reads back.

        Rates that have both forms always say which one they are.

        >>> [r.name for r in (FPS_23_976, FPS_24, FPS_29_97_DF, FPS_29_97_NDF)]
        ['23.976', '24', '29.97df', '29.97ndf']
        """
        label = _decimal_label(self.fps)
        if self.drop_frame_capable:
            return label + ("df" if self.drop_frame else "ndf")
        return label

    def __str__(self) -> str:
        return self.name


def _decimal_label(fps: Fraction) -> str:
    """The customary decimal label: integers as is, others to 3 places, zeros trimmed.

    >>> _decimal_label(Fraction(24000, 1001)), _decimal_label(Fraction(30000, 1001))
    ('23.976', '29.97')
    """
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".")


FPS_23_976 = FrameRate(24 * _PULL_DOWN, 24)
FPS_24 = FrameRate(Fraction(24), 24)
FPS_25 = FrameRate(Fraction(25), 25)
FPS_29_97_DF = FrameRate(30 * _PULL_DOWN, 30, drop_frame=True)
FPS_29_97_NDF = FrameRate(30 * _PULL_DOWN, 30, drop_frame=False)
FPS_30 = FrameRate(Fraction(30), 30)
FPS_48 = FrameRate(Fraction(48), 48)
FPS_50 = FrameRate(Fraction(50), 50)
FPS_59_94_DF = FrameRate(60 * _PULL_DOWN, 60, drop_frame=True)
FPS_59_94_NDF = FrameRate(60 * _PULL_DOWN, 60, drop_frame=False)
FPS_60 = FrameRate(Fraction(60), 60)

#: Every supported rate by its canonical :attr:`FrameRate.name`.
RATES: dict[str, FrameRate] = {
    r.name: r
    for r in (
        FPS_23_976,
        FPS_24,
        FPS_25,
        FPS_29_97_DF,
        FPS_29_97_NDF,
        FPS_30,
        FPS_48,
        FPS_50,
        FPS_59_94_DF,
        FPS_59_94_NDF,
        FPS_60,
    )
}

# Other spellings people use. Plain 29.97 and 59.94 mean drop-frame, as on most
# broadcast gear; a user who means non-drop must say so with "ndf".
_ALIASES: dict[str, FrameRate] = {
    "23.98": FPS_23_976,
    "29.97": FPS_29_97_DF,
    "59.94": FPS_59_94_DF,
}

#: Every text :func:`parse_rate` accepts, in the order error messages list them.
RATE_CHOICES: tuple[str, ...] = (
    "23.976",
    "23.98",
    "24",
    "25",
    "29.97",
    "29.97df",
    "29.97ndf",
    "30",
    "48",
    "50",
    "59.94",
    "59.94df",
    "59.94ndf",
    "60",
)


def parse_rate(text: str) -> FrameRate:
    """Read a frame rate such as ``"24"``, ``"29.97df"`` or ``"59.94ndf"``.

    Case and surrounding spaces are ignored. ``29.97`` and ``59.94`` without a
    suffix mean drop-frame; ``23.98`` is another name for 23.976.

    Parameters
    ----------
    text
        One of :data:`RATE_CHOICES`.

    Returns
    -------
    FrameRate
        The shared constant for that rate.

    Raises
    ------
    ParameterError
        For anything else; the message lists the valid choices.

    Examples
    --------
    >>> parse_rate("59.94NDF").name
    '59.94ndf'
    >>> parse_rate("29.976")
    Traceback (most recent call last):
    ...
    ictus.errors.ParameterError: unknown frame rate '29.976'; choose one of: 23.976, 23.98, \
24, 25, 29.97, 29.97df, 29.97ndf, 30, 48, 50, 59.94, 59.94df, 59.94ndf, 60
    """
    key = text.strip().lower() if isinstance(text, str) else ""
    rate = RATES.get(key) or _ALIASES.get(key)
    if rate is None:
        raise ParameterError(
            f"unknown frame rate {text!r}; choose one of: {', '.join(RATE_CHOICES)}"
        )
    return rate
